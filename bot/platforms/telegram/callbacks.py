"""Button taps: each callback query goes to the core, and its outcome is shown.

The payload goes to :meth:`bot.core.inputs.Inputs.press` as it came; the
:class:`~bot.core.outcomes.Outcome` is rendered here. The query is answered
once (with the notice as a toast, if any); then the tapped message is edited or
closed; then the replies are sent. Replies meant for the person alone
(``private``) that come from a tap in a group go to their private chat, and the
toast says so; when Telegram refuses because they never started the bot, they
get a link that starts it.
"""

from __future__ import annotations

import logging
from typing import Final

from telegram import CallbackQuery, Message, Update
from telegram.error import TelegramError
from telegram.ext import ContextTypes

from bot.core.inputs import Inputs
from bot.core.learners import Who
from bot.core.outcomes import Outcome
from bot.core.study import StudyService
from bot.platforms.telegram.challenges import JOIN_PREFIX
from bot.platforms.telegram.sending import Sender, unreachable
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


class Callbacks:
    """Handles callback queries (button taps).

    Args:
        sender: sends, edits and answers.
        inputs: where taps go.
        study: told when a member turns out to be unreachable.
    """

    def __init__(self, sender: Sender, inputs: Inputs, study: StudyService) -> None:
        self.sender = sender
        self.inputs = inputs
        self.study = study

    async def on_callback(self, update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        """A button was tapped: its outcome, shown."""
        query = update.callback_query
        if query is None:
            return
        who = who_of(query.from_user)
        outcome = await self.inputs.press(who, query.data or "")
        await self.show(query, who, outcome)

    async def show(self, query: CallbackQuery, who: Who, outcome: Outcome) -> None:
        """Render a tap's outcome: answer, edit or close the tapped message, send the replies."""
        sender = self.sender
        message = query.message if isinstance(query.message, Message) else None
        chat_id = message.chat.id if message is not None else query.from_user.id
        elsewhere = (
            bool(outcome.replies)
            and outcome.to == "private"
            and not is_private(message.chat if message is not None else None)
        )
        if not elsewhere:
            await sender.answer(query, outcome.notice, alert=outcome.alert)
        if outcome.edit is not None:
            if outcome.edit.kind == "assess":
                await sender.show_last_part(message, chat_id, outcome.edit)
            else:
                await sender.show_in_place(message, chat_id, outcome.edit)
        if outcome.close is not None:
            await sender.close(message, chat_id, outcome.close)
        if not elsewhere:
            await sender.send_replies(chat_id, outcome.replies)
            return
        user_id = query.from_user.id
        try:
            await sender.send_replies(user_id, outcome.replies)
        except TelegramError as exc:
            if not unreachable(exc):
                raise
            log.info("telegram user %s has not started the bot; sending a start link", user_id)
            await self.study.mark_unreachable(who)
            if outcome.form is not None:
                link = sender.link(f"{JOIN_PREFIX}{outcome.form.run_token}")
                await sender.answer(query, JOIN_START_FIRST, alert=True, url=link)
            else:
                await sender.answer(query, START_FIRST, alert=True, url=sender.link("quiz"))
            return
        sent = JOINED_PRIVATELY if outcome.form is not None else SENT_PRIVATELY
        await sender.answer(query, outcome.notice or sent, alert=outcome.alert)
