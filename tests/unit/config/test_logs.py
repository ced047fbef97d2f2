"""Tests for bot.config.logs: root logging from [logging], with secrets masked."""

from __future__ import annotations

import json
import logging
from datetime import datetime, timedelta
from pathlib import Path

import pytest

from bot.config import LoggingSettings, configure_logging, load_settings
from tests.unit.config.support import DISCORD, PASSWORD, TOKEN, bare_root_logger, write


def test_configure_logging_masks_tokens(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f'[telegram]\ntoken = "{TOKEN}"\n[database]\nurl = "postgresql+asyncpg://u:{PASSWORD}@h/db"\n'
        '[logging]\nlevel = "debug"\nformat = "%(levelname)s %(name)s %(message)s"',
    )
    settings = load_settings(path, env={"STUDYBOT_DISCORD_TOKEN": DISCORD})
    with bare_root_logger() as root:
        configure_logging(settings.logging, secrets=settings.secret_values())
        assert root.level == logging.DEBUG
        child = logging.getLogger("bot.platforms.test")
        child.info("calling https://api.telegram.org/bot%s/getMe", TOKEN)
        child.debug(f"discord login with {DISCORD} and db {settings.database.url}")
        try:
            raise RuntimeError(f"bad token {TOKEN}")
        except RuntimeError:
            child.exception("failed")
        child.warning("with stack %s", PASSWORD, stack_info=True)
    output = capsys.readouterr().err
    assert "INFO bot.platforms.test calling https://api.telegram.org/bot***/getMe" in output
    assert "discord login with *** and db postgresql+asyncpg://u:***@h/db" in output
    assert "RuntimeError: bad token ***" in output
    assert "WARNING bot.platforms.test with stack ***" in output
    for secret in (TOKEN, DISCORD, PASSWORD):
        assert secret not in output


def test_json_logs_are_one_object_per_line_with_secrets_masked(
    capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    path = write(
        tmp_path,
        f'[telegram]\ntoken = "{TOKEN}"\n[database]\nurl = "postgresql+asyncpg://u:{PASSWORD}@h/db"\n'
        '[logging]\nformat = "json"',
    )
    settings = load_settings(path, env={"STUDYBOT_DISCORD_TOKEN": DISCORD})
    with bare_root_logger():
        configure_logging(settings.logging, secrets=settings.secret_values())
        child = logging.getLogger("bot.platforms.test")
        child.info("calling https://api.telegram.org/bot%s/getMe", TOKEN)
        child.debug("not at INFO")
        try:
            raise RuntimeError(f"bad token {TOKEN}\nand {DISCORD}")
        except RuntimeError:
            child.exception("failed for %s", PASSWORD)
        child.warning("with stack", stack_info=True)
    output = capsys.readouterr().err
    lines = output.splitlines()
    assert len(lines) == 3
    first, failed, stacked = (json.loads(line) for line in lines)
    assert set(first) == {"time", "level", "logger", "message"}
    assert datetime.fromisoformat(first["time"]).utcoffset() == timedelta(0)
    assert first["level"] == "INFO"
    assert first["logger"] == "bot.platforms.test"
    assert first["message"] == "calling https://api.telegram.org/bot***/getMe"
    assert failed["level"] == "ERROR"
    assert failed["message"] == "failed for ***"
    assert failed["exception"].startswith("Traceback (most recent call last):")
    assert failed["exception"].endswith("RuntimeError: bad token ***\nand ***")
    assert stacked["stack"].startswith("Stack (most recent call last):")
    for secret in (TOKEN, DISCORD, PASSWORD):
        assert secret not in output


def test_libraries_stay_quiet_below_debug(capsys: pytest.CaptureFixture[str]) -> None:
    with bare_root_logger():
        configure_logging(LoggingSettings(format="%(levelname)s %(name)s %(message)s"))
        logging.getLogger("alembic.runtime.plugins").info("setup plugin alembic.x")
        logging.getLogger("apscheduler.scheduler").info("Adding job tentatively")
        logging.getLogger("httpx").info("HTTP Request: POST getUpdates")
        logging.getLogger("apscheduler.scheduler").warning("a job was missed")
        logging.getLogger("bot.app").info("studybot: telegram (polling)")
        configure_logging(LoggingSettings(level="DEBUG", format="%(name)s %(message)s"))
        logging.getLogger("alembic.runtime.migration").info("Context impl SQLiteImpl.")
        logging.getLogger("apscheduler.scheduler").debug("Adding job tentatively")
    assert capsys.readouterr().err.splitlines() == [
        "WARNING apscheduler.scheduler a job was missed",
        "INFO bot.app studybot: telegram (polling)",
        "alembic.runtime.migration Context impl SQLiteImpl.",
        "apscheduler.scheduler Adding job tentatively",
    ]


def test_a_retry_loop_logs_one_line_per_attempt(capsys: pytest.CaptureFixture[str]) -> None:
    """discord.py logs a traceback for each reconnect; below DEBUG it is one line."""
    with bare_root_logger():
        configure_logging(LoggingSettings(format="%(levelname)s %(message)s"), secrets=[TOKEN])
        gateway = logging.getLogger("discord.client")
        try:
            raise OSError(f"Cannot connect to host gateway.discord.gg:443\n{TOKEN}")
        except OSError:
            gateway.exception("Attempting a reconnect in %.2fs", 1.5)
        configure_logging(LoggingSettings(level="DEBUG", format="%(message)s"))
        try:
            raise OSError("still down")
        except OSError:
            gateway.exception("Attempting a reconnect in %.2fs", 3.0)
    lines = capsys.readouterr().err.splitlines()
    assert lines[0] == (
        "ERROR Attempting a reconnect in 1.50s: OSError: Cannot connect to host "
        "gateway.discord.gg:443 ***"
    )
    assert lines[1:3] == ["Attempting a reconnect in 3.00s", "Traceback (most recent call last):"]
    assert lines[-1] == "OSError: still down"
