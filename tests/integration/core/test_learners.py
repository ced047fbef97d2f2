"""First contact on a real database: two updates from one brand-new account, handled side
by side (two processes, or two of one process's update slots), enrol it once."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime

from sqlalchemy import Connection, func, select

from bot.core.learners import Enrolment, Who, get_or_create_learner
from bot.core.ports import Tx
from bot.storage.database import SqlDatabase
from bot.storage.tables import learner_settings, learners

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
PAIRS = 40


async def test_two_first_contacts_at_once_enrol_the_account_once(database_url: str) -> None:
    """Each of 40 new accounts writes twice at once, through two databases' pools: no
    unique-key error, both contacts get the same learner, one row each. Before the
    first contact tolerated the race, PostgreSQL failed one run in two of a single pair."""
    first, second = SqlDatabase(database_url), SqlDatabase(database_url)
    await first.upgrade()
    try:

        async def contact(db: SqlDatabase, n: int) -> int:
            who = Who("telegram", f"new{n}", f"New {n}", dm_channel=f"dm{n}")

            def work(tx: Tx) -> int:
                return get_or_create_learner(tx, who, Enrolment(), NOW).id

            return await db.run(work)

        ids = await asyncio.gather(
            *(contact(db, n) for n in range(PAIRS) for db in (first, second))
        )
        assert [ids[2 * n] for n in range(PAIRS)] == [ids[2 * n + 1] for n in range(PAIRS)]

        def count(conn: Connection) -> tuple[int, int]:
            people = conn.execute(select(func.count()).select_from(learners)).scalar_one()
            settings = conn.execute(select(func.count()).select_from(learner_settings))
            return people, settings.scalar_one()

        assert await first.run_connection(count) == (PAIRS, PAIRS)
        again = await first.run(lambda tx: tx.learners.get("telegram", "new7"))
        assert again is not None and again.dm_channel_id == "dm7"
        assert again.next_push_at is not None  # the enrolment's first push was planned
    finally:
        await first.dispose()
        await second.dispose()
