"""Group challenges on Discord: the ``/challenge`` commands.

``/challenge start`` posts the prompt to the channel with a "Submit my answer"
button (a :class:`~bot.platforms.discord.components.StudyButton`). A tap joins
the run and opens a private form (:class:`~bot.platforms.discord.components.AnswerModal`);
``/challenge submit`` takes a typed answer or a photo of the page. At the
reveal each member who answered gets a self-assessment in their DMs; its
"Rate every row" button opens one form (:mod:`bot.platforms.discord.assessform`)
whose submit turns it into reviews of their own cards.

On Discord a "group" is a channel: runs, group settings and schedules are
kept per channel (the core's ``chat_id``). Only the core decides anything;
this module only translates.
"""

from __future__ import annotations

import functools
import logging
import zoneinfo
from collections.abc import Awaitable, Callable
from typing import Any, Final, Literal, Protocol, cast

import discord
from discord import app_commands

from bot.core.challenges.photos import SentPhoto
from bot.core.challenges.service import ChallengeService
from bot.core.learners import Who
from bot.core.outcomes import Outcome
from bot.platforms.discord.components import host_of
from bot.platforms.discord.interactions import (
    Answer,
    Places,
    attachment_fetch,
    refuse_if_cannot_post,
)
from bot.platforms.discord.rendering import OutcomeRenderer

log = logging.getLogger(__name__)

IN_SERVERS: Final = (
    "/challenge {name} is for study servers: send it in a channel of a server I have been "
    "added to. Here, /challenge list shows the challenges and /challenge submit takes your "
    "answer to one you joined."
)
NOT_INSTALLED: Final = (
    "I can only run challenges in servers I have been added to. "
    "Ask a server admin to add me, then try again."
)
JOIN_FIRST: Final = (
    "You have not joined an open challenge. Tap “Submit my answer” on the challenge post "
    "first (you can close the form it opens), then send /challenge submit again."
)
NOT_A_PHOTO: Final = "Attach a photo of your page (an image file), or type your answer."
WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: Discord: characters in an autocomplete choice's name.
CHOICE_NAME: Final = 100


def is_admin(interaction: discord.Interaction[Any]) -> bool:
    """Whether the member may manage the server: Administrator or Manage Server.

    From the permissions in the interaction payload (resolved for this channel), so
    no member cache or extra request is needed.
    """
    permissions = interaction.permissions
    return permissions.administrator or permissions.manage_guild


@functools.cache
def _zones() -> tuple[str, ...]:
    return tuple(sorted(zoneinfo.available_timezones()))


def _matches(candidates: list[tuple[str, str]], current: str) -> list[app_commands.Choice[str]]:
    """Autocomplete choices (value, shown name): prefix matches first, then the rest."""
    needle = current.strip().lower()
    first = [c for c in candidates if c[0].lower().startswith(needle)]
    then = [c for c in candidates if c not in first and needle in f"{c[0]} {c[1]}".lower()]
    return [
        app_commands.Choice(name=name[:CHOICE_NAME], value=value)
        for value, name in (first + then)[:25]
    ]


