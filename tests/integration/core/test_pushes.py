"""Daily pushes on a real database: exactly-once claims, the outbox, restarts, snoozes, two
processes. (What the push repository does on its own is in tests/contract/test_pushes.py.)"""

from __future__ import annotations

import asyncio
import os
import sys
from datetime import UTC, datetime, time, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Connection, event, func, insert, select, update

from bot.core.decks import CardDef, Deck
from bot.core.learners import Who
from bot.core.messages import Reply
from bot.core.model import Learner, LearnerSettings
from bot.core.ports import Delivery, DeliveryRetry
from bot.core.pushes import PushPolicy, PushService
from bot.storage.database import SqlDatabase
from bot.storage.learners import settings_row
from bot.storage.tables import card_states, learner_settings, learners, outbox
from tests.fakes.clock import FixedClock
from tests.fakes.tokens import SequentialTokens
from tests.services import Services, build_services, button, is_expired

REPO = Path(__file__).resolve().parents[3]
NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)  # a Monday, 09:00 UTC
HOUR = timedelta(hours=1)
DAY = timedelta(days=1)


def deck() -> Deck:
    cards = tuple(
        CardDef(id=f"c{i}", deck_id="d", title=f"Card {i}", front=f"F{i}", back=f"B{i}", position=i)
        for i in range(3)
    )
    return Deck("d", "Deck", "d.md", cards)


async def seed(
    db: SqlDatabase, count: int, *, due: bool = True, snoozed: bool = False, platform: str = "fake"
) -> None:
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
                    "push_snoozed": snoozed,
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


def services(
    db: SqlDatabase, clock: FixedClock, prefix: str = "p", policy: PushPolicy | None = None
) -> Services[SqlDatabase]:
    return build_services(db, clock, tokens=SequentialTokens(prefix), policy=policy)


def service(db: SqlDatabase, clock: FixedClock, prefix: str = "p") -> PushService:
    return services(db, clock, prefix).pushes


async def outbox_rows(db: SqlDatabase) -> list[tuple[int, datetime | None, datetime | None]]:
    def read(conn: Connection) -> list[tuple[int, datetime | None, datetime | None]]:
        rows = conn.execute(
            select(outbox.c.learner_id, outbox.c.sent_at, outbox.c.failed_at).order_by(outbox.c.id)
        ).all()
        return [(int(r[0]), r[1], r[2]) for r in rows]

    return await db.run_connection(read)


async def next_push(db: SqlDatabase, learner_id: int) -> tuple[datetime | None, bool]:
    """A learner's next push instant, and whether it is a snoozed one."""

    def read(conn: Connection) -> tuple[datetime | None, bool]:
        row = conn.execute(
            select(learners.c.next_push_at, learners.c.push_snoozed).where(
                learners.c.id == learner_id
            )
        ).one()
        return row[0], bool(row[1])

    return await db.run_connection(read)


class Recorder:
    """A platform's push: keeps whom it reached and what they got."""

    def __init__(self) -> None:
        self.sent: list[str] = []
        self.replies: list[Reply] = []

    async def __call__(self, learner: Learner, reply: Reply, *, skip: int = 0) -> Delivery:
        assert reply.card is not None and reply.card.front
        assert [b.label for b in reply.all_buttons()] == [
            "Show answer",
            "Snooze 1 hour",
            "Skip today",
        ]
        self.sent.append(learner.platform_user_id)
        self.replies.append(reply)
        return Delivery(reached=True)


# --------------------------------------------------------------------------- the fan-out


async def test_tick_claims_each_due_learner_once(db: SqlDatabase) -> None:
    await seed(db, 30)
    await seed(db, 5, due=False)
    pushes = service(db, FixedClock(NOW))
    assert await pushes.tick(["fake"]) == 35
    assert await pushes.tick(["fake"]) == 0  # their next push moved to tomorrow
    rows = await outbox_rows(db)
    assert sorted(r[0] for r in rows) == list(range(1, 31))  # nothing due: no message

    def next_pushes(conn: Connection) -> set[datetime]:
        return set(conn.execute(select(learners.c.next_push_at)).scalars())

    assert await db.run_connection(next_pushes) == {NOW + DAY}
    assert await pushes.tick(["other-platform"]) == 0


