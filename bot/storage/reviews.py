"""The review log (table ``review_logs``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, bindparam, case, func, insert, select, update
from sqlalchemy.engine import RowMapping

from bot.core.model import CardState, CardStateKind, ReviewEntry, ReviewSource
from bot.storage.bulk import bulk_insert
from bot.storage.tables import UTCDateTime, review_logs

_REVIEW_INSERT = insert(review_logs)
#: Practice (/cram) leaves the schedule alone: it counts in no limit and no figure.
NOT_CRAM = review_logs.c.source != ReviewSource.CRAM.value
#: (reviews, new cards introduced) of a learner since an instant, undone ones and
#: practice left out.
COUNTS_SINCE = select(
    func.count(),
    func.coalesce(
        func.sum(case((review_logs.c.before_state == int(CardStateKind.NEW), 1), else_=0)), 0
    ),
).where(
    review_logs.c.learner_id == bindparam("learner_id"),
    review_logs.c.reviewed_at >= bindparam("since", type_=UTCDateTime()),
    review_logs.c.undone_at.is_(None),
    NOT_CRAM,
)


class SqlReviews:
    """The append-only review log (undo marks an entry, never deletes it)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, entry: ReviewEntry) -> int:
        key = self.conn.execute(_REVIEW_INSERT, _values(entry)).inserted_primary_key
        assert key is not None
        return int(key[0])

    def add_many(self, entries: Sequence[ReviewEntry]) -> int:
        return bulk_insert(self.conn, review_logs, [_values(e) for e in entries])

    def keys(self, learner_id: int, source: str) -> set[tuple[str, datetime]]:
        rows = self.conn.execute(
            select(review_logs.c.card_id, review_logs.c.reviewed_at).where(
                review_logs.c.learner_id == learner_id, review_logs.c.source == source
            )
        )
        return {(str(r[0]), r[1]) for r in rows}

    def last_reviewed(self, learner_id: int, excluding: Sequence[str]) -> dict[str, datetime]:
        query = (
            select(review_logs.c.card_id, func.max(review_logs.c.reviewed_at))
            .where(review_logs.c.learner_id == learner_id, review_logs.c.undone_at.is_(None))
            .group_by(review_logs.c.card_id)
        )
        if excluding:
            query = query.where(review_logs.c.source.not_in(list(excluding)))
        return {str(r[0]): r[1] for r in self.conn.execute(query)}

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

    def all_for(self, learner_id: int, since: datetime | None = None) -> list[ReviewEntry]:
        query = select(review_logs).where(review_logs.c.learner_id == learner_id)
        if since is not None:
            query = query.where(review_logs.c.reviewed_at >= since)
        rows = (
            self.conn.execute(query.order_by(review_logs.c.reviewed_at, review_logs.c.id))
            .mappings()
            .all()
        )
        return [_entry(r) for r in rows]

    def mark_undone(self, review_id: int, now: datetime) -> None:
        self.conn.execute(
            update(review_logs).where(review_logs.c.id == review_id).values(undone_at=now)
        )

    def counts_since(self, learner_id: int, since: datetime) -> tuple[int, int]:
        row = self.conn.execute(COUNTS_SINCE, {"learner_id": learner_id, "since": since}).one()
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
                NOT_CRAM,
            )
            .order_by(review_logs.c.reviewed_at)
        ).all()
        return [(r[0], int(r[1]), int(r[2])) for r in rows]

    def cards_since(self, learner_id: int, source: str, since: datetime) -> set[str]:
        rows = self.conn.execute(
            select(review_logs.c.card_id)
            .distinct()
            .where(
                review_logs.c.learner_id == learner_id,
                review_logs.c.source == source,
                review_logs.c.reviewed_at >= since,
                review_logs.c.undone_at.is_(None),
            )
        ).all()
        return {str(r[0]) for r in rows}


def _values(entry: ReviewEntry) -> dict[str, Any]:
    """The ``review_logs`` columns of an entry (all but its id and ``undone_at``)."""
    b, a = entry.before, entry.after
    return {
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
