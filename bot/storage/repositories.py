"""Repositories over one SQLAlchemy connection inside a transaction.

They implement the core's ports (``bot.core.ports``) with set-based Core
statements and return core dataclasses, never rows.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import (
    ARRAY,
    Connection,
    Float,
    Integer,
    String,
    and_,
    any_,
    bindparam,
    case,
    cast,
    delete,
    exists,
    func,
    insert,
    literal_column,
    not_,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.engine import RowMapping
from sqlalchemy.sql.elements import BindParameter
from sqlalchemy.util import await_

from bot.core.decks import CardDef, Deck
from bot.core.model import (
    CardInfo,
    CardState,
    CardStateKind,
    ChallengeRun,
    ChallengeSchedule,
    DeckInfo,
    GroupSettings,
    Learner,
    LearnerSettings,
    OutboxMessage,
    Prompt,
    PushTarget,
    QuizParticipant,
    QuizRound,
    ReviewEntry,
    Submission,
    SyncReport,
)
from bot.storage.tables import (
    UTCDateTime,
    card_states,
    card_tags,
    cards,
    challenge_runs,
    challenge_schedules,
    challenge_submissions,
    confirmations,
    decks,
    group_settings,
    learner_settings,
    learners,
    outbox,
    prompts,
    quiz_participants,
    quiz_rounds,
    review_logs,
)


def _steps_text(steps: Sequence[timedelta]) -> str:
    return ",".join(str(int(s.total_seconds())) for s in steps)


@lru_cache(maxsize=256)
def _steps(text: str) -> tuple[timedelta, ...]:
    return tuple(timedelta(seconds=int(p)) for p in text.split(",") if p)


def _settings_row(s: LearnerSettings) -> dict[str, Any]:
    return {
        "timezone": s.timezone,
        "push_time": s.push_time.strftime("%H:%M"),
        "desired_retention": s.desired_retention,
        "new_cards_per_day": s.new_cards_per_day,
        "max_reviews_per_day": s.max_reviews_per_day,
        "learning_steps": _steps_text(s.learning_steps),
        "relearning_steps": _steps_text(s.relearning_steps),
        "maximum_interval_days": s.maximum_interval_days,
        "leech_threshold": s.leech_threshold,
        "enable_fuzzing": s.enable_fuzzing,
        "paused": s.paused,
        "fsrs_parameters": json.dumps(list(s.fsrs_parameters)) if s.fsrs_parameters else None,
        "quiet_start": s.quiet_start.strftime("%H:%M") if s.quiet_start else None,
        "quiet_end": s.quiet_end.strftime("%H:%M") if s.quiet_end else None,
        "days_off": "".join(str(d) for d in sorted(s.days_off)),
        "max_cards_per_push": s.max_cards_per_push,
    }


@lru_cache(maxsize=4096)
def _timing(
    timezone: str, push: str, quiet_start: str | None, quiet_end: str | None, days_off: str
) -> LearnerSettings:
    """The push-timing part of a learner's settings (shared, cached: few distinct values)."""
    return LearnerSettings(
        timezone=timezone,
        push_time=_hhmm(push) or time(9, 0),
        quiet_start=_hhmm(quiet_start),
        quiet_end=_hhmm(quiet_end),
        days_off=_days(days_off),
    )


@lru_cache(maxsize=128)
def _days(text: str) -> tuple[int, ...]:
    return tuple(int(d) for d in text)


@lru_cache(maxsize=4096)
def _hhmm(text: str | None) -> time | None:
    if not text:
        return None
    hh, mm = text.split(":")
    return time(int(hh), int(mm))


def _settings(r: RowMapping) -> LearnerSettings:
    params = r["fsrs_parameters"]
    return LearnerSettings(
        timezone=r["timezone"],
        push_time=_hhmm(r["push_time"]) or time(9, 0),
        desired_retention=r["desired_retention"],
        new_cards_per_day=r["new_cards_per_day"],
        max_reviews_per_day=r["max_reviews_per_day"],
        learning_steps=_steps(r["learning_steps"]),
        relearning_steps=_steps(r["relearning_steps"]),
        maximum_interval_days=r["maximum_interval_days"],
        leech_threshold=r["leech_threshold"],
        enable_fuzzing=r["enable_fuzzing"],
        paused=r["paused"],
        fsrs_parameters=tuple(json.loads(params)) if params else None,
        quiet_start=_hhmm(r["quiet_start"]),
        quiet_end=_hhmm(r["quiet_end"]),
        days_off=_days(r["days_off"]),
        max_cards_per_push=r["max_cards_per_push"],
    )


_LEARNER_SELECT = select(
    learners.c.id,
    learners.c.platform,
    learners.c.platform_user_id,
    learners.c.display_name,
    learners.c.created_at,
    learners.c.unreachable,
    learners.c.last_seen_at,
    learners.c.dm_channel_id,
    learners.c.next_push_at,
    *[c for c in learner_settings.c if c.name != "learner_id"],
).join(learner_settings, learner_settings.c.learner_id == learners.c.id)


def _learner(r: RowMapping) -> Learner:
    return Learner(
        id=r["id"],
        platform=r["platform"],
        platform_user_id=r["platform_user_id"],
        display_name=r["display_name"],
        created_at=r["created_at"],
        settings=_settings(r),
        topics=tuple(t for t in r["topics"].split(",") if t),
        unreachable=r["unreachable"],
        last_seen_at=r["last_seen_at"],
        dm_channel_id=r["dm_channel_id"],
        next_push_at=r["next_push_at"],
    )


# Hot-path statements are built once: a statement built per call costs more
# (argument checks, a fresh cache key) than SQLite takes to run it.
_LEARNER_BY_ACCOUNT = _LEARNER_SELECT.where(
    learners.c.platform == bindparam("platform"),
    learners.c.platform_user_id == bindparam("user_id"),
)
_LEARNER_BY_ID = _LEARNER_SELECT.where(learners.c.id == bindparam("learner_id"))