class ChallengeCommands:
    """The ``/challenge`` subcommands of one platform.

    Args:
        challenges: the challenge service.
        rendering: shows the outcomes.
        places: where people used commands.
    """

    def __init__(
        self, *, challenges: ChallengeService, rendering: OutcomeRenderer, places: Places
    ) -> None:
        self.service = challenges
        self.rendering = rendering
        self.places = places

    # ------------------------------------------------------------------ autocomplete

    def challenge_choices(self, current: str) -> list[app_commands.Choice[str]]:
        """Challenge ids (shown with their titles) matching what was typed."""
        catalog = self.service.catalog.challenges
        return _matches([(c.id, f"{c.id}: {c.title}") for c in catalog.values()], current)

    @staticmethod
    def timezone_choices(current: str) -> list[app_commands.Choice[str]]:
        """IANA time zone names matching what was typed."""
        return _matches([(zone, zone) for zone in _zones()], current)

    # ------------------------------------------------------------------ helpers

    async def _group(
        self, interaction: discord.Interaction[Any], name: str, *, posts: bool = False
    ) -> Who | None:
        """The member when this is a channel of a server the bot is in; else say why not.

        ``posts``: the command leads to posts in the channel, so the bot must be allowed
        to post there (else the member is told so, privately).
        """
        who = self.places.enter(interaction)
        if interaction.guild_id is None or interaction.channel_id is None:
            await Answer.of(interaction).say(IN_SERVERS.format(name=name))
            return None
        if not interaction.is_guild_integration():
            await Answer.of(interaction).say(NOT_INSTALLED)
            return None
        if posts and await refuse_if_cannot_post(interaction):
            return None
        return who

    async def _in_group(
        self,
        interaction: discord.Interaction[Any],
        name: str,
        call: Callable[[Who, str], Awaitable[Outcome]],
        *,
        hidden: bool,
        posts: bool = False,
    ) -> None:
        """A group command: ``call(member, channel id)`` when used in a server channel.

        ``hidden``: whether its answer is usually only for the member (refusals always are).
        ``posts``: whether it leads to posts in the channel (see :meth:`_group`).
        """
        who = await self._group(interaction, name, posts=posts)
        if who is not None:
            chat_id = str(interaction.channel_id)
            await self.rendering.run(interaction, lambda: call(who, chat_id), hidden=hidden)

    # ------------------------------------------------------------------ commands

    async def cmd_list(self, interaction: discord.Interaction[Any]) -> None:
        """/challenge list: every challenge (anywhere; privately in a server)."""
        self.places.enter(interaction)
        await Answer.of(interaction).defer(hidden=interaction.guild_id is not None)
        await self.rendering.show(interaction, self.service.list_all(), chat_hidden=False)

    async def cmd_start(
        self, interaction: discord.Interaction[Any], challenge: str, minutes: int | None
    ) -> None:
        """/challenge start: post the prompt with its deadline and the answer button."""
        admin = is_admin(interaction)
        await self._in_group(
            interaction,
            "start",
            lambda who, chat: self.service.start(who, chat, challenge, minutes, admin),
            hidden=False,
            posts=True,
        )

    async def cmd_status(self, interaction: discord.Interaction[Any]) -> None:
        """/challenge status: who has answered (never what), privately."""
        await self._in_group(interaction, "status", self.service.status, hidden=True)

    async def cmd_cancel(self, interaction: discord.Interaction[Any]) -> None:
        """/challenge cancel: stop the running challenge without revealing it."""
        admin = is_admin(interaction)
        await self._in_group(
            interaction,
            "cancel",
            lambda who, chat: self.service.cancel(who, chat, admin),
            hidden=False,
        )

    async def cmd_reveal(self, interaction: discord.Interaction[Any]) -> None:
        """/challenge reveal: reveal early (the reference goes to the channel)."""
        admin = is_admin(interaction)
        await self._in_group(
            interaction,
            "reveal",
            lambda who, chat: self.service.reveal(who, chat, admin),
            hidden=True,
            posts=True,
        )

    async def cmd_schedule(
        self, interaction: discord.Interaction[Any], challenge: str, weekday: str, at: str
    ) -> None:
        """/challenge schedule: a weekly challenge in this channel, in its time zone."""
        admin = is_admin(interaction)
        await self._in_group(
            interaction,
            "schedule",
            lambda who, chat: self.service.schedule(who, chat, challenge, weekday, at, admin),
            hidden=False,
            posts=True,
        )

    async def cmd_unschedule(
        self, interaction: discord.Interaction[Any], challenge: str | None
    ) -> None:
        """/challenge unschedule: stop one weekly challenge here, or all of them."""
        admin = is_admin(interaction)
        await self._in_group(
            interaction,
            "unschedule",
            lambda who, chat: self.service.unschedule(who, chat, challenge or None, admin),
            hidden=False,
        )

    async def cmd_configure(
        self, interaction: discord.Interaction[Any], key: str, value: str
    ) -> None:
        """/challenge timezone and /challenge permissions (admins only; the core checks)."""
        admin = is_admin(interaction)
        await self._in_group(
            interaction,
            key,
            lambda who, chat: self.service.configure(who, chat, key, value.strip(), admin),
            hidden=False,
        )

    async def cmd_submit(
        self,
        interaction: discord.Interaction[Any],
        text: str | None,
        photo: discord.Attachment | None,
    ) -> None:
        """/challenge submit: a typed answer or a photo; in a channel, to the challenge
        running there; elsewhere, to the newest challenge the member joined."""
        who = self.places.enter(interaction)
        answer = Answer.of(interaction)
        if photo is not None and not (photo.content_type or "").startswith("image/"):
            await answer.say(NOT_A_PHOTO)
            return
        # The core checks the size, downloads the photo only if it can keep it (its CDN
        # link expires) and checks it is an image; a failed download is DownloadFailed.
        sent = (
            SentPhoto(photo.size, attachment_fetch(photo), photo.url) if photo is not None else None
        )
        await answer.defer(hidden=True)
        if interaction.guild_id is not None:
            chat_id = str(interaction.channel_id)
            outcome: Outcome | None = await self.service.submit(
                who, text=text, photo=sent, chat_id=chat_id
            )
        else:
            outcome = await self.service.answer(who, text, sent)
        if outcome is None:  # not in a challenge they joined
            await answer.say(JOIN_FIRST)
            return
        await self.rendering.show(interaction, outcome, chat_hidden=True)


