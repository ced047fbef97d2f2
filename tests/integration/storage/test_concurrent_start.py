"""Several processes starting at once on one database each upgrade the schema and sync
the decks, and none fails because another does the same at the same moment.

Two :class:`SqlDatabase` objects are two processes' connection pools; ``asyncio.gather``
runs their syncs at the same time. (The processes themselves:
tests/e2e/process/test_several_processes.py.)
"""

from __future__ import annotations

import asyncio
import logging
import os
import time
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select, text
from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from bot.core.decks import Deck
from bot.storage.database import SqlDatabase, upgrade_schema
from bot.storage.tables import card_tags, cards, decks
from tests.databases import PG_ENV, empty_database_url
from tests.fakes.decks import make_card, make_deck

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
#: Enough cards that one sync is still writing when the other begins.
CARDS = 3000


def big_decks() -> list[Deck]:
    return [
        make_deck(
            f"deck-{d}",
            [make_card(f"d{d}-c{n}", tags=("big", f"t{n % 7}")) for n in range(CARDS // 3)],
        )
        for d in range(3)
    ]


def counts(conn: Connection) -> tuple[int, int, int]:
    def count(table: object) -> int:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())  # type: ignore[arg-type]

    return count(decks), count(cards), count(card_tags)


async def test_two_processes_sync_the_decks_at_once(database_url: str) -> None:
    setup = SqlDatabase(database_url)
    await setup.upgrade()
    await setup.dispose()
    one, two = SqlDatabase(database_url), SqlDatabase(database_url)
    wanted = big_decks()
    try:
        reports = await asyncio.gather(
            one.run(lambda tx: tx.catalogue.sync(wanted, T0)),
            two.run(lambda tx: tx.catalogue.sync(wanted, T0)),
        )
        # One added every card; the other found them there.
        assert sorted((r.added, r.unchanged) for r in reports) == [(0, CARDS), (CARDS, 0)]
        tags = sum(len(card.tags) for deck in wanted for card in deck.cards)
        assert await one.run_connection(counts) == (3, CARDS, tags)
    finally:
        await one.dispose()
        await two.dispose()


@pytest.fixture
def postgres_url(tmp_path: Path) -> str:
    """The test PostgreSQL database, emptied (a sync fixture: the wipe runs its own loop)."""
    if not os.environ.get(PG_ENV):
        pytest.skip(f"{PG_ENV} is not set")
    return empty_database_url("postgres", tmp_path)


@pytest.mark.postgres
async def test_an_upgrade_waits_for_one_in_progress(
    postgres_url: str, caplog: pytest.LogCaptureFixture
) -> None:
    """PostgreSQL: a process that begins upgrading a new database while another's upgrade
    has not committed waits for it, then finds the schema at the newest (and says so)."""
    caplog.set_level(logging.INFO, "bot.storage.database")
    url = postgres_url
    first = create_async_engine(url)
    second = SqlDatabase(url)
    try:
        async with first.connect() as conn:
            transaction = await conn.begin()
            await conn.run_sync(upgrade_schema)  # done, not committed yet
            upgrading = asyncio.ensure_future(second.check_schema(auto_upgrade=True))
            await _until_blocked(conn, upgrading)
            await transaction.commit()
        _, head = await second.schema_status()
        assert await asyncio.wait_for(upgrading, 20) == head
        assert f"the database schema was brought to {head} by another process" in caplog.text
    finally:
        await first.dispose()
        await second.dispose()


async def _until_blocked(
    conn: AsyncConnection, work: asyncio.Future[str | None], seconds: float = 20
) -> None:
    """Wait until another session waits for a lock (or ``work`` ended)."""
    waiting = text("SELECT count(*) FROM pg_locks WHERE NOT granted")
    deadline = time.monotonic() + seconds
    while not work.done():
        if (await conn.execute(waiting)).scalar_one():
            return
        assert time.monotonic() < deadline, "the second upgrade never waited"
        await asyncio.sleep(0.01)