class SqlLearners:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, platform: str, platform_user_id: str) -> Learner | None:
        row = (
            self.conn.execute(
                _LEARNER_BY_ACCOUNT, {"platform": platform, "user_id": platform_user_id}
            )
            .mappings()
            .first()
        )
        return _learner(row) if row else None

    def get_by_id(self, learner_id: int) -> Learner | None:
        row = self.conn.execute(_LEARNER_BY_ID, {"learner_id": learner_id}).mappings().first()
        return _learner(row) if row else None

    def create(
        self,
        platform: str,
        platform_user_id: str,
        display_name: str,
        settings: LearnerSettings,
        topics: Sequence[str],
        now: datetime,
    ) -> Learner:
        learner_id = self.conn.execute(
            insert(learners)
            .values(
                platform=platform,
                platform_user_id=platform_user_id,
                display_name=display_name[:128],
                created_at=now,
                last_seen_at=now,
                unreachable=False,
            )
            .returning(learners.c.id)
        ).scalar_one()
        self.conn.execute(
            insert(learner_settings).values(
                learner_id=learner_id, topics=",".join(topics), **_settings_row(settings)
            )
        )
        return Learner(
            learner_id,
            platform,
            platform_user_id,
            display_name[:128],
            now,
            settings,
            tuple(topics),
            last_seen_at=now,
        )

    def save_settings(self, learner_id: int, settings: LearnerSettings) -> None:
        self.conn.execute(
            update(learner_settings)
            .where(learner_settings.c.learner_id == learner_id)
            .values(**_settings_row(settings))
        )

    def set_topics(self, learner_id: int, topics: Sequence[str]) -> None:
        self.conn.execute(
            update(learner_settings)
            .where(learner_settings.c.learner_id == learner_id)
            .values(topics=",".join(topics))
        )

    def seen(self, learner_id: int, now: datetime) -> None:
        self.conn.execute(
            update(learners)
            .where(learners.c.id == learner_id)
            .values(last_seen_at=now, unreachable=False)
        )

    def set_next_push(self, learner_id: int, when: datetime | None) -> None:
        self.conn.execute(
            update(learners).where(learners.c.id == learner_id).values(next_push_at=when)
        )

    def set_dm_channel(self, learner_id: int, channel_id: str) -> None:
        self.conn.execute(
            update(learners).where(learners.c.id == learner_id).values(dm_channel_id=channel_id)
        )

    def set_unreachable(self, learner_id: int) -> None:
        self.conn.execute(
            update(learners).where(learners.c.id == learner_id).values(unreachable=True)
        )

    def delete(self, learner_id: int) -> None:
        # Rows that point at the learner go with it (ON DELETE CASCADE); quiz rounds
        # they started stay, without their name. The outbox has no foreign key (it
        # is written in bulk), so its rows are deleted here.
        self.conn.execute(delete(outbox).where(outbox.c.learner_id == learner_id))
        self.conn.execute(delete(learners).where(learners.c.id == learner_id))


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
        card.image.kind if card.image else "",
        card.image.source if card.image else "",
    ]
    return hashlib.sha256("\x1f".join(parts).encode()).hexdigest()


_CARD = (
    select(
        cards.c.id,
        cards.c.deck_id,
        decks.c.title.label("deck_title"),
        cards.c.title,
        cards.c.front,
        cards.c.back,
        cards.c.mnemonic,
        cards.c.notes,
        cards.c.image_kind,
        cards.c.image_spec,
    )
    .join(decks, decks.c.id == cards.c.deck_id)
    .where(cards.c.id == bindparam("card_id"))
)
_CARD_TAGS = (
    select(card_tags.c.tag)
    .where(card_tags.c.card_id == bindparam("card_id"))
    .order_by(card_tags.c.tag)
)


class SqlCatalogue:
    def __init__(self, conn: Connection, cache: dict[str, CardInfo | None] | None = None) -> None:
        self.conn = conn
        #: Card content by id, shared by the transactions of one database object.
        #: A deck sync clears it (card text changes only then).
        self.cache: dict[str, CardInfo | None] = {} if cache is None else cache

    def card(self, card_id: str) -> CardInfo | None:
        """A card's content; served from the per-process cache once read."""
        if card_id in self.cache:
            return self.cache[card_id]
        row = self.conn.execute(_CARD, {"card_id": card_id}).mappings().first()
        info: CardInfo | None = None
        if row is not None:
            tags = self.conn.execute(_CARD_TAGS, {"card_id": card_id}).scalars()
            info = CardInfo(**row, tags=tuple(tags))
            self.cache[card_id] = info  # absent cards are not cached: a sync may add them
        return info

    def decks(self) -> list[DeckInfo]:
        count = (
            select(func.count())
            .where(cards.c.deck_id == decks.c.id, cards.c.retired_at.is_(None))
            .scalar_subquery()
        )
        rows = self.conn.execute(
            select(decks.c.id, decks.c.title, decks.c.description, decks.c.tags, count.label("n"))
            .where(decks.c.retired_at.is_(None))
            .order_by(decks.c.position)
        ).all()
        return [
            DeckInfo(r.id, r.title, r.description, r.n, tuple(t for t in r.tags.split(",") if t))
            for r in rows
        ]

    def topics(self) -> list[str]:
        live = select(cards.c.id).where(cards.c.retired_at.is_(None))
        tags = self.conn.execute(
            select(card_tags.c.tag).where(card_tags.c.card_id.in_(live)).distinct()
        ).scalars()
        deck_ids = self.conn.execute(
            select(decks.c.id).where(decks.c.retired_at.is_(None))
        ).scalars()
        return sorted({*tags, *deck_ids})

    def cards_in_topic(self, topic: str) -> list[str]:
        tagged = exists().where(card_tags.c.card_id == cards.c.id, card_tags.c.tag == topic)
        return list(
            self.conn.execute(
                select(cards.c.id)
                .join(decks, decks.c.id == cards.c.deck_id)
                .where(cards.c.retired_at.is_(None), or_(cards.c.deck_id == topic, tagged))
                .order_by(decks.c.position, cards.c.position)
            ).scalars()
        )

    def sync(self, deck_list: Sequence[Deck], now: datetime, *, retire: bool = True) -> SyncReport:
        """Upsert decks and cards by id; retire what is gone (history is kept).

        With ``retire=False`` nothing is retired: used when some deck files had
        errors, so a typo never takes a deck away from its learners.
        """
        self.cache.clear()
        existing = {
            r.id: (r.content_hash, r.retired_at)
            for r in self.conn.execute(select(cards.c.id, cards.c.content_hash, cards.c.retired_at))
        }
        existing_decks = set(self.conn.execute(select(decks.c.id)).scalars())
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
                .where(decks.c.id.in_(gone_decks), decks.c.retired_at.is_(None))
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
                    "image_kind": card.image.kind if card.image else None,
                    "image_spec": card.image.source if card.image else None,
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


_STATE_COLS = (
    card_states.c.state,
    card_states.c.step,
    card_states.c.stability,
    card_states.c.difficulty,
    card_states.c.due,
    card_states.c.last_review,
    card_states.c.reps,
    card_states.c.lapses,
    card_states.c.suspended,
    card_states.c.leech,
    card_states.c.buried_until,
)


def _state_from_row(learner_id: int, card_id: str, row: Any) -> CardState:
    return CardState(
        learner_id,
        card_id,
        CardStateKind(row.state),
        row.step,
        row.stability,
        row.difficulty,
        row.due,
        row.last_review,
        row.reps,
        row.lapses,
        row.suspended,
        row.leech,
        row.buried_until,
    )


def _state_values(s: CardState) -> dict[str, Any]:
    assert s.due is not None, "a stored card state always has a due time"
    return {
        "state": int(s.state),
        "step": s.step,
        "stability": s.stability,
        "difficulty": s.difficulty,
        "due": s.due,
        "last_review": s.last_review,
        "reps": s.reps,
        "lapses": s.lapses,
        "suspended": s.suspended,
        "leech": s.leech,
        "buried_until": s.buried_until,
    }


def _available(now: datetime) -> Any:
    """Live, unsuspended, unburied states."""
    return and_(
        not_(card_states.c.suspended),
        or_(card_states.c.buried_until.is_(None), card_states.c.buried_until <= now),
        exists().where(cards.c.id == card_states.c.card_id, cards.c.retired_at.is_(None)),
    )


