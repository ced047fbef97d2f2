"""Learners' schedules: card states (table ``card_states``)."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from datetime import datetime
from functools import reduce
from math import gcd
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    and_,
    bindparam,
    case,
    delete,
    exists,
    func,
    not_,
    or_,
    select,
    text,
    update,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.dml import Insert
from sqlalchemy.sql.elements import BindParameter

from bot.core.model import CardState, CardStateKind
from bot.storage.bulk import bulk_insert
from bot.storage.reviews import COUNTS_SINCE
from bot.storage.tables import UTCDateTime, card_states, card_tags, cards, decks, review_logs

#: The columns of a stored card state (all but its key), in :class:`CardState` order.
STATE_COLS = (
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


def state_from_row(learner_id: int, card_id: str, row: Any) -> CardState:
    """A :class:`CardState` from a row holding :data:`STATE_COLS`."""
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


#: The predicate on ``decks`` and ``card_states``: the deck is one the state's learner
#: studies: shipped, or their own and not paused.
OFFERED_DECK = and_(
    decks.c.id == cards.c.deck_id,
    not_(decks.c.paused),
    or_(decks.c.owner_id.is_(None), decks.c.owner_id == card_states.c.learner_id),
)


def offered(*where: ColumnElement[bool]) -> ColumnElement[bool]:
    """The predicate on ``card_states``: the card is live, in a deck its learner studies
    (:data:`OFFERED_DECK`), and meets ``where`` (on ``cards``)."""
    return exists().where(
        cards.c.id == card_states.c.card_id, cards.c.retired_at.is_(None), OFFERED_DECK, *where
    )


def available(now: datetime) -> Any:
    """The predicate on ``card_states``: offered (:func:`offered`), unsuspended, unburied
    at ``now``."""
    return and_(
        not_(card_states.c.suspended),
        or_(card_states.c.buried_until.is_(None), card_states.c.buried_until <= now),
        offered(),
    )


_STATE_KEY = and_(
    card_states.c.learner_id == bindparam("b_learner_id"),
    card_states.c.card_id == bindparam("b_card_id"),
)
_STATE_GET = select(*STATE_COLS).where(_STATE_KEY)
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


def _state_upsert(dialect: str) -> Insert:
    """A first schedule row that another unit of work may be writing too (one learner's
    two reviews of one card at once, say from quizzes in two groups): the later commit's
    state wins, where a plain insert failed on the key (PostgreSQL waits for the other
    transaction, then updates). Both reviews stay in the log."""
    insert_of = postgresql.insert if dialect == "postgresql" else sqlite.insert
    statement = insert_of(card_states).values(
        learner_id=bindparam("b_learner_id"), card_id=bindparam("b_card_id"), **_STATE_VALUES
    )
    return statement.on_conflict_do_update(
        index_elements=[card_states.c.learner_id, card_states.c.card_id],
        set_={name: statement.excluded[name] for name in _STATE_VALUES},
    )


_STATE_UPSERTS = {dialect: _state_upsert(dialect) for dialect in ("postgresql", "sqlite")}
#: The predicate on ``cards``: the card is in one of the parameter ``topics`` (an expanding
#: list of deck ids and tags).
_IN_TOPICS = or_(
    cards.c.deck_id.in_(bindparam("topics", expanding=True)),
    exists().where(
        card_tags.c.card_id == cards.c.id,
        card_tags.c.tag.in_(bindparam("topics", expanding=True)),
    ),
)


def _live(*, in_topics: bool) -> ColumnElement[bool]:
    """The predicate on ``card_states``: the card is offered (:func:`offered`; and in the
    ``topics``)."""
    return offered(_IN_TOPICS) if in_topics else offered()


def _next_due(*, in_topics: bool) -> Select[str]:
    """The most overdue available card; parameters ``learner_id``, ``due_before``, ``now``
    (and ``topics`` when ``in_topics``)."""
    return (
        select(card_states.c.card_id)
        .where(
            card_states.c.learner_id == bindparam("learner_id"),
            card_states.c.due <= bindparam("due_before", type_=UTCDateTime()),
            not_(card_states.c.suspended),
            or_(
                card_states.c.buried_until.is_(None),
                card_states.c.buried_until <= bindparam("now", type_=UTCDateTime()),
            ),
            _live(in_topics=in_topics),
        )
        .order_by(card_states.c.due)
        .limit(1)
    )


def _due_and_counts(next_due: Select[str]) -> Select[Any]:
    """``next_due`` and the review counts since ``since``, in one statement."""
    return select(
        next_due.scalar_subquery(),
        COUNTS_SINCE.with_only_columns(func.count()).scalar_subquery(),
        COUNTS_SINCE.with_only_columns(
            func.coalesce(
                func.sum(case((review_logs.c.before_state == int(CardStateKind.NEW), 1), else_=0)),
                0,
            )
        ).scalar_subquery(),
    )


# A learner who studies every deck (most, and the benchmark) runs the statements without
# the topic filter; only a learner with topics pays for it.
_NEXT_DUE = _next_due(in_topics=False)
_NEXT_DUE_IN_TOPICS = _next_due(in_topics=True)
_DUE_AND_COUNTS = _due_and_counts(_NEXT_DUE)
_DUE_AND_COUNTS_IN_TOPICS = _due_and_counts(_NEXT_DUE_IN_TOPICS)


def _due_buckets(bucket: str) -> Any:
    """Live, unsuspended cards of ``learner_id`` due in ``[start, end)``, counted by
    ``bucket`` (the whole ``step`` seconds since ``start``: the dialect's arithmetic)."""
    return text(
        f"SELECT {bucket} AS bucket, count(*) AS n FROM card_states AS s "
        "WHERE s.learner_id = :learner_id AND s.due >= :start AND s.due < :end "
        "AND NOT s.suspended "
        "AND EXISTS (SELECT 1 FROM cards AS c JOIN decks AS d ON d.id = c.deck_id "
        "WHERE c.id = s.card_id AND c.retired_at IS NULL AND NOT d.paused "
        "AND (d.owner_id IS NULL OR d.owner_id = s.learner_id)) "
        "GROUP BY bucket"
    ).bindparams(bindparam("start", type_=UTCDateTime()), bindparam("end", type_=UTCDateTime()))


#: The load balancer's count: one index range scan on (learner_id, due), one row per
#: bucket with cards. A bucket is a day when no clock change falls in the range, an hour
#: (or half hour) across one, so it never straddles a local midnight.
_DUE_BUCKETS = {
    # SQLite reads fractions of a second to the millisecond, rounding 23:59:59.9999 to the
    # next day: the stored text is cut to whole seconds first.
    "sqlite": _due_buckets(
        "(CAST(strftime('%s', substr(s.due, 1, 19)) AS INTEGER) - :origin) / :step"
    ),
    "postgresql": _due_buckets(
        "CAST(floor(EXTRACT(EPOCH FROM (s.due - CAST(:start AS TIMESTAMPTZ))) "
        "/ CAST(:step AS INTEGER)) AS BIGINT)"
    ),
}


#: Card ids bound in one statement of :meth:`SqlSchedule.states_for`.
STATES_SLICE = 500


class SqlSchedule:
    """Each learner's schedule: one row of FSRS state per card studied."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def next_due_and_counts(
        self, learner_id: int, now: datetime, since: datetime, *, topics: Sequence[str] = ()
    ) -> tuple[str | None, int, int]:
        params = {"learner_id": learner_id, "due_before": now, "now": now, "since": since}
        stmt = _DUE_AND_COUNTS
        if topics:
            stmt = _DUE_AND_COUNTS_IN_TOPICS
            params["topics"] = list(topics)
        row = self.conn.execute(stmt, params).one()
        return row[0], int(row[1]), int(row[2])

    def get(self, learner_id: int, card_id: str) -> CardState:
        row = self.conn.execute(
            _STATE_GET, {"b_learner_id": learner_id, "b_card_id": card_id}
        ).first()
        if row is None:
            return CardState(learner_id, card_id)
        return state_from_row(learner_id, card_id, row)

    def states_for(self, learner_ids: Sequence[int], card_ids: Sequence[str]) -> list[CardState]:
        if not learner_ids or not card_ids:
            return []
        out: list[CardState] = []
        ids = list(dict.fromkeys(card_ids))
        if len(ids) > STATES_SLICE and len(set(learner_ids)) == 1:
            # Many cards of one learner (an import): all their rows, read along the
            # primary key's learner prefix, filtered here. Slices of a long IN list
            # cost PostgreSQL a scan each when the table's statistics are stale (just
            # filled): 16 s for 20,000 cards, against 0.3 s this way.
            wanted = set(ids)
            lid = learner_ids[0]
            rows = self.conn.execute(
                select(card_states.c.card_id, *STATE_COLS).where(card_states.c.learner_id == lid)
            ).all()
            return [state_from_row(lid, r.card_id, r) for r in rows if r.card_id in wanted]
        # In slices: past what one statement may bind on SQLite.
        for i in range(0, len(ids), STATES_SLICE):
            rows = self.conn.execute(
                select(card_states.c.learner_id, card_states.c.card_id, *STATE_COLS).where(
                    card_states.c.learner_id.in_(learner_ids),
                    card_states.c.card_id.in_(ids[i : i + STATES_SLICE]),
                )
            ).all()
            out.extend(state_from_row(r.learner_id, r.card_id, r) for r in rows)
        return out

    def save(self, state: CardState) -> None:
        params = {f"v_{k}": v for k, v in _state_values(state).items()}
        params["b_learner_id"] = state.learner_id
        params["b_card_id"] = state.card_id
        if self.conn.execute(_STATE_UPDATE, params).rowcount == 0:
            self.conn.execute(_STATE_UPSERTS[self.conn.dialect.name], params)

    def save_many(self, states: Sequence[CardState]) -> int:
        by_learner: dict[int, list[str]] = {}
        for st in states:
            by_learner.setdefault(st.learner_id, []).append(st.card_id)
        stored = {
            (st.learner_id, st.card_id)
            for lid, ids in by_learner.items()
            for st in self.states_for([lid], ids)
        }
        updates: list[dict[str, Any]] = []
        inserts: list[dict[str, Any]] = []
        for st in states:
            values = _state_values(st)
            if (st.learner_id, st.card_id) in stored:
                params = {f"v_{k}": v for k, v in values.items()}
                updates.append({**params, "b_learner_id": st.learner_id, "b_card_id": st.card_id})
            else:
                inserts.append({"learner_id": st.learner_id, "card_id": st.card_id, **values})
        if updates:
            self.conn.execute(_STATE_UPDATE, updates)
        bulk_insert(self.conn, card_states, inserts)
        return len(states)

    def delete(self, learner_id: int, card_id: str) -> None:
        self.conn.execute(
            delete(card_states).where(
                card_states.c.learner_id == learner_id, card_states.c.card_id == card_id
            )
        )

    def next_due(
        self,
        learner_id: int,
        now: datetime,
        due_before: datetime | None = None,
        *,
        topics: Sequence[str] = (),
    ) -> str | None:
        limit = now if due_before is None else due_before
        params = {"learner_id": learner_id, "due_before": limit, "now": now}
        if topics:
            params["topics"] = list(topics)
            return self.conn.execute(_NEXT_DUE_IN_TOPICS, params).scalar()
        return self.conn.execute(_NEXT_DUE, params).scalar()

    def next_new(self, learner_id: int, topics: Sequence[str], now: datetime) -> str | None:
        studied = exists().where(
            card_states.c.learner_id == learner_id, card_states.c.card_id == cards.c.id
        )
        query = (
            select(cards.c.id)
            .join(decks, decks.c.id == cards.c.deck_id)
            .where(
                cards.c.retired_at.is_(None),
                not_(decks.c.paused),
                or_(decks.c.owner_id.is_(None), decks.c.owner_id == learner_id),
                not_(studied),
            )
        )
        params: dict[str, Any] = {}
        if topics:
            query = query.where(_IN_TOPICS)
            params["topics"] = list(topics)
        return self.conn.execute(
            query.order_by(decks.c.position, cards.c.position).limit(1), params
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
                    offered(),
                )
            ).scalar_one()
        )

    def due_times(self, learner_id: int, until: datetime) -> list[datetime]:
        rows = self.conn.execute(
            select(card_states.c.due, card_states.c.buried_until).where(
                card_states.c.learner_id == learner_id,
                card_states.c.due < until,
                not_(card_states.c.suspended),
                offered(),
            )
        ).all()
        return [max(r.due, r.buried_until) if r.buried_until else r.due for r in rows]

    def next_due_at(self, learner_id: int, *, topics: Sequence[str] = ()) -> datetime | None:
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
                _live(in_topics=bool(topics)),
            )
            .order_by(when)
            .limit(1),
            {"topics": list(topics)} if topics else {},
        ).first()
        if row is None:
            return None
        due: datetime = row.due
        if row.buried_until is not None and row.buried_until > due:
            return row.buried_until  # type: ignore[no-any-return]
        return due

    def due_per_day(self, learner_id: int, day_starts: Sequence[datetime]) -> list[int]:
        if len(day_starts) < 2:
            return []
        start = day_starts[0]
        # Whole seconds from the first start to each: local midnights are whole seconds.
        offsets = [round((s - start).total_seconds()) for s in day_starts]
        step = reduce(gcd, offsets[1:])
        params = {
            "learner_id": learner_id,
            "start": start,
            "end": day_starts[-1],
            "origin": round(start.timestamp()),
            "step": step,
        }
        counts = [0] * (len(day_starts) - 1)
        for bucket, n in self.conn.execute(_DUE_BUCKETS[self.conn.dialect.name], params):
            i = bisect.bisect_right(offsets, int(bucket) * step) - 1
            if 0 <= i < len(counts):
                counts[i] += int(n)
        return counts

    def unsuspend(self, learner_id: int, card_ids: Sequence[str] | None) -> int:
        stmt = (
            update(card_states)
            .where(card_states.c.learner_id == learner_id, card_states.c.suspended)
            .values(suspended=False, leech=False)
        )
        if card_ids is not None:
            stmt = stmt.where(card_states.c.card_id.in_(card_ids))
        return int(self.conn.execute(stmt).rowcount)
