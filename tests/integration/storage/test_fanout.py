"""The two fan-out strategies on their own databases: locks, id lists, bulk inserts, plans."""

from __future__ import annotations

from datetime import UTC, datetime, time, timedelta
from typing import Any

import pytest
from sqlalchemy import Connection, event
from sqlalchemy.ext.asyncio import create_async_engine

from bot.core.model import (
    CardState,
    CardStateKind,
    ChallengeRun,
    ChallengeSchedule,
    LearnerSettings,
    OutboxMessage,
    ReviewEntry,
)
from bot.core.ports import Tx
from bot.storage.challenges import SqlChallenges
from bot.storage.database import SqlDatabase
from bot.storage.fanout import PostgresFanout, SqliteFanout, fanout_for
from bot.storage.pushes import SqlPushes
from tests.fakes.decks import make_deck

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
HOUR = timedelta(hours=1)


async def seed(db: SqlDatabase, learners: int = 3) -> list[int]:
    """Learners due for a push at ``T0``, each with card c due and a timed review."""

    def work(tx: Tx) -> list[int]:
        tx.catalogue.sync([make_deck("d", ["c"])], T0 - HOUR)
        ids = []
        for i in range(learners):
            lr = tx.learners.create("tg", str(i), "L", LearnerSettings(), (), T0 - HOUR)
            tx.learners.set_next_push(lr.id, T0)
            state = CardState(lr.id, "c", CardStateKind.REVIEW, None, 5.0, 5.0, T0, T0 - HOUR, 2)
            tx.schedule.save(state)
            tx.reviews.add(ReviewEntry(lr.id, "c", 3, T0, "dm", state, state, 1000 * (i + 1)))
            tx.challenges.add_schedule(
                ChallengeSchedule(0, "tg", str(i), "a", 0, time(9), "UTC", T0)
            )
            ids.append(lr.id)
        return ids

    return await db.run(work)


def test_each_database_has_its_strategy() -> None:
    assert isinstance(fanout_for("sqlite"), SqliteFanout)
    assert isinstance(fanout_for("postgresql"), PostgresFanout)
    with pytest.raises(ValueError, match="SQLite or PostgreSQL"):
        fanout_for("mysql")


async def test_the_database_uses_its_strategy(db: SqlDatabase, database_url: str) -> None:
    expected = SqliteFanout if database_url.startswith("sqlite") else PostgresFanout
    assert isinstance(db.fanout, expected)


async def test_sqlite_without_json_each_reads_id_lists_the_same(
    db: SqlDatabase, database_url: str
) -> None:
    """Older SQLite builds lack JSON1: plain IN lists give the same answers."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's JSON1")
    ids = await seed(db)

    def read(fanout: SqliteFanout) -> Any:
        def work(conn: Connection) -> Any:
            pushes = SqlPushes(conn, fanout)
            found = (pushes.due_summary(ids, T0), pushes.mean_durations(ids, T0))
            pushes.reschedule([(i, T0 + HOUR, False) for i in ids], T0)
            return found, [t.learner_id for t in pushes.claim_due(T0 + HOUR, ["tg"], 10)]

        return work

    with_json = await db.run_connection(read(SqliteFanout(has_json=True)))
    without = await db.run_connection(read(SqliteFanout(has_json=False)))
    assert with_json == without
    assert with_json[0][0] == {i: ("c", 1) for i in ids}
    assert with_json[1] == ids


async def test_sqlite_is_asked_for_json_each_once(db: SqlDatabase, database_url: str) -> None:
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's JSON1")
    ids = await seed(db, 1)
    fanout = SqliteFanout()
    statements: list[str] = []

    def summary(conn: Connection) -> Any:
        event.listen(conn, "before_cursor_execute", lambda *a: statements.append(a[2]))
        pushes = SqlPushes(conn, fanout)
        return pushes.due_summary(ids, T0), pushes.due_summary(ids, T0)

    assert await db.run_connection(summary) == ({ids[0]: ("c", 1)},) * 2
    asked = [s for s in statements if "json_each('[1]')" in s]
    assert len(asked) == 1 and len(statements) == 3


async def test_outbox_rows_go_in_by_copy(db: SqlDatabase, database_url: str) -> None:
    """PostgreSQL through asyncpg COPYs the rows in, past the cursor."""
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's COPY")
    ids = await seed(db, 2)
    rows = [OutboxMessage("tg", i, "push", "due", T0, T0 + HOUR, "c", f"p{i}", 1) for i in ids]
    statements: list[str] = []

    def copy(conn: Connection) -> None:
        event.listen(conn, "before_cursor_execute", lambda *a: statements.append(a[2]))
        SqlPushes(conn, PostgresFanout()).add_outbox(rows[:1])

    await db.run_connection(copy)
    assert statements == []  # COPY goes past the cursor
    await db.run_connection(lambda conn: SqlPushes(conn, PostgresFanout()).add_outbox(rows[1:]))
    leased = await db.run(lambda tx: tx.pushes.lease("tg", T0 + HOUR, T0 + 2 * HOUR, 10))
    assert [(m.learner_id, m.not_before, m.prompt_token) for m in leased] == [
        (i, T0 + HOUR, f"p{i}") for i in ids
    ]


async def test_postgres_claims_skip_the_rows_another_transaction_holds(
    db: SqlDatabase, database_url: str
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("PostgreSQL's row locks")
    ids = await seed(db, 2)
    await db.run(
        lambda tx: tx.pushes.add_outbox(
            [OutboxMessage("tg", i, "push", "due", T0, T0) for i in ids]
        )
    )
    fanout = PostgresFanout()

    def claims(conn: Connection, limit: int) -> tuple[list[int], int, int]:
        return (
            [t.learner_id for t in SqlPushes(conn, fanout).claim_due(T0, ["tg"], limit)],
            len(SqlPushes(conn, fanout).lease("tg", T0, T0 + HOUR, limit)),
            len(SqlChallenges(conn, fanout).claim_schedules(T0, limit)),
        )

    engine = create_async_engine(database_url)
    try:
        async with engine.begin() as first, engine.begin() as second:
            held = await first.run_sync(claims, 1)
            rest = await second.run_sync(claims, 10)
    finally:
        await engine.dispose()
    assert len(held[0]) == 1 and sorted(held[0] + rest[0]) == ids
    assert held[1:] == rest[1:] == (1, 1)


async def test_next_deadline_reads_the_open_runs_off_an_index(
    db: SqlDatabase, database_url: str
) -> None:
    """The (revealed_at, deadline) index serves it: no new index, no sort."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's query plan")

    def runs(tx: Tx) -> None:
        for i in range(3):
            run = ChallengeRun(0, f"r{i}", "tg", str(i), "a", T0, T0 + i * HOUR)
            tx.challenges.add_run(run)

    await db.run(runs)

    def plan(conn: Connection) -> str:
        seen: list[tuple[str, Any]] = []

        def record(*args: Any) -> None:
            seen.append((args[2], args[3]))

        event.listen(conn, "before_cursor_execute", record)
        try:
            assert SqlChallenges(conn, SqliteFanout()).next_deadline() == T0
        finally:
            event.remove(conn, "before_cursor_execute", record)
        statement, parameters = seen[-1]
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        return " | ".join(str(r[-1]) for r in rows)

    found = await db.run_connection(plan)
    assert "ix_challenge_runs_revealed_at_deadline" in found, found
    assert "TEMP B-TREE" not in found, found
