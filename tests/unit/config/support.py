"""Shared helpers for the bot.config tests: a config file on disk, its error, a bare root logger."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from bot.config import ConfigError, load_settings
from bot.config.logs import ONE_LINE_LOGGERS, QUIET_LIBRARIES

REPO_ROOT = Path(__file__).resolve().parents[3]
EXAMPLE = REPO_ROOT / "config.example.toml"
TOKEN = "123456:SUPER-SECRET-telegram-token"
DISCORD = "discord.SECRET.token-value"
PASSWORD = "hunter2-pw"
ENV_VARS = (
    "STUDYBOT_DATA_DIR",
    "STUDYBOT_DATABASE_URL",
    "STUDYBOT_TELEGRAM_TOKEN",
    "STUDYBOT_DISCORD_TOKEN",
    "STUDYBOT_WEB_SECRET",
)


def write(directory: Path, text: str, name: str = "config.toml") -> Path:
    path = directory / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(text, encoding="utf-8")
    return path


def error_for(path: Path, env: dict[str, str] | None = None) -> str:
    with pytest.raises(ConfigError) as info:
        load_settings(path, env={} if env is None else env)
    message = str(info.value)
    assert "\n" not in message
    return message


@contextmanager
def bare_root_logger() -> Iterator[logging.Logger]:
    """Give a bare root logger, then put back the original handlers and level (and the
    levels and filters of the library loggers that ``configure_logging`` sets).

    Used inside the test body (not as a fixture) so that the handlers saved and
    restored are those of the pytest phase that is running.
    """
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    libraries = [logging.getLogger(name) for name in (*QUIET_LIBRARIES, *ONE_LINE_LOGGERS)]
    saved_libraries = [(logger.level, logger.filters[:]) for logger in libraries]
    for handler in saved_handlers:
        root.removeHandler(handler)
    try:
        yield root
    finally:
        for handler in root.handlers[:]:
            root.removeHandler(handler)
            handler.close()
        for handler in saved_handlers:
            root.addHandler(handler)
        root.setLevel(saved_level)
        for logger, (level, filters) in zip(libraries, saved_libraries, strict=True):
            logger.setLevel(level)
            logger.filters[:] = filters
