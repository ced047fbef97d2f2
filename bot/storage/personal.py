"""Learners' own decks (imported files) and their cards: the rows of ``decks`` and
``cards`` whose deck has an ``owner_id``.

A deck sync never touches these (:mod:`bot.storage.catalogue`), and the study queries
offer them to their owner alone, and only while unpaused (:mod:`bot.storage.schedule`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    bindparam,
    delete,
    func,
    insert,
    select,
    update,
)

from bot.core.importing import PlannedCard
from bot.core.model import CardInfo, PersonalDeck, SyncReport
from bot.storage.locks import IMPORT_LOCKS, serialise
from bot.storage.media import MEDIA_KIND, SqlMedia
from bot.storage.tables import (
    card_states,
    card_tags,
    cards,
    decks,
    outbox,
    prompts,
    quiz_participants,
    quiz_rounds,
    review_logs,
)

#: Personal decks come after the shipped ones (a sync numbers those from 0): a learner
#: who studies every deck meets the shipped decks' new cards first, then their own, in
#: the order they imported them.
PERSONAL_POSITION = 1_000_000
#: Ids bound in one statement (SQLite's limit on bound values is far above it).
SLICE = 500
#: The longest slug kept in a deck id (``u<learner>-<slug>``, with room for ``-NN``).
MAX_SLUG = 40


def media_spec(owner_id: int, name: str) -> str:
    """How a card names one of its owner's images: ``<owner>/<name>``."""
    return f"{owner_id}/{name}"


def clean_slug(slug: str) -> str:
    """Lowercase ASCII letters, digits and single dashes, at most :data:`MAX_SLUG`
    characters; ``deck`` when nothing is left."""
    text = re.sub(r"[^a-z0-9]+", "-", slug.lower()).strip("-")
    return text[:MAX_SLUG].rstrip("-") or "deck"


