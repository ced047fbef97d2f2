"""Tests for bot.config.logs: root logging from [logging], with secrets masked."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.config import configure_logging, load_settings
from tests.unit.config.support import DISCORD, PASSWORD, TOKEN, bare_root_logger, write


def test_configure_logging_masks_tokens(capsys: pytest.CaptureFixture[str], tmp_path: Path) -> None:
    path = write(
        tmp_path,
        f'[telegram]\ntoken = "{TOKEN}"\n[database]\nurl = "postgresql://u:{PASSWORD}@h/db"\n'
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
    assert "discord login with *** and db postgresql://u:***@h/db" in output
    assert "RuntimeError: bad token ***" in output
    assert "WARNING bot.platforms.test with stack ***" in output
    for secret in (TOKEN, DISCORD, PASSWORD):
        assert secret not in output
