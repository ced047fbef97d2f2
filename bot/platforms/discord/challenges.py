"""Group challenges on Discord: the ``/challenge`` commands, the answer form, self-assessment.

``/challenge start`` posts the prompt to the channel with a "Submit my answer"
button (``j:<run token>``, a :class:`StudyButton`). A tap joins the run and
opens a private form (:class:`AnswerModal`); ``/challenge submit`` takes a
typed answer or a photo of the page. At the reveal each member who answered
gets a self-assessment in their DMs; its buttons edit that message in place
until "Apply" turns it into reviews of their own cards.

On Discord a "group" is a channel: runs, group settings and schedules are
kept per channel (the core's ``chat_id``). Only the core decides anything;
this module only translates.
"""

from __future__ import annotations

import functools
import logging
import zoneinfo
from typing import TYPE_CHECKING, Any, Final, Literal

import discord
from discord import app_commands

from bot.core.actions import Action
from bot.core.learners import Who
from bot.core.messages import Button, Reply
from bot.platforms.discord.components import AnswerModal, platform_of
from bot.platforms.discord.messages import announcements_of, button_view, clip, plain

if TYPE_CHECKING:
    from bot.platforms.discord.platform import DiscordPlatform

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
#: Payload codes of the self-assessment buttons (bot.core.actions).
ASSESS_CODES: Final = frozenset("hgfom")
WEEKDAYS: Final = ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday")
#: Discord: characters in a message's content, in an autocomplete choice's name.
CONTENT_MAX: Final = 2000
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
    """The ``/challenge`` subcommands, the join button and the answer form of one platform.

    Args:
        platform: the running Discord platform (its app, and its ways to answer).
    """

    def __init__(self, platform: DiscordPlatform) -> None:
        self.platform = platform

    # ------------------------------------------------------------------ autocomplete

    def challenge_choices(self, current: str) -> list[app_commands.Choice[str]]:
        """Challenge ids (shown with their titles) matching what was typed."""
        catalog = self.platform.app.challenges.catalog.challenges
        return _matches([(c.id, f"{c.id}: {c.title}") for c in catalog.values()], current)

    @staticmethod
    def timezone_choices(current: str) -> list[app_commands.Choice[str]]:
        """IANA time zone names matching what was typed."""
        return _matches([(zone, zone) for zone in _zones()], current)

    # ------------------------------------------------------------------ helpers

    async def _group(self, interaction: discord.Interaction[Any], name: str) -> Who | None:
        """The member when this is a channel of a server the bot is in; else say why not."""
        who = await self.platform._enter(interaction)
        if interaction.guild_id is None or interaction.channel_id is None:
            await self.platform._say(interaction, IN_SERVERS.format(name=name))
            return None
        if not interaction.is_guild_integration():
            await self.platform._say(interaction, NOT_INSTALLED)
            return None
        return who

    async def _answer(
        self, interaction: discord.Interaction[Any], reply: Reply, *, public: bool
    ) -> None:
        """Errors privately; otherwise publicly when ``public`` (the channel should know)."""
        if reply.kind == "error" or not public:
            await self.platform._say(interaction, reply.text)
            await self.platform.app.deliver(announcements_of(reply))
        else:
            await self.platform._send(interaction, reply, ephemeral=False)

    # ------------------------------------------------------------------ commands

    async def cmd_list(self, interaction: discord.Interaction[Any]) -> None:
        """/challenge list: every challenge (anywhere; privately in a server)."""
        await self.platform._enter(interaction)
        reply = self.platform.app.challenges.list_all()
        await self.platform._send(interaction, reply, ephemeral=interaction.guild_id is not None)

    async def cmd_start(
        self, interaction: discord.Interaction[Any], challenge: str, minutes: int | None
    ) -> None:
        """/challenge start: post the prompt with its deadline and the answer button."""
        who = await self._group(interaction, "start")
        if who is None:
            return
        reply = await self.platform.app.challenges.start(
            who, str(interaction.channel_id), challenge, minutes, is_admin(interaction)
        )
        await self._answer(interaction, reply, public=reply.kind == "challenge")

    async def cmd_status(self, interaction: discord.Interaction[Any]) -> None:
        """/challenge status: who has answered (never what), privately."""
        who = await self._group(interaction, "status")
        if who is None:
            return
        reply = await self.platform.app.challenges.status(who, str(interaction.channel_id))
        await self._answer(interaction, reply, public=False)

    async def cmd_cancel(self, interaction: discord.Interaction[Any]) -> None:
        """/challenge cancel: stop the running challenge without revealing it."""
        who = await self._group(interaction, "cancel")
        if who is None:
            return
        reply = await self.platform.app.challenges.cancel(
            who, str(interaction.channel_id), is_admin(interaction)
        )
        await self._answer(interaction, reply, public=True)

    async def cmd_reveal(self, interaction: discord.Interaction[Any]) -> None:
        """/challenge reveal: reveal early (the reference goes to the channel)."""
        who = await self._group(interaction, "reveal")
        if who is None:
            return
        reply = await self.platform.app.challenges.reveal(
            who, str(interaction.channel_id), is_admin(interaction)
        )
        await self._answer(interaction, reply, public=False)

    async def cmd_schedule(
        self, interaction: discord.Interaction[Any], challenge: str, weekday: str, at: str
    ) -> None:
        """/challenge schedule: a weekly challenge in this channel, in its time zone."""
        who = await self._group(interaction, "schedule")
        if who is None:
            return
        reply = await self.platform.app.challenges.schedule(
            who, str(interaction.channel_id), challenge, weekday, at, is_admin(interaction)
        )
        await self._answer(interaction, reply, public=True)

    async def cmd_unschedule(
        self, interaction: discord.Interaction[Any], challenge: str | None
    ) -> None:
        """/challenge unschedule: stop one weekly challenge here, or all of them."""
        who = await self._group(interaction, "unschedule")
        if who is None:
            return
        reply = await self.platform.app.challenges.unschedule(
            who, str(interaction.channel_id), challenge or None, is_admin(interaction)
        )
        await self._answer(interaction, reply, public=True)

    async def cmd_configure(
        self, interaction: discord.Interaction[Any], key: str, value: str
    ) -> None:
        """/challenge timezone and /challenge permissions (admins only; the core checks)."""
        who = await self._group(interaction, key)
        if who is None:
            return
        reply = await self.platform.app.challenges.configure(
            who, str(interaction.channel_id), key, value.strip(), is_admin(interaction)
        )
        await self._answer(interaction, reply, public=True)

    async def cmd_submit(
        self,
        interaction: discord.Interaction[Any],
        text: str | None,
        photo: discord.Attachment | None,
    ) -> None:
        """/challenge submit: a typed answer or a photo, to the newest challenge joined."""
        who = await self.platform._enter(interaction)
        if photo is not None and not (photo.content_type or "").startswith("image/"):
            await self.platform._say(interaction, NOT_A_PHOTO)
            return
        photo_ref = photo.url if photo is not None else None
        if interaction.guild_id is not None:
            # Used in the challenge's channel: the answer goes to the run open there.
            reply = await self.platform.app.challenges.submit(
                who, text=text, photo_ref=photo_ref, chat_id=str(interaction.channel_id)
            )
            await self._answer(interaction, reply, public=False)
            return
        if not await self.platform.app.challenges.has_open_run(who):
            await self.platform._say(interaction, JOIN_FIRST)
            return
        reply = await self.platform.app.challenges.submit(who, text=text, photo_ref=photo_ref)
        await self._answer(interaction, reply, public=False)

    # ------------------------------------------------------------------ components

    async def on_join(self, interaction: discord.Interaction[Any], payload: str) -> None:
        """The "Submit my answer" button: join the run, then open the private answer form.

        The form must be the interaction's first response, so nothing is deferred.
        """
        reply = await self.platform.app.study.press(_who(interaction), payload)
        if reply.kind == "info":
            await interaction.response.send_modal(AnswerModal(payload.split(":")[1]))
        else:
            await self.platform._say(interaction, reply.text)
        await self.platform.app.deliver(announcements_of(reply))

    async def on_answer(self, interaction: discord.Interaction[Any], token: str, text: str) -> None:
        """A submitted answer form: the core stores it (or politely refuses a late one)."""
        reply = await self.platform.app.challenges.submit(
            _who(interaction), text=text, run_token=token
        )
        await self.platform._say(interaction, reply.text)
        await self.platform.app.deliver(announcements_of(reply))

    async def on_assess(
        self, interaction: discord.Interaction[Any], payload: str, reply: Reply
    ) -> None:
        """A self-assessment button (already deferred and pressed in the core).

        The assessment is edited in place; once applied it becomes the list of the
        cards that moved, keeping only the button to share one's answer. Sharing and
        errors answer privately and leave the assessment as it is.
        """
        code = payload[:1]
        if reply.kind == "assess":
            await self.platform._edit_into_place(interaction, reply)
            return
        if reply.kind == "error" or code == "o":
            await self.platform._say(interaction, reply.text)
        else:
            token = payload.split(":")[1]
            share = Button("Share my answer", Action("share", token).encode())
            await interaction.edit_original_response(
                content=clip(plain(reply.text), CONTENT_MAX),
                embeds=[],
                attachments=[],
                view=button_view(((share,),)) if code == "f" else None,
            )
        await self.platform.app.deliver(announcements_of(reply))


