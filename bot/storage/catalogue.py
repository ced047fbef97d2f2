"""The deck catalogue (tables ``decks``, ``cards`` and ``card_tags``)."""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    bindparam,
    delete,
    exists,
    func,
    insert,
    not_,
    or_,
    select,
    update,
)

from bot.core.choices import Choices
from bot.core.decks import CardDef, Deck
from bot.core.model import CardImage, CardInfo, DeckInfo, SyncReport
from bot.storage.locks import SYNC_LOCK, serialise
from bot.storage.tables import card_tags, cards, decks

log = logging.getLogger(__name__)


def _card_hash(card: CardDef, deck_position: int) -> str:
    parts = [
        card.deck_id,
        str(card.position),
        str(deck_position),
        card.title,
        card.front,
        card.back,
        card.mnemonic or "",
        card.notes or "",
        card.difficulty,
        ",".join(card.tags),
        ",".join(card.related),
        card.back_image.kind if card.back_image else "",
        card.back_image.source if card.back_image else "",
    ]
    if card.front_image is not None:
        # Only when there is one: the hashes of cards without one stay as they were.
        parts.extend((card.front_image.kind, card.front_image.source))
    if card.choices is not None:  # the same: only cards with choices hash differently
        parts.append(card.choices.to_json())
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


_CARD = (
    select(
        cards.c.id,
        cards.c.deck_id,
        decks.c.owner_id,
        decks.c.title.label("deck_title"),
        cards.c.title,
        cards.c.front,
        cards.c.back,
        cards.c.mnemonic,
        cards.c.notes,
        cards.c.image_kind,
        cards.c.image_spec,
        cards.c.front_image_kind,
        cards.c.front_image_spec,
        cards.c.choices,
    )
    .join(decks, decks.c.id == cards.c.deck_id)
    .where(cards.c.id == bindparam("card_id"))
)
_CARD_TAGS = (
    select(card_tags.c.tag)
    .where(card_tags.c.card_id == bindparam("card_id"))
    .order_by(card_tags.c.tag)
)


def _image(kind: str | None, spec: str | None) -> CardImage | None:
    return CardImage(kind, spec) if kind and spec else None


#: The predicate on ``decks``: a shipped deck (every learner sees it).
SHIPPED = decks.c.owner_id.is_(None)


def seen_by(viewer: int | None) -> ColumnElement[bool]:
    """The predicate on ``decks``: shipped, or the viewer's own (any learner's own deck is
    seen by them alone)."""
    if viewer is None:
        return SHIPPED
    return or_(SHIPPED, decks.c.owner_id == viewer)


def _without_owned(
    deck_list: Sequence[Deck], owned_decks: set[str], owned_cards: set[str]
) -> list[Deck]:
    """The shipped decks less any deck or card whose id a personal deck or card holds
    (the sync never touches those), each left out with a warning."""
    kept: list[Deck] = []
    for deck in deck_list:
        if deck.id in owned_decks:
            log.warning("deck %s not synced: a learner's own deck has that id", deck.id)
            continue
        clash = [c.id for c in deck.cards if c.id in owned_cards]
        if clash:
            log.warning(
                "deck %s: %d card(s) not synced: a learner's own cards have those ids (%s)",
                deck.id,
                len(clash),
                ", ".join(clash[:5]),
            )
            deck = replace(deck, cards=tuple(c for c in deck.cards if c.id not in owned_cards))
        kept.append(deck)
    return kept


