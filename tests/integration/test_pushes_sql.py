"""Daily pushes on a real database: exactly-once claims, the outbox, restarts, two processes."""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import Connection, event, func, insert, select, update

from bot.core.decks import CardDef, Deck
from bot.core.messages import Reply
from bot.core.model import Learner, LearnerSettings
from bot.core.pushes import DeliveryRetry, PushService
from bot.core.study import StudyService, Who
from bot.storage.database import SqlDatabase
from bot.storage.learners import settings_row
from bot.storage.tables import card_states, cards, learner_settings, learners, outbox

REPO = Path(__file__).resolve().parents[2]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC


class Clock:
    def __init__(self, now: datetime = NOW) -> None:
        self.value = now

    def now(self) -> datetime:
        return self.value


class Tokens:
    def __init__(self, prefix: str = "p") -> None:
        self.prefix = prefix
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        return f"{self.prefix}{self.n:09d}"


def deck() -> Deck:
    cards = tuple(
        CardDef(id=f"c{i}", deck_id="d", title=f"Card {i}", front=f"F{i}", back=f"B{i}", position=i)
        for i in range(3)
    )
    return Deck("d", "Deck", "d.md", cards)


async def seed(db: SqlDatabase, count: int, *, due: bool = True, platform: str = "fake") -> None:
    """``count`` learners whose push is due now, each with one card due (or none)."""
    await db.run(lambda tx: tx.catalogue.sync([deck()], NOW - timedelta(days=30)))
    settings = settings_row(LearnerSettings(push_time=time(9, 0)))

    def work(conn: Connection) -> None:
        start = int(conn.execute(select(func.coalesce(func.max(learners.c.id), 0))).scalar_one())
        ids = range(start + 1, start + count + 1)
        conn.execute(
            insert(learners),
            [
                {
                    "id": i,
                    "platform": platform,
                    "platform_user_id": f"u{i}",
                    "display_name": f"L{i}",
                    "created_at": NOW - timedelta(days=10),
                    "last_seen_at": NOW - timedelta(hours=20),
                    "unreachable": False,
                    "next_push_at": NOW - timedelta(minutes=i % 7),
                }
                for i in ids
            ],
        )
        conn.execute(
            insert(learner_settings), [{"learner_id": i, "topics": "", **settings} for i in ids]
        )
        if due:
            conn.execute(
                insert(card_states),
                [
                    {
                        "learner_id": i,
                        "card_id": "c1",
                        "state": 2,
                        "step": None,
                        "stability": 5.0,
                        "difficulty": 5.0,
                        "due": NOW - timedelta(hours=1),
                        "last_review": NOW - timedelta(days=5),
                        "reps": 3,
                        "lapses": 0,
                        "suspended": False,
                        "leech": False,
                    }
                    for i in ids
                ],
            )

    await db.run_connection(work)


def service(db: SqlDatabase, clock: Clock, prefix: str = "p") -> PushService:
    return PushService(db, clock, Tokens(prefix), LearnerSettings(enable_fuzzing=False))


async def outbox_rows(db: SqlDatabase) -> list[tuple[int, str | None, str | None]]:
    def read(conn: Connection) -> list[tuple[int, str | None, str | None]]:
        rows = conn.execute(
            select(outbox.c.learner_id, outbox.c.sent_at, outbox.c.failed_at).order_by(outbox.c.id)
        ).all()
        return [(int(r[0]), r[1], r[2]) for r in rows]

    return await db.run_connection(read)


class Recorder:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def __call__(self, learner: Learner, reply: Reply, *, skip: int = 0) -> bool:
        assert reply.card is not None and reply.card.front
        assert [b.label for b in reply.all_buttons()] == [
            "Show answer",
            "Snooze 1 hour",
            "Skip today",
        ]
        self.sent.append(learner.platform_user_id)
        return True


async def test_tick_claims_each_due_learner_once(db: SqlDatabase) -> None:
    await seed(db, 30)
    await seed(db, 5, due=False)
    clock = Clock()
    pushes = service(db, clock)
    assert await pushes.tick(["fake"]) == 35
    assert await pushes.tick(["fake"]) == 0  # their next push moved to tomorrow
    rows = await outbox_rows(db)
    assert sorted(r[0] for r in rows) == list(range(1, 31))  # nothing due: no message

    def next_pushes(conn: Connection) -> set[datetime]:
        return set(conn.execute(select(learners.c.next_push_at)).scalars())

    assert await db.run_connection(next_pushes) == {NOW + timedelta(days=1)}
    assert await pushes.tick(["other-platform"]) == 0


