"""The Discord platform: a discord.py client running the study loop in DMs and servers.

Thin by design: each interaction becomes one core call (``app.study``,
``app.quiz`` or ``app.challenges``) and the core's :class:`Reply` becomes Discord messages
(:mod:`bot.platforms.discord.messages`). Commands are not synced at start;
``studybot discord sync`` calls :func:`sync_commands`.
"""

from __future__ import annotations

import asyncio
import contextlib
import io
import logging
from typing import TYPE_CHECKING, Any, Final, cast

import discord
from discord import app_commands

from bot.config import DiscordSettings, Settings
from bot.core.learners import Who
from bot.core.messages import Announcement, Reply
from bot.core.model import Learner
from bot.core.pushes import DeliveryRetry
from bot.core.rendering import RenderError
from bot.core.stats import format_stats
from bot.platforms.discord.challenges import ASSESS_CODES, ChallengeCommands
from bot.platforms.discord.commands import StudyTree, register_commands
from bot.platforms.discord.components import DYNAMIC_ITEMS, route_modal_submit, settings_view
from bot.platforms.discord.messages import Outgoing, announcements_of, plain, to_messages

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

#: Discord error code: "Cannot send messages to this user" (DMs closed or no shared server).
CANNOT_DM: Final = 50007

SORRY: Final = "Sorry, something went wrong there; your progress is safe. Please try again."
DM_ONLY: Final = (
    "/{name} is private, so it works in our direct messages: open my profile, "
    "choose Message, and send /{name} there."
)
QUIZ_IN_DM: Final = (
    "Quizzes are for study servers: add me to a server and send /quiz there. "
    "Here in our DMs, /review gives you your own cards."
)
QUIZ_NOT_INSTALLED: Final = (
    "I can only run quizzes in servers I have been added to. "
    "Ask a server admin to add me, then try /quiz again."
)
DMS_CLOSED: Final = (
    "<@{user}> I tried to send you your study cards, but your direct messages are closed "
    "to me. To get them, allow direct messages from members of this server "
    "(Privacy Settings), then send me /review."
)
HELP: Final = """\
I help you remember what you learn, with spaced repetition (FSRS): \
each card comes back just before you would forget it.

/review: your next card, in our DMs (tap Show answer, then rate yourself)
/undo: undo your last rating
/quiz topic: post a quiz card to a server channel; everyone reveals and rates privately
/stats: reviews, streak, retention and what is due
/settings: time zone, daily reminder time, new cards a day, retention
/decks: the decks, or choose which ones you study
/pause, /resume: stop or restart the daily reminders
/export: your review history as CSV
/forget: delete everything I hold about you
/challenge: group challenges in a server: derive it from memory, then compare and rate yourself"""


def _intents() -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True  # interactions need nothing more; guilds keeps the cache sane
    return intents


def _client_options() -> dict[str, Any]:
    return {
        "intents": _intents(),
        "allowed_mentions": discord.AllowedMentions.none(),
        "chunk_guilds_at_startup": False,
    }


class StudyClient(discord.Client):
    """One-process client: the command tree and the persistent buttons."""

    def __init__(self, platform: DiscordPlatform | None, **options: Any) -> None:
        super().__init__(**_client_options(), **options)
        self.studybot = platform
        self.tree = StudyTree(self)
        register_commands(self.tree)

    async def setup_hook(self) -> None:
        """Register the dynamic items so buttons from before a restart still work."""
        self.add_dynamic_items(*DYNAMIC_ITEMS)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Route a submitted answer form, also one opened before a restart."""
        await route_modal_submit(interaction)


class ShardedStudyClient(discord.AutoShardedClient):
    """The same client split into shards (``[discord] shard_count`` / ``shard_ids``)."""

    def __init__(self, platform: DiscordPlatform | None, **options: Any) -> None:
        super().__init__(**_client_options(), **options)
        self.studybot = platform
        self.tree = StudyTree(self)
        register_commands(self.tree)

    async def setup_hook(self) -> None:
        """Register the dynamic items so buttons from before a restart still work."""
        self.add_dynamic_items(*DYNAMIC_ITEMS)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Route a submitted answer form, also one opened before a restart."""
        await route_modal_submit(interaction)


def make_client(
    settings: DiscordSettings, platform: DiscordPlatform | None
) -> StudyClient | ShardedStudyClient:
    """A sharded client when shards are configured, else a plain one."""
    if settings.shard_count is not None or settings.shard_ids:
        return ShardedStudyClient(
            platform,
            shard_count=settings.shard_count,
            shard_ids=list(settings.shard_ids) or None,
        )
    return StudyClient(platform)