_STATE_KEY = and_(
    card_states.c.learner_id == bindparam("b_learner_id"),
    card_states.c.card_id == bindparam("b_card_id"),
)
_STATE_GET = select(*_STATE_COLS).where(_STATE_KEY)
_STATE_VALUES: dict[str, BindParameter[Any]] = {
    name: bindparam(f"v_{name}")
    for name in (
        "state",
        "step",
        "stability",
        "difficulty",
        "due",
        "last_review",
        "reps",
        "lapses",
        "suspended",
        "leech",
        "buried_until",
    )
}
_STATE_UPDATE = update(card_states).where(_STATE_KEY).values(_STATE_VALUES)
_STATE_INSERT = insert(card_states).values(
    learner_id=bindparam("b_learner_id"), card_id=bindparam("b_card_id"), **_STATE_VALUES
)
_NEXT_DUE = (
    select(card_states.c.card_id)
    .where(
        card_states.c.learner_id == bindparam("learner_id"),
        card_states.c.due <= bindparam("due_before", type_=UTCDateTime()),
        not_(card_states.c.suspended),
        or_(
            card_states.c.buried_until.is_(None),
            card_states.c.buried_until <= bindparam("now", type_=UTCDateTime()),
        ),
        exists().where(cards.c.id == card_states.c.card_id, cards.c.retired_at.is_(None)),
    )
    .order_by(card_states.c.due)
    .limit(1)
)


_REVIEW_INSERT = insert(review_logs)
_COUNTS_SINCE = select(
    func.count(),
    func.coalesce(
        func.sum(case((review_logs.c.before_state == int(CardStateKind.NEW), 1), else_=0)), 0
    ),
).where(
    review_logs.c.learner_id == bindparam("learner_id"),
    review_logs.c.reviewed_at >= bindparam("since", type_=UTCDateTime()),
    review_logs.c.undone_at.is_(None),
)


_DUE_AND_COUNTS = select(
    _NEXT_DUE.scalar_subquery(),
    _COUNTS_SINCE.with_only_columns(func.count()).scalar_subquery(),
    _COUNTS_SINCE.with_only_columns(
        func.coalesce(
            func.sum(case((review_logs.c.before_state == int(CardStateKind.NEW), 1), else_=0)), 0
        )
    ).scalar_subquery(),
)


class SqlSchedule:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def next_due_and_counts(
        self, learner_id: int, now: datetime, since: datetime
    ) -> tuple[str | None, int, int]:
        params = {"learner_id": learner_id, "due_before": now, "now": now, "since": since}
        row = self.conn.execute(_DUE_AND_COUNTS, params).one()
        return row[0], int(row[1]), int(row[2])

    def get(self, learner_id: int, card_id: str) -> CardState:
        row = self.conn.execute(
            _STATE_GET, {"b_learner_id": learner_id, "b_card_id": card_id}
        ).first()
        if row is None:
            return CardState(learner_id, card_id)
        return _state_from_row(learner_id, card_id, row)

    def states_for(self, learner_ids: Sequence[int], card_ids: Sequence[str]) -> list[CardState]:
        if not learner_ids or not card_ids:
            return []
        rows = self.conn.execute(
            select(card_states.c.learner_id, card_states.c.card_id, *_STATE_COLS).where(
                card_states.c.learner_id.in_(learner_ids), card_states.c.card_id.in_(card_ids)
            )
        ).all()
        return [_state_from_row(r.learner_id, r.card_id, r) for r in rows]

    def save(self, state: CardState) -> None:
        params = {f"v_{k}": v for k, v in _state_values(state).items()}
        params["b_learner_id"] = state.learner_id
        params["b_card_id"] = state.card_id
        if self.conn.execute(_STATE_UPDATE, params).rowcount == 0:
            self.conn.execute(_STATE_INSERT, params)

    def delete(self, learner_id: int, card_id: str) -> None:
        self.conn.execute(
            delete(card_states).where(
                card_states.c.learner_id == learner_id, card_states.c.card_id == card_id
            )
        )

    def next_due(
        self, learner_id: int, now: datetime, due_before: datetime | None = None
    ) -> str | None:
        limit = now if due_before is None else due_before
        params = {"learner_id": learner_id, "due_before": limit, "now": now}
        return self.conn.execute(_NEXT_DUE, params).scalar()

    def next_new(self, learner_id: int, topics: Sequence[str], now: datetime) -> str | None:
        studied = exists().where(
            card_states.c.learner_id == learner_id, card_states.c.card_id == cards.c.id
        )
        query = (
            select(cards.c.id)
            .join(decks, decks.c.id == cards.c.deck_id)
            .where(cards.c.retired_at.is_(None), not_(studied))
        )
        if topics:
            tagged = exists().where(card_tags.c.card_id == cards.c.id, card_tags.c.tag.in_(topics))
            query = query.where(or_(cards.c.deck_id.in_(topics), tagged))
        return self.conn.execute(
            query.order_by(decks.c.position, cards.c.position).limit(1)
        ).scalar()

    def count_due(self, learner_id: int, until: datetime) -> int:
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(card_states)
                .where(
                    card_states.c.learner_id == learner_id,
                    card_states.c.due < until,
                    not_(card_states.c.suspended),
                    or_(card_states.c.buried_until.is_(None), card_states.c.buried_until < until),
                    exists().where(
                        cards.c.id == card_states.c.card_id, cards.c.retired_at.is_(None)
                    ),
                )
            ).scalar_one()
        )

    def due_times(self, learner_id: int, until: datetime) -> list[datetime]:
        rows = self.conn.execute(
            select(card_states.c.due, card_states.c.buried_until).where(
                card_states.c.learner_id == learner_id,
                card_states.c.due < until,
                not_(card_states.c.suspended),
                exists().where(cards.c.id == card_states.c.card_id, cards.c.retired_at.is_(None)),
            )
        ).all()
        return [max(r.due, r.buried_until) if r.buried_until else r.due for r in rows]

    def next_due_at(self, learner_id: int) -> datetime | None:
        when = case(
            (
                and_(
                    card_states.c.buried_until.is_not(None),
                    card_states.c.buried_until > card_states.c.due,
                ),
                card_states.c.buried_until,
            ),
            else_=card_states.c.due,
        )
        row = self.conn.execute(
            select(card_states.c.due, card_states.c.buried_until)
            .where(
                card_states.c.learner_id == learner_id,
                not_(card_states.c.suspended),
                exists().where(cards.c.id == card_states.c.card_id, cards.c.retired_at.is_(None)),
            )
            .order_by(when)
            .limit(1)
        ).first()
        if row is None:
            return None
        due: datetime = row.due
        if row.buried_until is not None and row.buried_until > due:
            return row.buried_until  # type: ignore[no-any-return]
        return due

    def unsuspend(self, learner_id: int, card_ids: Sequence[str] | None) -> int:
        stmt = (
            update(card_states)
            .where(card_states.c.learner_id == learner_id, card_states.c.suspended)
            .values(suspended=False, leech=False)
        )
        if card_ids is not None:
            stmt = stmt.where(card_states.c.card_id.in_(card_ids))
        return int(self.conn.execute(stmt).rowcount)


