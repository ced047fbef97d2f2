"""Benchmark: planning a day's pushes (claim + build every push message).

100,000 learners, 20% of them due now (each with due cards and some review
history), on SQLite and, when STUDYBOT_TEST_DATABASE_URL (or --postgres) names
a server, on PostgreSQL. The figure is learners claimed per second by
``PushService.tick`` (claim in batches, compute each next push, count due cards,
pick the first card, estimate the minutes from past durations, write the
outbox rows), next to the delivery limit (Telegram's 30 messages/s), with the
push policy the bot itself uses on that database.

Each database is seeded once and ticked ``--rounds`` times (the same learners
made due again in between); the median round is the figure, and the JSON also
gives the slowest and fastest, and the longest the event loop was held
(``loop_lag_max_ms``: how long another chat's button press could wait). On
PostgreSQL every round starts after VACUUM ANALYZE, the state autovacuum keeps
a live database in.

    python benchmarks/push_fanout.py [--learners 100000] [--due 0.2] [--rounds 5] [--postgres URL]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from sqlalchemy import Connection, delete, insert, text, update
from sqlalchemy.ext.asyncio import create_async_engine

from bot.app import push_policy
from bot.config import PushSettings
from bot.core.actions import new_token
from bot.core.decks import CardDef, Deck
from bot.core.learners import Basics, Enrolment
from bot.core.model import LearnerSettings
from bot.core.pushes import PushService
from bot.storage.database import SqlDatabase
from bot.storage.learners import settings_row
from bot.storage.tables import (
    card_states,
    learner_settings,
    learners,
    outbox,
    review_logs,
)

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
TELEGRAM_PER_S = 30
ZONES = ("UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Pacific/Kiritimati")


class Clock:
    def now(self) -> datetime:
        return NOW


async def seed(db: SqlDatabase, count: int, due_share: float) -> int:
    deck = Deck(
        "bench",
        "Bench",
        "bench.md",
        tuple(
            CardDef(id=f"b{i}", deck_id="bench", title=f"B{i}", front="f", back="b", position=i)
            for i in range(5)
        ),
    )
    await db.run(lambda tx: tx.catalogue.sync([deck], NOW - timedelta(days=30)))
    every = max(1, round(1 / due_share))
    due_ids = [i for i in range(1, count + 1) if i % every == 0]

    def work(conn: Connection) -> None:
        chunk = 5000
        for start in range(1, count + 1, chunk):
            ids = range(start, min(count, start + chunk - 1) + 1)
            conn.execute(
                insert(learners),
                [
                    {
                        "id": i,
                        "platform": "telegram",
                        "platform_user_id": str(i),
                        "display_name": f"L{i}",
                        "created_at": NOW - timedelta(days=60),
                        "last_seen_at": NOW - timedelta(hours=20),
                        "unreachable": False,
                        "next_push_at": NOW - timedelta(minutes=1)
                        if i % every == 0
                        else NOW + timedelta(hours=1 + i % 20),
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(learner_settings),
                [
                    {
                        "learner_id": i,
                        "topics": "",
                        **settings_row(LearnerSettings(timezone=ZONES[i % len(ZONES)])),
                    }
                    for i in ids
                ],
            )
        states = [
            {
                "learner_id": i,
                "card_id": f"b{k}",
                "state": 2,
                "step": None,
                "stability": 4.0,
                "difficulty": 5.0,
                "due": NOW - timedelta(hours=k + 1) if k < 2 else NOW + timedelta(days=k),
                "last_review": NOW - timedelta(days=4),
                "reps": 3,
                "lapses": 0,
                "suspended": False,
                "leech": False,
            }
            for i in due_ids
            for k in range(3)
        ]
        for start in range(0, len(states), 10000):
            conn.execute(insert(card_states), states[start : start + 10000])
        logs = [
            {
                "learner_id": i,
                "card_id": "b0",
                "rating": 3,
                "reviewed_at": NOW - timedelta(days=d),
                "duration_ms": 9000 + 100 * d,
                "source": "dm",
                "before_state": 2,
                "before_reps": 2,
                "before_lapses": 0,
                "before_suspended": False,
                "before_leech": False,
                "after_state": 2,
                "after_due": NOW,
                "after_lapses": 0,
            }
            for i in due_ids
            for d in (2, 4)
        ]
        for start in range(0, len(logs), 10000):
            conn.execute(insert(review_logs), logs[start : start + 10000])

    await db.run_connection(work)
    return len(due_ids)


async def reset(db: SqlDatabase, due_share: float) -> None:
    """Make the same learners due again and empty the outbox (between rounds)."""
    every = max(1, round(1 / due_share))

    def work(conn: Connection) -> None:
        conn.execute(delete(outbox))
        conn.execute(
            update(learners)
            .where(learners.c.id % every == 0)
            .values(next_push_at=NOW - timedelta(minutes=1), last_reminder_at=None)
        )

    await db.run_connection(work)


async def settle(url: str) -> None:
    """On PostgreSQL, VACUUM ANALYZE: the steady state autovacuum keeps a live database in.

    Without it the first reader of freshly bulk-loaded rows pays for setting
    their hint bits, and the next round walks the previous round's dead rows.
    """
    if url.startswith("sqlite"):
        return
    engine = create_async_engine(url, isolation_level="AUTOCOMMIT")
    async with engine.connect() as conn:
        await conn.execute(text("VACUUM ANALYZE"))
    await engine.dispose()


async def loop_lag(lags: list[float], every: float = 0.005) -> None:
    """How late a 5 ms timer fires while the tick runs: what other chats would wait."""
    while True:
        started = time.perf_counter()
        await asyncio.sleep(every)
        lags.append(time.perf_counter() - started - every)


async def measure(url: str, count: int, due_share: float, rounds: int) -> dict[str, object]:
    db = SqlDatabase(url)
    timings: list[float] = []
    lags: list[float] = []
    try:
        await db.upgrade()
        started = time.perf_counter()
        due = await seed(db, count, due_share)
        seed_s = time.perf_counter() - started
        policy = push_policy(PushSettings(), postgres=not db.is_sqlite)
        service = PushService(Basics(db, Clock(), new_token, Enrolment()), policy)
        for round_ in range(rounds):
            if round_:
                await reset(db, due_share)
            await settle(url)
            probe = asyncio.create_task(loop_lag(lags))
            started = time.perf_counter()
            claimed = await service.tick(["telegram"])
            timings.append(time.perf_counter() - started)
            probe.cancel()
            pending = await db.run(lambda tx: tx.pushes.pending_count("telegram"))
            assert claimed == due, (claimed, due)
            assert pending == due, (pending, due)
    finally:
        await db.dispose()
    rates = sorted(round(due / t) for t in timings)
    return {
        "learners": count,
        "due": due,
        "planners": service.policy.planners,
        "seed_s": round(seed_s, 2),
        "claim_s": [round(t, 3) for t in timings],
        "learners_per_s": rates[len(rates) // 2],  # the median round
        "learners_per_s_min": rates[0],
        "learners_per_s_max": rates[-1],
        "delivery_hours_at_30_per_s": round(due / TELEGRAM_PER_S / 3600, 2),
        "loop_lag_max_ms": round(max(lags, default=0.0) * 1000, 1),
    }


async def wipe_postgres(url: str) -> None:
    engine = create_async_engine(url)
    async with engine.begin() as conn:
        await conn.execute(text("DROP SCHEMA public CASCADE"))
        await conn.execute(text("CREATE SCHEMA public"))
    await engine.dispose()


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--due", type=float, default=0.2)
    parser.add_argument("--rounds", type=int, default=5, help="ticks measured; the median counts")
    parser.add_argument(
        "--postgres",
        default=os.environ.get("STUDYBOT_TEST_DATABASE_URL"),
        help="a PostgreSQL URL whose public schema may be wiped (default: the test database)",
    )
    args = parser.parse_args()
    results: dict[str, object] = {}
    with tempfile.TemporaryDirectory() as tmp:
        sqlite = await measure(
            f"sqlite:///{tmp}/fanout.sqlite3", args.learners, args.due, args.rounds
        )
    print(f"sqlite: {sqlite}")
    results["sqlite_learners_per_s"] = sqlite["learners_per_s"]
    results["sqlite"] = sqlite
    postgres: dict[str, object] | None = None
    if args.postgres:
        await wipe_postgres(args.postgres)
        postgres = await measure(args.postgres, args.learners, args.due, args.rounds)
        await wipe_postgres(args.postgres)
        print(f"postgres: {postgres}")
    results["postgres_learners_per_s"] = postgres["learners_per_s"] if postgres else None
    results["postgres"] = postgres
    results["telegram_messages_per_s"] = TELEGRAM_PER_S
    results["target_learners_per_s"] = 20_000
    print(json.dumps(results))


if __name__ == "__main__":
    asyncio.run(main())
