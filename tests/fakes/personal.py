"""Learners' own decks, as ``bot.storage.personal.SqlPersonalDecks`` keeps them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.core.decks import CardDef
from bot.core.importing import PlannedCard
from bot.core.model import CardImage, PersonalDeck, SyncReport
from bot.storage.personal import PERSONAL_POSITION, clean_slug, media_spec
from tests.fakes.media import FakeMedia
from tests.fakes.store import CardRow, DeckRow, FakeStore, utc


def _image(owner_id: int, name: str | None) -> CardImage | None:
    return None if name is None else CardImage("media", media_spec(owner_id, name))


def delete_decks(store: FakeStore, deck_ids: Sequence[str]) -> None:
    """Delete these decks, their cards and every row that names those cards."""
    wanted = set(deck_ids)
    ids = {cid for cid, r in store.cards.items() if r.card.deck_id in wanted}
    rounds = {k for k, r in store.rounds.items() if r.card_id in ids}
    store.participants = {k: v for k, v in store.participants.items() if k[0] not in rounds}
    store.rounds = {k: v for k, v in store.rounds.items() if k not in rounds}
    store.outbox = {
        k: v for k, v in store.outbox.items() if not (v.message.card_id in ids and v.pending)
    }
    store.states = {k: v for k, v in store.states.items() if k[1] not in ids}
    store.reviews = {k: v for k, v in store.reviews.items() if v.card_id not in ids}
    store.prompts = {k: v for k, v in store.prompts.items() if v.card_id not in ids}
    store.cards = {k: v for k, v in store.cards.items() if k not in ids}
    store.decks = {k: v for k, v in store.decks.items() if k not in wanted}


class FakePersonalDecks:
    """Personal decks in the fake catalogue: deck rows with an owner, and their cards."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def _deck(self, row: DeckRow) -> PersonalDeck:
        assert row.owner_id is not None
        cards = {cid for cid, r in self.store.cards.items() if r.card.deck_id == row.id}
        return PersonalDeck(
            id=row.id,
            owner_id=row.owner_id,
            title=row.title,
            source=row.source or "",
            source_ref=row.source_ref or "",
            card_count=sum(1 for cid in cards if self.store.cards[cid].live),
            paused=row.paused,
            reviews=sum(
                1
                for e in self.store.reviews.values()
                if e.card_id in cards and e.learner_id == row.owner_id and e.undone_at is None
            ),
        )

    def _owned(self) -> list[DeckRow]:
        rows = [d for d in self.store.decks.values() if d.owner_id is not None]
        return sorted(rows, key=lambda d: (d.position, d.id))

    def list(self, owner_id: int) -> list[PersonalDeck]:
        return [self._deck(d) for d in self._owned() if d.owner_id == owner_id]

    def get(self, deck_id: str) -> PersonalDeck | None:
        row = self.store.decks.get(deck_id)
        return None if row is None or row.owner_id is None else self._deck(row)

    def find(self, owner_id: int, source: str, source_ref: str) -> PersonalDeck | None:
        for d in self._owned():
            if d.owner_id == owner_id and d.source == source and d.source_ref == source_ref[:256]:
                return replace(self._deck(d), reviews=0)  # not counted, as SQL's
        return None

    def lock(self, owner_id: int) -> None:
        """One unit of work at a time already (the fake database's lock)."""

    def create(
        self, owner_id: int, title: str, source: str, source_ref: str, slug: str, now: datetime
    ) -> str:
        utc(now)
        base = f"u{owner_id}-{clean_slug(slug)}"
        deck_id, n = base, 1
        while deck_id in self.store.decks:
            n += 1
            deck_id = f"{base}-{n}"
        mine = [d.position for d in self._owned() if d.owner_id == owner_id]
        self.store.decks[deck_id] = DeckRow(
            id=deck_id,
            title=title[:256],
            description="",
            path=f"{source}:{source_ref}",
            tags=(),
            position=max(mine) + 1 if mine else PERSONAL_POSITION,
            synced_at=now,
            owner_id=owner_id,
            source=source,
            source_ref=source_ref[:256],
        )
        return deck_id

    def retitle(self, deck_id: str, title: str, now: datetime) -> None:
        utc(now)
        row = self.store.decks.get(deck_id)
        if row is not None and row.owner_id is not None:
            self.store.decks[deck_id] = replace(row, title=title[:256], synced_at=now)

    def upsert_cards(
        self, deck_id: str, planned: Sequence[PlannedCard], now: datetime
    ) -> SyncReport:
        utc(now)
        deck = self.store.decks.get(deck_id)
        if deck is None or deck.owner_id is None:
            raise LookupError(f"no personal deck {deck_id!r}")
        owner = deck.owner_id
        mine = {d.id for d in self.store.decks.values() if d.owner_id == owner}  # the owner's decks
        firsts: dict[str, PlannedCard] = {}
        for card in planned:
            firsts.setdefault(card.id, card)
        added = updated = unchanged = 0
        refused: list[str] = []
        for card in firsts.values():
            old = self.store.cards.get(card.id)
            if old is not None and old.card.deck_id not in mine:
                refused.append(card.id)
                continue
            row = CardRow(
                CardDef(
                    id=card.id,
                    deck_id=deck_id,
                    title=card.title[:256],
                    front=card.front,
                    back=card.back,
                    position=card.position,
                ),
                deck.position,
                now if old is None else old.created_at,
                now,
                front_image=_image(owner, card.front_image),
                back_image=_image(owner, card.back_image),
            )
            if old is None:
                added += 1
            elif replace(old, created_at=row.created_at, updated_at=now) != row:
                updated += 1
            else:
                unchanged += 1
                continue
            self.store.cards[card.id] = row
        retired = 0
        for cid, r in list(self.store.cards.items()):
            if r.card.deck_id == deck_id and r.live and cid not in firsts:
                self.store.cards[cid] = replace(r, retired_at=now, updated_at=now)
                retired += 1
        return SyncReport(
            added=added,
            updated=updated,
            retired=retired,
            unchanged=unchanged,
            refused=tuple(refused),
        )

    def set_paused(self, deck_id: str, paused: bool) -> None:
        row = self.store.decks.get(deck_id)
        if row is not None and row.owner_id is not None:
            self.store.decks[deck_id] = replace(row, paused=paused)

    def remove(self, deck_id: str) -> None:
        row = self.store.decks.get(deck_id)
        if row is None or row.owner_id is None:
            return
        delete_decks(self.store, [deck_id])
        FakeMedia(self.store).prune(row.owner_id)
