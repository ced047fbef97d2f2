"""Fixtures of the process tests: the Bot API stand-in, the processes started, PostgreSQL."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from tests.databases import PG_ENV, empty_database_url
from tests.e2e.process.harness import Studybot, close_all
from tests.e2e.process.telegram_server import TelegramServer


@pytest.fixture
async def server() -> AsyncIterator[TelegramServer]:
    fake = TelegramServer()
    await fake.start()
    try:
        yield fake
    finally:
        await fake.close()


@pytest.fixture
async def bots() -> AsyncIterator[list[Studybot]]:
    """The processes a test started: whatever still runs at the end is killed."""
    started: list[Studybot] = []
    try:
        yield started
    finally:
        await close_all(started)


@pytest.fixture
def postgres_url(tmp_path: Path) -> str:
    """The test PostgreSQL database, emptied (a sync fixture: the wipe runs its own loop)."""
    if not os.environ.get(PG_ENV):
        pytest.skip(f"{PG_ENV} is not set")
    return empty_database_url("postgres", tmp_path)