async def test_outbox_rows_store_instants_like_every_other_write(db: SqlDatabase) -> None:
    """The bulk outbox insert bypasses per-row binding; what it stores must still
    compare equal to an instant bound the ordinary way (on SQLite: the same text)."""
    await seed(db, 12)
    pushes = service(db, FixedClock(NOW))
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
    clock = FixedClock(NOW)
    a, b = service(db, clock, "a"), service(db, clock, "b")
    results = await asyncio.gather(a.tick(["fake"]), b.tick(["fake"]))
    assert sum(results) == 1200
    rows = await outbox_rows(db)
    assert len(rows) == 1200 and len({r[0] for r in rows}) == 1200


async def test_side_by_side_planners_claim_each_learner_once(db: SqlDatabase) -> None:
    """The policy PostgreSQL runs with: several batches planned at once, none twice."""
    await seed(db, 1100)
    await seed(db, 40, due=False)
    pushes = services(db, FixedClock(NOW), policy=PushPolicy(batch=100, planners=3)).pushes
    assert await pushes.tick(["fake"]) == 1140
    rows = await outbox_rows(db)
    assert sorted(r[0] for r in rows) == list(range(1, 1101))
    assert await pushes.tick(["fake"]) == 0


async def test_paused_and_unreachable_learners_are_not_claimed(db: SqlDatabase) -> None:
    await seed(db, 3)

    def mark(conn: Connection) -> None:
        conn.execute(update(learners).where(learners.c.id == 1).values(unreachable=True))
        conn.execute(
            update(learner_settings).where(learner_settings.c.learner_id == 2).values(paused=True)
        )

    await db.run_connection(mark)
    assert await service(db, FixedClock(NOW)).tick(["fake"]) == 1
    assert [r[0] for r in await outbox_rows(db)] == [3]


# --------------------------------------------------------------------------- delivery


async def test_restart_mid_fanout_delivers_each_once(db: SqlDatabase, database_url: str) -> None:
    await seed(db, 60)
    clock = FixedClock(NOW)
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
    clock = FixedClock(NOW)
    pushes = service(db, clock)
    await pushes.tick(["fake"])
    # A sender leased the rows and died before marking them.
    await db.run(lambda tx: tx.pushes.lease("fake", NOW, NOW + timedelta(minutes=2), 10))
    recorder = Recorder()
    assert await pushes.drain("fake", recorder) == 0
    clock.advance(timedelta(minutes=2))
    assert await pushes.drain("fake", recorder) == 3
    assert sorted(recorder.sent) == ["u1", "u2", "u3"]


async def test_retry_after_unreachable_and_an_opened_channel(db: SqlDatabase) -> None:
    await seed(db, 3)
    clock = FixedClock(NOW)
    pushes = service(db, clock)
    await pushes.tick(["fake"])
    calls: list[str] = []

    async def flaky(learner: Learner, reply: Reply, *, skip: int = 0) -> Delivery:
        calls.append(learner.platform_user_id)
        if learner.platform_user_id == "u1":
            raise DeliveryRetry("429 Too Many Requests", retry_after=7)
        if learner.platform_user_id == "u2":
            return Delivery(reached=False)  # blocked the bot
        return Delivery(reached=True, dm_channel="dm-3")  # a private channel was opened

    assert await pushes.drain("fake", flaky) == 3
    rows = {r[0]: r for r in await outbox_rows(db)}
    assert rows[2][2] is not None and rows[3][1] is not None  # failed: unreachable; sent
    assert rows[1][1] is None and rows[1][2] is None  # still pending

    def read(conn: Connection) -> dict[int, tuple[bool, str | None]]:
        got = conn.execute(select(learners.c.id, learners.c.unreachable, learners.c.dm_channel_id))
        return {int(r[0]): (bool(r[1]), r[2]) for r in got}

    assert await db.run_connection(read) == {1: (False, None), 2: (True, None), 3: (False, "dm-3")}
    clock.advance(timedelta(seconds=6))
    assert await pushes.drain("fake", flaky) == 0  # not before 7 s
    clock.advance(timedelta(seconds=1))
    recorder = Recorder()
    assert await pushes.drain("fake", recorder) == 1
    assert recorder.sent == ["u1"]


