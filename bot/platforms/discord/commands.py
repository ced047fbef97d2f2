"""The study commands: the command tree, its one error handler, and what each command does.

The commands are registered on every client (also one built only to publish
them with ``studybot discord sync``); a command hands its interaction to the
running platform's :class:`StudyCommands`, which defers, makes one core call
and renders the outcome. Personal commands used in a server answer privately.

A file to import comes with ``/import file:`` or as an attachment of a message
sent in the DMs (:meth:`StudyCommands.dm_message`); either way the size Discord
declares goes to the core first, and the file is downloaded only when the core asks.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any, Final, Literal, Protocol, cast

import discord
from discord import app_commands

from bot.core.ankifile import MAX_IMPORT_BYTES
from bot.core.learners import Who
from bot.core.model import ReviewSource
from bot.core.outcomes import Outcome
from bot.core.quiz import QuizService
from bot.core.study import StudyService
from bot.platforms.discord.challenges import challenge_group
from bot.platforms.discord.components import host_of, settings_view
from bot.platforms.discord.interactions import (
    Answer,
    Places,
    attachment_fetch,
    in_bot_dm,
    in_dm,
    refuse_if_cannot_post,
    report_error,
    report_message_error,
    who_wrote,
)
from bot.platforms.discord.messages import plain
from bot.platforms.discord.rendering import OutcomeRenderer, typing_in

log = logging.getLogger(__name__)

DM_ONLY: Final = (
    "/{name} is private, so it works in our direct messages: open my profile, "
    "choose Message, and send /{name} there."
)
QUIZ_IN_DM: Final = (
    "Quizzes are for study servers: add me to a server and send /quiz there. "
    "Here in our DMs, /review gives you your own cards."
)
IMPORT_IN_DMS: Final = (
    "Importing happens in our direct messages, so the decks stay yours alone: open my "
    "profile, choose Message, and send me the file there (or use /import there)."
)
#: Said after a DM message with several files: only the first one was looked at.
ONE_FILE_AT_A_TIME: Final = (
    "I import one file per message, so I looked only at {name}: send {others} in "
    "messages of their own."
)
#: The largest file /import takes, in MB (Discord's and the core's figure alike).
_LIMIT_MB: Final = MAX_IMPORT_BYTES // (1024 * 1024)
QUIZ_NOT_INSTALLED: Final = (
    "I can only run quizzes in servers I have been added to. "
    "Ask a server admin to add me, then try /quiz again."
)
HELP: Final = f"""\
I help you remember what you learn, with spaced repetition (FSRS): \
each card comes back just before you would forget it.