class SqlReviews:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, entry: ReviewEntry) -> int:
        b, a = entry.before, entry.after
        values: dict[str, Any] = {
            "learner_id": entry.learner_id,
            "card_id": entry.card_id,
            "rating": entry.rating,
            "reviewed_at": entry.reviewed_at,
            "duration_ms": entry.duration_ms,
            "source": entry.source,
            "typed_answer": entry.typed_answer,
            "before_state": int(b.state),
            "before_step": b.step,
            "before_stability": b.stability,
            "before_difficulty": b.difficulty,
            "before_due": b.due,
            "before_last_review": b.last_review,
            "before_reps": b.reps,
            "before_lapses": b.lapses,
            "before_suspended": b.suspended,
            "before_leech": b.leech,
            "before_buried_until": b.buried_until,
            "after_state": int(a.state),
            "after_step": a.step,
            "after_stability": a.stability,
            "after_difficulty": a.difficulty,
            "after_due": a.due,
            "after_last_review": a.last_review,
            "after_lapses": a.lapses,
        }
        key = self.conn.execute(_REVIEW_INSERT, values).inserted_primary_key
        assert key is not None
        return int(key[0])

    def last_active(self, learner_id: int) -> ReviewEntry | None:
        r = (
            self.conn.execute(
                select(review_logs)
                .where(review_logs.c.learner_id == learner_id, review_logs.c.undone_at.is_(None))
                .order_by(review_logs.c.reviewed_at.desc(), review_logs.c.id.desc())
                .limit(1)
            )
            .mappings()
            .first()
        )
        return _entry(r) if r is not None else None

    def all_for(self, learner_id: int) -> list[ReviewEntry]:
        rows = (
            self.conn.execute(
                select(review_logs)
                .where(review_logs.c.learner_id == learner_id)
                .order_by(review_logs.c.reviewed_at, review_logs.c.id)
            )
            .mappings()
            .all()
        )
        return [_entry(r) for r in rows]

    def mark_undone(self, review_id: int, now: datetime) -> None:
        self.conn.execute(
            update(review_logs).where(review_logs.c.id == review_id).values(undone_at=now)
        )

    def counts_since(self, learner_id: int, since: datetime) -> tuple[int, int]:
        row = self.conn.execute(_COUNTS_SINCE, {"learner_id": learner_id, "since": since}).one()
        return int(row[0]), int(row[1])

    def count_source_since(self, learner_id: int, source: str, since: datetime) -> int:
        return int(
            self.conn.execute(
                select(func.count())
                .select_from(review_logs)
                .where(
                    review_logs.c.learner_id == learner_id,
                    review_logs.c.source == source,
                    review_logs.c.reviewed_at >= since,
                    review_logs.c.undone_at.is_(None),
                )
            ).scalar_one()
        )

    def history(self, learner_id: int, since: datetime) -> list[tuple[datetime, int, int]]:
        rows = self.conn.execute(
            select(review_logs.c.reviewed_at, review_logs.c.rating, review_logs.c.before_state)
            .where(
                review_logs.c.learner_id == learner_id,
                review_logs.c.reviewed_at >= since,
                review_logs.c.undone_at.is_(None),
            )
            .order_by(review_logs.c.reviewed_at)
        ).all()
        return [(r[0], int(r[1]), int(r[2])) for r in rows]


def _entry(r: RowMapping) -> ReviewEntry:
    learner_id = r["learner_id"]
    before = CardState(
        learner_id,
        r["card_id"],
        CardStateKind(r["before_state"]),
        r["before_step"],
        r["before_stability"],
        r["before_difficulty"],
        r["before_due"],
        r["before_last_review"],
        r["before_reps"],
        r["before_lapses"],
        r["before_suspended"],
        r["before_leech"],
        r["before_buried_until"],
    )
    after = CardState(
        learner_id,
        r["card_id"],
        CardStateKind(r["after_state"]),
        r["after_step"],
        r["after_stability"],
        r["after_difficulty"],
        r["after_due"],
        r["after_last_review"],
        r["before_reps"] + 1,
        r["after_lapses"],
    )
    return ReviewEntry(
        learner_id=learner_id,
        card_id=r["card_id"],
        rating=r["rating"],
        reviewed_at=r["reviewed_at"],
        source=r["source"],
        before=before,
        after=after,
        duration_ms=r["duration_ms"],
        typed_answer=r["typed_answer"],
        id=r["id"],
        undone_at=r["undone_at"],
    )


_PROMPT_INSERT = insert(prompts)
_PROMPT_GET = select(prompts).where(prompts.c.token == bindparam("token"))
_PROMPT_CLAIM = (
    update(prompts)
    .where(
        prompts.c.token == bindparam("b_token"),
        prompts.c.learner_id == bindparam("b_learner_id"),
        prompts.c.answered_at.is_(None),
    )
    .values(answered_at=bindparam("b_now", type_=UTCDateTime()))
)


_PROMPT_WITH_STATE = (
    select(prompts, *_STATE_COLS)
    .select_from(
        prompts.outerjoin(
            card_states,
            and_(
                card_states.c.learner_id == prompts.c.learner_id,
                card_states.c.card_id == prompts.c.card_id,
            ),
        )
    )
    .where(prompts.c.token == bindparam("token"))
)


class SqlPrompts:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, prompt: Prompt) -> None:
        self.conn.execute(
            _PROMPT_INSERT,
            {
                "token": prompt.token,
                "learner_id": prompt.learner_id,
                "card_id": prompt.card_id,
                "source": prompt.source,
                "created_at": prompt.created_at,
            },
        )

    def get_with_state(self, token: str) -> tuple[Prompt, CardState] | None:
        r = self.conn.execute(_PROMPT_WITH_STATE, {"token": token}).first()
        if r is None:
            return None
        prompt = Prompt(
            r.token,
            r.learner_id,
            r.card_id,
            r.source,
            r.created_at,
            r.revealed_at,
            r.answered_at,
            r.typed_answer,
        )
        if r.state is None:
            return prompt, CardState(r.learner_id, r.card_id)
        return prompt, _state_from_row(r.learner_id, r.card_id, r)

    def get(self, token: str) -> Prompt | None:
        r = self.conn.execute(_PROMPT_GET, {"token": token}).mappings().first()
        if r is None:
            return None
        return Prompt(
            r["token"],
            r["learner_id"],
            r["card_id"],
            r["source"],
            r["created_at"],
            r["revealed_at"],
            r["answered_at"],
            r["typed_answer"],
        )

    def reveal(self, token: str, now: datetime, typed_answer: str | None) -> None:
        self.conn.execute(
            update(prompts)
            .where(prompts.c.token == token)
            .values(revealed_at=now, typed_answer=typed_answer)
        )

    def claim(self, token: str, learner_id: int, now: datetime) -> bool:
        params = {"b_token": token, "b_learner_id": learner_id, "b_now": now}
        return bool(self.conn.execute(_PROMPT_CLAIM, params).rowcount == 1)

    def prune(self, before: datetime) -> int:
        return int(self.conn.execute(delete(prompts).where(prompts.c.created_at < before)).rowcount)