def card_hash(deck_id: str, owner_id: int, card: PlannedCard) -> str:
    """What an imported card shows, and where: unchanged cards are not rewritten."""
    parts = [
        deck_id,
        str(card.position),
        card.title,
        card.front,
        card.back,
        media_spec(owner_id, card.front_image) if card.front_image else "",
        media_spec(owner_id, card.back_image) if card.back_image else "",
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


def _card_row(
    deck_id: str, owner_id: int, card: PlannedCard, digest: str, now: datetime
) -> dict[str, Any]:
    """The ``cards`` columns of an imported card (all but its id and ``created_at``)."""
    return {
        "deck_id": deck_id,
        "position": card.position,
        "title": card.title[:256],
        "front": card.front,
        "back": card.back,
        "mnemonic": None,
        "notes": None,
        "difficulty": "medium",
        "related": "",
        "image_kind": MEDIA_KIND if card.back_image else None,
        "image_spec": media_spec(owner_id, card.back_image) if card.back_image else None,
        "front_image_kind": MEDIA_KIND if card.front_image else None,
        "front_image_spec": media_spec(owner_id, card.front_image) if card.front_image else None,
        "content_hash": digest,
        "updated_at": now,
        "retired_at": None,
    }


_CARD_COLUMNS = (
    "deck_id",
    "position",
    "title",
    "front",
    "back",
    "mnemonic",
    "notes",
    "difficulty",
    "related",
    "image_kind",
    "image_spec",
    "front_image_kind",
    "front_image_spec",
    "content_hash",
    "updated_at",
    "retired_at",
)
#: Rewrites one card (executemany: one statement for every changed card).
_CARD_UPDATE = (
    update(cards)
    .where(cards.c.id == bindparam("b_id"))
    .values({name: bindparam(f"v_{name}") for name in _CARD_COLUMNS})
)

_CARD_COUNT = (
    select(func.count())
    .where(cards.c.deck_id == decks.c.id, cards.c.retired_at.is_(None))
    .scalar_subquery()
)
_DECKS = select(
    decks.c.id,
    decks.c.owner_id,
    decks.c.title,
    decks.c.source,
    decks.c.source_ref,
    decks.c.paused,
    _CARD_COUNT.label("n"),
).order_by(decks.c.position, decks.c.id)


def _deck(r: Any, reviews: int) -> PersonalDeck:
    return PersonalDeck(
        id=r.id,
        owner_id=int(r.owner_id),
        title=r.title,
        source=r.source or "",
        source_ref=r.source_ref or "",
        card_count=int(r.n),
        paused=bool(r.paused),
        reviews=reviews,
    )


def delete_decks(conn: Connection, deck_ids: Sequence[str]) -> None:
    """Delete these decks with everything that points at their cards: every learner's
    schedule rows, review-log rows and prompts of them, their tags, quiz rounds and
    pending pushes, then the cards and the decks (there is no cascade from ``decks``).

    Its cost: deleting a card makes the database check the foreign keys that name it,
    so ``review_logs``, ``card_states`` and ``prompts`` are indexed by ``card_id``
    (migration 0012): without those indexes 1,000 cards beside 300,000 other reviews
    took 51 s on SQLite and 63 s on PostgreSQL, with them 0.08 s and 0.19 s.
    """
    if not deck_ids:
        return
    ids = select(cards.c.id).where(cards.c.deck_id.in_(deck_ids))
    rounds = select(quiz_rounds.c.id).where(quiz_rounds.c.card_id.in_(ids))
    conn.execute(delete(quiz_participants).where(quiz_participants.c.round_id.in_(rounds)))
    conn.execute(delete(quiz_rounds).where(quiz_rounds.c.card_id.in_(ids)))
    conn.execute(
        delete(outbox).where(
            outbox.c.card_id.in_(ids), outbox.c.sent_at.is_(None), outbox.c.failed_at.is_(None)
        )
    )
    for table in (card_states, review_logs, prompts, card_tags):
        conn.execute(delete(table).where(table.c.card_id.in_(ids)))
    conn.execute(delete(cards).where(cards.c.deck_id.in_(deck_ids)))
    conn.execute(delete(decks).where(decks.c.id.in_(deck_ids)))


class SqlPersonalDecks:
    """The :class:`~bot.core.ports.PersonalDeckRepo` over SQL.

    Args:
        conn: the connection, inside the transaction.
        cache: the catalogue's per-process card cache: a card rewritten here is dropped
            from it (it holds shipped cards only; this is a second guard).
    """

    def __init__(self, conn: Connection, cache: dict[str, CardInfo | None] | None = None) -> None:
        self.conn = conn
        self.cache: dict[str, CardInfo | None] = {} if cache is None else cache

    def _decks(self, *where: ColumnElement[bool], counted: bool = True) -> list[PersonalDeck]:
        rows = self.conn.execute(_DECKS.where(decks.c.owner_id.is_not(None), *where)).all()
        if not rows or not counted:
            return [_deck(r, 0) for r in rows]
        # The reviews of each deck's cards, read by card (review_logs.card_id is indexed):
        # only the owner sees an owned card, so every review of it is theirs.
        counts: dict[str, int] = {}
        for deck_id, n in self.conn.execute(
            select(cards.c.deck_id, func.count())
            .select_from(cards.join(review_logs, review_logs.c.card_id == cards.c.id))
            .where(cards.c.deck_id.in_([r.id for r in rows]), review_logs.c.undone_at.is_(None))
            .group_by(cards.c.deck_id)
        ):
            counts[deck_id] = int(n)
        return [_deck(r, counts.get(r.id, 0)) for r in rows]

    def list(self, owner_id: int) -> list[PersonalDeck]:
        return self._decks(decks.c.owner_id == owner_id)

    def get(self, deck_id: str) -> PersonalDeck | None:
        found = self._decks(decks.c.id == deck_id)
        return found[0] if found else None

    def find(self, owner_id: int, source: str, source_ref: str) -> PersonalDeck | None:
        found = self._decks(
            decks.c.owner_id == owner_id,
            decks.c.source == source,
            decks.c.source_ref == source_ref[:256],
            counted=False,
        )
        return found[0] if found else None

    def lock(self, owner_id: int) -> None:
        serialise(self.conn, IMPORT_LOCKS | (owner_id & 0xFFFF_FFFF))

    def create(
        self, owner_id: int, title: str, source: str, source_ref: str, slug: str, now: datetime
    ) -> str:
        base = f"u{owner_id}-{clean_slug(slug)}"
        taken = set(
            self.conn.execute(
                select(decks.c.id).where((decks.c.id == base) | decks.c.id.like(base + "-%"))
            ).scalars()
        )
        deck_id, n = base, 1
        while deck_id in taken:
            n += 1
            deck_id = f"{base}-{n}"
        last = self.conn.execute(
            select(func.max(decks.c.position)).where(decks.c.owner_id == owner_id)
        ).scalar()
        self.conn.execute(
            insert(decks).values(
                id=deck_id,
                title=title[:256],
                description="",
                path=f"{source}:{source_ref}",
                tags="",
                position=PERSONAL_POSITION if last is None else int(last) + 1,
                synced_at=now,
                retired_at=None,
                owner_id=owner_id,
                source=source,
                source_ref=source_ref[:256],
                paused=False,
            )
        )
        return deck_id

    def retitle(self, deck_id: str, title: str, now: datetime) -> None:
        self.conn.execute(
            update(decks)
            .where(decks.c.id == deck_id, decks.c.owner_id.is_not(None))
            .values(title=title[:256], synced_at=now)
        )

    def upsert_cards(
        self, deck_id: str, planned: Sequence[PlannedCard], now: datetime
    ) -> SyncReport:
        owner_id = self.conn.execute(select(decks.c.owner_id).where(decks.c.id == deck_id)).scalar()
        if owner_id is None:
            raise LookupError(f"no personal deck {deck_id!r}")
        existing = {
            r.id: (r.deck_id, r.content_hash, r.retired_at)
            for r in self.conn.execute(
                select(cards.c.id, cards.c.deck_id, cards.c.content_hash, cards.c.retired_at)
                .join(decks, decks.c.id == cards.c.deck_id)
                .where(decks.c.owner_id == owner_id)
            )
        }
        firsts: dict[str, PlannedCard] = {}
        for card in planned:  # an id given twice: the first one counts
            firsts.setdefault(card.id, card)
        fresh = [cid for cid in firsts if cid not in existing]
        held: set[str] = set()
        for i in range(0, len(fresh), SLICE):
            held.update(
                self.conn.execute(
                    select(cards.c.id).where(cards.c.id.in_(fresh[i : i + SLICE]))
                ).scalars()
            )
        new_rows: list[dict[str, Any]] = []
        changed: list[dict[str, Any]] = []
        unchanged = 0
        for card in firsts.values():
            if card.id in held:
                continue
            digest = card_hash(deck_id, owner_id, card)
            row = _card_row(deck_id, owner_id, card, digest, now)
            old = existing.get(card.id)
            if old is None:
                new_rows.append({"id": card.id, "created_at": now, **row})
            elif old[1] != digest or old[2] is not None:  # the hash names the deck too
                changed.append({"b_id": card.id, **{f"v_{k}": v for k, v in row.items()}})
            else:
                unchanged += 1
        if new_rows:
            self.conn.execute(insert(cards), new_rows)
        if changed:
            self.conn.execute(_CARD_UPDATE, changed)
        kept = firsts.keys()
        gone = [
            cid
            for cid, (deck, _, retired) in existing.items()
            if deck == deck_id and retired is None and cid not in kept
        ]
        for i in range(0, len(gone), SLICE):
            self.conn.execute(
                update(cards)
                .where(and_(cards.c.id.in_(gone[i : i + SLICE]), cards.c.retired_at.is_(None)))
                .values(retired_at=now, updated_at=now)
            )
        for row in changed:
            self.cache.pop(row["b_id"], None)
        for cid in gone:
            self.cache.pop(cid, None)
        return SyncReport(
            added=len(new_rows),
            updated=len(changed),
            retired=len(gone),
            unchanged=unchanged,
            refused=tuple(cid for cid in firsts if cid in held),
        )

    def set_paused(self, deck_id: str, paused: bool) -> None:
        self.conn.execute(
            update(decks)
            .where(decks.c.id == deck_id, decks.c.owner_id.is_not(None))
            .values(paused=paused)
        )

    def remove(self, deck_id: str) -> None:
        owner_id = self.conn.execute(select(decks.c.owner_id).where(decks.c.id == deck_id)).scalar()
        if owner_id is None:  # a shipped deck, or none: nothing of a learner's to remove
            return
        delete_decks(self.conn, [deck_id])
        SqlMedia(self.conn).prune(int(owner_id))
