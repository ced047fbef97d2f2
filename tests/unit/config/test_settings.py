"""Tests for bot.config.settings: frozen, hashable, and no secret in any repr."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest

from bot.config import DatabaseSettings, Settings, default_settings, load_settings
from tests.unit.config.support import DISCORD, PASSWORD, TOKEN, write


def test_frozen(tmp_path: Path) -> None:
    settings = load_settings(None, env={})
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.data_dir = tmp_path  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.study.desired_retention = 0.5  # type: ignore[misc]
    with pytest.raises(dataclasses.FrozenInstanceError):
        settings.database.url = "sqlite://"  # type: ignore[misc]
    hash(settings)  # frozen settings are hashable


def test_token_never_in_repr(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f'[telegram]\ntoken = "{TOKEN}"\n[database]\nurl = "postgresql+asyncpg://u:{PASSWORD}@h/db"',
    )
    settings = load_settings(path, env={"STUDYBOT_DISCORD_TOKEN": DISCORD})
    for text in (repr(settings), str(settings), repr(settings.database), repr(settings.telegram)):
        assert TOKEN not in text
        assert DISCORD not in text
        assert PASSWORD not in text
    assert "Secret('***')" in repr(settings)
    assert "postgresql+asyncpg://u:***@h/db" in repr(settings)


@pytest.mark.parametrize(
    ("url", "safe"),
    [
        (
            f"postgresql+asyncpg://bot:{PASSWORD}@db.example:5432/studybot",
            "postgresql+asyncpg://bot:***@db.example:5432/studybot",
        ),
        (f"postgresql://bot:{PASSWORD}@db/x?ssl=require", "postgresql://bot:***@db/x?ssl=require"),
        ("postgresql://p%40ss:w%3Ard@db/x", "postgresql://p%40ss:***@db/x"),
        (f"postgresql://:{PASSWORD}@db/x", "postgresql://:***@db/x"),
        ("postgresql://bot@db/x", "postgresql://bot@db/x"),
        (
            f"postgresql://db/x?user=bot&password={PASSWORD}#frag",
            "postgresql://db/x?user=bot&password=***#frag",
        ),
        (
            "sqlite+aiosqlite:////abs/path/studybot.sqlite3",
            "sqlite+aiosqlite:////abs/path/studybot.sqlite3",
        ),
        ("sqlite+aiosqlite:///:memory:", "sqlite+aiosqlite:///:memory:"),
    ],
)
def test_safe_url_hides_password(url: str, safe: str) -> None:
    database = DatabaseSettings(url=url)
    assert database.safe_url() == safe
    assert PASSWORD not in repr(database)
    assert database.url == url


def test_database_password_is_decoded() -> None:
    assert DatabaseSettings(url="postgresql://u:p%40ss@h/db").password() == "p@ss"
    assert DatabaseSettings(url="sqlite+aiosqlite:///x.db").password() is None


def test_settings_is_exported_type() -> None:
    assert isinstance(default_settings(), Settings)
