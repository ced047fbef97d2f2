"""The Discord platform: a discord.py client running the study loop in DMs and servers.

Thin by design: each interaction becomes one core call and its
:class:`~bot.core.outcomes.Outcome` becomes Discord messages (commands in
:mod:`~bot.platforms.discord.commands` and
:mod:`~bot.platforms.discord.challenges`, buttons and forms in
:mod:`~bot.platforms.discord.taps`, shown by
:mod:`~bot.platforms.discord.rendering`). This module builds the client,
starts and stops it, and is the core's :class:`~bot.core.ports.Channel`:
announcements to a channel, pushes to a learner's DMs. In ``send_only`` mode
it never connects to the gateway: it logs in and sends over HTTP. Commands are
not synced at start; ``studybot discord sync`` calls :func:`sync_commands`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Sequence
from typing import Any, Final

import aiohttp
import discord

from bot.config import DiscordSettings, redact
from bot.core.challenges.service import ChallengeService
from bot.core.inputs import Inputs
from bot.core.messages import Reply
from bot.core.metrics import NULL_METRICS, Metrics, PlatformError
from bot.core.model import Learner
from bot.core.ports import (
    AnnounceRefused,
    CannotStart,
    Delivery,
    DeliveryRefused,
    DeliveryRetry,
    PlatformUnreachable,
)
from bot.core.quiz import QuizService
from bot.core.rendering import Renderer
from bot.core.study import StudyService
from bot.platforms.discord import layout
from bot.platforms.discord.challenges import ChallengeCommands
from bot.platforms.discord.commands import StudyCommands, StudyTree, register_commands
from bot.platforms.discord.components import (
    DYNAMIC_ITEMS,
    Handlers,
    answer_unrouted,
    route_modal_submit,
)
from bot.platforms.discord.interactions import Places
from bot.platforms.discord.messages import offering
from bot.platforms.discord.rendering import OutcomeRenderer
from bot.platforms.discord.taps import Taps, WorkspaceLinks

log = logging.getLogger(__name__)

#: Discord error code: "Cannot send messages to this user" (DMs closed or no shared server).
CANNOT_DM: Final = 50007

DMS_CLOSED: Final = (
    "<@{user}> I tried to send you your study cards, but your direct messages are closed "
    "to me. To get them, allow direct messages from members of this server "
    "(Privacy Settings), then send me /review."
)
NO_TOKEN: Final = "no Discord token: set STUDYBOT_DISCORD_TOKEN or [discord] token"
REJECTED_TOKEN: Final = (
    "Discord rejected the bot token: set the token from the Bot page of the Developer "
    "Portal in STUDYBOT_DISCORD_TOKEN (or [discord] token)"
)


def _intents() -> discord.Intents:
    intents = discord.Intents.none()
    intents.guilds = True  # interactions need nothing more; guilds keeps the cache sane
    # Messages in the bot's DMs (a file to import). Not privileged, and a DM's content and
    # attachments come without the privileged message content intent.
    intents.dm_messages = True
    return intents


def error_kind(status: int) -> PlatformError | None:
    """What an HTTP answer from Discord counts as, when it is not a success."""
    if status == 429:
        return "rate_limited"
    if status >= 500:
        return "network"
    return "refused" if status >= 400 else None


def request_trace(metrics: Metrics) -> aiohttp.TraceConfig:
    """Counts every Discord API request that fails, as discord.py's HTTP session makes it
    (each 429 discord.py waits out and retries counts once)."""
    trace = aiohttp.TraceConfig()

    async def on_end(
        session: aiohttp.ClientSession, context: object, params: aiohttp.TraceRequestEndParams
    ) -> None:
        kind = error_kind(params.response.status)
        if kind is not None:
            metrics.platform_error("discord", kind)

    async def on_exception(
        session: aiohttp.ClientSession,
        context: object,
        params: aiohttp.TraceRequestExceptionParams,
    ) -> None:
        metrics.platform_error("discord", "network")

    trace.on_request_end.append(on_end)
    trace.on_request_exception.append(on_exception)
    return trace


def _client_options(metrics: Metrics) -> dict[str, Any]:
    return {
        "intents": _intents(),
        "allowed_mentions": discord.AllowedMentions.none(),
        "chunk_guilds_at_startup": False,
        "http_trace": request_trace(metrics),
    }


class StudyClient(discord.Client):
    """One-process client: the command tree and the persistent buttons.

    Args:
        platform: where its interactions go (None: a client that only publishes commands).
        metrics: counts the failed API requests.
    """

    def __init__(
        self, platform: DiscordPlatform | None, metrics: Metrics = NULL_METRICS, **options: Any
    ) -> None:
        super().__init__(**_client_options(metrics), **options)
        self.studybot = platform
        self.tree = StudyTree(self)
        register_commands(self.tree)

    async def setup_hook(self) -> None:
        """Register the dynamic items so buttons from before a restart still work."""
        self.add_dynamic_items(*DYNAMIC_ITEMS)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Route a submitted answer form, also one opened before a restart; answer any
        button or form nothing else handles (:func:`answer_unrouted`)."""
        if not await route_modal_submit(interaction):
            await answer_unrouted(interaction)

    async def on_message(self, message: discord.Message) -> None:
        """A message in the bot's DMs: a file in it is imported (the DM intent brings no
        other messages)."""
        if self.studybot is not None:
            await self.studybot.commands.dm_message(message)


