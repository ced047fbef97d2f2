"""The contract suite's database: the in-memory fake, SQLite, and PostgreSQL when configured.

Every test here runs against all three, so the fake (``tests/fakes``) cannot
drift from the real databases: where they disagree, the real one is right.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.core.ports import Database
from bot.storage.database import SqlDatabase
from tests.databases import empty_database_url, sql_backends
from tests.fakes.database import FakeDatabase


@pytest.fixture(params=[pytest.param("fake", id="fake"), *sql_backends()])
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> str | None:
    """None for the fake; else the URL of an empty database (see :mod:`tests.databases`)."""
    return None if request.param == "fake" else empty_database_url(request.param, tmp_path)


@pytest.fixture
async def db(backend_url: str | None) -> AsyncIterator[Database]:
    """Runs units of work: a :class:`FakeDatabase`, or an upgraded :class:`SqlDatabase`."""
    if backend_url is None:
        yield FakeDatabase()
        return
    database = SqlDatabase(backend_url)
    await database.upgrade()
    try:
        yield database
    finally:
        await database.dispose()