class SqlCatalogue:
    """Decks and cards as synced from the deck files, with a per-process card cache."""

    def __init__(self, conn: Connection, cache: dict[str, CardInfo | None] | None = None) -> None:
        self.conn = conn
        #: Card content by id, shared by the transactions of one database object: the
        #: shipped decks' cards only, whose text changes only with a deck sync, which
        #: clears it. A personal deck's card is read each time: an import in any process
        #: may change it, and no other process's cache would hear of it.
        self.cache: dict[str, CardInfo | None] = {} if cache is None else cache

    def card(self, card_id: str) -> CardInfo | None:
        """A card's content; a shipped card is served from the per-process cache once read."""
        if card_id in self.cache:
            return self.cache[card_id]
        row = self.conn.execute(_CARD, {"card_id": card_id}).first()
        info: CardInfo | None = None
        if row is not None:
            tags = self.conn.execute(_CARD_TAGS, {"card_id": card_id}).scalars()
            info = CardInfo(
                id=row.id,
                deck_id=row.deck_id,
                deck_title=row.deck_title,
                title=row.title,
                front=row.front,
                back=row.back,
                tags=tuple(tags),
                mnemonic=row.mnemonic,
                notes=row.notes,
                front_image=_image(row.front_image_kind, row.front_image_spec),
                back_image=_image(row.image_kind, row.image_spec),
                choices=Choices.from_json(row.choices),
            )
            if row.owner_id is None:  # absent cards are not cached: a sync may add them
                self.cache[card_id] = info
        return info

    def decks(self, viewer: int | None = None) -> list[DeckInfo]:
        count = (
            select(func.count())
            .where(cards.c.deck_id == decks.c.id, cards.c.retired_at.is_(None))
            .scalar_subquery()
        )
        rows = self.conn.execute(
            select(
                decks.c.id,
                decks.c.title,
                decks.c.description,
                decks.c.tags,
                decks.c.owner_id,
                decks.c.paused,
                count.label("n"),
            )
            .where(decks.c.retired_at.is_(None), seen_by(viewer))
            .order_by(decks.c.position, decks.c.id)
        ).all()
        return [
            DeckInfo(
                r.id,
                r.title,
                r.description,
                r.n,
                tuple(t for t in r.tags.split(",") if t),
                owner_id=r.owner_id,
                paused=bool(r.paused),
            )
            for r in rows
        ]

    def topics(self, viewer: int | None = None) -> list[str]:
        live = (
            select(cards.c.id)
            .join(decks, decks.c.id == cards.c.deck_id)
            .where(cards.c.retired_at.is_(None), SHIPPED)
        )
        tags = self.conn.execute(
            select(card_tags.c.tag).where(card_tags.c.card_id.in_(live)).distinct()
        ).scalars()
        deck_ids = self.conn.execute(
            select(decks.c.id).where(decks.c.retired_at.is_(None), seen_by(viewer))
        ).scalars()
        return sorted({*tags, *deck_ids})

    def cards_in_topic(self, topic: str, viewer: int | None = None) -> list[str]:
        tagged = exists().where(card_tags.c.card_id == cards.c.id, card_tags.c.tag == topic)
        return list(
            self.conn.execute(
                select(cards.c.id)
                .join(decks, decks.c.id == cards.c.deck_id)
                .where(
                    cards.c.retired_at.is_(None),
                    or_(cards.c.deck_id == topic, tagged),
                    seen_by(viewer),
                    not_(decks.c.paused),
                )
                .order_by(decks.c.position, cards.c.position)
            ).scalars()
        )

    def sync(self, deck_list: Sequence[Deck], now: datetime, *, retire: bool = True) -> SyncReport:
        """Upsert decks and cards by id; retire what is gone (history is kept).

        With ``retire=False`` nothing is retired: used when some deck files had
        errors, so a typo never takes a deck away from its learners.

        Several processes may sync at once: each waits for the one before to commit
        (:func:`~bot.storage.locks.serialise`) and then reads what it wrote.
        """
        serialise(self.conn, SYNC_LOCK)
        self.cache.clear()
        owned_decks = set(self.conn.execute(select(decks.c.id).where(~SHIPPED)).scalars())
        owned_cards = set(
            self.conn.execute(
                select(cards.c.id).join(decks, decks.c.id == cards.c.deck_id).where(~SHIPPED)
            ).scalars()
        )
        deck_list = _without_owned(deck_list, owned_decks, owned_cards)
        existing = {
            r.id: (r.content_hash, r.retired_at)
            for r in self.conn.execute(
                select(cards.c.id, cards.c.content_hash, cards.c.retired_at)
                .join(decks, decks.c.id == cards.c.deck_id)
                .where(SHIPPED)
            )
        }
        existing_decks = set(self.conn.execute(select(decks.c.id).where(SHIPPED)).scalars())
        for position, deck in enumerate(deck_list):
            values = {
                "title": deck.title,
                "description": deck.description,
                "path": deck.path,
                "tags": ",".join(deck.tags),
                "position": position,
                "synced_at": now,
                "retired_at": None,
            }
            if deck.id in existing_decks:
                self.conn.execute(update(decks).where(decks.c.id == deck.id).values(**values))
            else:
                self.conn.execute(insert(decks).values(id=deck.id, **values))
        live_decks = {d.id for d in deck_list}
        gone_decks = existing_decks - live_decks
        if gone_decks and retire:
            self.conn.execute(
                update(decks)
                .where(decks.c.id.in_(gone_decks), decks.c.retired_at.is_(None), SHIPPED)
                .values(retired_at=now)
            )
        added = updated = unchanged = 0
        seen: set[str] = set()
        new_rows: list[dict[str, Any]] = []
        tag_rows: list[dict[str, Any]] = []
        changed_ids: list[str] = []
        for position, deck in enumerate(deck_list):
            for card in deck.cards:
                seen.add(card.id)
                digest = _card_hash(card, position)
                row = {
                    "deck_id": card.deck_id,
                    "position": card.position,
                    "title": card.title,
                    "front": card.front,
                    "back": card.back,
                    "mnemonic": card.mnemonic,
                    "notes": card.notes,
                    "difficulty": card.difficulty,
                    "related": ",".join(card.related),
                    "image_kind": card.back_image.kind if card.back_image else None,
                    "image_spec": card.back_image.source if card.back_image else None,
                    "front_image_kind": card.front_image.kind if card.front_image else None,
                    "front_image_spec": card.front_image.source if card.front_image else None,
                    "choices": card.choices.to_json() if card.choices else None,
                    "content_hash": digest,
                    "updated_at": now,
                    "retired_at": None,
                }
                old = existing.get(card.id)
                if old is None:
                    new_rows.append({"id": card.id, "created_at": now, **row})
                    added += 1
                elif old[0] != digest or old[1] is not None:
                    self.conn.execute(update(cards).where(cards.c.id == card.id).values(**row))
                    changed_ids.append(card.id)
                    updated += 1
                else:
                    unchanged += 1
                    continue
                tag_rows.extend({"card_id": card.id, "tag": t} for t in card.tags)
        if new_rows:
            self.conn.execute(insert(cards), new_rows)
        if changed_ids:
            self.conn.execute(delete(card_tags).where(card_tags.c.card_id.in_(changed_ids)))
        if tag_rows:
            self.conn.execute(insert(card_tags), tag_rows)
        gone = [
            cid for cid, (_, retired) in existing.items() if cid not in seen and retired is None
        ]
        if not retire:
            gone = []
        if gone:
            self.conn.execute(update(cards).where(cards.c.id.in_(gone)).values(retired_at=now))
        return SyncReport(added=added, updated=updated, retired=len(gone), unchanged=unchanged)