class ShardedStudyClient(discord.AutoShardedClient):
    """The same client split into shards (``[discord] shard_count`` / ``shard_ids``)."""

    def __init__(
        self, platform: DiscordPlatform | None, metrics: Metrics = NULL_METRICS, **options: Any
    ) -> None:
        super().__init__(**_client_options(metrics), **options)
        self.studybot = platform
        self.tree = StudyTree(self)
        register_commands(self.tree)

    async def setup_hook(self) -> None:
        """Register the dynamic items so buttons from before a restart still work."""
        self.add_dynamic_items(*DYNAMIC_ITEMS)

    async def on_interaction(self, interaction: discord.Interaction[Any]) -> None:
        """Route a submitted answer form, also one opened before a restart; answer any
        button or form nothing else handles (:func:`answer_unrouted`)."""
        if not await route_modal_submit(interaction):
            await answer_unrouted(interaction)

    async def on_message(self, message: discord.Message) -> None:
        """A message in the bot's DMs: a file in it is imported (the DM intent brings no
        other messages)."""
        if self.studybot is not None:
            await self.studybot.commands.dm_message(message)


def make_client(
    settings: DiscordSettings, platform: DiscordPlatform | None, metrics: Metrics = NULL_METRICS
) -> StudyClient | ShardedStudyClient:
    """A sharded client when shards are configured, else a plain one."""
    if settings.shard_count is not None or settings.shard_ids:
        return ShardedStudyClient(
            platform,
            metrics,
            shard_count=settings.shard_count,
            shard_ids=list(settings.shard_ids) or None,
        )
    return StudyClient(platform, metrics)


