"""bot.platforms.discord.messages: the limits its messages are cut to."""

from __future__ import annotations

from bot.platforms.discord.messages import DISCORD_EMBED, DISCORD_MESSAGE


def test_limits() -> None:
    assert (DISCORD_MESSAGE, DISCORD_EMBED) == (2000, 4096)
