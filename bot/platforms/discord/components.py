"""Buttons, select menus and the modals, and the handlers they hand interactions to.

Every study button is a :class:`StudyButton`: its custom id IS the core's
payload (``r:<token>:3``), and it is registered as a dynamic item when the
client starts, so a button in yesterday's DM still works after a restart.
The /settings menus and buttons are dynamic items too (fixed custom ids), so
no view is kept in memory per message. The items only hand the interaction
to the running platform's :class:`Handlers`.

The forms are never kept in memory either: the challenge answer form's
custom id carries the run token (``jm:<token>``), the self-assessment form's the
submission token (``ja:<token>``), the settings form's the
instant it was opened (``sf:<unix seconds, base 36>``), and
:func:`route_modal_submit` reads the submission from the raw interaction, so a
form opened before a restart is still accepted after it. A settings form older
than :data:`SETTINGS_FORM_TTL`, or one whose custom id this version cannot read,
gets a reply saying it expired, with the button that opens it again.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Protocol, Self, cast

import discord

from bot.core.actions import ACTION_PATTERN
from bot.core.settings import EASY_DAY_CHOICES
from bot.core.study import RETENTION_COSTS
from bot.platforms.discord.assessform import ASSESS_MODAL, assessment_values

log = logging.getLogger(__name__)

COMMON_TIMEZONES: Final = (
    "UTC",
    "Europe/London",
    "Europe/Paris",
    "Europe/Berlin",
    "Europe/Madrid",
    "Europe/Moscow",
    "Africa/Lagos",
    "Africa/Johannesburg",
    "Asia/Dubai",
    "Asia/Kolkata",
    "Asia/Shanghai",
    "Asia/Singapore",
    "Asia/Tokyo",
    "Australia/Sydney",
    "Pacific/Auckland",
    "America/Sao_Paulo",
    "America/New_York",
    "America/Chicago",
    "America/Denver",
    "America/Los_Angeles",
    "America/Mexico_City",
)
#: The settings form: ``sf:<the instant it was opened, unix seconds in base 36>``.
SETTINGS_MODAL: Final = re.compile(r"sf:(?P<opened>[0-9a-z]{1,10})")
#: How long a settings form opened in the client may still be sent.
SETTINGS_FORM_TTL: Final = timedelta(hours=24)
#: A submitted form that has expired (or comes from before an update).
FORM_EXPIRED: Final = "This form has expired. Tap the button to open it again."
#: The challenge answer form: ``jm:<run token>``; its one text input.
ANSWER_MODAL: Final = re.compile(r"jm:(?P<token>[A-Za-z0-9_-]{8,22})")
ANSWER_INPUT: Final = "answer"
#: Discord's limit for a paragraph text input.
ANSWER_MAX: Final = 4000

NEW_PER_DAY: Final = ("0", "5", "10", "15", "20", "30", "50")
RETENTIONS: Final = ("0.80", "0.85", "0.90", "0.93", "0.95")

#: The answers to a pressed component, or a submitted form, that nothing handles.
BUTTON_EXPIRED: Final = (
    "This button has expired. Send /review (or the command again) for a new one."
)
FORM_UNROUTED: Final = "This form has expired: open it again and send it once more."

#: The button of a reply that offers the browser workspace (docs/web.md, "Opening it"):
#: ``w:<purpose>``, the purposes ``review``, ``stats`` and ``challenge:<run token>``.
WORKSPACE_ID: Final = r"w:(?P<purpose>review|stats|challenge:[A-Za-z0-9_-]{8,22})"
OPEN_WORKSPACE: Final = "Open workspace"

SETTING_KEYS: Final = ("timezone", "new", "retention", "easy_days")
SETTING_ACTIONS: Final = ("type", "pause", "resume", "costs")


class Handlers(Protocol):
    """What the running platform does with a pressed item or a submitted form."""

    async def on_press(self, interaction: discord.Interaction[Any], payload: str) -> None:
        """A study button (its custom id is a core payload)."""
        ...

    async def on_setting(self, interaction: discord.Interaction[Any], key: str, value: str) -> None:
        """A choice in a /settings menu."""
        ...

    async def on_settings_form(
        self,
        interaction: discord.Interaction[Any],
        changes: Sequence[tuple[str, str]],
        opened_at: datetime | None = None,
    ) -> None:
        """The typed settings form: the ``(key, value)`` pairs filled in, in order, and
        when the form was opened (None: it cannot be told, the form has expired)."""
        ...

    async def on_pause(self, interaction: discord.Interaction[Any], paused: bool) -> None:
        """The pause and resume buttons of /settings."""
        ...

    async def on_open_settings(self, interaction: discord.Interaction[Any]) -> None:
        """The button that opens the typed settings form (:class:`SettingsModal`)."""
        ...

    async def on_answer(
        self, interaction: discord.Interaction[Any], run_token: str, text: str
    ) -> None:
        """A submitted challenge answer form."""
        ...

    async def on_assessment(
        self,
        interaction: discord.Interaction[Any],
        token: str,
        grades: Sequence[tuple[int, int]],
        checks: Sequence[int] | None,
    ) -> None:
        """A submitted self-assessment form (:mod:`bot.platforms.discord.assessform`)."""
        ...

    async def on_workspace(self, interaction: discord.Interaction[Any], purpose: str) -> None:
        """The "Open workspace" button of a reply (:class:`WorkspaceButton`): a link to
        the browser workspace for ``purpose``, for the person who pressed it."""
        ...

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception) -> None:
        """The one error handler."""
        ...


class Host(Protocol):
    """The platform a client carries (as ``client.studybot``)."""

    @property
    def taps(self) -> Handlers: ...


def host_of(interaction: discord.Interaction[Any]) -> object:
    """The platform that owns the client this interaction came to."""
    host: object = getattr(interaction.client, "studybot", None)
    if host is None:
        raise RuntimeError("this Discord client has no study platform attached")
    return host


def handlers_of(interaction: discord.Interaction[Any]) -> Handlers:
    """Where this client's pressed items and submitted forms go."""
    return cast("Host", host_of(interaction)).taps


class StudyButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=f"(?P<payload>{ACTION_PATTERN})",
):
    """A button whose custom id is a core payload; pressed, it goes to the platform.

    Any payload of the core's form matches, so an action the core adds later needs
    no change here; the core decodes and validates it (anything unknown has expired).
    """

    def __init__(
        self,
        label: str,
        payload: str,
        *,
        style: discord.ButtonStyle = discord.ButtonStyle.secondary,
        row: int | None = None,
    ) -> None:
        super().__init__(
            discord.ui.Button(label=label or "…", custom_id=payload, style=style), row=row
        )
        self.payload = payload

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        """Rebuild the button from a pressed custom id (after a restart too)."""
        label = getattr(item, "label", None) or "…"
        style = getattr(item, "style", discord.ButtonStyle.secondary)
        return cls(label, match["payload"], style=style)

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Hand the press to the platform (which answers every error itself)."""
        await handlers_of(interaction).on_press(interaction, self.payload)


class WorkspaceButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=WORKSPACE_ID,
):
    """ "Open workspace": pressed, the platform answers with a one-time link to the
    browser workspace (``purpose``) that only the person who pressed it sees. Its custom
    id ``w:<purpose>`` never matches a core payload (:class:`StudyButton`): a purpose is
    no action's token. Works after restarts."""

    def __init__(self, purpose: str, *, row: int | None = None) -> None:
        super().__init__(
            discord.ui.Button(
                label=OPEN_WORKSPACE,
                custom_id=f"w:{purpose}",
                style=discord.ButtonStyle.secondary,
            ),
            row=row,
        )
        self.purpose = purpose

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        """Rebuild the button from its custom id."""
        return cls(match["purpose"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Hand the press to the platform (which answers every error itself)."""
        await handlers_of(interaction).on_workspace(interaction, self.purpose)


def _setting_options(key: str) -> tuple[str, list[discord.SelectOption]]:
    if key == "timezone":
        return "Time zone (or type one with the button below)", [
            discord.SelectOption(label=zone, value=zone) for zone in COMMON_TIMEZONES
        ]
    if key == "new":
        return "New cards a day", [
            discord.SelectOption(label=f"{n} new cards a day", value=n) for n in NEW_PER_DAY
        ]
    if key == "easy_days":
        return "Easy days (fewer reviews on them)", [
            discord.SelectOption(label=label, value=value) for label, value in EASY_DAY_CHOICES
        ]
    return "Desired retention", [
        discord.SelectOption(label=f"Remember {float(r):.0%} of cards", value=r) for r in RETENTIONS
    ]


class SettingSelect(
    discord.ui.DynamicItem[discord.ui.Select[discord.ui.View]],
    template=r"set:(?P<key>timezone|new|retention|easy_days)",
):
    """A /settings select menu (time zone, new cards a day, retention, easy days); works
    after restarts."""

    def __init__(self, key: str, *, row: int | None = None) -> None:
        placeholder, options = _setting_options(key)
        super().__init__(
            discord.ui.Select(custom_id=f"set:{key}", placeholder=placeholder, options=options),
            row=row,
        )
        self.key = key

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        """Rebuild the menu from its custom id."""
        return cls(match["key"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Save the chosen value through the core (which validates it)."""
        handlers = handlers_of(interaction)
        try:
            values = self.item.values
            if values:
                await handlers.on_setting(interaction, self.key, values[0])
        except Exception as exc:
            await handlers.on_error(interaction, exc)


class SettingButton(
    discord.ui.DynamicItem[discord.ui.Button[discord.ui.View]],
    template=r"set:(?P<action>type|pause|resume|costs)",
):
    """A /settings button: open the typed-settings form, pause or resume reminders, or
    show what each desired retention costs (the core's settings-menu choice)."""

    LABELS: Final = {
        "type": "Type time zone, reminder, quiet hours…",
        "pause": "Pause reminders",
        "resume": "Resume reminders",
        "costs": "Retention: what it costs",
    }

    def __init__(self, action: str, *, row: int | None = None) -> None:
        style = discord.ButtonStyle.primary if action == "type" else discord.ButtonStyle.secondary
        super().__init__(
            discord.ui.Button(label=self.LABELS[action], custom_id=f"set:{action}", style=style),
            row=row,
        )
        self.action = action

    @classmethod
    async def from_custom_id(
        cls,
        interaction: discord.Interaction[Any],
        item: discord.ui.Item[Any],
        match: re.Match[str],
        /,
    ) -> Self:
        """Rebuild the button from its custom id."""
        return cls(match["action"])

    async def callback(self, interaction: discord.Interaction[Any]) -> None:
        """Open the modal, or pause / resume the daily reminders."""
        handlers = handlers_of(interaction)
        try:
            if self.action == "type":
                await handlers.on_open_settings(interaction)
            elif self.action == "costs":
                await handlers.on_press(interaction, RETENTION_COSTS.encode())
            else:
                await handlers.on_pause(interaction, self.action == "pause")
        except Exception as exc:
            await handlers.on_error(interaction, exc)


def settings_view() -> discord.ui.View:
    """The /settings controls: four menus and a row of buttons (Discord's five rows)."""
    view = discord.ui.View(timeout=None)
    for row, key in enumerate(SETTING_KEYS):
        view.add_item(SettingSelect(key, row=row))
    for action in SETTING_ACTIONS:
        view.add_item(SettingButton(action, row=len(SETTING_KEYS)))
    return view


#: Everything to register with ``Client.add_dynamic_items`` at start.
DYNAMIC_ITEMS: Final = (StudyButton, SettingSelect, SettingButton, WorkspaceButton)


#: The settings form's inputs: (custom id, label, placeholder, max length), in order.
SETTINGS_INPUTS: Final = (
    ("timezone", "Time zone (IANA name)", "Europe/Paris", 64),
    ("push", "Daily reminder time (HH:MM, your time)", "08:30", 5),
    ("quiet", "Quiet hours (HH:MM-HH:MM, or off)", "22:00-07:00", 11),
    ("days_off", "Days without a reminder (or none)", "sat, sun", 40),
    ("per_push", "Cards in a daily session", "20", 3),
)


def _base36(number: int) -> str:
    digits = "0123456789abcdefghijklmnopqrstuvwxyz"
    out = ""
    while True:
        number, rest = divmod(number, 36)
        out = digits[rest] + out
        if not number:
            return out


def settings_form_id(opened_at: datetime) -> str:
    """The settings form's custom id: ``sf:`` and when it was opened."""
    return f"sf:{_base36(max(0, int(opened_at.timestamp())))}"


def settings_form_opened(custom_id: str) -> datetime | None:
    """When a settings form was opened, from its custom id (None: not one of ours)."""
    match = SETTINGS_MODAL.fullmatch(custom_id)
    if match is None:
        return None
    try:
        return datetime.fromtimestamp(int(match["opened"], 36), UTC)
    except (OverflowError, OSError, ValueError):
        return None


class SettingsModal(discord.ui.Modal, title="Your settings"):
    """Typed values (any may stay empty): time zone, push time, quiet hours, days off, session.

    Built already stopped, like :class:`AnswerModal`: the submission is routed by its
    custom id (:func:`route_modal_submit`), also after a restart.

    Args:
        opened_at: now (the form's custom id carries it, for its expiry).
    """

    def __init__(self, opened_at: datetime) -> None:
        super().__init__(custom_id=settings_form_id(opened_at), timeout=None)
        for custom_id, label, placeholder, length in SETTINGS_INPUTS:
            self.add_item(
                discord.ui.TextInput(
                    label=label,
                    placeholder=placeholder,
                    required=False,
                    max_length=length,
                    custom_id=custom_id,
                )
            )
        self.stop()  # not stored: route_modal_submit handles the submission


def settings_changes(data: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The values typed into a submitted settings form (the empty ones left out), in order."""
    typed = ((key, modal_value(data, key).strip()) for key, *_ in SETTINGS_INPUTS)
    return [(key, value) for key, value in typed if value]


def reopen_settings_view() -> discord.ui.View:
    """The one button that opens the settings form again."""
    view = discord.ui.View(timeout=None)
    view.add_item(SettingButton("type"))
    return view


class AnswerModal(discord.ui.Modal, title="Your answer"):
    """The private answer to a group challenge: one paragraph, written from memory.

    Built already stopped, so discord.py does not keep it: the submission is
    routed by its custom id (:func:`route_modal_submit`), also after a restart.

    Args:
        run_token: the challenge run's token (from the ``j:<token>`` button).
    """

    answer: discord.ui.TextInput[AnswerModal] = discord.ui.TextInput(
        label="Your answer, from memory",
        style=discord.TextStyle.paragraph,
        placeholder="No notes, no peeking. Sending again replaces your earlier answer.",
        custom_id=ANSWER_INPUT,
        max_length=ANSWER_MAX,
    )

    def __init__(self, run_token: str) -> None:
        super().__init__(custom_id=f"jm:{run_token}", timeout=None)
        self.stop()  # not stored: route_modal_submit handles the submission


def modal_value(data: Mapping[str, Any], custom_id: str) -> str:
    """The text typed into one input of a submitted modal (raw ``interaction.data``)."""
    pending: list[Any] = list(data.get("components") or [])
    while pending:
        component = pending.pop(0)
        if not isinstance(component, dict):
            continue
        if component.get("type") == 4 and component.get("custom_id") == custom_id:
            return str(component.get("value") or "")
        pending.extend(component.get("components") or [])
        if isinstance(component.get("component"), dict):  # a label (type 18) wraps one input
            pending.append(component["component"])
    return ""


async def route_modal_submit(interaction: discord.Interaction[Any]) -> bool:
    """Hand a submitted form to the platform: a challenge answer, or the settings form
    (one this version cannot read is the settings form expired). False for anything
    that is not a form (left to discord.py, or to :func:`answer_unrouted`)."""
    if interaction.type is not discord.InteractionType.modal_submit:
        return False
    data = cast("dict[str, Any]", interaction.data or {})
    custom_id = str(data.get("custom_id", ""))
    handlers = handlers_of(interaction)
    try:
        match = ANSWER_MODAL.fullmatch(custom_id)
        if match is not None:
            await handlers.on_answer(interaction, match["token"], modal_value(data, ANSWER_INPUT))
            return True
        assessed = ASSESS_MODAL.fullmatch(custom_id)
        if assessed is not None:  # the self-assessment form (bot.platforms.discord.assessform)
            grades, checks = assessment_values(data)
            await handlers.on_assessment(interaction, assessed["token"], grades, checks)
            return True
        opened_at = settings_form_opened(custom_id)
        await handlers.on_settings_form(interaction, settings_changes(data), opened_at)
    except Exception as exc:
        await handlers.on_error(interaction, exc)
    return True


def _on_message(interaction: discord.Interaction[Any], custom_id: str) -> bool:
    """Whether the interaction's message has a component with this custom id."""
    message = interaction.message
    if message is None:
        return False
    pending: list[Any] = list(message.components)
    while pending:
        component = pending.pop()
        if getattr(component, "custom_id", None) == custom_id:
            return True
        pending.extend(getattr(component, "children", None) or ())
    return False


def _routed_by_discord_py(interaction: discord.Interaction[Any], custom_id: str) -> bool:
    """Whether discord.py hands this component or form to one of our items: a dynamic
    item's template matches its custom id (and, as discord.py requires, the message
    carries a component with that id), or a view or modal it keeps has that id."""
    kind = interaction.type
    store: Any = getattr(getattr(interaction.client, "_connection", None), "_view_store", None)
    if kind is discord.InteractionType.component:
        if _on_message(interaction, custom_id) and any(
            item.__discord_ui_compiled_template__.fullmatch(custom_id) for item in DYNAMIC_ITEMS
        ):
            return True
        data = cast("dict[str, Any]", interaction.data or {})
        key = (data.get("component_type"), custom_id)
        views: dict[Any, dict[Any, Any]] = getattr(store, "_views", {})
        message_id = interaction.message.id if interaction.message is not None else None
        return key in views.get(message_id, {}) or key in views.get(None, {})
    if kind is discord.InteractionType.modal_submit:
        return custom_id in getattr(store, "_modals", {})
    return True  # commands and autocomplete: the command tree answers every one


async def answer_unrouted(interaction: discord.Interaction[Any]) -> None:
    """The catch-all: a button, menu or form that none of ours handles (a message from an
    older version, a form from before a restart) is told it has expired, so Discord never
    shows "This interaction failed"."""
    data = cast("dict[str, Any]", interaction.data or {})
    custom_id = str(data.get("custom_id", ""))
    if _routed_by_discord_py(interaction, custom_id):
        return
    form = interaction.type is discord.InteractionType.modal_submit
    log.info(
        "Discord %s %r matches nothing of this version; answered as expired",
        "form" if form else "component",
        custom_id[:100],
    )
    try:
        await interaction.response.send_message(
            FORM_UNROUTED if form else BUTTON_EXPIRED, ephemeral=True
        )
    except discord.HTTPException as exc:
        log.info("could not answer an expired Discord interaction (HTTP %s)", exc.status)