class DiscordPlatform:
    """The Discord adapter: a :class:`~bot.core.ports.Channel` the app starts and stops.

    Args:
        settings: ``[discord]`` (the token, shards).
        study: the study loop.
        quiz: group quizzes.
        challenges: group challenges.
        inputs: where pressed study buttons go.
        topics: deck ids and tags, for /quiz autocomplete.
        renderer: draws cards and charts (None: text only).
        metrics: counts Discord's 429s and other failed requests.
        workspace_links: makes a one-time link to the browser workspace for a learner
            and a purpose (``[web]`` enabled); a reply offering the workspace then gets
            an "Open workspace" button, answered with that link. None: never offered.
        link_minutes: how long such a link works (``[web] link_minutes``), as the answer
            says.
    """

    name: str = "discord"

    def __init__(
        self,
        settings: DiscordSettings,
        *,
        study: StudyService,
        quiz: QuizService,
        challenges: ChallengeService,
        inputs: Inputs,
        topics: Sequence[str],
        renderer: Renderer | None,
        metrics: Metrics = NULL_METRICS,
        workspace_links: WorkspaceLinks | None = None,
        link_minutes: int = 15,
    ) -> None:
        self.settings = settings
        self.renderer = renderer
        self.places = Places()
        #: Whether replies offering the browser workspace get its button.
        self.workspace = workspace_links is not None
        rendering = OutcomeRenderer(renderer, workspace=self.workspace)
        self.commands = StudyCommands(
            study=study, quiz=quiz, topics=topics, rendering=rendering, places=self.places
        )
        self.challenges = ChallengeCommands(
            challenges=challenges, rendering=rendering, places=self.places
        )
        self.taps: Handlers = Taps(
            study=study,
            challenges=challenges,
            inputs=inputs,
            rendering=rendering,
            workspace_links=workspace_links,
            link_minutes=link_minutes,
        )
        self.metrics = metrics
        self.client = make_client(settings, self, metrics)
        self._task: asyncio.Task[None] | None = None

    # ------------------------------------------------------------------ lifecycle

    async def login(self) -> None:
        """Log in over HTTP and register the persistent buttons (no gateway connection)."""
        token = self.settings.token
        if not token:
            raise ValueError(NO_TOKEN)
        await self.client.login(token.reveal())

    async def start(self) -> None:
        """Log in over HTTP; in ``gateway`` mode, then connect to the gateway in a
        background task (discord.py keeps it connected) and return.

        All or nothing: after a failed start it may be called again.

        Raises:
            CannotStart: Discord rejects the token.
            PlatformUnreachable: Discord cannot be reached now.
        """
        try:
            await self.login()
        except BaseException as exc:
            await self.client.close()
            # A closed client cannot log in again: the next start gets a new one.
            self.client = make_client(self.settings, self, self.metrics)
            if isinstance(exc, discord.LoginFailure):
                raise CannotStart(REJECTED_TOKEN) from None
            if _unreachable(exc):
                raise PlatformUnreachable(_cannot_reach(exc)) from None
            raise
        user = self.client.user
        if self.settings.mode == "send_only":
            log.info("discord sends as %s over HTTP and takes no events (no gateway)", user)
            return
        self._task = asyncio.create_task(self._connect(), name="discord-gateway")
        log.info("discord logged in as %s; connecting to the gateway", user)

    async def _connect(self) -> None:
        """Keep the gateway connected (discord.py reconnects after what passes); when
        Discord ends it for good, say why and what to do in one error line. Discord then
        stays off in this process (``/healthz`` says so); the other platforms go on."""
        try:
            await self.client.connect(reconnect=True)
        except asyncio.CancelledError:
            raise
        except Exception as exc:
            token = self.settings.token
            log.error(
                "discord is off until restarted: %s",
                redact(gateway_failure(exc), [token.reveal()] if token else []),
                exc_info=log.isEnabledFor(logging.DEBUG),
            )

    @property
    def connected(self) -> bool:
        """Whether the gateway is connected (every shard this process runs, when sharded)."""
        client = self.client
        if not client.is_ready() or client.is_closed():
            return False
        if isinstance(client, discord.AutoShardedClient):
            return all(not shard.is_closed() for shard in client.shards.values())
        return client.ws is not None and client.ws.open

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

    # ------------------------------------------------------------------ the core's channel

    async def announce(self, chat_id: str, reply: Reply) -> None:
        """Post a reply (a quiz answer, a challenge's reference) to a server channel.

        Raises:
            AnnounceRefused: Discord refuses (403: the bot may not post there, e.g.
                50013 Missing Permissions; 404: the channel is gone).
        """
        channel = self.client.get_partial_messageable(int(chat_id))
        try:
            shown = offering(reply, self.workspace)
            for message in await layout.messages_for(shown, self.renderer):
                await layout.send(channel.send, message)
        except (discord.Forbidden, discord.NotFound) as exc:
            raise AnnounceRefused(f"Discord HTTP {exc.status} (code {exc.code})") from None

    async def push(self, learner: Learner, reply: Reply, *, skip: int = 0) -> Delivery:
        """Send a reply to a learner's DMs; one request when their DM channel is known.

        The first ``skip`` messages of the reply went out on an earlier try and are
        not sent again. When Discord refuses (closed DMs), the learner is told once,
        in the server channel where they last used a command.

        Raises:
            DeliveryRetry: on a 5xx or a 429 (after discord.py's own retries; with
                Discord's Retry-After, so only this learner's messages wait), or a
                network error after some messages went out.
            DeliveryRefused: on another 4xx: Discord will never take this message.
        """
        user_id = learner.platform_user_id
        messages = await layout.messages_for(offering(reply, self.workspace), self.renderer)
        opened: str | None = None  # a DM channel opened for this push
        delivered = 0  # messages Discord accepted in this call
        channel: discord.abc.Messageable
        try:
            if learner.dm_channel_id:
                channel = self.client.get_partial_messageable(
                    int(learner.dm_channel_id), type=discord.ChannelType.private
                )
            else:
                channel = await self.client.create_dm(discord.Object(int(user_id)))
                opened = str(channel.id)
            for message in messages[skip:]:
                await layout.send(channel.send, message)
                delivered += 1
        except discord.Forbidden as exc:
            if exc.code == CANNOT_DM:
                await self._tell_dms_closed(user_id)
            else:
                log.warning("Discord refused a DM to user %s (code %s)", user_id, exc.code)
            return Delivery(reached=False, dm_channel=opened)
        except discord.RateLimited as exc:  # a wait longer than the client takes in place
            raise DeliveryRetry(
                "Discord 429", retry_after=exc.retry_after, delivered=delivered
            ) from exc
        except discord.HTTPException as exc:
            if exc.status == 429:  # still limited after discord.py's own tries: this chat waits
                log.info("Discord DM to user %s rate limited; tried again later", user_id)
                raise DeliveryRetry(
                    "Discord 429", retry_after=_retry_after(exc), delivered=delivered
                ) from exc
            log.warning(
                "could not DM Discord user %s (HTTP %s, code %s)", user_id, exc.status, exc.code
            )
            if 400 <= exc.status < 500 and exc.status != 429:
                # Discord will never take this message (too long, malformed): trying again
                # would not help, and the learner is still reachable.
                raise DeliveryRefused(f"Discord HTTP {exc.status} (code {exc.code})") from exc
            # Not the learner's doing (a 5xx, or a 429 after discord.py's own retries):
            # the outbox tries again later.
            raise DeliveryRetry(f"Discord HTTP {exc.status}", delivered=delivered) from exc
        except Exception as exc:  # a network error: tried again later, from where it stopped
            if not delivered:
                raise
            log.warning("DM to Discord user %s broke off: %s", user_id, exc)
            raise DeliveryRetry(f"{type(exc).__name__}: {exc}", delivered=delivered) from exc
        return Delivery(reached=True, dm_channel=opened)

    async def _tell_dms_closed(self, user_id: str) -> None:
        """Say once, where they last used a command, that their DMs are closed to the bot."""
        where = self.places.last_server_channel.get(user_id)
        if where is None or user_id in self.places.told_closed:
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
        self.places.told_closed.add(user_id)


