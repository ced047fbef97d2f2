"""Shared fixtures: databases on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import os
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # running without an editable install
    sys.path.insert(0, str(REPO))

PG_ENV = "STUDYBOT_TEST_DATABASE_URL"


def _backends() -> list[object]:
    pg = os.environ.get(PG_ENV)
    return [
        pytest.param("sqlite", id="sqlite"),
        pytest.param(
            "postgres",
            id="postgres",
            marks=[
                pytest.mark.postgres,
                pytest.mark.skipif(not pg, reason=f"{PG_ENV} is not set"),
            ],
        ),
    ]


@pytest.fixture(params=_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an EMPTY database: a new SQLite file, or the test PostgreSQL wiped clean."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
    url = os.environ[PG_ENV]
    _wipe_postgres(url)
    return url


def _wipe_postgres(url: str) -> None:
    import asyncio

    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    async def wipe() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(wipe())


@pytest.fixture
async def db(database_url: str) -> AsyncIterator[object]:
    """An upgraded :class:`SqlDatabase` on each backend."""
    from bot.storage.database import SqlDatabase

    database = SqlDatabase(database_url)
    await database.upgrade()
    try:
        yield database
    finally:
        await database.dispose()
