"""The real databases tests run on: SQLite always, PostgreSQL when configured."""

from __future__ import annotations

import asyncio
import os
from pathlib import Path

import pytest
from sqlalchemy import text
from sqlalchemy.ext.asyncio import create_async_engine

PG_ENV = "STUDYBOT_TEST_DATABASE_URL"


def sql_backends() -> list[object]:
    """Pytest parameters ``sqlite`` and ``postgres`` (skipped unless ``PG_ENV`` is set)."""
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


def empty_database_url(backend: str, tmp_path: Path) -> str:
    """A URL of an EMPTY database: a new SQLite file, or the test PostgreSQL wiped clean."""
    if backend == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'test.sqlite3'}"
    url = os.environ[PG_ENV]
    _wipe_postgres(url)
    return url


def _wipe_postgres(url: str) -> None:
    async def wipe() -> None:
        engine = create_async_engine(url)
        async with engine.begin() as conn:
            await conn.execute(text("DROP SCHEMA public CASCADE"))
            await conn.execute(text("CREATE SCHEMA public"))
        await engine.dispose()

    asyncio.run(wipe())
