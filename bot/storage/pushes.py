"""The daily push fan-out and the outbox (learners' push columns, table ``outbox``).

The statements that differ between SQLite and PostgreSQL come from a
:class:`~bot.storage.fanout.Fanout` strategy; the rest is the same on both.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from functools import lru_cache
from typing import TYPE_CHECKING, Any

from sqlalchemy import (
    Connection,
    Float,
    Select,
    and_,
    bindparam,
    case,
    cast,
    delete,
    func,
    not_,
    or_,
    select,
    type_coerce,
    update,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.types import NullType

from bot.core.messages import RESENT_ASSESSMENT
from bot.core.model import Backlog, Learner, OutboxMessage, PushTarget
from bot.storage.learners import LEARNER_SELECT, learner_from_row, push_timing
from bot.storage.schedule import available
from bot.storage.tables import (
    UTCDateTime,
    card_states,
    learner_settings,
    learners,
    outbox,
    review_logs,
)

if TYPE_CHECKING:
    from bot.storage.fanout import Fanout

_LAST_ACTIVE = func.coalesce(learners.c.last_seen_at, learners.c.created_at)


@lru_cache(maxsize=8)
def _instant_reader(dialect: Dialect) -> Callable[[Any], datetime | None]:
    """How this database's raw instants become aware UTC (as ``UTCDateTime`` reads them)."""
    process = UTCDateTime().result_processor(dialect, None)
    assert process is not None  # UTCDateTime reads every instant back as aware UTC
    return process


def claim_query(platform: ColumnElement[str]) -> Select[Any]:
    """Learners whose push is due, soonest first, as :meth:`SqlPushes.claim_due` reads them.

    Parameters ``now``, ``platforms`` and ``limit``. The strategies differ in
    how the platform is compared (``platform``) and in locking.
    """
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
            # NULL for a daily push; read raw, and parsed only when set (a snooze is rare,
            # and a type processor on every claimed row costs the fan-out about 5 %).
            type_coerce(case((learners.c.push_snoozed, learners.c.next_push_at)), NullType()).label(
                "snoozed_at"
            ),
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