/review: your next card, in our DMs (tap Show answer, then rate yourself)
/undo: undo your last rating
/quiz topic: post a quiz card to a server channel; everyone reveals and rates privately
/stats: reviews, streak, retention and what is due
/settings: time zone, reminder time, new cards a day, retention (and what it costs), easy days
/decks: the decks, or choose which ones you study (pause, resume or remove ID: your own)
/exam date topic: an exam; until that day, the topic's cards come back in time to be \
recalled on it (/exam alone shows it; target 0.85 changes the aim; date off clears it)
/cram topic: practise a topic, weakest cards first, without changing your schedule \
(/review goes back to normal study)
/pause, /resume: stop or restart the daily reminders
/export: your review history as CSV (format anki: an Anki package)
/import file: bring in your Anki decks, in our DMs: an Anki package (.apkg, .colpkg) \
or text export (.txt, .csv, .tsv) of up to {_LIMIT_MB} MB; or just send me the file there
/forget: delete everything I hold about you
/challenge: group challenges in a server: derive it from memory, then compare and rate yourself"""


class StudyCommands:
    """What /review, /undo, /quiz, /stats, /settings, /decks, /exam, /cram, /pause, /resume,
    /export, /import, /forget and /help do, and a file sent in the DMs.

    Args:
        study: the study loop.
        quiz: group quizzes.
        topics: deck ids and tags, for /quiz, /exam and /cram autocomplete.
        rendering: shows the outcomes.
        places: where people used commands.
    """

    def __init__(
        self,
        *,
        study: StudyService,
        quiz: QuizService,
        topics: Sequence[str],
        rendering: OutcomeRenderer,
        places: Places,
    ) -> None:
        self.study = study
        self.quiz = quiz
        self.topics = tuple(topics)
        self.rendering = rendering
        self.places = places

    async def _dm_only(self, interaction: discord.Interaction[Any], name: str) -> Who | None:
        """The learner when this is our DM; elsewhere a private pointer to the DMs."""
        who = self.places.enter(interaction)
        if in_bot_dm(interaction):
            return who
        await Answer.of(interaction).say(DM_ONLY.format(name=name))
        return None

    async def review(self, interaction: discord.Interaction[Any]) -> None:
        """/review: the next card, in the DMs."""
        who = await self._dm_only(interaction, "review")
        if who is not None:
            await self.rendering.run(
                interaction, lambda: self.study.next(who, ReviewSource.DM), hidden=False
            )

    async def undo(self, interaction: discord.Interaction[Any]) -> None:
        """/undo: undo the last rating and show that card again."""
        who = await self._dm_only(interaction, "undo")
        if who is not None:
            await self.rendering.run(
                interaction, lambda: self.study.undo(who, ReviewSource.DM), hidden=False
            )

    async def quiz_start(self, interaction: discord.Interaction[Any], topic: str) -> None:
        """/quiz topic: a card posted to the channel; answers and ratings are private."""
        who = self.places.enter(interaction)
        if interaction.guild_id is None:
            await Answer.of(interaction).say(QUIZ_IN_DM)
            return
        if not interaction.is_guild_integration():
            await Answer.of(interaction).say(QUIZ_NOT_INSTALLED)
            return
        if await refuse_if_cannot_post(interaction):
            return
        chat_id = str(interaction.channel_id)
        await self.rendering.run(
            interaction, lambda: self.quiz.start(who, chat_id, topic), hidden=False
        )

    async def stats(self, interaction: discord.Interaction[Any]) -> None:
        """/stats: numbers, and the forecast chart when it can be drawn."""
        who = self.places.enter(interaction)
        await self.rendering.run(
            interaction, lambda: self.study.stats(who), hidden=not in_bot_dm(interaction)
        )

    async def settings(self, interaction: discord.Interaction[Any]) -> None:
        """/settings: the current values, with menus and a button for typed values."""
        who = self.places.enter(interaction)
        hidden = not in_bot_dm(interaction)
        answer = Answer.of(interaction)
        await answer.defer(hidden=hidden)
        outcome = await self.study.settings(who)
        # Discord's own settings panel: the values as an embed over the menus.
        text = "\n\n".join(reply.text for reply in outcome.replies)
        embed = discord.Embed(title="Your settings", description=plain(text))
        await answer.send(hidden=hidden, embed=embed, view=settings_view())

    async def decks(self, interaction: discord.Interaction[Any], topics: str | None) -> None:
        """/decks [topics]: list the decks, study only these decks or tags, or pause,
        resume or remove one of the learner's own (``pause ID``)."""
        who = self.places.enter(interaction)
        chosen = (topics or "").replace(",", " ").split()
        await self.rendering.run(
            interaction,
            lambda: self.study.decks(who, chosen),
            hidden=not in_bot_dm(interaction),
        )

    async def exam(
        self,
        interaction: discord.Interaction[Any],
        date: str | None,
        topic: str | None,
        target: str | None,
    ) -> None:
        """/exam [date] [topic] [target]: set, change, clear (date "off") or show the exam."""
        who = self.places.enter(interaction)
        words = (date or "").split() + (topic or "").split()

        async def run() -> Outcome:
            if not words and target is None:
                return await self.study.exam(who)
            if not words:
                return await self.study.exam(who, ["target", target or ""])
            if target is not None:  # the target first: a bad one leaves the date unsaved too
                aimed = await self.study.exam(who, ["target", target])
                if any(r.kind == "error" for r in aimed.replies):
                    return aimed
            return await self.study.exam(who, words)

        await self.rendering.run(interaction, run, hidden=not in_bot_dm(interaction))

    async def cram(self, interaction: discord.Interaction[Any], topic: str | None) -> None:
        """/cram [topic]: practice cards in the DMs, the schedule left alone."""
        who = await self._dm_only(interaction, "cram")
        if who is not None:
            await self.rendering.run(interaction, lambda: self.study.cram(who, topic), hidden=False)

    async def pause(self, interaction: discord.Interaction[Any], paused: bool) -> None:
        """/pause and /resume: the daily reminders."""
        who = self.places.enter(interaction)
        await self.rendering.run(
            interaction, lambda: self.study.pause(who, paused), hidden=not in_bot_dm(interaction)
        )

    async def export(self, interaction: discord.Interaction[Any], fmt: str = "csv") -> None:
        """/export: the review history as a CSV attachment (``anki``: an Anki package)."""
        who = await self._dm_only(interaction, "export")
        if who is None:
            return
        study = self.study
        run = (lambda: study.export_anki(who)) if fmt == "anki" else (lambda: study.export(who))
        await self.rendering.run(interaction, run, hidden=False)

    async def import_file(
        self, interaction: discord.Interaction[Any], file: discord.Attachment
    ) -> None:
        """/import file: the attachment imported into the learner's own decks (in the DMs;
        in a server, a private pointer there, and nothing is downloaded)."""
        who = self.places.enter(interaction)
        if not in_bot_dm(interaction):
            await Answer.of(interaction).say(IMPORT_IN_DMS)
            return
        study = self.study
        await self.rendering.run(
            interaction,
            lambda: study.import_file(who, file.filename, file.size, attachment_fetch(file)),
            hidden=False,
        )

    async def dm_message(self, message: discord.Message) -> None:
        """A message a person sent in the DMs: its first attachment is imported into their
        own decks, and the outcome is the reply (several: the others are not, and they are
        told). A message without a file, or not in a DM, or the bot's own, is left alone.
        Whatever fails is told by :func:`report_message_error`."""
        if message.author.bot or not message.attachments or not in_dm(message):
            return
        who = who_wrote(message)
        self.places.told_closed.discard(who.user_id)  # they write: their DMs are open
        first, *others = message.attachments
        try:
            async with typing_in(message.channel):
                outcome = await self.study.import_file(
                    who, first.filename, first.size, attachment_fetch(first)
                )
            await self.rendering.reply(message, outcome)
            if others:
                rest = "the other file" if len(others) == 1 else f"the other {len(others)} files"
                note = ONE_FILE_AT_A_TIME.format(name=first.filename, others=rest)
                await message.channel.send(plain(note))
        except Exception as exc:
            await report_message_error(message, exc)

    async def forget(self, interaction: discord.Interaction[Any]) -> None:
        """/forget: ask for confirmation before deleting the learner's data."""
        who = await self._dm_only(interaction, "forget")
        if who is not None:
            await self.rendering.run(
                interaction, lambda: self.study.request_forget(who), hidden=False
            )

    async def help(self, interaction: discord.Interaction[Any]) -> None:
        """/help: what the bot does."""
        who = self.places.enter(interaction)
        hidden = not in_bot_dm(interaction)
        answer = Answer.of(interaction)
        await answer.defer(hidden=hidden)
        if who.dm_channel is not None:  # stored, so a push to them is one request
            await self.study.learner(who)
        text = discord.utils.escape_markdown(HELP, as_needed=True)
        await answer.send(hidden=hidden, content=text)


