"""Button taps: each callback query goes to the core, and its outcome is shown.

The payload goes to :meth:`bot.core.inputs.Inputs.press` as it came; the
:class:`~bot.core.outcomes.Outcome` is rendered here. The query is answered
first, once (with the notice as a toast, if any), as soon as the core has
answered; then the tapped message is edited or closed and the replies are sent,
in a task of the chat's own (its "lane": one chat's taps are shown in order),
so the update's slot is free again and no tap waits behind another chat's
messages. An outcome that may replace the tapped message (``in_place``: the next
card after a rating) becomes one edit of it, the rating's note on top.
Every request made for a tap is an interactive reply (:func:`replying`): paced
for its chat, outside the overall budget. Replies meant for the person alone
(``private``) that come from a tap in a group go to their private chat, and the
toast says so; when Telegram refuses because they never started the bot, they
get a link that starts it. Where the server shows a message in a group to one member
(:mod:`.one_member`), those replies are shown to them there instead while the group has
room for them, and always for a member the private chat cannot reach; a tap on such a
message keeps its edits and replies theirs alone.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Any, Final

from telegram import CallbackQuery, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.core.inputs import Inputs
from bot.core.learners import Who
from bot.core.messages import Reply
from bot.core.outcomes import Outcome
from bot.core.study import StudyService
from bot.platforms.telegram.challenges import JOIN_PREFIX
from bot.platforms.telegram.ephemeral import ephemeral_id
from bot.platforms.telegram.one_member import OneMember
from bot.platforms.telegram.sending import Sender, replying, unreachable
from bot.platforms.telegram.updates import is_private, who_of

__all__ = [
    "JOINED_PRIVATELY",
    "JOIN_START_FIRST",
    "SENT_PRIVATELY",
    "START_FIRST",
    "Callbacks",
]

log = logging.getLogger(__name__)

SENT_PRIVATELY: Final = "I sent you the answer in our private chat."
START_FIRST: Final = (
    "I can't message you yet. Tap OK to open a chat with me, press Start, then tap Reveal again."
)
JOINED_PRIVATELY: Final = "You're in: I sent you a private message. Write your answer there."
JOIN_START_FIRST: Final = (
    "I can't message you yet. Tap OK to open a chat with me and press Start: "
    "that signs you up for the challenge."
)
SHOWN_HERE: Final = "Only you can see my answer, just below."
JOINED_HERE: Final = "You're in: only you can see my message below. Reply to it with your answer."
WAIT_HERE: Final = "The group is busy: my message for you alone comes here in a moment."


class Callbacks:
    """Handles callback queries (button taps).

    Args:
        sender: sends, edits and answers.
        inputs: where taps go.
        study: told when a member turns out to be unreachable.
        members: shows replies in a group to one member alone (None: never).
    """

    def __init__(
        self,
        sender: Sender,
        inputs: Inputs,
        study: StudyService,
        members: OneMember | None = None,
    ) -> None:
        self.sender = sender
        self.inputs = inputs
        self.study = study
        self.members = members
        #: chat id -> the last task showing a tap's outcome there (its lane).
        self._lanes: dict[int, asyncio.Task[None]] = {}

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button was tapped: the core's outcome, the tap answered at once, the rest
        shown in the chat's lane (see the module docstring)."""
        query = update.callback_query
        if query is None:
            return
        with replying():
            who = who_of(query.from_user)
            outcome = await self.inputs.press(who, query.data or "")
            message = query.message if isinstance(query.message, Message) else None
            if self._elsewhere(message, outcome):
                await self.show(query, who, outcome)  # answered after the private reply
                return
            await self.sender.answer(query, outcome.notice, alert=outcome.alert)
            if outcome.edit is None and outcome.close is None and not outcome.replies:
                return
            chat_id = message.chat.id if message is not None else query.from_user.id
            application = context.application
            self._in_lane(
                chat_id,
                self._show_rest(query, outcome),
                lambda lane: application.create_task(lane, update=update),
            )

    def _in_lane(
        self,
        chat_id: int,
        work: Coroutine[Any, Any, None],
        create_task: Callable[[Coroutine[Any, Any, None]], asyncio.Task[None]],
    ) -> None:
        """Run ``work`` after the chat's earlier work, in a task ``create_task`` makes
        (the application's: an exception goes to the error handler with the update)."""
        before = self._lanes.get(chat_id)

        async def lane() -> None:
            if before is not None:
                await asyncio.wait([before])
            await work

        task = create_task(lane())
        self._lanes[chat_id] = task

        def done(finished: asyncio.Task[None]) -> None:
            if self._lanes.get(chat_id) is finished:
                del self._lanes[chat_id]
            if not finished.cancelled():
                finished.exception()  # reported by the error handler already

        task.add_done_callback(done)

    async def settled(self) -> None:
        """Wait until every tap's outcome has been shown (tests; PTB's stop waits too)."""
        while self._lanes:
            await asyncio.wait(list(self._lanes.values()))

    @staticmethod
    def _elsewhere(message: Message | None, outcome: Outcome) -> bool:
        """The replies go to the person's private chat (or to them alone in the group),
        from a tap on a message everyone in a group sees."""
        here = outcome.form.here if outcome.form is not None else None
        return (
            (bool(outcome.replies) or here is not None)
            and outcome.to == "private"
            and not is_private(message.chat if message is not None else None)
            and ephemeral_id(message) is None
        )

    async def show(self, query: CallbackQuery, who: Who, outcome: Outcome) -> None:
        """Render a tap's outcome: answer, edit or close the tapped message, send the replies."""
        sender = self.sender
        message = query.message if isinstance(query.message, Message) else None
        elsewhere = self._elsewhere(message, outcome)
        if not elsewhere:
            await sender.answer(query, outcome.notice, alert=outcome.alert)
            await self._show_rest(query, outcome)
            return
        chat_id = message.chat.id if message is not None else query.from_user.id
        await self._edit_or_close(message, chat_id, outcome, query.from_user.id)
        user_id = query.from_user.id
        members = self.members
        group = message.chat.id if message is not None else None
        # In the group while it has room; with nothing to send privately (asked already),
        # always: asked again where they are. With the workspace on, a challenge's request
        # goes privately first: only a private chat takes its "Open workspace" button (a
        # member who never started the bot is asked in the group, below).
        workspace_first = (
            outcome.form is not None and bool(outcome.replies) and sender.workspace_url is not None
        )
        here_first = (
            members is not None
            and group is not None
            and not workspace_first
            and (members.has_room(group) or (not outcome.replies and members.usable(group)))
        )
        private = outcome.replies
        if here_first and group is not None:
            rest = await self._show_here(query, group, outcome)
            if rest is None:
                return
            private = rest
        try:  # what the group did not show them (none of it twice)
            await sender.send_replies(user_id, private)
        except TelegramError as exc:
            if not unreachable(exc):
                raise
            await self.study.mark_unreachable(who)
            if (
                not here_first
                and group is not None
                and members is not None
                and members.usable(group)
                and await self._show_here(query, group, outcome) is None
            ):
                return
            log.info("telegram user %s has not started the bot; sending a start link", user_id)
            if outcome.form is not None:
                link = sender.link(f"{JOIN_PREFIX}{outcome.form.run_token}")
                await sender.answer(query, JOIN_START_FIRST, alert=True, url=link)
            else:
                await sender.answer(query, START_FIRST, alert=True, url=sender.link("quiz"))
            return
        sent = JOINED_PRIVATELY if outcome.form is not None else SENT_PRIVATELY
        await sender.answer(query, outcome.notice or sent, alert=outcome.alert)

    async def _show_here(
        self, query: CallbackQuery, group: int, outcome: Outcome
    ) -> tuple[Reply, ...] | None:
        """Show the replies (or the form's request worded for the group) in the group to
        the member alone, and answer the tap: None. Otherwise, the tap unanswered, the
        replies the caller sends privately: all of them when the server will not show
        any, the rest when it stopped part way (the first ones were shown here)."""
        members = self.members
        if members is None:
            return outcome.replies
        form = outcome.form
        here = form is not None and form.here is not None
        replies = (form.here,) if form is not None and form.here is not None else outcome.replies
        if not replies:
            return outcome.replies
        if not members.has_room(group):  # its turn in the group's pace may take a while
            await self.sender.answer(query, WAIT_HERE)
        shown = await members.show(group, query.from_user.id, replies)
        if shown < len(replies):
            return outcome.replies if here else outcome.replies[shown:]
        toast = JOINED_HERE if form is not None else outcome.notice or SHOWN_HERE
        await self.sender.answer(query, toast, alert=outcome.alert and form is None)
        return None

    async def _show_rest(self, query: CallbackQuery, outcome: Outcome) -> None:
        """After the answer: the tapped message edited, replaced or closed, the replies sent
        (a tap on a member's ephemeral message: edited as one, the replies to them alone)."""
        message = query.message if isinstance(query.message, Message) else None
        sender = self._sender_for(message, query.from_user.id)
        chat_id = message.chat.id if message is not None else query.from_user.id
        replies = outcome.replies
        if outcome.in_place and replies and outcome.edit is None and outcome.to != "private":
            first = noted(replies[0], outcome.close or "")
            if await sender.replace_with(message, chat_id, first):
                await sender.send_replies(chat_id, replies[1:])
                return
        await self._edit_or_close(message, chat_id, outcome, query.from_user.id)
        await sender.send_replies(chat_id, replies)

    def _sender_for(self, message: Message | None, user_id: int) -> Sender:
        if self.members is None:
            return self.sender
        return self.members.sender_for(message, user_id)

    async def _edit_or_close(
        self, message: Message | None, chat_id: int, outcome: Outcome, user_id: int
    ) -> None:
        sender = self._sender_for(message, user_id)
        if outcome.edit is not None:
            if outcome.edit.kind == "assess":
                await sender.show_last_part(message, chat_id, outcome.edit)
            else:
                await sender.show_in_place(message, chat_id, outcome.edit)
        if outcome.close is not None:
            await sender.close(message, chat_id, outcome.close)


def noted(reply: Reply, note: str) -> Reply:
    """The reply with a closed card's note ("Good: see it again in 10m.") on top."""
    if not note.strip():
        return reply
    return replace(reply, text=f"{note}\n\n{reply.text}" if reply.text.strip() else note)
