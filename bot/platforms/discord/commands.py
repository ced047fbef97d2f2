"""The application commands and the command tree with its one error handler.

Commands only hand the interaction to the running :class:`DiscordPlatform`;
they are defined here so ``studybot discord sync`` can publish them without
a database.
"""

from __future__ import annotations

import logging
from typing import Any

import discord
from discord import app_commands

from bot.platforms.discord.challenges import challenge_group
from bot.platforms.discord.components import platform_of

log = logging.getLogger(__name__)

COMMAND_NAMES = (
    "review",
    "quiz",
    "stats",
    "settings",
    "decks",
    "undo",
    "pause",
    "resume",
    "export",
    "forget",
    "help",
    "challenge",
)


class StudyTree(app_commands.CommandTree[Any]):
    """The command tree; every command error goes to the platform's one handler."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError, /
    ) -> None:
        """Log with guild, channel and user ids and answer briefly; the bot keeps running."""
        platform = getattr(interaction.client, "studybot", None)
        if platform is None:  # a client built only to sync commands
            log.error("command failed without a running platform", exc_info=error)
            return
        await platform_of(interaction).on_interaction_error(interaction, error)


async def _topics(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """Autocomplete for /quiz topic: deck ids and tags, prefix matches first."""
    topics = platform_of(interaction).topics()
    needle = current.strip().lower()
    first = [t for t in topics if t.startswith(needle)]
    then = [t for t in topics if needle in t and not t.startswith(needle)]
    return [app_commands.Choice(name=t, value=t) for t in (first + then)[:25]]


def register_commands(tree: app_commands.CommandTree[Any]) -> None:
    """Add /review, /quiz, /stats, /settings, /decks, /undo, /pause, /resume, /export,
    /forget, /help and the /challenge group, each usable in servers, DMs and private
    channels, and installable to a server or to a user's own account."""

    @tree.command(name="review", description="Study your next card (in our DMs)")
    async def review(interaction: discord.Interaction[Any]) -> None:
        await platform_of(interaction).cmd_review(interaction)

    @tree.command(name="quiz", description="Post a quiz card on a topic to this server channel")
    @app_commands.describe(topic="A deck or tag, for example attention")
    @app_commands.autocomplete(topic=_topics)
    async def quiz(interaction: discord.Interaction[Any], topic: str) -> None:
        await platform_of(interaction).cmd_quiz(interaction, topic)

    @tree.command(name="stats", description="Your reviews, streak, retention and what is due")
    async def stats(interaction: discord.Interaction[Any]) -> None:
        await platform_of(interaction).cmd_stats(interaction)

    @tree.command(name="settings", description="Time zone, reminder time, new cards a day")
    async def settings(interaction: discord.Interaction[Any]) -> None:
        await platform_of(interaction).cmd_settings(interaction)

    @tree.command(name="decks", description="List the decks, or choose which ones you study")
    @app_commands.describe(
        topics='Decks or tags to study, separated by spaces ("all" for every deck)'
    )
    async def decks(interaction: discord.Interaction[Any], topics: str | None = None) -> None:
        await platform_of(interaction).cmd_decks(interaction, topics)

    @tree.command(name="undo", description="Undo your last rating")
    async def undo(interaction: discord.Interaction[Any]) -> None:
        await platform_of(interaction).cmd_undo(interaction)

    @tree.command(name="pause", description="Pause your daily reminders")
    async def pause(interaction: discord.Interaction[Any]) -> None:
        await platform_of(interaction).cmd_pause(interaction, True)

    @tree.command(name="resume", description="Resume your daily reminders")
    async def resume(interaction: discord.Interaction[Any]) -> None:
        await platform_of(interaction).cmd_pause(interaction, False)

    @tree.command(name="export", description="Download your review history as CSV")
    async def export(interaction: discord.Interaction[Any]) -> None:
        await platform_of(interaction).cmd_export(interaction)

    @tree.command(name="forget", description="Delete everything the bot holds about you")
    async def forget(interaction: discord.Interaction[Any]) -> None:
        await platform_of(interaction).cmd_forget(interaction)

    @tree.command(name="help", description="What this bot does and its commands")
    async def help_(interaction: discord.Interaction[Any]) -> None:
        await platform_of(interaction).cmd_help(interaction)

    tree.add_command(challenge_group())

    for command in tree.get_commands():
        app_commands.allowed_installs(guilds=True, users=True)(command)
        app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)(command)