def _send_kwargs(message: Outgoing) -> dict[str, Any]:
    kwargs: dict[str, Any] = {"content": message.content, "embeds": message.embeds}
    files = message.files()
    if files:
        kwargs["files"] = files
    view = message.view()
    if view is not None:
        kwargs["view"] = view
    return kwargs


def _in_bot_dm(interaction: discord.Interaction[Any]) -> bool:
    """True in the learner's direct messages with the bot (not a server, not a group DM)."""
    if interaction.guild_id is not None:
        return False
    if interaction.context.dm_channel:
        return True
    if interaction.context.private_channel:
        return False
    return isinstance(interaction.channel, discord.DMChannel)


def _who(interaction: discord.Interaction[Any]) -> Who:
    user = interaction.user
    return Who("discord", str(user.id), user.display_name)


class DiscordPlatform:
    """The Discord adapter (the ``Platform`` of ``bot.app``), also able to push to a DM.

    Args:
        app: the composition root's services.
    """

    name: str = "discord"

    def __init__(self, app: App) -> None:
        self.app = app
        self.client = make_client(app.settings.discord, self)
        self._task: asyncio.Task[None] | None = None
        self._topics = tuple(app.decks.topics())
        #: user id -> DM channel id already stored in the database this run.
        self._dm_channels: dict[str, str] = {}
        #: user id -> the server channel where they last used a command.
        self._last_server_channel: dict[str, int] = {}
        #: users told in a server that their DMs are closed (once each).
        self._told_closed: set[str] = set()
        self.challenges = ChallengeCommands(self)

    # ------------------------------------------------------------------ lifecycle

    def topics(self) -> tuple[str, ...]:
        """Deck ids and tags, for /quiz autocomplete."""
        return self._topics

    async def login(self) -> None:
        """Log in over HTTP and register the persistent buttons (no gateway connection)."""
        token = self.app.settings.discord.token
        if not token:
            raise ValueError("no Discord token: set STUDYBOT_DISCORD_TOKEN or [discord] token")
        await self.client.login(token.reveal())

    async def start(self) -> None:
        """Log in, then connect to the gateway in a background task and return."""
        try:
            await self.login()
        except BaseException:
            await self.client.close()
            raise
        self._task = asyncio.create_task(self._connect(), name="discord-gateway")

    async def _connect(self) -> None:
        try:
            await self.client.connect(reconnect=True)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the Discord gateway connection stopped")

    async def stop(self) -> None:
        """Disconnect and close the HTTP session."""
        await self.client.close()
        task, self._task = self._task, None
        if task is not None:
            try:
                await asyncio.wait_for(task, timeout=10)
            except TimeoutError:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task

    # ------------------------------------------------------------------ outgoing

    async def announce(self, announcement: Announcement) -> None:
        """Post a core message (a quiz answer and tally) to a server channel."""
        channel = self.client.get_partial_messageable(int(announcement.chat_id))
        for message in await to_messages(announcement.reply, self.app.renderer):
            await channel.send(**_send_kwargs(message))

    async def push(self, learner: Learner, reply: Reply, *, skip: int = 0) -> bool:
        """Send a reply to a learner's DMs; one request when their DM channel is known.

        The first ``skip`` messages of the reply went out on an earlier try and are
        not sent again. Returns False when Discord refused it (closed DMs mark the
        learner unreachable and they are told once in the server they last used).
        """
        user_id = learner.platform_user_id
        messages = await to_messages(reply, self.app.renderer)
        channel: discord.abc.Messageable
        delivered = 0  # messages Discord accepted in this call
        try:
            if learner.dm_channel_id:
                channel = self.client.get_partial_messageable(
                    int(learner.dm_channel_id), type=discord.ChannelType.private
                )
            else:
                dm = await self.client.create_dm(discord.Object(int(user_id)))
                channel = dm
                # Stored without counting as contact, so the next push is one request.
                await self.app.study.set_dm_channel("discord", user_id, str(dm.id))
            for message in messages[skip:]:
                await channel.send(**_send_kwargs(message))
                delivered += 1
        except discord.Forbidden as exc:
            if exc.code == CANNOT_DM:
                await self._dms_closed(user_id)
            else:
                log.warning("Discord refused a DM to user %s (code %s)", user_id, exc.code)
            return False
        except discord.HTTPException as exc:
            log.warning(
                "could not DM Discord user %s (HTTP %s, code %s)", user_id, exc.status, exc.code
            )
            # Not the learner's doing (a 5xx, or a 429 after discord.py's own retries):
            # the outbox tries again later.
            raise DeliveryRetry(f"Discord HTTP {exc.status}", delivered=delivered) from exc
        except Exception as exc:  # a network error: tried again later, from where it stopped
            if not delivered:
                raise
            log.warning("DM to Discord user %s broke off: %s", user_id, exc)
            raise DeliveryRetry(f"{type(exc).__name__}: {exc}", delivered=delivered) from exc
        await self.app.deliver(announcements_of(reply))
        return True

    async def _dms_closed(self, user_id: str) -> None:
        await self.app.study.mark_unreachable("discord", user_id)
        self._dm_channels.pop(user_id, None)
        where = self._last_server_channel.get(user_id)
        if where is None or user_id in self._told_closed:
            return
        try:
            await self.client.get_partial_messageable(where).send(
                DMS_CLOSED.format(user=user_id),
                allowed_mentions=discord.AllowedMentions(
                    everyone=False, roles=False, users=[discord.Object(int(user_id))]
                ),
            )
        except discord.HTTPException as exc:
            log.warning(
                "could not tell user %s in channel %s that their DMs are closed (HTTP %s)",
                user_id,
                where,
                exc.status,
            )
            return
        self._told_closed.add(user_id)

    async def _send(
        self, interaction: discord.Interaction[Any], reply: Reply, *, ephemeral: bool
    ) -> None:
        """Answer an interaction with a reply (as the response, or follow-ups once deferred)."""
        messages = await to_messages(reply, self.app.renderer) or [Outgoing(content="Done.")]
        for message in messages:
            kwargs = _send_kwargs(message)
            if interaction.response.is_done():
                await interaction.followup.send(**kwargs, ephemeral=ephemeral)
            else:
                await interaction.response.send_message(**kwargs, ephemeral=ephemeral)
        await self.app.deliver(announcements_of(reply))

    async def _say(self, interaction: discord.Interaction[Any], text: str) -> None:
        """A short ephemeral answer (plain text, escaped)."""
        if interaction.response.is_done():
            await interaction.followup.send(plain(text), ephemeral=True)
        else:
            await interaction.response.send_message(plain(text), ephemeral=True)

    # ------------------------------------------------------------------ who and where

    async def _enter(self, interaction: discord.Interaction[Any]) -> Who:
        """The learner behind a command; remember their DM channel or last server channel."""
        who = _who(interaction)
        if _in_bot_dm(interaction) and interaction.channel_id is not None:
            channel_id = str(interaction.channel_id)
            if self._dm_channels.get(who.user_id) != channel_id:
                await self.app.study.remember_dm_channel(who, channel_id)
                self._dm_channels[who.user_id] = channel_id
            self._told_closed.discard(who.user_id)
        elif (
            interaction.guild_id is not None
            and interaction.channel_id is not None
            and interaction.is_guild_integration()
        ):
            self._last_server_channel[who.user_id] = interaction.channel_id
        return who

    async def _dm_only(self, interaction: discord.Interaction[Any], name: str) -> Who | None:
        """The learner when this is our DM; elsewhere an ephemeral pointer to the DMs."""
        who = await self._enter(interaction)
        if _in_bot_dm(interaction):
            return who
        await self._say(interaction, DM_ONLY.format(name=name))
        return None

    # ------------------------------------------------------------------ commands

    async def cmd_review(self, interaction: discord.Interaction[Any]) -> None:
        """/review: the next card, in the DMs."""
        who = await self._dm_only(interaction, "review")
        if who is None:
            return
        await interaction.response.defer(thinking=True)
        await self._send(interaction, await self.app.study.next(who, source="dm"), ephemeral=False)

    async def cmd_undo(self, interaction: discord.Interaction[Any]) -> None:
        """/undo: undo the last rating and show that card again."""
        who = await self._dm_only(interaction, "undo")
        if who is None:
            return
        await interaction.response.defer(thinking=True)
        await self._send(interaction, await self.app.study.undo(who, source="dm"), ephemeral=False)

    async def cmd_quiz(self, interaction: discord.Interaction[Any], topic: str) -> None:
        """/quiz topic: a card posted to the channel; answers and ratings are private."""
        who = await self._enter(interaction)
        if interaction.guild_id is None:
            await self._say(interaction, QUIZ_IN_DM)
            return
        if not interaction.is_guild_integration():
            await self._say(interaction, QUIZ_NOT_INSTALLED)
            return
        reply = await self.app.quiz.start(who, str(interaction.channel_id), topic)
        if reply.kind != "quiz":
            await self._say(interaction, reply.text)
            await self.app.deliver(reply.announcements)
            return
        await interaction.response.defer(thinking=True)
        # A round closed by this one is announced first: its answer belongs before the new card.
        await self.app.deliver(reply.announcements)
        for message in await to_messages(reply, self.app.renderer):
            await interaction.followup.send(**_send_kwargs(message))

    async def cmd_stats(self, interaction: discord.Interaction[Any]) -> None:
        """/stats: numbers, and the forecast chart when a renderer is configured."""
        who = await self._enter(interaction)
        private = not _in_bot_dm(interaction)
        await interaction.response.defer(ephemeral=private, thinking=True)
        stats = await self.app.study.stats(who)
        embed = discord.Embed(title="Your stats", description=plain(format_stats(stats)))
        kwargs: dict[str, Any] = {"embed": embed, "ephemeral": private}
        renderer = self.app.renderer
        if renderer is not None:
            try:
                chart = await renderer.stats_chart(stats, await self.app.study.forecast(who))
            except RenderError as exc:
                log.warning("could not draw the stats chart: %s", exc)
            else:
                kwargs["file"] = discord.File(io.BytesIO(chart.data), filename=chart.filename)
                embed.set_image(url=f"attachment://{chart.filename}")
        await interaction.followup.send(**kwargs)

    async def cmd_settings(self, interaction: discord.Interaction[Any]) -> None:
        """/settings: the current values, with menus and a button for typed values."""
        who = await self._enter(interaction)
        reply = await self.app.study.settings(who)
        embed = discord.Embed(title="Your settings", description=plain(reply.text))
        await interaction.response.send_message(
            embed=embed, view=settings_view(), ephemeral=not _in_bot_dm(interaction)
        )

    async def cmd_decks(self, interaction: discord.Interaction[Any], topics: str | None) -> None:
        """/decks [topics]: list the decks, or study only these decks or tags."""
        who = await self._enter(interaction)
        if topics and topics.strip():
            reply = await self.app.study.study_topics(who, topics.replace(",", " ").split())
        else:
            reply = await self.app.study.decks(who)
        await self._send(interaction, reply, ephemeral=not _in_bot_dm(interaction))

    async def cmd_pause(self, interaction: discord.Interaction[Any], paused: bool) -> None:
        """/pause and /resume: the daily reminders."""
        who = await self._enter(interaction)
        reply = await self.app.study.pause(who, paused)
        await self._send(interaction, reply, ephemeral=not _in_bot_dm(interaction))

    async def cmd_export(self, interaction: discord.Interaction[Any]) -> None:
        """/export: the review history as a CSV attachment."""
        who = await self._dm_only(interaction, "export")
        if who is None:
            return
        await interaction.response.defer(thinking=True)
        data = (await self.app.study.export_csv(who)).encode("utf-8")
        if len(data) > interaction.filesize_limit:
            await interaction.followup.send(
                "Your history is larger than Discord lets me attach here. Sorry!"
            )
            return
        await interaction.followup.send(
            "Your review history (CSV, times in UTC).",
            file=discord.File(io.BytesIO(data), filename="studybot-reviews.csv"),
        )

    async def cmd_forget(self, interaction: discord.Interaction[Any]) -> None:
        """/forget: ask for confirmation before deleting the learner's data."""
        who = await self._dm_only(interaction, "forget")
        if who is None:
            return
        await self._send(interaction, await self.app.study.request_forget(who), ephemeral=False)

    async def cmd_help(self, interaction: discord.Interaction[Any]) -> None:
        """/help: what the bot does."""
        await self._enter(interaction)
        await interaction.response.send_message(
            discord.utils.escape_markdown(HELP, as_needed=True),
            ephemeral=not _in_bot_dm(interaction),
        )

    # ------------------------------------------------------------------ components

    async def on_press(self, interaction: discord.Interaction[Any], payload: str) -> None:
        """A study button: reveal, rate, bury, suspend, quiz reveal, confirm, or a challenge's."""
        try:
            code = payload[:1]
            if code == "j":  # join a challenge: answered with a form, so not deferred
                await self.challenges.on_join(interaction, payload)
                return
            await interaction.response.defer()
            who = _who(interaction)
            if code == "c":  # /forget may delete the learner with their stored DM channel
                self._dm_channels.pop(who.user_id, None)
            reply = await self.app.study.press(who, payload)
            private = not _in_bot_dm(interaction)
            if reply.kind == "expired":
                await self._say(interaction, reply.text)
            elif code in ASSESS_CODES:
                await self.challenges.on_assess(interaction, payload, reply)
            elif code == "q":  # the quiz post stays as it is; the back is for this member only
                await self._send(interaction, reply, ephemeral=True)
            elif code == "s" and reply.kind == "back":
                await self._edit_into_place(interaction, reply)
            else:
                await interaction.edit_original_response(view=None)
                await self._send(interaction, reply, ephemeral=private)
        except Exception as exc:
            await self.on_interaction_error(interaction, exc)

    async def _edit_into_place(self, interaction: discord.Interaction[Any], reply: Reply) -> None:
        messages = await to_messages(reply, self.app.renderer)
        if not messages:
            return
        first, *rest = messages
        await interaction.edit_original_response(
            content=first.content,
            embeds=first.embeds,
            attachments=first.files(),
            view=first.view(),
        )
        for message in rest:
            await interaction.followup.send(
                **_send_kwargs(message), ephemeral=not _in_bot_dm(interaction)
            )
        await self.app.deliver(announcements_of(reply))

    async def on_setting(self, interaction: discord.Interaction[Any], key: str, value: str) -> None:
        """A /settings menu choice, validated by the core."""
        reply = await self.app.study.change_setting(_who(interaction), key, value)
        await self._say(interaction, reply.text)

    async def on_settings_modal(
        self,
        interaction: discord.Interaction[Any],
        timezone: str,
        push: str,
        *,
        quiet: str = "",
        days_off: str = "",
        per_push: str = "",
    ) -> None:
        """The typed settings, each validated by the core; an invalid one stops there."""
        who = _who(interaction)
        answers: list[str] = []
        typed = (
            ("timezone", timezone),
            ("push", push),
            ("quiet", quiet),
            ("days_off", days_off),
            ("per_push", per_push),
        )
        for key, value in typed:
            if value:
                reply = await self.app.study.change_setting(who, key, value)
                answers.append(reply.text)
                if reply.kind == "error":
                    break
        await self._say(interaction, "\n\n".join(answers) or "Nothing changed.")

    async def on_pause(self, interaction: discord.Interaction[Any], paused: bool) -> None:
        """The pause / resume buttons of /settings."""
        reply = await self.app.study.pause(_who(interaction), paused)
        await self._say(interaction, reply.text)

    # ------------------------------------------------------------------ errors

    async def on_interaction_error(
        self, interaction: discord.Interaction[Any], error: Exception
    ) -> None:
        """The one error handler: log with ids (never the token), answer briefly, go on."""
        if isinstance(error, app_commands.CommandNotFound):
            log.info("unknown command %r (commands out of sync?)", error.name)
            with contextlib.suppress(discord.HTTPException):
                await self._say(interaction, "I don't know that command any more. Try /help.")
            return
        original = getattr(error, "original", None) or error
        command = interaction.command.name if interaction.command else None
        custom_id = cast("dict[str, Any]", interaction.data or {}).get("custom_id")
        log.error(
            "Discord interaction failed (guild %s, channel %s, user %s, command %s, component %s)",
            interaction.guild_id,
            interaction.channel_id,
            interaction.user.id,
            command,
            custom_id,
            exc_info=original,
        )
        try:
            await self._say(interaction, SORRY)
        except discord.HTTPException as exc:
            log.warning(
                "could not tell user %s about the error (HTTP %s)", interaction.user.id, exc.status
            )


def build_discord(app: App) -> DiscordPlatform:
    """The Discord platform for ``build_platforms`` (``app.settings.discord.token`` must be set)."""
    return DiscordPlatform(app)


async def sync_commands(settings: Settings, guild_id: int | None = None) -> list[str]:
    """Publish the application commands (``studybot discord sync [--guild ID]``).

    Globally by default (Discord may take a while to show them everywhere), or
    to one server at once with ``guild_id``. Returns the names synced.

    Raises:
        ValueError: when no Discord token is configured.
    """
    token = settings.discord.token
    if not token:
        raise ValueError("no Discord token: set STUDYBOT_DISCORD_TOKEN or [discord] token")
    client = StudyClient(None)
    try:
        await client.login(token.reveal())
        if guild_id is None:
            synced = await client.tree.sync()
        else:
            guild = discord.Object(guild_id)
            client.tree.copy_global_to(guild=guild)
            synced = await client.tree.sync(guild=guild)
    finally:
        await client.close()
    names = [command.name for command in synced]
    log.info("synced %d Discord commands (server: %s)", len(names), guild_id or "all, global")
    return names
