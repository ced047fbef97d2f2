"""Who acted and where, how an interaction is answered, and the one error handler.

Discord wants an answer to every interaction within 3 seconds, and a deferred
answer's visibility (only the person, or everyone in the channel) is fixed
when it is deferred. :class:`Answer` keeps track of that: a message that must
be seen otherwise than the pending deferred answer deletes it first, so the
"thinking…" placeholder is never filled with the wrong visibility.

A file a person sent (a command's attachment, or one in a DM) is fetched from
Discord's CDN with :func:`attachment_fetch`; one that cannot be raises
:class:`DownloadFailed`, which the error handler (:func:`report_error`, and
:func:`report_message_error` for a DM) tells the person without a traceback.

A learner may have added the app to their own account instead of meeting it in a
server (a user install): then Discord lets the bot answer their commands anywhere,
but only the bot's own DM is a place it may post in, and an interaction the app is
not installed for where it happened (:func:`only_user_installed`) takes at most
:data:`USER_INSTALL_FOLLOWUPS` follow-up messages, which :class:`Answer` keeps to.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, cast

import aiohttp
import discord
from discord import app_commands

from bot.core.learners import Who
from bot.platforms.discord.messages import Outgoing, plain

log = logging.getLogger(__name__)

SORRY: Final = "Sorry, something went wrong there; your progress is safe. Please try again."
UNKNOWN_COMMAND: Final = "I don't know that command any more. Try /help."
#: Said when a deferred answer was filled by nothing else.
DONE: Final = "Done."
_ANSWER: Final = "studybot.answer"
#: Discord: follow-up messages an interaction takes when only a user install is behind it.
USER_INSTALL_FOLLOWUPS: Final = 5
#: Said, as the last follow-up Discord takes, where the bot cannot post the rest.
TOO_MANY_HERE: Final = (
    "There is more than Discord lets me show here: send {command} in our direct messages "
    "to see all of it."
)
#: The embed form of a composed message, made when asked (see :class:`.layout.Composed`).
EmbedForm = Callable[[], Awaitable[Sequence[Outgoing]]]
#: Longest a file a person sent may take to download from Discord's CDN, in seconds.
DOWNLOAD_SECONDS: Final = 60.0
#: Said when a file a person sent cannot be downloaded.
DOWNLOAD_FAILED: Final = (
    "I couldn't download your file from Discord (the connection failed, took too long, "
    "or the file is gone), so nothing changed. Please send it again in a minute."
)
CANNOT_POST_HERE: Final = (
    "I can't post in this channel: I'm missing the {missing} permission here, so the "
    "answers and results would be lost. Ask a server admin to allow it for me in this "
    "channel (or use another channel), then try again."
)
_THREADS: Final = (
    discord.ChannelType.public_thread,
    discord.ChannelType.private_thread,
    discord.ChannelType.news_thread,
)


def missing_post_permissions(interaction: discord.Interaction[Any]) -> list[str]:
    """What the bot lacks to post a group's messages (cards, images) where this
    interaction happened, from the permissions that come with it; [] in DMs."""
    if interaction.guild_id is None:
        return []
    permissions = interaction.app_permissions
    channel_type = getattr(interaction.channel, "type", None)
    send = (
        ("send_messages_in_threads", "Send Messages in Threads")
        if channel_type in _THREADS
        else ("send_messages", "Send Messages")
    )
    needed = (
        ("view_channel", "View Channel"),
        send,
        ("embed_links", "Embed Links"),
        ("attach_files", "Attach Files"),
    )
    return [label for name, label in needed if not getattr(permissions, name)]


async def refuse_if_cannot_post(interaction: discord.Interaction[Any]) -> bool:
    """Before a quiz or challenge starts: when the bot may not post in this channel, say so
    privately to the member (True); else False."""
    missing = missing_post_permissions(interaction)
    if not missing:
        return False
    log.info(
        "cannot post in Discord channel %s (guild %s): missing %s",
        interaction.channel_id,
        interaction.guild_id,
        ", ".join(missing),
    )
    await Answer.of(interaction).say(CANNOT_POST_HERE.format(missing=", ".join(missing)))
    return True


def integration_owners(interaction: discord.Interaction[Any]) -> dict[int, int]:
    """Who installed the app for this interaction, as Discord says it
    (``authorizing_integration_owners``): 0 (a server install) -> the server's id, or 0 in
    the bot's DM; 1 (a user install) -> the id of the user who added the app. discord.py
    2.7 parses it but keeps it private; {} when it does not say."""
    owners = getattr(interaction, "_integration_owners", None)
    return dict(owners) if isinstance(owners, dict) else {}


def only_user_installed(interaction: discord.Interaction[Any]) -> bool:
    """Whether the app answers here only because the person added it to their account:
    no server install is behind this interaction (in a server the bot was not added to,
    in a group DM, or in the bot's DM of someone who shares no server with it)."""
    owners = integration_owners(interaction)
    return 1 in owners and 0 not in owners


def in_bot_dm(interaction: discord.Interaction[Any]) -> bool:
    """True in the learner's direct messages with the bot (not a server, not a group DM)."""
    if interaction.guild_id is not None:
        return False
    if interaction.context.dm_channel:
        return True
    if interaction.context.private_channel:
        return False
    return isinstance(interaction.channel, discord.DMChannel)


class DownloadFailed(Exception):
    """A file a person sent could not be downloaded; ``str(error)`` is what they are told
    (:data:`DOWNLOAD_FAILED`), :attr:`why` what happened, for the log (never the URL:
    Discord's CDN links are signed)."""

    def __init__(self, why: str) -> None:
        super().__init__(DOWNLOAD_FAILED)
        self.why = why


def attachment_fetch(attachment: discord.Attachment) -> Callable[[], Awaitable[bytes]]:
    """What downloads an attachment's bytes from Discord's CDN, when called (through
    discord.py's HTTP session), within :data:`DOWNLOAD_SECONDS`.

    The callable raises :class:`DownloadFailed` when Discord answers with an error (the
    file was deleted: 404), the network fails, or time runs out.
    """

    async def fetch() -> bytes:
        try:
            return await asyncio.wait_for(attachment.read(), DOWNLOAD_SECONDS)
        except TimeoutError:
            raise DownloadFailed(f"no answer within {DOWNLOAD_SECONDS:g} s") from None
        except discord.HTTPException as exc:
            raise DownloadFailed(f"HTTP {exc.status}") from None
        except (aiohttp.ClientError, OSError) as exc:
            raise DownloadFailed(type(exc).__name__) from None

    return fetch


def who_of(interaction: discord.Interaction[Any]) -> Who:
    """The person behind an interaction; in the bot's DM, with that DM channel (the core
    stores it when it changed, so a push to them is one request)."""
    user = interaction.user
    dm_channel = None
    if interaction.channel_id is not None and in_bot_dm(interaction):
        dm_channel = str(interaction.channel_id)
    return Who("discord", str(user.id), user.display_name, dm_channel=dm_channel)


def in_dm(message: discord.Message) -> bool:
    """True for a message in a person's direct messages with the bot."""
    return message.guild is None and isinstance(message.channel, discord.DMChannel)


def who_wrote(message: discord.Message) -> Who:
    """The person who wrote a message in the bot's DMs, with that DM channel."""
    user = message.author
    return Who("discord", str(user.id), user.display_name, dm_channel=str(message.channel.id))


class Places:
    """Where each user last used a command in a server, and who has been told there
    that their direct messages are closed (once, until they write to the bot again)."""

    def __init__(self) -> None:
        #: user id -> the server channel where they last used a command.
        self.last_server_channel: dict[str, int] = {}
        #: users told in a server that their DMs are closed.
        self.told_closed: set[str] = set()

    def enter(self, interaction: discord.Interaction[Any]) -> Who:
        """The person behind a command; remember where they used it."""
        who = who_of(interaction)
        if who.dm_channel is not None:
            self.told_closed.discard(who.user_id)
        elif (
            interaction.guild_id is not None
            and interaction.channel_id is not None
            and interaction.is_guild_integration()
        ):
            self.last_server_channel[who.user_id] = interaction.channel_id
        return who


class Answer:
    """How one interaction is answered: a first response, or a deferred one and follow-ups.

    Get it with :meth:`of`, so every part of the handling (and the error handler)
    shares what has been answered so far.
    """

    def __init__(self, interaction: discord.Interaction[Any]) -> None:
        self.interaction = interaction
        #: The visibility of a deferred "thinking" answer not filled yet (None: there is none).
        self._pending: bool | None = None
        #: New follow-up messages Discord still takes for this interaction (None: no limit).
        self._followups: int | None = (
            USER_INSTALL_FOLLOWUPS if only_user_installed(interaction) else None
        )
        #: The last follow-up Discord takes, held back (visibility, message, its embed
        #: form when composed) until it is known whether more come (see :meth:`_counted`).
        self._held: tuple[bool, dict[str, Any], EmbedForm | None] | None = None
        #: A submitted form answered as a tap on the message it was opened from (that
        #: message is edited): the self-assessment form.
        self.from_message = False

    @classmethod
    def of(cls, interaction: discord.Interaction[Any]) -> Answer:
        """The answer of this interaction."""
        answer = interaction.extras.get(_ANSWER)
        if not isinstance(answer, Answer):
            answer = interaction.extras[_ANSWER] = cls(interaction)
        return answer

    @property
    def tapped(self) -> bool:
        """Whether the interaction is a press on a message's component (that message can
        be edited); otherwise it is a command or a submitted form."""
        return self.interaction.type is discord.InteractionType.component or self.from_message

    async def defer(self, *, hidden: bool) -> None:
        """Acknowledge now, answer later: a tap silently, a command or a form with
        "thinking…", shown only to the person when ``hidden``."""
        if self.tapped:
            await self.interaction.response.defer()
            return
        await self.interaction.response.defer(ephemeral=hidden, thinking=True)
        self._pending = hidden

    async def send(
        self, *, hidden: bool, embed_form: EmbedForm | None = None, **kwargs: Any
    ) -> None:
        """Send a message (``hidden``: only the person sees it) as the response or a follow-up.

        ``embed_form``: a composed message's embed form (its ``view`` a layout), for when
        the message is held back as the last follow-up and Discord refuses it once
        :meth:`finish` sends it (a refusal now is the caller's: :func:`.layout.send`).
        """
        response = self.interaction.response
        if not response.is_done():
            await response.send_message(**kwargs, ephemeral=hidden)
            return
        pending, self._pending = self._pending, None
        if pending is not None and pending != hidden:
            # A deferred answer's visibility cannot change: this message replaces it.
            await self.interaction.delete_original_response()
            pending = None
        if pending is None and self._followups is not None:  # a new message, not the filling
            composed = isinstance(kwargs.get("view"), discord.ui.LayoutView)
            await self._counted(hidden, kwargs, embed_form if composed else None)
            return
        await self.interaction.followup.send(**kwargs, ephemeral=hidden)

    async def _counted(
        self, hidden: bool, kwargs: dict[str, Any], embed_form: EmbedForm | None = None
    ) -> None:
        """A new follow-up of an interaction only a user install is behind: Discord takes
        :data:`USER_INSTALL_FOLLOWUPS`. In the bot's DM the ones past that are posted there
        as plain messages (the bot may post in its own DM). Elsewhere the bot may not post
        at all: the last follow-up is held back until it is known whether more come (then
        it says where to see everything instead), and the rest are left out."""
        left = self._followups or 0
        if in_bot_dm(self.interaction):
            if left > 0:
                self._followups = left - 1
                await self.interaction.followup.send(**kwargs, ephemeral=hidden)
                return
            channel = self.interaction.channel
            if isinstance(channel, discord.abc.Messageable):
                await channel.send(**kwargs)
                return
        if left > 1:
            self._followups = left - 1
            await self.interaction.followup.send(**kwargs, ephemeral=hidden)
            return
        if left == 1 and self._held is None:
            self._held = (hidden, kwargs, embed_form)  # the last one: finish() sends it
            return
        if self._held is not None:
            self._held, self._followups = None, 0
            await self._too_many()
        log.warning(
            "left out a message past Discord's %d follow-ups for a user-installed "
            "interaction (user %s, channel %s)",
            USER_INSTALL_FOLLOWUPS,
            self.interaction.user.id,
            self.interaction.channel_id,
        )

    async def _too_many(self) -> None:
        """The last follow-up: where to see everything the bot could not post here."""
        command = self.interaction.command
        name = f"/{command.qualified_name}" if command is not None else "the command"
        await self.interaction.followup.send(
            content=plain(TOO_MANY_HERE.format(command=name)), ephemeral=True
        )

    async def _send_held(
        self, hidden: bool, kwargs: dict[str, Any], embed_form: EmbedForm | None
    ) -> None:
        """Send the held last follow-up; a composed one Discord refuses (400) goes in its
        embed form as :func:`.layout.send` does at once, or, when that form takes more
        than the one message left, as the word of where to see all of it."""
        followup = self.interaction.followup
        try:
            await followup.send(**kwargs, ephemeral=hidden)
            return
        except discord.HTTPException as exc:
            if exc.status != 400 or embed_form is None:
                raise
            log.warning(
                "Discord refused a composed last follow-up (code %s): sent as embeds instead",
                exc.code,
            )
        embeds = await embed_form()
        if len(embeds) == 1:
            await followup.send(**embeds[0].send_kwargs(), ephemeral=hidden)
            return
        await self._too_many()
        log.warning(
            "left out %d embed messages past Discord's %d follow-ups for a user-installed "
            "interaction (user %s, channel %s)",
            len(embeds),
            USER_INSTALL_FOLLOWUPS,
            self.interaction.user.id,
            self.interaction.channel_id,
        )

    async def say(self, text: str) -> None:
        """A short answer only the person sees (plain text, escaped)."""
        await self.send(hidden=True, content=plain(text))

    async def finish(self) -> None:
        """Send the follow-up held back as the last one Discord takes, or fill a deferred
        answer that nothing else filled."""
        held, self._held = self._held, None
        if held is not None:
            self._followups = 0
            await self._send_held(*held)
        if self._pending is not None:
            await self.send(hidden=self._pending, content=DONE)


async def report_error(interaction: discord.Interaction[Any], error: Exception) -> None:
    """The one error handler: log with ids (never the token), answer briefly, go on."""
    answer = Answer.of(interaction)
    original = getattr(error, "original", None) or error
    if isinstance(original, DownloadFailed):
        log.warning(
            "could not download a file Discord user %s sent (channel %s): %s",
            interaction.user.id,
            interaction.channel_id,
            original.why,
        )
        with contextlib.suppress(discord.HTTPException):
            await answer.say(str(original))
        return
    if isinstance(error, app_commands.CommandNotFound | app_commands.CommandSignatureMismatch):
        # A command as an older version published it: Discord's list is not synced yet.
        name = getattr(error, "name", None) or getattr(error, "command", None)
        log.info("unknown command or options %r (commands out of sync?)", str(name))
        with contextlib.suppress(discord.HTTPException):
            await answer.say(UNKNOWN_COMMAND)
        return
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
        await answer.say(SORRY)
    except discord.HTTPException as exc:
        log.warning(
            "could not tell user %s about the error (HTTP %s)", interaction.user.id, exc.status
        )


async def report_message_error(message: discord.Message, error: Exception) -> None:
    """The one error handler for a message a person sent the bot in its DMs (a file to
    import): log with ids (never the token), tell them briefly in a reply, go on."""
    if isinstance(error, DownloadFailed):
        log.warning(
            "could not download a file Discord user %s sent (channel %s): %s",
            message.author.id,
            message.channel.id,
            error.why,
        )
        text = str(error)
    else:
        log.error(
            "Discord DM message failed (channel %s, user %s, message %s)",
            message.channel.id,
            message.author.id,
            message.id,
            exc_info=error,
        )
        text = SORRY
    try:
        await message.channel.send(plain(text))
    except discord.HTTPException as exc:
        log.warning(
            "could not tell user %s about the error (HTTP %s)", message.author.id, exc.status
        )
