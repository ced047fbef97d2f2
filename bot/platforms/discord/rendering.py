"""A core :class:`Outcome` shown on Discord, in answer to one interaction.

Every handler defers first (a core call may post announcements before it
returns, and Discord wants an answer within 3 seconds), calls the core once,
and hands the outcome here. Discord has no toast: a notice is a message only
the person sees, sent only when the outcome shows nothing else. A closed
card's note ("Good: see it again in 10m.") starts the first reply, so one
message carries it and the next card; when the core offers (``in_place``, the
next card after a rating) that message is the tapped one, edited: a review is
two edits (reveal, rate) and two acknowledgements.

A message a person sent in the DMs (a file to import) is no interaction: its outcome
is sent as messages there, the first one a reply to it (:meth:`OutcomeRenderer.reply`),
and "typing…" shows while the core works (:func:`typing_in`).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from functools import partial
from typing import Any, Final

import discord

from bot.core.indicator import kept_up
from bot.core.messages import Reply
from bot.core.outcomes import Audience, Outcome
from bot.core.rendering import Renderer
from bot.platforms.discord import layout
from bot.platforms.discord.interactions import Answer, in_bot_dm
from bot.platforms.discord.messages import offering, plain

log = logging.getLogger(__name__)

#: Seconds between typing indicators while the core works (Discord shows one for 10 s).
TYPING_EVERY: Final = 8.0


@asynccontextmanager
async def typing_in(channel: discord.abc.Messageable) -> AsyncIterator[None]:
    """Show "typing…" in a channel while the block runs: once at once, then every
    :data:`TYPING_EVERY` seconds until it ends. One Discord refuses is left out (it only
    decorates the wait)."""

    async def show() -> bool:
        try:
            await channel.typing()
        except discord.HTTPException as exc:
            log.info("Discord refused a typing indicator (HTTP %s)", exc.status)
            return False
        return True

    async with kept_up(show, TYPING_EVERY):
        yield


def noted(reply: Reply, note: str) -> Reply:
    """The reply with a note at the start of its text."""
    if not note.strip():
        return reply
    return replace(reply, text=f"{note}\n\n{reply.text}" if reply.text else note)


def hidden_for(interaction: discord.Interaction[Any], to: Audience, *, chat_hidden: bool) -> bool:
    """Whether replies for ``to`` are shown only to the person.

    ``private`` always is; ``ephemeral`` is in a server; ``chat`` is as the handler
    says (a personal command used in a server answers privately, a group's does not).
    """
    if to == "private":
        return True
    if to == "ephemeral":
        return interaction.guild_id is not None
    return chat_hidden


class OutcomeRenderer:
    """Shows outcomes in answer to interactions.

    Args:
        renderer: draws cards and charts (None: text only).
        workspace: replies offering the browser workspace get its button (``[web]`` on
            and links can be made); else the offer is left out.
    """

    def __init__(self, renderer: Renderer | None, *, workspace: bool = False) -> None:
        self.renderer = renderer
        self.workspace = workspace

    async def run(
        self,
        interaction: discord.Interaction[Any],
        call: Callable[[], Awaitable[Outcome]],
        *,
        hidden: bool,
    ) -> None:
        """Defer (``hidden``: only the person sees the answer), make the core ``call``,
        and show its outcome; its ``chat`` replies are shown as the answer is."""
        await Answer.of(interaction).defer(hidden=hidden)
        await self.show(interaction, await call(), chat_hidden=hidden)

    async def show(
        self, interaction: discord.Interaction[Any], outcome: Outcome, *, chat_hidden: bool
    ) -> None:
        """Show an outcome: edit or close the tapped message, send the replies, or say the
        notice when nothing else is shown."""
        answer = Answer.of(interaction)
        replies = list(outcome.replies)
        if (
            outcome.in_place
            and answer.tapped
            and replies
            and outcome.edit is None
            and outcome.to == "chat"
        ):
            # The next card takes the tapped card's place, the rating's note on top: one edit.
            await self._edit(interaction, noted(replies[0], outcome.close or ""))
            hidden = hidden_for(interaction, outcome.to, chat_hidden=chat_hidden)
            for reply in replies[1:]:
                for message in await self._messages(interaction, reply):
                    await layout.send(answer_send(answer, hidden, message), message)
            await answer.finish()
            return
        shown = False
        if outcome.edit is not None:
            if answer.tapped:
                await self._edit(interaction, outcome.edit)
                shown = True
            else:  # no tapped message to edit (a command): shown as a new message
                replies.insert(0, outcome.edit)
        if outcome.close is not None and answer.tapped:
            await layout.drop_buttons(interaction)
        if outcome.close:
            if replies:
                replies[0] = noted(replies[0], outcome.close)
            else:
                await answer.send(hidden=not in_bot_dm(interaction), content=plain(outcome.close))
                shown = True
        hidden = hidden_for(interaction, outcome.to, chat_hidden=chat_hidden)
        for reply in replies:
            for message in await self._messages(interaction, reply):
                await layout.send(answer_send(answer, hidden, message), message)
                shown = True
        if not shown and outcome.notice:
            await answer.say(outcome.notice)
        await answer.finish()

    async def reply(self, message: discord.Message, outcome: Outcome) -> None:
        """Show an outcome in answer to a message a person sent in the DMs: its messages
        (the first one a reply to theirs), or its notice when it has none."""
        replies = ([outcome.edit] if outcome.edit is not None else []) + list(outcome.replies)
        if outcome.close and replies:
            replies[0] = noted(replies[0], outcome.close)
        reference = message.to_reference(fail_if_not_exists=False)
        sent = 0
        for reply in replies:
            shown = offering(reply, self.workspace)
            for outgoing in await layout.messages_for(shown, self.renderer):
                extra = {} if sent else {"reference": reference}
                sent += await layout.send(partial(message.channel.send, **extra), outgoing)
        text = outcome.notice or outcome.close
        if not sent and text:
            await message.channel.send(plain(text), reference=reference)

    async def _messages(
        self, interaction: discord.Interaction[Any], reply: Reply
    ) -> list[layout.Message]:
        return await layout.messages_for(
            offering(reply, self.workspace), self.renderer, file_limit=interaction.filesize_limit
        )

    async def _edit(self, interaction: discord.Interaction[Any], reply: Reply) -> None:
        """The tapped message becomes the reply's first message (composed where it can be,
        :func:`layout.edit_tapped`); the rest follow it."""
        shown = offering(reply, self.workspace)
        rest = await layout.edit_tapped(interaction, shown, self.renderer)
        for message in rest:
            await Answer.of(interaction).send(
                hidden=not in_bot_dm(interaction), **message.send_kwargs()
            )


def answer_send(
    answer: Answer, hidden: bool, message: layout.Message
) -> Callable[..., Awaitable[None]]:
    """The ``send`` of one message as an interaction's answer: a composed message keeps
    its embed form at hand, for when it goes later as the held last follow-up."""
    embed_form = message.fallback if isinstance(message, layout.Composed) else None
    return partial(answer.send, hidden=hidden, embed_form=embed_form)
