"""Tests for bot.config.secrets: the Secret wrapper and the log filter."""

from __future__ import annotations

import io
import logging

from bot.config import Secret, install_secret_filter
from tests.unit.config.support import TOKEN, bare_root_logger


def test_secret_wrapper() -> None:
    secret = Secret(TOKEN)
    assert repr(secret) == str(secret) == f"{secret}" == "Secret('***')"
    assert secret.reveal() == TOKEN
    assert secret == Secret(TOKEN)
    assert secret != Secret("other")
    assert secret != TOKEN
    assert hash(secret) == hash(Secret(TOKEN))
    assert secret
    assert not Secret("")


def test_install_secret_filter_on_existing_handlers() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    with bare_root_logger() as root:
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        install_secret_filter([TOKEN, ""])
        install_secret_filter([TOKEN, "shorter"])  # replaces, does not stack
        assert len(handler.filters) == 1
        logging.getLogger("bot.x").info("token=%s %s %d", TOKEN, "shorter", 3)
        install_secret_filter([])
        assert handler.filters == []
    assert stream.getvalue() == "token=*** *** 3\n"
