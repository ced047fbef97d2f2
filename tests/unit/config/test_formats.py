"""Tests for bot.config.formats: tokens and database URLs that cannot work, caught early."""

from __future__ import annotations

import pytest

from bot.config.formats import (
    database_url_problem,
    discord_token_problem,
    telegram_token_problem,
)

SECRET = "NEVER-shown-secret"


@pytest.mark.parametrize(
    "token",
    ["123456:ABC-DEF1234ghIkl-zyx57W2v1u123ew11", "5550001:TEST-token-must-never-be-logged"],
)
def test_a_telegram_token_as_botfather_gives_it_passes(token: str) -> None:
    assert telegram_token_problem(token) is None


@pytest.mark.parametrize(
    "token",
    [
        f"bot123456:{SECRET}",  # copied with the URL's "bot" prefix
        f"123456/{SECRET}",
        f"123456:{SECRET} extra",
        f":{SECRET}",
        "123456:",
        SECRET,
    ],
)
def test_a_telegram_token_that_cannot_be_valid_is_named_without_its_value(token: str) -> None:
    problem = telegram_token_problem(token)
    assert problem is not None and problem.startswith("is not a Telegram bot token")
    assert SECRET not in problem


def test_a_discord_token_is_three_parts_joined_by_dots() -> None:
    assert discord_token_problem("MTIzNDU2Nzg5MDEy.GaBcDe.abcdefghijklmnop_qrstuvwx-yz") is None
    for token in (f"Bot {SECRET}.a.b", SECRET, f"{SECRET}.only-two", f"a.b.c.{SECRET}", "a..b"):
        problem = discord_token_problem(token)
        assert problem is not None and problem.startswith("is not a Discord bot token")
        assert SECRET not in problem


@pytest.mark.parametrize(
    "url",
    [
        "sqlite+aiosqlite:///data/studybot.sqlite3",
        "sqlite:///data/studybot.sqlite3",
        "sqlite+pysqlite:///:memory:",
        f"postgresql+asyncpg://bot:{SECRET}@db:5432/studybot",
        "POSTGRESQL+ASYNCPG://bot@db/studybot",
    ],
)
def test_sqlite_and_postgresql_through_asyncpg_pass(url: str) -> None:
    assert database_url_problem(url) is None


@pytest.mark.parametrize(
    ("url", "problem"),
    [
        (
            f"mysql://bot:{SECRET}@db/studybot",
            '"mysql" is not a database studybot runs on: use SQLite '
            '("sqlite+aiosqlite:///PATH") or PostgreSQL ("postgresql+asyncpg://USER@HOST/DATABASE")',
        ),
        (
            f"postgresql://bot:{SECRET}@db/studybot",
            'PostgreSQL is used through the asyncpg driver: "postgresql+asyncpg://USER@HOST/DATABASE"',
        ),
        (
            f"postgres://bot:{SECRET}@db/studybot",
            'PostgreSQL is used through the asyncpg driver: "postgresql+asyncpg://USER@HOST/DATABASE"',
        ),
        (
            f"postgresql+psycopg2://bot:{SECRET}@db/studybot",
            'PostgreSQL is used through the asyncpg driver: "postgresql+asyncpg://USER@HOST/DATABASE"',
        ),
        (
            "sqlite+pysqlcipher:///x.db",
            'SQLite is used through aiosqlite: "sqlite+aiosqlite:///PATH"',
        ),
        (f"bot:{SECRET}@db", 'is not a database URL (e.g. "sqlite+aiosqlite:///PATH")'),
        (
            f"postgresql+asyncpg://bot:{SECRET}@[db",
            'is not a database URL (e.g. "sqlite+aiosqlite:///PATH")',
        ),
    ],
)
def test_another_database_or_driver_is_named_without_the_rest_of_the_url(
    url: str, problem: str
) -> None:
    assert database_url_problem(url) == problem
