"""The deck catalogue, as ``bot.storage.catalogue.SqlCatalogue`` keeps it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.core.decks import Deck
from bot.core.model import CardImage, CardInfo, DeckInfo, SyncReport
from tests.fakes.store import CardRow, DeckRow, FakeStore, utc


def seen_by(deck: DeckRow, viewer: int | None) -> bool:
    """Shipped, or the viewer's own."""
    return deck.owner_id is None or (viewer is not None and deck.owner_id == viewer)


class FakeCatalogue:
    """Decks and cards by id; a sync upserts the shipped ones and retires what is gone
    (history kept), never touching a personal deck or its cards."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def card(self, card_id: str) -> CardInfo | None:
        row = self.store.cards.get(card_id)
        if row is None:
            return None
        c = row.card
        deck = self.store.decks[c.deck_id]
        return CardInfo(
            id=c.id,
            deck_id=c.deck_id,
            deck_title=deck.title,
            title=c.title,
            front=c.front,
            back=c.back,
            tags=tuple(sorted(set(c.tags))),
            mnemonic=c.mnemonic,
            notes=c.notes,
            front_image=row.front_image or CardImage.of(c.front_image),
            back_image=row.back_image or CardImage.of(c.back_image),
            choices=c.choices,
        )

    def decks(self, viewer: int | None = None) -> list[DeckInfo]:
        out: list[DeckInfo] = []
        for deck in sorted(self.store.decks.values(), key=lambda d: (d.position, d.id)):
            if deck.retired_at is not None or not seen_by(deck, viewer):
                continue
            count = sum(
                1 for r in self.store.cards.values() if r.live and r.card.deck_id == deck.id
            )
            out.append(
                DeckInfo(
                    deck.id,
                    deck.title,
                    deck.description,
                    count,
                    deck.tags,
                    owner_id=deck.owner_id,
                    paused=deck.paused,
                )
            )
        return out

    def topics(self, viewer: int | None = None) -> list[str]:
        names: set[str] = set()
        for row in self.store.cards.values():
            if row.live and self.store.decks[row.card.deck_id].owner_id is None:
                names.update(row.card.tags)
        names.update(
            d.id for d in self.store.decks.values() if d.retired_at is None and seen_by(d, viewer)
        )
        return sorted(names)

    def cards_in_topic(self, topic: str, viewer: int | None = None) -> list[str]:
        rows = []
        for r in self.store.cards.values():
            deck = self.store.decks[r.card.deck_id]
            if (
                r.live
                and (r.card.deck_id == topic or topic in r.card.tags)
                and seen_by(deck, viewer)
                and not deck.paused
            ):
                rows.append(r)
        rows.sort(key=lambda r: (r.deck_position, r.card.position, r.card.id))
        return [r.card.id for r in rows]

    def sync(self, decks: Sequence[Deck], now: datetime, *, retire: bool = True) -> SyncReport:
        """Upsert shipped decks and cards by id; retire what is gone (unless ``retire`` is
        False). A deck or card whose id a personal one holds is left out."""
        utc(now)
        owned_decks = {d.id for d in self.store.decks.values() if d.owner_id is not None}
        owned_cards = {cid for cid, r in self.store.cards.items() if r.card.deck_id in owned_decks}
        decks = [
            replace(d, cards=tuple(c for c in d.cards if c.id not in owned_cards))
            for d in decks
            if d.id not in owned_decks
        ]
        for position, deck in enumerate(decks):
            self.store.decks[deck.id] = DeckRow(
                id=deck.id,
                title=deck.title,
                description=deck.description,
                path=deck.path,
                tags=tuple(deck.tags),
                position=position,
                synced_at=now,
            )
        if retire:
            live = {d.id for d in decks}
            for deck_id, row in list(self.store.decks.items()):
                if deck_id not in live and row.retired_at is None and row.owner_id is None:
                    self.store.decks[deck_id] = replace(row, retired_at=now)
        added = updated = unchanged = 0
        seen: set[str] = set()
        for position, deck in enumerate(decks):
            for card in deck.cards:
                seen.add(card.id)
                old = self.store.cards.get(card.id)
                if old is None:
                    self.store.cards[card.id] = CardRow(card, position, now, now)
                    added += 1
                elif old.card != card or old.deck_position != position or not old.live:
                    self.store.cards[card.id] = CardRow(card, position, old.created_at, now)
                    updated += 1
                else:
                    unchanged += 1
        retired = 0
        if retire:
            for card_id, card_row in list(self.store.cards.items()):
                if card_id not in seen and card_row.live and card_id not in owned_cards:
                    self.store.cards[card_id] = replace(card_row, retired_at=now)
                    retired += 1
        return SyncReport(added=added, updated=updated, retired=retired, unchanged=unchanged)