def _round(r: Any) -> QuizRound:
    return QuizRound(
        id=r.id,
        token=r.token,
        platform=r.platform,
        chat_id=r.chat_id,
        card_id=r.card_id,
        topic=r.topic,
        started_at=r.started_at,
        ends_at=r.ends_at,
        started_by=r.started_by,
        closed_at=r.closed_at,
        expected=tuple(int(x) for x in r.expected.split(",") if x),
    )


class SqlQuizzes:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def open_round(self, platform: str, chat_id: str) -> QuizRound | None:
        row = self.conn.execute(
            select(quiz_rounds)
            .where(
                quiz_rounds.c.platform == platform,
                quiz_rounds.c.chat_id == chat_id,
                quiz_rounds.c.closed_at.is_(None),
            )
            .order_by(quiz_rounds.c.started_at.desc())
            .limit(1)
        ).first()
        return _round(row) if row else None

    def add(self, r: QuizRound) -> QuizRound:
        new_id = self.conn.execute(
            insert(quiz_rounds)
            .values(
                token=r.token,
                platform=r.platform,
                chat_id=r.chat_id,
                card_id=r.card_id,
                topic=r.topic,
                started_by=r.started_by,
                started_at=r.started_at,
                ends_at=r.ends_at,
                expected=",".join(str(i) for i in r.expected),
            )
            .returning(quiz_rounds.c.id)
        ).scalar_one()
        return replace(r, id=new_id)

    def by_token(self, token: str) -> QuizRound | None:
        row = self.conn.execute(select(quiz_rounds).where(quiz_rounds.c.token == token)).first()
        return _round(row) if row else None

    def by_id(self, round_id: int) -> QuizRound | None:
        row = self.conn.execute(select(quiz_rounds).where(quiz_rounds.c.id == round_id)).first()
        return _round(row) if row else None

    def participants(self, round_id: int) -> list[QuizParticipant]:
        rows = self.conn.execute(
            select(quiz_participants)
            .where(quiz_participants.c.round_id == round_id)
            .order_by(quiz_participants.c.revealed_at)
        ).all()
        return [
            QuizParticipant(
                r.round_id,
                r.learner_id,
                r.prompt_token,
                r.display_name,
                r.revealed_at,
                r.rating,
                r.answered_at,
            )
            for r in rows
        ]

    def add_participant(self, p: QuizParticipant) -> None:
        self.conn.execute(
            insert(quiz_participants).values(
                round_id=p.round_id,
                learner_id=p.learner_id,
                prompt_token=p.prompt_token,
                display_name=p.display_name[:128],
                revealed_at=p.revealed_at,
            )
        )

    def by_prompt(self, prompt_token: str) -> QuizParticipant | None:
        r = self.conn.execute(
            select(quiz_participants).where(quiz_participants.c.prompt_token == prompt_token)
        ).first()
        if r is None:
            return None
        return QuizParticipant(
            r.round_id,
            r.learner_id,
            r.prompt_token,
            r.display_name,
            r.revealed_at,
            r.rating,
            r.answered_at,
        )

    def record(self, round_id: int, learner_id: int, rating: int, now: datetime) -> None:
        self.conn.execute(
            update(quiz_participants)
            .where(
                quiz_participants.c.round_id == round_id,
                quiz_participants.c.learner_id == learner_id,
            )
            .values(rating=rating, answered_at=now)
        )

    def close(self, round_id: int, now: datetime) -> bool:
        result = self.conn.execute(
            update(quiz_rounds)
            .where(quiz_rounds.c.id == round_id, quiz_rounds.c.closed_at.is_(None))
            .values(closed_at=now)
        )
        return bool(result.rowcount == 1)

    def due(self, now: datetime, limit: int = 100) -> list[QuizRound]:
        rows = self.conn.execute(
            select(quiz_rounds)
            .where(quiz_rounds.c.closed_at.is_(None), quiz_rounds.c.ends_at <= now)
            .order_by(quiz_rounds.c.ends_at)
            .limit(limit)
        ).all()
        return [_round(r) for r in rows]

    def recent_participants(self, platform: str, chat_id: str, since: datetime) -> list[int]:
        rows = self.conn.execute(
            select(quiz_participants.c.learner_id)
            .join(quiz_rounds, quiz_rounds.c.id == quiz_participants.c.round_id)
            .where(
                quiz_rounds.c.platform == platform,
                quiz_rounds.c.chat_id == chat_id,
                quiz_rounds.c.started_at >= since,
            )
            .distinct()
        ).scalars()
        return sorted(int(x) for x in rows)

    def recent_cards(self, platform: str, chat_id: str, since: datetime) -> set[str]:
        return set(
            self.conn.execute(
                select(quiz_rounds.c.card_id).where(
                    quiz_rounds.c.platform == platform,
                    quiz_rounds.c.chat_id == chat_id,
                    quiz_rounds.c.started_at >= since,
                )
            ).scalars()
        )


class SqlConfirmations:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, token: str, learner_id: int, kind: str, now: datetime) -> None:
        self.conn.execute(
            insert(confirmations).values(
                token=token, learner_id=learner_id, kind=kind, created_at=now
            )
        )

    def use(self, token: str, learner_id: int, now: datetime, since: datetime) -> str | None:
        row = self.conn.execute(
            update(confirmations)
            .where(
                confirmations.c.token == token,
                confirmations.c.learner_id == learner_id,
                confirmations.c.used_at.is_(None),
                confirmations.c.created_at >= since,
            )
            .values(used_at=now)
            .returning(confirmations.c.kind)
        ).first()
        return str(row.kind) if row else None


# Length of an instant as SQLAlchemy stores it in SQLite: "2026-03-02 09:00:00.000000".
_SQLITE_INSTANT = 26
_LAST_ACTIVE = func.coalesce(learners.c.last_seen_at, learners.c.created_at)


def _claim(platform: Any) -> Any:
    return (
        select(
            learners.c.id,
            learners.c.platform,
            type_coerce(_LAST_ACTIVE, UTCDateTime()).label("last_active"),
            and_(
                learners.c.last_reminder_at.is_not(None),
                learners.c.last_reminder_at >= _LAST_ACTIVE,
            ).label("reminded"),
            learner_settings.c.timezone,
            learner_settings.c.push_time,
            learner_settings.c.quiet_start,
            learner_settings.c.quiet_end,
            learner_settings.c.days_off,
            learner_settings.c.max_cards_per_push,
        )
        .join(learner_settings, learner_settings.c.learner_id == learners.c.id)
        .where(
            learners.c.next_push_at <= bindparam("now", type_=UTCDateTime()),
            platform.in_(bindparam("platforms", expanding=True)),
            not_(learners.c.unreachable),
            not_(learner_settings.c.paused),
        )
        .order_by(learners.c.next_push_at)
        .limit(bindparam("limit"))
    )


# Both read only the due rows off the next-push index. On SQLite the platform is
# compared as `platform || ''`: without statistics SQLite would otherwise walk the
# (platform, user id) index over every learner and sort, on every tick. PostgreSQL
# needs the plain column: behind an expression it misjudges how many rows match
# and sorts every due learner instead (3 times slower).
_CLAIM = _claim(learners.c.platform.concat(literal_column("''")))
_CLAIM_LOCKED = _claim(learners.c.platform).with_for_update(skip_locked=True, of=learners)


