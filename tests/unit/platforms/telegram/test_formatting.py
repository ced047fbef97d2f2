"""bot.platforms.telegram.formatting: the limits its splitting works under."""

from __future__ import annotations

from bot.platforms.telegram.formatting import TELEGRAM_CAPTION, TELEGRAM_MESSAGE


def test_limits() -> None:
    assert (TELEGRAM_MESSAGE, TELEGRAM_CAPTION) == (4096, 1024)
