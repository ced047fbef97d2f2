"""The deck catalogue, as ``bot.storage.catalogue.SqlCatalogue`` keeps it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.core.decks import Deck
from bot.core.model import CardImage, CardInfo, DeckInfo, SyncReport
from tests.fakes.store import CardRow, DeckRow, FakeStore, utc


class FakeCatalogue:
    """Decks and cards by id; a sync upserts them and retires what is gone (history kept)."""

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
            front_image=CardImage.of(c.front_image),
            back_image=CardImage.of(c.back_image),
        )

    def decks(self) -> list[DeckInfo]:
        out: list[DeckInfo] = []
        for deck in sorted(self.store.decks.values(), key=lambda d: d.position):
            if deck.retired_at is not None:
                continue
            count = sum(
                1 for r in self.store.cards.values() if r.live and r.card.deck_id == deck.id
            )
            out.append(DeckInfo(deck.id, deck.title, deck.description, count, deck.tags))
        return out

    def topics(self) -> list[str]:
        names: set[str] = set()
        for row in self.store.cards.values():
            if row.live:
                names.update(row.card.tags)
        names.update(d.id for d in self.store.decks.values() if d.retired_at is None)
        return sorted(names)

    def cards_in_topic(self, topic: str) -> list[str]:
        rows = [
            r
            for r in self.store.cards.values()
            if r.live and (r.card.deck_id == topic or topic in r.card.tags)
        ]
        rows.sort(key=lambda r: (r.deck_position, r.card.position, r.card.id))
        return [r.card.id for r in rows]

    def sync(self, decks: Sequence[Deck], now: datetime, *, retire: bool = True) -> SyncReport:
        """Upsert decks and cards by id; retire what is gone (unless ``retire`` is False)."""
        utc(now)
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
                if deck_id not in live and row.retired_at is None:
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
                if card_id not in seen and card_row.live:
                    self.store.cards[card_id] = replace(card_row, retired_at=now)
                    retired += 1
        return SyncReport(added=added, updated=updated, retired=retired, unchanged=unchanged)