_OUTBOX_COLUMNS = (
    "platform",
    "learner_id",
    "kind",
    "text",
    "card_id",
    "prompt_token",
    "due_count",
    "created_at",
    "not_before",
    "attempts",
)


class SqlPushes:
    """Set-based statements for the daily push fan-out and the outbox."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.skip_locked = conn.dialect.name == "postgresql"

    def _ids(self, column: Any, ids: Sequence[int]) -> Any:
        """``column IN ids`` with one parameter, not thousands.

        PostgreSQL takes an array (``= ANY``); SQLite a JSON list read by
        ``json_each``. Thousands of separate parameters cost more to render and
        bind than the query costs to run.
        """
        if self.skip_locked:
            return column == any_(bindparam("ids", list(ids), type_=ARRAY(Integer)))
        if _sqlite_has_json(self.conn):
            listed = func.json_each(bindparam("ids", json.dumps(list(ids)))).table_valued("value")
            return column.in_(select(listed.c.value))
        return column.in_(ids)

    def claim_due(self, now: datetime, platforms: Sequence[str], limit: int) -> list[PushTarget]:
        query = _CLAIM_LOCKED if self.skip_locked else _CLAIM
        params = {"now": now, "platforms": list(platforms), "limit": limit}
        rows = self.conn.execute(query, params).all()  # in bulk: not one fetch per row
        return [
            PushTarget(r[0], r[1], r[2], bool(r[3]), _timing(r[4], r[5], r[6], r[7], r[8]), r[9])
            for r in rows
        ]

    def due_summary(self, learner_ids: Sequence[int], now: datetime) -> dict[int, tuple[str, int]]:
        """Each learner's first due card (by due, then card id) and due count: one grouped pass."""
        if not learner_ids:
            return {}
        if self.skip_locked:
            ordered = aggregate_order_by(
                card_states.c.card_id, card_states.c.due, card_states.c.card_id
            )
            first: Any = func.array_agg(ordered, type_=ARRAY(String))[1]
            prefix = 0
        else:
            # SQLite stores instants as fixed-width text ("2026-03-02 09:00:00.000000"),
            # so the smallest `due || ' ' || card_id` names the earliest due card, ties
            # broken by card id (3 times faster than window functions).
            due_text = type_coerce(card_states.c.due, String)
            joined = due_text.concat(literal_column("' '")).concat(card_states.c.card_id)
            first = type_coerce(func.min(joined), String)
            prefix = _SQLITE_INSTANT + 1
        rows = self.conn.execute(
            select(card_states.c.learner_id, first, func.count())
            .where(
                self._ids(card_states.c.learner_id, learner_ids),
                card_states.c.due <= now,
                _available(now),
            )
            .group_by(card_states.c.learner_id)
        ).all()
        return {int(r[0]): (str(r[1])[prefix:], int(r[2])) for r in rows}

    def mean_durations(self, learner_ids: Sequence[int], since: datetime) -> dict[int, float]:
        if not learner_ids:
            return {}
        rows = self.conn.execute(
            # avg() of integers is NUMERIC on PostgreSQL: a Decimal per row unless cast.
            select(review_logs.c.learner_id, cast(func.avg(review_logs.c.duration_ms), Float))
            .where(
                self._ids(review_logs.c.learner_id, learner_ids),
                review_logs.c.reviewed_at >= since,
                review_logs.c.duration_ms.is_not(None),
            )
            .group_by(review_logs.c.learner_id)
        ).all()
        return {int(r[0]): float(r[1]) for r in rows if r[1] is not None}

    def reschedule(
        self, updates: Sequence[tuple[int, datetime | None, bool]], now: datetime
    ) -> None:
        """Set each learner's next push; the flag records that a reminder went out now.

        Learners who share a push instant (same zone and push time, the common case)
        are updated by one statement, not one row each.
        """
        groups: dict[tuple[datetime | None, bool], list[int]] = {}
        for learner_id, nxt, reminded in updates:
            groups.setdefault((nxt, reminded), []).append(learner_id)
        for (nxt, reminded), ids in groups.items():
            values: dict[str, Any] = {"next_push_at": nxt}
            if reminded:
                values["last_reminder_at"] = now
            for start in range(0, len(ids), 5000):
                chunk = ids[start : start + 5000]
                self.conn.execute(
                    update(learners).where(self._ids(learners.c.id, chunk)).values(values)
                )

    def add_outbox(self, rows: Sequence[OutboxMessage]) -> None:
        if not rows:
            return
        records = [
            (
                m.platform,
                m.learner_id,
                m.kind,
                m.text,
                m.card_id,
                m.prompt_token,
                m.due_count,
                m.created_at,
                m.not_before,
                0,
            )
            for m in rows
        ]
        if self.skip_locked and self._copy(records):
            return
        self._insert_plain(records)

    def _insert_plain(self, records: list[tuple[Any, ...]]) -> None:
        """One executemany straight to the driver.

        A batch's messages share a handful of instants, so each distinct one is
        converted for the database once (by the column type, the same way every
        other statement stores it) instead of once per row and column.
        """
        dialect = self.conn.dialect
        convert = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
        stored: dict[datetime, Any] = {}

        def instant(value: datetime) -> Any:
            found = stored.get(value)
            if found is None:
                found = stored[value] = convert(value) if convert else value
            return found

        rows = [(*r[:7], instant(r[7]), instant(r[8]), r[9]) for r in records]
        self.conn.exec_driver_sql(_outbox_insert_sql(dialect.paramstyle), rows)

    def _copy(self, records: list[tuple[Any, ...]]) -> bool:
        """PostgreSQL through asyncpg: COPY the rows in (one round trip, not one per row).

        Runs in this connection's transaction. False when the driver has no COPY.
        """
        driver = self.conn.connection.driver_connection
        copy = getattr(driver, "copy_records_to_table", None)
        if copy is None:
            return False
        await_(copy("outbox", records=records, columns=list(_OUTBOX_COLUMNS)))
        return True

    def lease(
        self, platform: str, now: datetime, until: datetime, limit: int
    ) -> list[OutboxMessage]:
        pending = (
            select(outbox.c.id)
            .where(
                outbox.c.platform == platform,
                outbox.c.sent_at.is_(None),
                outbox.c.failed_at.is_(None),
                outbox.c.not_before <= now,
                or_(outbox.c.lease_until.is_(None), outbox.c.lease_until <= now),
            )
            .order_by(outbox.c.not_before, outbox.c.id)
            .limit(limit)
        )
        if self.skip_locked:
            pending = pending.with_for_update(skip_locked=True)
        ids = list(self.conn.execute(pending).scalars())
        if not ids:
            return []
        self.conn.execute(update(outbox).where(outbox.c.id.in_(ids)).values(lease_until=until))
        rows = self.conn.execute(
            select(outbox).where(outbox.c.id.in_(ids)).order_by(outbox.c.not_before, outbox.c.id)
        ).all()
        return [_outbox(r) for r in rows]

    def mark_sent(self, message_id: int, now: datetime) -> None:
        self.conn.execute(
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(sent_at=now, lease_until=None, attempts=outbox.c.attempts + 1)
        )

    def mark_failed(self, message_id: int, now: datetime, error: str) -> None:
        self.conn.execute(
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(
                failed_at=now,
                lease_until=None,
                attempts=outbox.c.attempts + 1,
                last_error=error[:200],
            )
        )

    def retry_later(self, message_id: int, when: datetime, error: str, parts_sent: int) -> None:
        self.conn.execute(
            update(outbox)
            .where(outbox.c.id == message_id)
            .values(
                not_before=when,
                parts_sent=parts_sent,
                lease_until=None,
                attempts=outbox.c.attempts + 1,
                last_error=error[:200],
            )
        )

    def backfill(self, now: datetime, active_since: datetime, limit: int) -> list[Learner]:
        rows = (
            self.conn.execute(
                _LEARNER_SELECT.where(
                    learners.c.next_push_at.is_(None),
                    or_(
                        learners.c.last_seen_at >= active_since,
                        and_(
                            learners.c.last_seen_at.is_(None), learners.c.created_at >= active_since
                        ),
                    ),
                )
                .order_by(learners.c.id)
                .limit(limit)
            )
            .mappings()
            .all()
        )
        return [_learner(r) for r in rows]

    def prune_outbox(self, before: datetime) -> int:
        done = or_(outbox.c.sent_at < before, outbox.c.failed_at < before)
        return int(self.conn.execute(delete(outbox).where(done)).rowcount)

    def pending_count(self, platform: str | None = None) -> int:
        query = (
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.sent_at.is_(None), outbox.c.failed_at.is_(None))
        )
        if platform is not None:
            query = query.where(outbox.c.platform == platform)
        return int(self.conn.execute(query).scalar_one())


