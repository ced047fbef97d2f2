"""Shared fixtures: databases on SQLite and, when configured, PostgreSQL."""

from __future__ import annotations

import logging
import sys
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # running without an editable install
    sys.path.insert(0, str(REPO))

from tests.databases import empty_database_url, sql_backends  # noqa: E402


@pytest.fixture(params=sql_backends())
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A URL of an EMPTY database: a new SQLite file, or the test PostgreSQL wiped clean."""
    return empty_database_url(request.param, tmp_path)


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


@pytest.fixture(autouse=True)
def _root_logging_restored() -> Iterator[None]:
    """A command run in a test (``bot.cli.main``) configures the root logger with a
    handler on that test's captured stderr; put the root logger back afterwards, so a
    later test's log lines never go to a stream pytest has closed."""
    root = logging.getLogger()
    before, level = set(root.handlers), root.level
    yield
    for handler in root.handlers[:]:  # pytest's own handlers are subclasses: left alone
        if type(handler) is logging.StreamHandler and handler not in before:
            root.removeHandler(handler)
    root.setLevel(level)
