"""Pressed buttons, chosen menu items and submitted forms: one core call each, rendered.

A study button's custom id is the core's payload; it goes to
:meth:`bot.core.inputs.Inputs.press` unread. The one button whose first
response must be a form (a challenge's "Submit my answer") is found by asking
the core (:meth:`~bot.core.inputs.Inputs.opens_form`) before anything is
deferred: Discord opens a modal only as the first response. A self-assessment's
"Rate every row" opens its form the same way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from datetime import datetime, timedelta
from typing import Any, Final

import discord

from bot.core.challenges.service import ChallengeService
from bot.core.inputs import Inputs
from bot.core.learners import Who
from bot.core.study import StudyService
from bot.platforms.discord.assessform import AssessmentModal
from bot.platforms.discord.components import (
    BUTTON_EXPIRED,
    FORM_EXPIRED,
    OPEN_WORKSPACE,
    SETTINGS_FORM_TTL,
    AnswerModal,
    SettingsModal,
    reopen_settings_view,
)
from bot.platforms.discord.interactions import Answer, in_bot_dm, report_error, who_of
from bot.platforms.discord.rendering import OutcomeRenderer

#: A form opened "later" than now by this much is still taken (clocks differ a little).
FORM_SKEW = timedelta(minutes=5)

#: Makes a one-time link to the browser workspace for a learner and a purpose (the
#: workspace's ``link``: ``{public_url}/app?open=<purpose>#link=<token>``).
WorkspaceLinks = Callable[[Who, str], Awaitable[str]]
#: The answer to "Open workspace", above the link button ({minutes}: ``[web] link_minutes``).
LINK_WORKS: Final = "Your workspace link works once, for the next {minutes}."


def link_words(minutes: int) -> str:
    """What "Open workspace" answers, for a link that lasts ``minutes`` (1 or more)."""
    return LINK_WORKS.format(minutes="minute" if minutes == 1 else f"{minutes} minutes")


class Taps:
    """The platform's :class:`~bot.platforms.discord.components.Handlers`.

    Args:
        study: settings changes and pauses.
        challenges: submitted answer forms.
        inputs: pressed study buttons.
        rendering: shows the outcomes.
        workspace_links: makes a one-time link to the browser workspace (None: ``[web]``
            is off, and no reply shows "Open workspace").
        link_minutes: how long such a link works (``[web] link_minutes``).
    """

    def __init__(
        self,
        *,
        study: StudyService,
        challenges: ChallengeService,
        inputs: Inputs,
        rendering: OutcomeRenderer,
        workspace_links: WorkspaceLinks | None = None,
        link_minutes: int = 15,
    ) -> None:
        self.study = study
        self.challenges = challenges
        self.inputs = inputs
        self.rendering = rendering
        self.workspace_links = workspace_links
        self.link_minutes = link_minutes

    async def on_press(self, interaction: discord.Interaction[Any], payload: str) -> None:
        """A study button: the core decodes it and says what to show."""
        try:
            who = who_of(interaction)
            chat_hidden = not in_bot_dm(interaction)
            if not self.inputs.opens_form(payload):
                await self.rendering.run(
                    interaction, lambda: self.inputs.press(who, payload), hidden=chat_hidden
                )
                return
            # The form must be the first response, so nothing is deferred.
            outcome = await self.inputs.press(who, payload)
            if outcome.form is not None:
                await interaction.response.send_modal(AnswerModal(outcome.form.run_token))
            elif outcome.assessment is not None:
                await interaction.response.send_modal(AssessmentModal(outcome.assessment))
            else:
                await self.rendering.show(interaction, outcome, chat_hidden=chat_hidden)
        except Exception as exc:
            await self.on_error(interaction, exc)

    async def on_setting(self, interaction: discord.Interaction[Any], key: str, value: str) -> None:
        """A /settings menu choice, validated by the core; the answer is private."""
        who = who_of(interaction)
        await self.rendering.run(
            interaction, lambda: self.study.change_setting(who, key, value), hidden=True
        )

    async def on_settings_form(
        self,
        interaction: discord.Interaction[Any],
        changes: Sequence[tuple[str, str]],
        opened_at: datetime | None = None,
    ) -> None:
        """The typed settings, changed in one go (an invalid one stops there); a form that
        has expired is answered so, with the button that opens it again."""
        now = self.study.clock.now()
        if opened_at is None or not now - SETTINGS_FORM_TTL <= opened_at <= now + FORM_SKEW:
            await interaction.response.send_message(
                FORM_EXPIRED, view=reopen_settings_view(), ephemeral=True
            )
            return
        who = who_of(interaction)
        await self.rendering.run(
            interaction, lambda: self.study.change_settings(who, changes), hidden=True
        )

    async def on_open_settings(self, interaction: discord.Interaction[Any]) -> None:
        """Open the typed settings form; its custom id says when (for its expiry)."""
        await interaction.response.send_modal(SettingsModal(self.study.clock.now()))

    async def on_pause(self, interaction: discord.Interaction[Any], paused: bool) -> None:
        """The pause and resume buttons of /settings."""
        who = who_of(interaction)
        await self.rendering.run(interaction, lambda: self.study.pause(who, paused), hidden=True)

    async def on_answer(
        self, interaction: discord.Interaction[Any], run_token: str, text: str
    ) -> None:
        """A submitted answer form: the core stores it (or politely refuses a late one)."""
        who = who_of(interaction)
        await self.rendering.run(
            interaction,
            lambda: self.challenges.submit(who, text=text, run_token=run_token),
            hidden=True,
        )

    async def on_assessment(
        self,
        interaction: discord.Interaction[Any],
        token: str,
        grades: Sequence[tuple[int, int]],
        checks: Sequence[int] | None,
    ) -> None:
        """A submitted self-assessment form, one core call; answered as a tap on the
        self-assessment message it was opened from (which becomes the cards that moved)."""
        who = who_of(interaction)
        Answer.of(interaction).from_message = interaction.message is not None
        await self.rendering.run(
            interaction,
            lambda: self.challenges.assess(who, token, grades, checks),
            hidden=True,
        )

    async def on_workspace(self, interaction: discord.Interaction[Any], purpose: str) -> None:
        """ "Open workspace": a one-time link for the person who pressed it, in a message
        only they see, as a link button (the link is never in the message's text, so it
        is not unfurled). Without links (``[web]`` off since the button was sent) the
        button has expired; a link that cannot be made gets the one error answer."""
        answer = Answer.of(interaction)
        links = self.workspace_links
        try:
            if links is None:
                await answer.say(BUTTON_EXPIRED)
                return
            who = who_of(interaction)
            await answer.defer(hidden=True)
            url = await links(who, purpose)
            view = discord.ui.View(timeout=None)
            view.add_item(
                discord.ui.Button(style=discord.ButtonStyle.link, label=OPEN_WORKSPACE, url=url)
            )
            await answer.send(hidden=True, content=link_words(self.link_minutes), view=view)
            await answer.finish()
        except Exception as exc:
            await self.on_error(interaction, exc)

    async def on_error(self, interaction: discord.Interaction[Any], error: Exception) -> None:
        """The one error handler (:func:`report_error`)."""
        await report_error(interaction, error)