_PARAM_MARKS = {"qmark": "?", "format": "%s", "numeric": ":{n}", "numeric_dollar": "${n}"}


@lru_cache(maxsize=4)
def _outbox_insert_sql(paramstyle: str) -> str:
    """``INSERT INTO outbox (...) VALUES (?, ...)`` in the driver's positional style."""
    mark = _PARAM_MARKS.get("format" if paramstyle == "pyformat" else paramstyle)
    if mark is None:
        raise NotImplementedError(f"outbox insert: parameter style {paramstyle}")
    values = ", ".join(mark.format(n=n + 1) for n in range(len(_OUTBOX_COLUMNS)))
    return f"INSERT INTO outbox ({', '.join(_OUTBOX_COLUMNS)}) VALUES ({values})"


_sqlite_json: list[bool] = []  # filled on first use: whether json_each exists


def _sqlite_has_json(conn: Connection) -> bool:
    """Whether this SQLite library has ``json_each`` (built in since 3.38; older builds may not)."""
    if not _sqlite_json:
        try:
            conn.exec_driver_sql("SELECT count(*) FROM json_each('[1]')").scalar()
            _sqlite_json.append(True)
        except Exception:  # no JSON1 in this build: plain IN lists instead
            _sqlite_json.append(False)
    return _sqlite_json[0]


def _outbox(r: Any) -> OutboxMessage:
    return OutboxMessage(
        id=r.id,
        platform=r.platform,
        learner_id=r.learner_id,
        kind=r.kind,
        text=r.text,
        card_id=r.card_id,
        prompt_token=r.prompt_token,
        due_count=r.due_count,
        created_at=r.created_at,
        not_before=r.not_before,
        attempts=r.attempts,
        parts_sent=r.parts_sent,
    )


def _ints(text: str) -> tuple[int, ...]:
    return tuple(int(x) for x in text.split(",") if x)


def _grades_text(grades: Sequence[int | None]) -> str:
    return ",".join("" if g is None else str(g) for g in grades)


def _grades(text: str) -> tuple[int | None, ...]:
    return tuple(int(x) if x else None for x in text.split(",")) if text else ()


def _run(r: Any) -> ChallengeRun:
    return ChallengeRun(
        id=r.id,
        token=r.token,
        platform=r.platform,
        chat_id=r.chat_id,
        challenge_id=r.challenge_id,
        started_at=r.started_at,
        deadline=r.deadline,
        started_by=r.started_by,
        revealed_at=r.revealed_at,
        cancelled_at=r.cancelled_at,
        summary_at=r.summary_at,
    )


def _submission(r: Any) -> Submission:
    return Submission(
        run_id=r.run_id,
        learner_id=r.learner_id,
        token=r.token,
        display_name=r.display_name,
        joined_at=r.joined_at,
        text=r.text,
        photo_ref=r.photo_ref,
        submitted_at=r.submitted_at,
        grades=_grades(r.grades),
        checks=_ints(r.checks),
        assessed_at=r.assessed_at,
        shared_at=r.shared_at,
        show_name=r.show_name,
    )


def _schedule(r: Any) -> ChallengeSchedule:
    return ChallengeSchedule(
        id=r.id,
        platform=r.platform,
        chat_id=r.chat_id,
        challenge_id=r.challenge_id,
        weekday=r.weekday,
        at=_hhmm(r.at) or time(0),
        timezone=r.timezone,
        next_run_at=r.next_run_at,
        minutes=r.minutes,
    )