#: What Discord means by the gateway close codes after which discord.py gives up, and
#: what the operator does about each.
GATEWAY_CLOSE_CODES: Final = {
    4004: REJECTED_TOKEN,
    4010: "Discord refused the shard: check [discord] shard_ids and shard_count",
    4011: (
        "Discord requires sharding (the bot is in too many servers for one connection): "
        "set [discord] shard_count"
    ),
    4012: "Discord refused the gateway version: upgrade discord.py",
    4013: "Discord refused the gateway intents as invalid: upgrade studybot",
    4014: (
        "Discord refused a privileged intent: enable it for the bot in the Developer "
        "Portal (Bot, Privileged Gateway Intents)"
    ),
}


def gateway_failure(exc: BaseException) -> str:
    """One line for the exception that ended the gateway connection for good, naming what
    to do; the exception's own text is kept short and on one line."""
    if isinstance(exc, discord.PrivilegedIntentsRequired):
        return GATEWAY_CLOSE_CODES[4014]
    if isinstance(exc, discord.ConnectionClosed) and exc.code in GATEWAY_CLOSE_CODES:
        return GATEWAY_CLOSE_CODES[exc.code]
    if isinstance(exc, discord.ConnectionClosed):
        return f"the gateway closed the connection with code {exc.code}"
    detail = " ".join(str(exc).split())[:200]
    return f"the gateway connection failed ({type(exc).__name__}{': ' + detail if detail else ''})"


def _unreachable(exc: BaseException) -> bool:
    """Whether logging in failed for now (the network, Discord's servers), not for good."""
    if isinstance(exc, discord.HTTPException):
        return exc.status >= 500 or exc.status == 429
    return isinstance(exc, OSError | aiohttp.ClientError | asyncio.TimeoutError)


def _cannot_reach(exc: BaseException) -> str:
    return f"cannot reach Discord ({type(exc).__name__}: {' '.join(str(exc).split())})"


async def sync_commands(settings: DiscordSettings, guild_id: int | None = None) -> list[str]:
    """Publish the application commands (``studybot discord sync [--guild ID]``).

    Globally by default (Discord may take a while to show them everywhere), or
    to one server at once with ``guild_id``. Returns the names synced.

    Raises:
        ValueError: when no Discord token is configured.
        CannotStart: when Discord rejects the token or cannot be reached.
    """
    token = settings.token
    if not token:
        raise ValueError(NO_TOKEN)
    client = StudyClient(None)
    try:
        try:
            await client.login(token.reveal())
        except discord.LoginFailure:
            raise CannotStart(REJECTED_TOKEN) from None
        except Exception as exc:
            if not _unreachable(exc):
                raise
            raise CannotStart(f"{_cannot_reach(exc)}: try again later") from None
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


def _retry_after(exc: discord.HTTPException) -> float | None:
    """The seconds a 429 asks to wait (its Retry-After header), when it says."""
    headers = getattr(exc.response, "headers", None)
    value = headers.get("Retry-After") if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None
