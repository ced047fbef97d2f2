"""Memory models on a real database: stored parameters checked as they are read, and two
fitters racing for the same learners."""

from __future__ import annotations

import asyncio
import json
import logging
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, update

from bot.core import memory
from bot.core.model import LearnerSettings
from bot.storage.database import SqlDatabase
from bot.storage.learners import fsrs_parameters
from bot.storage.tables import learner_settings

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def store_raw(db: SqlDatabase, learner_id: int, text: str) -> None:
    def work(conn: Connection) -> None:
        conn.execute(
            update(learner_settings)
            .where(learner_settings.c.learner_id == learner_id)
            .values(fsrs_parameters=text)
        )

    await db.run_connection(work)


@pytest.mark.parametrize(
    ("stored", "named"),
    [
        (json.dumps([*memory.DEFAULT_PARAMETERS[:3], "x", *memory.DEFAULT_PARAMETERS[4:]]), "3"),
        (
            json.dumps(
                [*memory.DEFAULT_PARAMETERS[:5], float("nan"), *memory.DEFAULT_PARAMETERS[6:]]
            ),
            "5",
        ),
        (json.dumps([*memory.DEFAULT_PARAMETERS[:20], 5.0]), "20"),  # w20 above 0.8
        (json.dumps(list(memory.DEFAULT_PARAMETERS[:19])), "19 parameters"),
        ("not json", "Expecting value"),
    ],
)
async def test_unusable_stored_parameters_mean_the_defaults_and_one_log_line(
    db: SqlDatabase, stored: str, named: str, caplog: pytest.LogCaptureFixture
) -> None:
    fsrs_parameters.cache_clear()
    learner = await db.run(
        lambda tx: tx.learners.create("tg", "1", "A", LearnerSettings(), (), NOW)
    )
    await store_raw(db, learner.id, stored)
    with caplog.at_level(logging.WARNING, logger="bot.storage.learners"):
        for _ in range(3):
            read = await db.run(lambda tx: tx.learners.get_by_id(learner.id))
            assert read is not None and read.settings.fsrs_parameters is None
    (line,) = [r.getMessage() for r in caplog.records]
    assert f"learner {learner.id}:" in line and named in line and "using the defaults" in line
    if named.isdigit():
        assert f"index {named}" in line


async def test_usable_parameters_are_read_back(db: SqlDatabase) -> None:
    params = tuple(p * 1.01 if i in (0, 1) else p for i, p in enumerate(memory.DEFAULT_PARAMETERS))
    settings = LearnerSettings(fsrs_parameters=params)
    learner = await db.run(lambda tx: tx.learners.create("tg", "1", "A", settings, (), NOW))
    read = await db.run(lambda tx: tx.learners.get_by_id(learner.id))
    assert read is not None and read.settings.fsrs_parameters == params


async def test_two_fitters_claim_each_learner_exactly_once(database_url: str) -> None:
    """Two database objects (two processes' pools) race ``claim_due`` on PostgreSQL."""
    if not database_url.startswith("postgresql"):
        pytest.skip("FOR UPDATE SKIP LOCKED: two processes share PostgreSQL")
    first, second = SqlDatabase(database_url), SqlDatabase(database_url)
    await first.upgrade()
    try:

        async def enrol(n: int) -> None:
            await first.run(
                lambda tx: [
                    tx.learners.create("tg", f"u{i}", "A", LearnerSettings(), (), NOW)
                    for i in range(n)
                ]
            )

        await enrol(300)
        lease = NOW + timedelta(minutes=30)

        async def claims(db: SqlDatabase) -> list[int]:
            got: list[int] = []
            while batch := await db.run(lambda tx: tx.models.claim_due(NOW, lease, 7)):
                got.extend(batch)
            return got

        a, b = await asyncio.gather(claims(first), claims(second))
        assert len(a) + len(b) == 300 and len(set(a) | set(b)) == 300
        assert a and b  # both took part
    finally:
        await first.dispose()
        await second.dispose()