class SqlChallenges:
    """Challenge runs, submissions, group settings and weekly schedules."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.skip_locked = conn.dialect.name == "postgresql"

    def open_run(self, platform: str, chat_id: str) -> ChallengeRun | None:
        row = self.conn.execute(
            select(challenge_runs)
            .where(
                challenge_runs.c.platform == platform,
                challenge_runs.c.chat_id == chat_id,
                challenge_runs.c.revealed_at.is_(None),
                challenge_runs.c.cancelled_at.is_(None),
            )
            .order_by(challenge_runs.c.started_at.desc())
            .limit(1)
        ).first()
        return _run(row) if row else None

    def latest_run(self, platform: str, chat_id: str) -> ChallengeRun | None:
        row = self.conn.execute(
            select(challenge_runs)
            .where(challenge_runs.c.platform == platform, challenge_runs.c.chat_id == chat_id)
            .order_by(challenge_runs.c.started_at.desc(), challenge_runs.c.id.desc())
            .limit(1)
        ).first()
        return _run(row) if row else None

    def add_run(self, run: ChallengeRun) -> ChallengeRun:
        new_id = self.conn.execute(
            insert(challenge_runs)
            .values(
                token=run.token,
                platform=run.platform,
                chat_id=run.chat_id,
                challenge_id=run.challenge_id,
                started_by=run.started_by,
                started_at=run.started_at,
                deadline=run.deadline,
            )
            .returning(challenge_runs.c.id)
        ).scalar_one()
        return replace(run, id=new_id)

    def run_by_token(self, token: str) -> ChallengeRun | None:
        row = self.conn.execute(
            select(challenge_runs).where(challenge_runs.c.token == token)
        ).first()
        return _run(row) if row else None

    def run_by_id(self, run_id: int) -> ChallengeRun | None:
        row = self.conn.execute(select(challenge_runs).where(challenge_runs.c.id == run_id)).first()
        return _run(row) if row else None

    def set_run(self, run_id: int, field: str, now: datetime) -> bool:
        """Set revealed_at, cancelled_at or summary_at once; False if it was already set."""
        column = challenge_runs.c[field]
        result = self.conn.execute(
            update(challenge_runs)
            .where(challenge_runs.c.id == run_id, column.is_(None))
            .values({field: now})
        )
        return bool(result.rowcount == 1)

    def due_reveals(self, now: datetime) -> list[ChallengeRun]:
        rows = self.conn.execute(
            select(challenge_runs)
            .where(
                challenge_runs.c.revealed_at.is_(None),
                challenge_runs.c.cancelled_at.is_(None),
                challenge_runs.c.deadline <= now,
            )
            .order_by(challenge_runs.c.deadline)
            .limit(100)
        ).all()
        return [_run(r) for r in rows]

    def due_summaries(self, revealed_before: datetime) -> list[ChallengeRun]:
        rows = self.conn.execute(
            select(challenge_runs)
            .where(
                challenge_runs.c.revealed_at.is_not(None),
                challenge_runs.c.revealed_at <= revealed_before,
                challenge_runs.c.summary_at.is_(None),
            )
            .limit(100)
        ).all()
        return [_run(r) for r in rows]

    def submissions(self, run_id: int) -> list[Submission]:
        rows = self.conn.execute(
            select(challenge_submissions)
            .where(challenge_submissions.c.run_id == run_id)
            .order_by(challenge_submissions.c.joined_at, challenge_submissions.c.learner_id)
        ).all()
        return [_submission(r) for r in rows]

    def submission(self, run_id: int, learner_id: int) -> Submission | None:
        row = self.conn.execute(
            select(challenge_submissions).where(
                challenge_submissions.c.run_id == run_id,
                challenge_submissions.c.learner_id == learner_id,
            )
        ).first()
        return _submission(row) if row else None

    def submission_by_token(self, token: str) -> Submission | None:
        row = self.conn.execute(
            select(challenge_submissions).where(challenge_submissions.c.token == token)
        ).first()
        return _submission(row) if row else None

    def save_submission(self, sub: Submission) -> None:
        values = {
            "token": sub.token,
            "display_name": sub.display_name[:128],
            "joined_at": sub.joined_at,
            "text": sub.text,
            "photo_ref": sub.photo_ref,
            "submitted_at": sub.submitted_at,
            "grades": _grades_text(sub.grades),
            "checks": ",".join(str(c) for c in sub.checks),
            "assessed_at": sub.assessed_at,
            "shared_at": sub.shared_at,
            "show_name": sub.show_name,
        }
        result = self.conn.execute(
            update(challenge_submissions)
            .where(
                challenge_submissions.c.run_id == sub.run_id,
                challenge_submissions.c.learner_id == sub.learner_id,
            )
            .values(**values)
        )
        if result.rowcount == 0:
            self.conn.execute(
                insert(challenge_submissions).values(
                    run_id=sub.run_id, learner_id=sub.learner_id, **values
                )
            )

    def joined_open_run(self, learner_id: int) -> ChallengeRun | None:
        """The newest open run the learner joined (where a DM answer goes)."""
        row = self.conn.execute(
            select(challenge_runs)
            .join(challenge_submissions, challenge_submissions.c.run_id == challenge_runs.c.id)
            .where(
                challenge_submissions.c.learner_id == learner_id,
                challenge_runs.c.revealed_at.is_(None),
                challenge_runs.c.cancelled_at.is_(None),
            )
            .order_by(challenge_submissions.c.joined_at.desc())
            .limit(1)
        ).first()
        return _run(row) if row else None

    def group(self, platform: str, chat_id: str) -> GroupSettings | None:
        row = self.conn.execute(
            select(group_settings).where(
                group_settings.c.platform == platform, group_settings.c.chat_id == chat_id
            )
        ).first()
        if row is None:
            return None
        return GroupSettings(row.platform, row.chat_id, row.timezone, row.who_runs)

    def save_group(self, settings: GroupSettings) -> None:
        result = self.conn.execute(
            update(group_settings)
            .where(
                group_settings.c.platform == settings.platform,
                group_settings.c.chat_id == settings.chat_id,
            )
            .values(timezone=settings.timezone, who_runs=settings.who_runs)
        )
        if result.rowcount == 0:
            self.conn.execute(
                insert(group_settings).values(
                    platform=settings.platform,
                    chat_id=settings.chat_id,
                    timezone=settings.timezone,
                    who_runs=settings.who_runs,
                )
            )

    def schedules(self, platform: str, chat_id: str) -> list[ChallengeSchedule]:
        rows = self.conn.execute(
            select(challenge_schedules)
            .where(
                challenge_schedules.c.platform == platform,
                challenge_schedules.c.chat_id == chat_id,
            )
            .order_by(challenge_schedules.c.id)
        ).all()
        return [_schedule(r) for r in rows]

    def add_schedule(self, s: ChallengeSchedule) -> ChallengeSchedule:
        new_id = self.conn.execute(
            insert(challenge_schedules)
            .values(
                platform=s.platform,
                chat_id=s.chat_id,
                challenge_id=s.challenge_id,
                weekday=s.weekday,
                at=s.at.strftime("%H:%M"),
                timezone=s.timezone,
                minutes=s.minutes,
                next_run_at=s.next_run_at,
            )
            .returning(challenge_schedules.c.id)
        ).scalar_one()
        return replace(s, id=new_id)

    def delete_schedules(self, platform: str, chat_id: str, challenge_id: str | None) -> int:
        stmt = delete(challenge_schedules).where(
            challenge_schedules.c.platform == platform, challenge_schedules.c.chat_id == chat_id
        )
        if challenge_id is not None:
            stmt = stmt.where(challenge_schedules.c.challenge_id == challenge_id)
        return int(self.conn.execute(stmt).rowcount)

    def claim_schedules(self, now: datetime, limit: int) -> list[ChallengeSchedule]:
        query = (
            select(challenge_schedules)
            .where(challenge_schedules.c.next_run_at <= now)
            .order_by(challenge_schedules.c.next_run_at)
            .limit(limit)
        )
        if self.skip_locked:
            query = query.with_for_update(skip_locked=True)
        return [_schedule(r) for r in self.conn.execute(query).all()]

    def set_schedule_next(self, schedule_id: int, when: datetime | None) -> None:
        self.conn.execute(
            update(challenge_schedules)
            .where(challenge_schedules.c.id == schedule_id)
            .values(next_run_at=when)
        )


class SqlTx:
    """The repositories of one transaction, over one connection."""

    def __init__(
        self, conn: Connection, card_cache: dict[str, CardInfo | None] | None = None
    ) -> None:
        self.conn = conn
        self.learners = SqlLearners(conn)
        self.catalogue = SqlCatalogue(conn, card_cache)
        self.schedule = SqlSchedule(conn)
        self.reviews = SqlReviews(conn)
        self.prompts = SqlPrompts(conn)
        self.quizzes = SqlQuizzes(conn)
        self.confirmations = SqlConfirmations(conn)
        self.pushes = SqlPushes(conn)
        self.challenges = SqlChallenges(conn)