#: The outbox columns a new message fills, in the order of the records
#: :meth:`SqlPushes.add_outbox` hands to :meth:`Fanout.insert_outbox`.
OUTBOX_COLUMNS = (
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

_PARAM_MARKS = {"qmark": "?", "format": "%s", "numeric": ":{n}", "numeric_dollar": "${n}"}


@lru_cache(maxsize=4)
def _outbox_insert_sql(paramstyle: str) -> str:
    """``INSERT INTO outbox (...) VALUES (?, ...)`` in the driver's positional style."""
    mark = _PARAM_MARKS.get("format" if paramstyle == "pyformat" else paramstyle)
    if mark is None:
        raise NotImplementedError(f"outbox insert: parameter style {paramstyle}")
    values = ", ".join(mark.format(n=n + 1) for n in range(len(OUTBOX_COLUMNS)))
    return f"INSERT INTO outbox ({', '.join(OUTBOX_COLUMNS)}) VALUES ({values})"


def insert_outbox_rows(conn: Connection, records: Sequence[tuple[Any, ...]]) -> None:
    """Insert outbox records (in :data:`OUTBOX_COLUMNS` order): one executemany to the driver.

    A batch's messages share a handful of instants, so each distinct one is
    converted for the database once (by the column type, the same way every
    other statement stores it) instead of once per row and column.
    """
    dialect = conn.dialect
    convert = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    stored: dict[datetime, Any] = {}

    def instant(value: datetime) -> Any:
        found = stored.get(value)
        if found is None:
            found = stored[value] = convert(value) if convert else value
        return found

    rows = [(*r[:7], instant(r[7]), instant(r[8]), r[9]) for r in records]
    conn.exec_driver_sql(_outbox_insert_sql(dialect.paramstyle), rows)


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


class SqlPushes:
    """Set-based statements for the daily push fan-out and the outbox.

    Args:
        conn: the transaction's connection.
        fanout: what this database does its own way (locks, id lists, bulk inserts).
    """

    def __init__(self, conn: Connection, fanout: Fanout) -> None:
        self.conn = conn
        self.fanout = fanout
        self._instant = _instant_reader(conn.dialect)

    def claim_due(self, now: datetime, platforms: Sequence[str], limit: int) -> list[PushTarget]:
        params = {"now": now, "platforms": list(platforms), "limit": limit}
        rows = self.conn.execute(self.fanout.claim_due, params).all()  # in bulk, not per row
        return [
            PushTarget(
                r[0],
                r[1],
                r[2],
                bool(r[3]),
                push_timing(r[4], r[5], r[6], r[7], r[8]),
                r[9],
                None if r[10] is None else self._instant(r[10]),
            )
            for r in rows
        ]

    def due_summary(self, learner_ids: Sequence[int], now: datetime) -> dict[int, tuple[str, int]]:
        """Each learner's first due card (by due, then card id) and due count: one grouped pass."""
        if not learner_ids:
            return {}
        fanout = self.fanout
        rows = self.conn.execute(
            select(card_states.c.learner_id, fanout.first_due_card, func.count())
            .where(
                fanout.in_ids(self.conn, card_states.c.learner_id, learner_ids),
                card_states.c.due <= now,
                available(now),
            )
            .group_by(card_states.c.learner_id)
        ).all()
        start = fanout.card_id_at
        return {int(r[0]): (str(r[1])[start:], int(r[2])) for r in rows}

    def mean_durations(self, learner_ids: Sequence[int], since: datetime) -> dict[int, float]:
        if not learner_ids:
            return {}
        rows = self.conn.execute(
            # avg() of integers is NUMERIC on PostgreSQL: a Decimal per row unless cast.
            select(review_logs.c.learner_id, cast(func.avg(review_logs.c.duration_ms), Float))
            .where(
                self.fanout.in_ids(self.conn, review_logs.c.learner_id, learner_ids),
                review_logs.c.reviewed_at >= since,
                review_logs.c.duration_ms.is_not(None),
            )
            .group_by(review_logs.c.learner_id)
        ).all()
        return {int(r[0]): float(r[1]) for r in rows if r[1] is not None}

    def reschedule(
        self,
        updates: Sequence[tuple[int, datetime | None, bool]],
        now: datetime,
        snoozed: Sequence[int] = (),
    ) -> None:
        """Set each learner's next push (a daily one); the flag records a reminder now.

        Learners who share a push instant (same zone and push time, the common case)
        are updated by one statement, not one row each. Only the ``snoozed`` learners'
        snooze flag is cleared, by one more statement: writing it for every learner
        claimed cost the fan-out about 2 %.
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
                    update(learners)
                    .where(self.fanout.in_ids(self.conn, learners.c.id, chunk))
                    .values(values)
                )
        if snoozed:
            self.conn.execute(
                update(learners)
                .where(self.fanout.in_ids(self.conn, learners.c.id, snoozed))
                .values(push_snoozed=False)
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
        self.fanout.insert_outbox(self.conn, records)

    def lease(
        self, platform: str, now: datetime, until: datetime, limit: int
    ) -> list[OutboxMessage]:
        pending = self.fanout.locked(
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

    def wake(self, learner_id: int, now: datetime) -> int:
        return int(
            self.conn.execute(
                update(outbox)
                .where(
                    outbox.c.learner_id == learner_id,
                    outbox.c.sent_at.is_(None),
                    outbox.c.failed_at.is_(None),
                    outbox.c.not_before > now,
                )
                .values(not_before=now)
            ).rowcount
        )

    def defer(self, message_ids: Sequence[int], when: datetime) -> None:
        if not message_ids:
            return
        self.conn.execute(
            update(outbox)
            .where(
                outbox.c.id.in_(list(message_ids)),
                outbox.c.sent_at.is_(None),
                outbox.c.failed_at.is_(None),
            )
            .values(not_before=when, lease_until=None)
        )

    def backfill(self, now: datetime, active_since: datetime, limit: int) -> list[Learner]:
        rows = (
            self.conn.execute(
                LEARNER_SELECT.where(
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
        return [learner_from_row(r) for r in rows]

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

    def backlog(self) -> list[Backlog]:
        query = (
            select(outbox.c.platform, func.count(), func.min(outbox.c.created_at))
            .where(
                outbox.c.sent_at.is_(None),
                outbox.c.failed_at.is_(None),
                # Pushes only: a self-assessment may wait days for a member to write.
                outbox.c.kind != RESENT_ASSESSMENT,
            )
            .group_by(outbox.c.platform)
            .order_by(outbox.c.platform)
        )
        return [Backlog(p, int(n), oldest) for p, n, oldest in self.conn.execute(query)]
