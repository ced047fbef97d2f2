"""Discord: slash commands, persistent buttons, DM reviews and /quiz in servers."""

import warnings

with warnings.catch_warnings():
    # discord.py 2.7 imports audioop for voice, deprecated since Python 3.11; no voice here.
    warnings.filterwarnings("ignore", "'audioop' is deprecated", DeprecationWarning)
    import discord  # noqa: F401

from bot.platforms.discord.platform import DiscordPlatform, build_discord, sync_commands

__all__ = ["DiscordPlatform", "build_discord", "sync_commands"]