class StudyTree(app_commands.CommandTree[Any]):
    """The command tree; every command error goes to the platform's one handler."""

    async def on_error(
        self, interaction: discord.Interaction[Any], error: app_commands.AppCommandError, /
    ) -> None:
        """Log with guild, channel and user ids and answer briefly; the bot keeps running."""
        await report_error(interaction, error)


class _Host(Protocol):
    @property
    def commands(self) -> StudyCommands: ...


def _commands(interaction: discord.Interaction[Any]) -> StudyCommands:
    return cast("_Host", host_of(interaction)).commands


async def _topics(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    """Autocomplete for /quiz topic: deck ids and tags, prefix matches first."""
    topics = _commands(interaction).topics
    needle = current.strip().lower()
    first = [t for t in topics if t.startswith(needle)]
    then = [t for t in topics if needle in t and not t.startswith(needle)]
    return [app_commands.Choice(name=t, value=t) for t in (first + then)[:25]]


def register_commands(tree: app_commands.CommandTree[Any]) -> None:
    """Add /review, /quiz, /stats, /settings, /decks, /exam, /cram, /undo, /pause, /resume,
    /export, /import, /forget, /help and the /challenge group, each offered where it can
    work (:func:`declare_installs`)."""

    @tree.command(name="review", description="Study your next card (in our DMs)")
    async def review(interaction: discord.Interaction[Any]) -> None:
        await _commands(interaction).review(interaction)

    @tree.command(name="quiz", description="Post a quiz card on a topic to this server channel")
    @app_commands.describe(topic="A deck or tag, for example attention")
    @app_commands.autocomplete(topic=_topics)
    async def quiz(interaction: discord.Interaction[Any], topic: str) -> None:
        await _commands(interaction).quiz_start(interaction, topic)

    @tree.command(name="stats", description="Your reviews, streak, retention and what is due")
    async def stats(interaction: discord.Interaction[Any]) -> None:
        await _commands(interaction).stats(interaction)

    @tree.command(name="settings", description="Time zone, reminder time, new cards a day")
    async def settings(interaction: discord.Interaction[Any]) -> None:
        await _commands(interaction).settings(interaction)

    @tree.command(name="decks", description="List the decks, or choose which ones you study")
    @app_commands.describe(
        topics='Decks or tags to study ("all": every deck), or pause/resume/remove ID'
    )
    async def decks(interaction: discord.Interaction[Any], topics: str | None = None) -> None:
        await _commands(interaction).decks(interaction, topics)

    @tree.command(name="exam", description="An exam date: its cards come back in time for it")
    @app_commands.describe(
        date='The exam\'s day: 2027-01-15, 15 Jan 2027, in 3 weeks ("off" clears it)',
        topic="The deck or tag it covers (none: every card you study)",
        target="The recall to aim for on the day, for example 0.85 or 85% (default 90%)",
    )
    @app_commands.autocomplete(topic=_topics)
    async def exam(
        interaction: discord.Interaction[Any],
        date: str | None = None,
        topic: str | None = None,
        target: str | None = None,
    ) -> None:
        await _commands(interaction).exam(interaction, date, topic, target)

    @tree.command(name="cram", description="Practise a topic without changing your schedule")
    @app_commands.describe(topic="A deck or tag (none: the decks you study)")
    @app_commands.autocomplete(topic=_topics)
    async def cram(interaction: discord.Interaction[Any], topic: str | None = None) -> None:
        await _commands(interaction).cram(interaction, topic)

    @tree.command(name="undo", description="Undo your last rating")
    async def undo(interaction: discord.Interaction[Any]) -> None:
        await _commands(interaction).undo(interaction)

    @tree.command(name="pause", description="Pause your daily reminders")
    async def pause(interaction: discord.Interaction[Any]) -> None:
        await _commands(interaction).pause(interaction, True)

    @tree.command(name="resume", description="Resume your daily reminders")
    async def resume(interaction: discord.Interaction[Any]) -> None:
        await _commands(interaction).pause(interaction, False)

    @tree.command(
        name="export", description="Download your review history (CSV) or an Anki package"
    )
    @app_commands.describe(format="csv: your review history; anki: your cards as an Anki package")
    async def export(
        interaction: discord.Interaction[Any], format: Literal["csv", "anki"] = "csv"
    ) -> None:
        await _commands(interaction).export(interaction, format)

    @tree.command(name="import", description="Bring in your Anki decks (in our DMs)")
    @app_commands.describe(
        file=f"An Anki package (.apkg, .colpkg) or text export (.txt, .csv, .tsv), up to "
        f"{_LIMIT_MB} MB"
    )
    async def import_(interaction: discord.Interaction[Any], file: discord.Attachment) -> None:
        await _commands(interaction).import_file(interaction, file)

    @tree.command(name="forget", description="Delete everything the bot holds about you")
    async def forget(interaction: discord.Interaction[Any]) -> None:
        await _commands(interaction).forget(interaction)

    @tree.command(name="help", description="What this bot does and its commands")
    async def help_(interaction: discord.Interaction[Any]) -> None:
        await _commands(interaction).help(interaction)

    tree.add_command(challenge_group())
    declare_installs(tree)


#: Commands that post in a server channel, so only where the bot itself was added: a
#: user install cannot post there. /challenge also works in the bot's DM (list, submit).
GROUP_COMMANDS: Final = {"quiz": False, "challenge": True}


def declare_installs(tree: app_commands.CommandTree[Any]) -> None:
    """Where each command is offered (``integration_types`` and ``contexts``).

    The personal ones work for a server install and for a user install (a learner who
    added the app to their own account), in servers, in the bot's DM and in group DMs:
    in the bot's DM they answer as usual, elsewhere privately. The group ones
    (:data:`GROUP_COMMANDS`) need the bot in the server, so they come with a server
    install only, in servers (and /challenge in the bot's DM too).
    """
    for command in tree.get_commands():
        if command.name in GROUP_COMMANDS:
            app_commands.allowed_installs(guilds=True, users=False)(command)
            app_commands.allowed_contexts(
                guilds=True, dms=GROUP_COMMANDS[command.name], private_channels=False
            )(command)
        else:
            app_commands.allowed_installs(guilds=True, users=True)(command)
            app_commands.allowed_contexts(guilds=True, dms=True, private_channels=True)(command)
