"""What a bot token and a database URL must look like, checked when the config loads.

A token that cannot be valid would otherwise fail at the first request with a
long network error, and a database URL without a driver studybot runs on deep in
SQLAlchemy. Each check returns what is wrong, in words that never repeat the
value (it may hold a secret), or None when the value may be right.
"""

from __future__ import annotations

import json
import re
from typing import Final
from urllib.parse import urlsplit

__all__ = ["database_url_problem", "discord_token_problem", "telegram_token_problem"]

#: A Telegram bot token: the bot's numeric id, a colon, the secret (as @BotFather gives it).
_TELEGRAM_TOKEN: Final = re.compile(r"[0-9]{1,20}:[A-Za-z0-9_-]{1,200}")
#: A Discord bot token: three base64url parts joined by dots.
_DISCORD_TOKEN: Final = re.compile(r"[A-Za-z0-9_-]{1,200}(\.[A-Za-z0-9_-]{1,200}){2}")
_URL_SCHEME: Final = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")

_SQLITE_EXAMPLE: Final = '"sqlite+aiosqlite:///PATH"'
_POSTGRES_EXAMPLE: Final = '"postgresql+asyncpg://USER@HOST/DATABASE"'
#: (database, driver) pairs studybot runs on; SQLite's driver may be left out.
_DRIVERS: Final = frozenset(
    {("sqlite", ""), ("sqlite", "aiosqlite"), ("sqlite", "pysqlite"), ("postgresql", "asyncpg")}
)


def telegram_token_problem(token: str) -> str | None:
    """What makes ``token`` impossible as a Telegram bot token, or None."""
    if _TELEGRAM_TOKEN.fullmatch(token):
        return None
    return 'is not a Telegram bot token: expected "<bot id>:<secret>", as @BotFather gives it'


def discord_token_problem(token: str) -> str | None:
    """What makes ``token`` impossible as a Discord bot token, or None."""
    if _DISCORD_TOKEN.fullmatch(token):
        return None
    return (
        "is not a Discord bot token: expected three parts joined by dots, from the Bot page "
        'of the Developer Portal (without "Bot ", and not the client secret)'
    )


def database_url_problem(url: str) -> str | None:
    """What keeps studybot from using the database ``url``, or None.

    Only SQLite and PostgreSQL through asyncpg are supported; the message names the
    database and the driver, never the rest of the URL (it may hold a password).
    """
    if not _URL_SCHEME.match(url.strip()):
        return f"is not a database URL (e.g. {_SQLITE_EXAMPLE})"
    try:
        urlsplit(url)
    except ValueError:
        return f"is not a database URL (e.g. {_SQLITE_EXAMPLE})"
    scheme = url.strip().split("://", 1)[0].lower()
    database, _, driver = scheme.partition("+")
    if (database, driver) in _DRIVERS:
        return None
    if database == "sqlite":
        return f"SQLite is used through aiosqlite: {_SQLITE_EXAMPLE}"
    if database in ("postgresql", "postgres"):
        return f"PostgreSQL is used through the asyncpg driver: {_POSTGRES_EXAMPLE}"
    return (
        f"{json.dumps(database)} is not a database studybot runs on: "
        f"use SQLite ({_SQLITE_EXAMPLE}) or PostgreSQL ({_POSTGRES_EXAMPLE})"
    )