async def test_outbox_rows_store_instants_like_every_other_write(db: SqlDatabase) -> None:
    """The bulk outbox insert bypasses per-row binding; what it stores must still
    compare equal to an instant bound the ordinary way (on SQLite: the same text)."""
    await seed(db, 12)
    pushes = service(db, Clock())
    assert await pushes.tick(["fake"]) == 12

    def matching(conn: Connection) -> tuple[int, int, set[datetime]]:
        exact = conn.execute(
            select(func.count())
            .select_from(outbox)
            .where(outbox.c.created_at == NOW, outbox.c.not_before == NOW)
        ).scalar_one()
        later = conn.execute(
            select(func.count()).select_from(outbox).where(outbox.c.not_before > NOW)
        ).scalar_one()
        read = set(conn.execute(select(outbox.c.created_at)).scalars())
        return int(exact), int(later), read

    exact, later, read = await db.run_connection(matching)
    assert (exact, later) == (12, 0)
    assert read == {NOW} and all(d.tzinfo is UTC for d in read)
    leased = await db.run(lambda tx: tx.pushes.lease("fake", NOW, NOW + timedelta(minutes=2), 50))
    assert len(leased) == 12 and {m.not_before for m in leased} == {NOW}


async def test_due_summary_picks_the_earliest_available_card(db: SqlDatabase) -> None:
    """First card by (due, card id), counting only due, live, unsuspended, unburied cards."""
    await seed(db, 4, due=False)
    hour = timedelta(hours=1)
    states = {  # (learner, card): (due, suspended, buried until)
        (1, "c2"): (NOW - 2 * hour, False, None),
        (1, "c1"): (NOW - 2 * hour, False, None),  # ties with c2: the smaller id wins
        (1, "c0"): (NOW + hour, False, None),  # not due yet
        (2, "c0"): (NOW - 3 * hour, True, None),  # suspended
        (2, "c1"): (NOW - 5 * hour, False, NOW + hour),  # buried until later today
        (2, "c2"): (NOW - hour, False, None),
        (4, "c2"): (NOW - timedelta(days=1), False, None),  # earlier due beats a smaller id
        (4, "c1"): (NOW - hour, False, None),
        (4, "c0"): (NOW - 2 * hour, False, None),  # its card is retired below
    }

    def work(conn: Connection) -> None:
        conn.execute(
            insert(card_states),
            [
                {
                    "learner_id": learner_id,
                    "card_id": card_id,
                    "state": 2,
                    "step": None,
                    "stability": 5.0,
                    "difficulty": 5.0,
                    "due": due,
                    "last_review": NOW - timedelta(days=5),
                    "reps": 3,
                    "lapses": 0,
                    "suspended": suspended,
                    "leech": False,
                    "buried_until": buried,
                }
                for (learner_id, card_id), (due, suspended, buried) in states.items()
            ],
        )
        conn.execute(update(cards).where(cards.c.id == "c0").values(retired_at=NOW - hour))

    await db.run_connection(work)
    summary = await db.run(lambda tx: tx.pushes.due_summary([1, 2, 3, 4], NOW))
    assert summary == {1: ("c1", 2), 2: ("c2", 1), 4: ("c2", 2)}
    assert await db.run(lambda tx: tx.pushes.due_summary([3], NOW)) == {}


async def test_the_claim_reads_only_due_rows_off_the_next_push_index(
    db: SqlDatabase, database_url: str
) -> None:
    """SQLite without statistics once walked every learner of the platform on each tick."""
    if not database_url.startswith("sqlite"):
        pytest.skip("SQLite's query plan")
    from bot.storage.fanout import SqliteFanout
    from bot.storage.pushes import SqlPushes

    def plan(conn: Connection) -> str:
        seen: list[tuple[str, Any]] = []

        def record(*args: Any) -> None:
            seen.append((args[2], args[3]))  # (conn, cursor, statement, parameters, ...)

        event.listen(conn, "before_cursor_execute", record)
        try:
            SqlPushes(conn, SqliteFanout()).claim_due(NOW, ["telegram", "discord"], 10)
        finally:
            event.remove(conn, "before_cursor_execute", record)
        statement, parameters = seen[-1]
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {statement}", parameters).all()
        return " | ".join(str(r[-1]) for r in rows)

    found = await db.run_connection(plan)
    assert "ix_learners_next_push_at" in found, found
    assert "TEMP B-TREE" not in found, found