def _who(interaction: discord.Interaction[Any]) -> Who:
    user = interaction.user
    return Who("discord", str(user.id), user.display_name)


# --------------------------------------------------------------------------- commands


async def _challenge_ids(
    interaction: discord.Interaction[Any], current: str
) -> list[app_commands.Choice[str]]:
    return platform_of(interaction).challenges.challenge_choices(current)


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
        await platform_of(interaction).challenges.cmd_list(interaction)

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
        await platform_of(interaction).challenges.cmd_start(interaction, challenge, minutes)

    @group.command(name="status", description="Who has answered the running challenge")
    async def status(interaction: discord.Interaction[Any]) -> None:
        await platform_of(interaction).challenges.cmd_status(interaction)

    @group.command(name="cancel", description="Cancel the running challenge (nothing revealed)")
    async def cancel(interaction: discord.Interaction[Any]) -> None:
        await platform_of(interaction).challenges.cmd_cancel(interaction)

    @group.command(name="reveal", description="Reveal the running challenge now")
    async def reveal(interaction: discord.Interaction[Any]) -> None:
        await platform_of(interaction).challenges.cmd_reveal(interaction)

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
        await platform_of(interaction).challenges.cmd_schedule(interaction, challenge, weekday, at)

    @group.command(name="unschedule", description="Stop a weekly challenge here (or all)")
    @app_commands.describe(challenge="Which one (leave empty for every weekly challenge here)")
    @app_commands.autocomplete(challenge=_challenge_ids)
    async def unschedule(
        interaction: discord.Interaction[Any], challenge: str | None = None
    ) -> None:
        await platform_of(interaction).challenges.cmd_unschedule(interaction, challenge)

    @group.command(name="timezone", description="The time zone of this channel's challenges")
    @app_commands.describe(name="An IANA time zone, for example Europe/Paris")
    @app_commands.autocomplete(name=_timezones)
    async def timezone(interaction: discord.Interaction[Any], name: str) -> None:
        await platform_of(interaction).challenges.cmd_configure(interaction, "timezone", name)

    @group.command(name="permissions", description="Who may start, cancel and reveal here")
    @app_commands.describe(who="Admins (and the starter of a challenge), or everyone")
    async def permissions(
        interaction: discord.Interaction[Any], who: Literal["admins", "everyone"]
    ) -> None:
        await platform_of(interaction).challenges.cmd_configure(interaction, "permissions", who)

    @group.command(name="submit", description="Send your answer privately: text or a photo")
    @app_commands.describe(
        text="Your answer, from memory", photo="A photo of your page (a drawing, a derivation)"
    )
    async def submit(
        interaction: discord.Interaction[Any],
        text: str | None = None,
        photo: discord.Attachment | None = None,
    ) -> None:
        await platform_of(interaction).challenges.cmd_submit(interaction, text, photo)

    return group