class _Host(Protocol):
    @property
    def challenges(self) -> ChallengeCommands: ...


def _challenges(interaction: discord.Interaction[Any]) -> ChallengeCommands:
    return cast("_Host", host_of(interaction)).challenges


# --------------------------------------------------------------------------- commands


async def _challenge_ids(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    return _challenges(interaction).challenge_choices(current)


async def _timezones(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    return ChallengeCommands.timezone_choices(current)


def challenge_group() -> app_commands.Group:
    """The ``/challenge`` command group and its ten subcommands."""
    group = app_commands.Group(
        name="challenge", description="Group challenges: derive it from memory, then compare"
    )

    @group.command(name="list", description="The challenges you can start")
    async def list_(interaction: discord.Interaction[Any]) -> None:
        await _challenges(interaction).cmd_list(interaction)

    @group.command(name="start", description="Start a challenge in this channel")
    @app_commands.describe(
        challenge="Which challenge (see /challenge list)",
        minutes="How long members have to answer (default: the challenge's own)",
    )
    @app_commands.autocomplete(challenge=_challenge_ids)
    async def start(
        interaction: discord.Interaction[Any],
        challenge: str,
        minutes: app_commands.Range[int, 1, 180] | None = None,
    ) -> None:
        await _challenges(interaction).cmd_start(interaction, challenge, minutes)

    @group.command(name="status", description="Who has answered the running challenge")
    async def status(interaction: discord.Interaction[Any]) -> None:
        await _challenges(interaction).cmd_status(interaction)

    @group.command(name="cancel", description="Cancel the running challenge (nothing revealed)")
    async def cancel(interaction: discord.Interaction[Any]) -> None:
        await _challenges(interaction).cmd_cancel(interaction)

    @group.command(name="reveal", description="Reveal the running challenge now")
    async def reveal(interaction: discord.Interaction[Any]) -> None:
        await _challenges(interaction).cmd_reveal(interaction)

    @group.command(name="schedule", description="Run a challenge here every week")
    @app_commands.describe(
        challenge="Which challenge",
        weekday="The day of the week",
        at="The local time, HH:MM (see /challenge timezone)",
    )
    @app_commands.rename(at="time")
    @app_commands.autocomplete(challenge=_challenge_ids)
    @app_commands.choices(
        weekday=[app_commands.Choice(name=day.title(), value=day) for day in WEEKDAYS]
    )
    async def schedule(
        interaction: discord.Interaction[Any], challenge: str, weekday: str, at: str
    ) -> None:
        await _challenges(interaction).cmd_schedule(interaction, challenge, weekday, at)

    @group.command(name="unschedule", description="Stop a weekly challenge here (or all)")
    @app_commands.describe(challenge="Which one (leave empty for every weekly challenge here)")
    @app_commands.autocomplete(challenge=_challenge_ids)
    async def unschedule(
        interaction: discord.Interaction[Any], challenge: str | None = None
    ) -> None:
        await _challenges(interaction).cmd_unschedule(interaction, challenge)

    @group.command(name="timezone", description="The time zone of this channel's challenges")
    @app_commands.describe(name="An IANA time zone, for example Europe/Paris")
    @app_commands.autocomplete(name=_timezones)
    async def timezone(interaction: discord.Interaction[Any], name: str) -> None:
        await _challenges(interaction).cmd_configure(interaction, "timezone", name)

    @group.command(name="permissions", description="Who may start, cancel and reveal here")
    @app_commands.describe(who="Admins (and the starter of a challenge), or everyone")
    async def permissions(
        interaction: discord.Interaction[Any], who: Literal["admins", "everyone"]
    ) -> None:
        await _challenges(interaction).cmd_configure(interaction, "permissions", who)

    @group.command(name="submit", description="Send your answer privately: text or a photo")
    @app_commands.describe(
        text="Your answer, from memory", photo="A photo of your page (a drawing, a derivation)"
    )
    async def submit(
        interaction: discord.Interaction[Any],
        text: str | None = None,
        photo: discord.Attachment | None = None,
    ) -> None:
        await _challenges(interaction).cmd_submit(interaction, text, photo)

    return group