async def test_concurrent_ticks_never_push_twice(db: SqlDatabase) -> None:
    await seed(db, 1200)
    clock = Clock()
    a, b = service(db, clock, "a"), service(db, clock, "b")
    results = await asyncio.gather(a.tick(["fake"]), b.tick(["fake"]))
    assert sum(results) == 1200
    rows = await outbox_rows(db)
    assert len(rows) == 1200 and len({r[0] for r in rows}) == 1200


async def test_side_by_side_planners_claim_each_learner_once(db: SqlDatabase) -> None:
    """The policy PostgreSQL runs with: several batches planned at once, none twice."""
    from dataclasses import replace

    await seed(db, 1100)
    await seed(db, 40, due=False)
    pushes = service(db, Clock())
    pushes.policy = replace(pushes.policy, batch=100, planners=3)
    assert await pushes.tick(["fake"]) == 1140
    rows = await outbox_rows(db)
    assert sorted(r[0] for r in rows) == list(range(1, 1101))
    assert await pushes.tick(["fake"]) == 0


async def test_restart_mid_fanout_delivers_each_once(db: SqlDatabase, database_url: str) -> None:
    await seed(db, 60)
    clock = Clock()
    first = service(db, clock)
    await first.tick(["fake"])
    recorder = Recorder()
    assert await first.drain("fake", recorder, limit=25) == 25
    # The process dies here; a new one starts on the same database.
    second_db = SqlDatabase(database_url)
    try:
        second = service(second_db, clock, "q")
        assert await second.tick(["fake"]) == 0
        while await second.drain("fake", recorder, limit=25):
            pass
    finally:
        await second_db.dispose()
    assert sorted(recorder.sent) == sorted(f"u{i}" for i in range(1, 61))
    assert all(r[1] is not None for r in await outbox_rows(db))


async def test_crash_during_send_is_retried_after_the_lease(db: SqlDatabase) -> None:
    await seed(db, 3)
    clock = Clock()
    pushes = service(db, clock)
    await pushes.tick(["fake"])
    # A sender leased the rows and died before marking them.
    await db.run(lambda tx: tx.pushes.lease("fake", NOW, NOW + timedelta(minutes=2), 10))
    recorder = Recorder()
    assert await pushes.drain("fake", recorder) == 0
    clock.value += timedelta(minutes=2)
    assert await pushes.drain("fake", recorder) == 3
    assert sorted(recorder.sent) == ["u1", "u2", "u3"]


async def test_retry_after_and_unreachable(db: SqlDatabase) -> None:
    await seed(db, 2)
    clock = Clock()
    pushes = service(db, clock)
    await pushes.tick(["fake"])
    calls: list[str] = []

    async def flaky(learner: Learner, reply: Reply, *, skip: int = 0) -> bool:
        calls.append(learner.platform_user_id)
        if learner.platform_user_id == "u1":
            raise DeliveryRetry("429 Too Many Requests", retry_after=7)
        return False  # u2 blocked the bot

    assert await pushes.drain("fake", flaky) == 2
    rows = {r[0]: r for r in await outbox_rows(db)}
    assert rows[2][2] is not None  # failed: unreachable
    assert rows[1][1] is None and rows[1][2] is None  # still pending
    clock.value += timedelta(seconds=6)
    assert await pushes.drain("fake", flaky) == 0  # not before 7 s
    clock.value += timedelta(seconds=1)
    recorder = Recorder()
    assert await pushes.drain("fake", recorder) == 1
    assert recorder.sent == ["u1"]


async def test_snooze_survives_in_the_job_store_and_pushes_once(
    db: SqlDatabase, database_url: str, tmp_path: Path
) -> None:
    """A snoozed push is a job in APScheduler's SQLAlchemy store on the same database."""
    from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
    from apscheduler.schedulers.asyncio import AsyncIOScheduler
    from bot.jobs.pushes import PERSISTENT, SchedulerTimers

    from bot.storage.database import sync_url

    await seed(db, 1)
    clock = Clock()
    pushes = service(db, clock)
    study = StudyService(db, clock, Tokens("s"), LearnerSettings(enable_fuzzing=False))
    study.pushes = pushes
    scheduler = AsyncIOScheduler(
        jobstores={PERSISTENT: SQLAlchemyJobStore(url=sync_url(database_url))}, timezone="UTC"
    )
    scheduler.start(paused=True)  # jobs are stored, none runs in this test
    try:
        pushes.timers = SchedulerTimers(scheduler, timedelta(hours=6))
        await pushes.tick(["fake"])
        recorder = Recorder()
        captured: list[Reply] = []

        async def keep(learner: Learner, reply: Reply, *, skip: int = 0) -> bool:
            captured.append(reply)
            return await recorder(learner, reply)

        await pushes.drain("fake", keep)
        snooze = captured[0].buttons[1][0].payload
        reply = await study.press(Who("fake", "u1"), snooze)
        assert reply.kind == "info" and "Snoozed" in reply.text
        assert (await study.press(Who("fake", "u1"), snooze)).kind == "expired"
        job = await asyncio.to_thread(scheduler.get_job, "snooze-1", PERSISTENT)
        assert job is not None and job.args == (1,)
        assert job.next_run_time == NOW + timedelta(hours=1)
        assert job.misfire_grace_time == 6 * 3600 and job.coalesce
    finally:
        scheduler.shutdown(wait=False)
    # The job fires (here: called directly, an hour later): one new push is queued.
    clock.value += timedelta(hours=1)
    assert await pushes.push_learner(1)
    await pushes.drain("fake", recorder)
    assert recorder.sent == ["u1", "u1"]