# --------------------------------------------------------------------------- snooze


async def test_a_snooze_is_the_next_push_instant_and_the_tick_sends_it_once(
    db: SqlDatabase,
) -> None:
    await seed(db, 1)
    clock = FixedClock(NOW)
    svc = services(db, clock)
    assert await svc.pushes.tick(["fake"]) == 1
    recorder = Recorder()
    await svc.pushes.drain("fake", recorder)
    snooze = button(recorder.replies[0], "Snooze").payload
    who = Who("fake", "u1")
    outcome = await svc.press(who, snooze)
    assert outcome.close == "Snoozed: I'll come back at 10:00."
    assert is_expired(await svc.press(who, snooze))
    assert await next_push(db, 1) == (NOW + HOUR, True)

    clock.set(NOW + HOUR - timedelta(seconds=1))
    assert await svc.pushes.tick(["fake"]) == 0
    clock.set(NOW + HOUR)
    assert await svc.pushes.tick(["fake"]) == 1
    assert await svc.pushes.tick(["fake"]) == 0
    await svc.pushes.drain("fake", recorder)
    assert recorder.sent == ["u1", "u1"]
    assert await next_push(db, 1) == (NOW + DAY, False)  # the daily push stands


@pytest.mark.parametrize(
    ("late", "sent"), [(timedelta(hours=6), 1), (timedelta(hours=6, seconds=1), 0)]
)
async def test_a_missed_snooze_is_sent_once_within_the_grace_and_dropped_after(
    db: SqlDatabase, late: timedelta, sent: int
) -> None:
    await seed(db, 1, snoozed=True)  # snoozed until 08:59; the bot was down until then + late
    clock = FixedClock(NOW - timedelta(minutes=1) + late)
    pushes = services(db, clock, policy=PushPolicy(snooze_grace=timedelta(hours=6))).pushes
    assert await pushes.tick(["fake"]) == 1
    assert await pushes.tick(["fake"]) == 0
    rows = await outbox_rows(db)
    assert len(rows) == sent
    recorder = Recorder()
    await pushes.drain("fake", recorder)
    assert recorder.sent == ["u1"] * sent
    assert await next_push(db, 1) == (NOW + DAY, False)


@pytest.mark.postgres
async def test_two_processes_send_a_snoozed_push_exactly_once(
    database_url: str, db: SqlDatabase, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the multi-process test runs on PostgreSQL")
    await seed(db, 2000, snoozed=True)
    sent, per_process = await two_workers(database_url, tmp_path, NOW + HOUR)
    assert len(sent) == 2000 and len(set(sent)) == 2000, per_process
    assert await next_push(db, 1) == (NOW + DAY, False)


# --------------------------------------------------------------------------- two processes


async def two_workers(url: str, tmp_path: Path, now: datetime) -> tuple[list[str], list[int]]:
    """Run two push worker processes at once; returns whom they reached, and how many each."""
    env = {**os.environ, "PYTHONPATH": str(REPO)}
    outs = [tmp_path / "a.txt", tmp_path / "b.txt"]
    procs = [
        await asyncio.create_subprocess_exec(
            sys.executable,
            "-m",
            "tests.integration.core.push_worker",
            url,
            str(out),
            now.isoformat(),
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
    return sent, [len(out.read_text().splitlines()) for out in outs]


@pytest.mark.postgres
async def test_two_processes_push_ten_thousand_learners_exactly_once(
    database_url: str, db: SqlDatabase, tmp_path: Path
) -> None:
    if not database_url.startswith("postgresql"):
        pytest.skip("the multi-process test runs on PostgreSQL")
    total = 10_000
    await seed(db, total)
    sent, per_process = await two_workers(database_url, tmp_path, NOW)
    assert len(sent) == total, per_process
    assert len(set(sent)) == total
    assert all(n > 0 for n in per_process), per_process  # both did real work
    rows = await outbox_rows(db)
    assert len(rows) == total and all(r[1] is not None for r in rows)