async def test_paused_and_unreachable_learners_are_not_claimed(db: SqlDatabase) -> None:
    await seed(db, 3)

    def mark(conn: Connection) -> None:
        conn.execute(update(learners).where(learners.c.id == 1).values(unreachable=True))
        conn.execute(
            update(learner_settings).where(learner_settings.c.learner_id == 2).values(paused=True)
        )

    await db.run_connection(mark)
    pushes = service(db, Clock())
    assert await pushes.tick(["fake"]) == 1
    assert [r[0] for r in await outbox_rows(db)] == [3]


@pytest.mark.postgres
async def test_two_processes_push_ten_thousand_learners_exactly_once(
    database_url: str, db: SqlDatabase, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the multi-process test runs on PostgreSQL")
    total = 10_000
    await seed(db, total)
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    outs = [tmp_path / "a.txt", tmp_path / "b.txt"]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.push_worker",
            database_url,
            str(out),
            NOW.isoformat(),
            cwd=REPO,
            env=env,
            stderr=asyncio.subprocess.PIPE,
        )
        for out in outs
    ]
    for proc in procs:
        _, err = await asyncio.wait_for(proc.communicate(), timeout=300)
        assert proc.returncode == 0, err.decode()
    sent = [line for out in outs for line in out.read_text().splitlines()]
    per_process = [len(out.read_text().splitlines()) for out in outs]
    assert len(sent) == total, per_process
    assert len(set(sent)) == total
    assert all(n > 0 for n in per_process), per_process  # both did real work
    rows = await outbox_rows(db)
    assert len(rows) == total and all(r[1] is not None for r in rows)


async def test_deleting_a_learner_deletes_their_outbox_rows(db: SqlDatabase) -> None:
    """The outbox has no foreign key (it is written in bulk): /forget clears it explicitly."""
    await seed(db, 3)
    assert await service(db, Clock()).tick(["fake"]) == 3
    await db.run(lambda tx: tx.learners.delete(2))
    assert sorted(r[0] for r in await outbox_rows(db)) == [1, 3]


async def test_old_delivered_outbox_rows_are_pruned(db: SqlDatabase) -> None:
    from bot.jobs.scheduler import OUTBOX_RETENTION, prune_old_rows

    await seed(db, 5)
    assert await service(db, Clock()).tick(["fake"]) == 5
    ids = await db.run_connection(
        lambda conn: list(conn.execute(select(outbox.c.id).order_by(outbox.c.id)).scalars())
    )
    day = timedelta(days=1)

    def deliver(tx: Any) -> None:
        tx.pushes.mark_sent(ids[0], NOW - 10 * day)  # long delivered: pruned
        tx.pushes.mark_failed(ids[1], NOW - 8 * day, "blocked")  # long given up: pruned
        tx.pushes.mark_sent(ids[2], NOW - day)  # delivered yesterday: kept
        tx.pushes.retry_later(ids[3], NOW + day, "429", 2)  # to be tried again: kept
        # ids[4] is pending: kept

    await db.run(deliver)
    app = SimpleNamespace(db=db, clock=Clock(NOW))
    assert timedelta(days=7) == OUTBOX_RETENTION
    assert await prune_old_rows(app) == (0, 2)  # type: ignore[arg-type]
    assert await prune_old_rows(app) == (0, 0)  # type: ignore[arg-type]
    left = await db.run_connection(
        lambda conn: list(conn.execute(select(outbox.c.id).order_by(outbox.c.id)).scalars())
    )
    assert left == ids[2:]
    # The retry remembers how many of its messages went out already.
    leased = await db.run(lambda tx: tx.pushes.lease("fake", NOW + day, NOW + 2 * day, 10))
    assert {m.id: m.parts_sent for m in leased} == {ids[3]: 2, ids[4]: 0}
