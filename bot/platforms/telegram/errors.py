"""The one error handler of the Telegram adapter.

Whatever a handler raises ends here: it is logged with the chat and user ids
(never the token), the person gets a short apology, and the bot goes on. A
refusal to deliver (the person blocked the bot) is not an error: it is logged
quietly and the learner is marked unreachable. Nor is a chat Telegram kept
asking to wait (429) through every retry: one warning line, and a tap still gets
its answer.
"""

from __future__ import annotations

import logging
from typing import Final

from telegram import CallbackQuery, Chat, Update, User
from telegram.error import RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot.core.study import StudyService
from bot.platforms.telegram.formatting import to_html
from bot.platforms.telegram.sending import Sender, not_modified, unreachable
from bot.platforms.telegram.updates import is_private, who_of

__all__ = ["SORRY", "ErrorHandler"]

log = logging.getLogger(__name__)

SORRY: Final = "Sorry, something went wrong there. Your progress is safe; please try again."


class ErrorHandler:
    """Logs a failed update, tells the person briefly, and goes on.

    Args:
        sender: to answer the person.
        study: told when a learner turns out to be unreachable.
    """

    def __init__(self, sender: Sender, study: StudyService) -> None:
        self.sender = sender
        self.study = study

    async def on_error(self, update: object, context: ContextTypes.DEFAULT_TYPE) -> None:
        """PTB's error handler: log with chat and user ids, tell the user briefly."""
        error = context.error
        if error is None or not_modified(error):
            return
        chat: Chat | None = None
        user: User | None = None
        query: CallbackQuery | None = None
        if isinstance(update, Update):
            chat, user, query = update.effective_chat, update.effective_user, update.callback_query
        chat_id = chat.id if chat is not None else None
        user_id = user.id if user is not None else None
        if isinstance(error, TelegramError) and unreachable(error):
            log.info("telegram refused a message (chat %s, user %s): %s", chat_id, user_id, error)
            if user is not None and is_private(chat):
                await self.study.mark_unreachable(who_of(user))
            if query is not None:
                await self.sender.answer(query)
            return
        if isinstance(error, RetryAfter):  # the chat stayed held through every retry
            log.warning(
                "telegram kept chat %s waiting (429) through every retry (user %s)",
                chat_id,
                user_id,
            )
            if query is not None:  # a callback answer is not held with the chat
                await self.sender.answer(query, SORRY, alert=True)
            return
        log.error(
            "error handling a telegram update (chat %s, user %s)",
            chat_id,
            user_id,
            exc_info=error,
        )
        try:
            if query is not None:
                await self.sender.answer(query, SORRY, alert=True)
            elif chat_id is not None:
                await self.sender.send_text(chat_id, to_html(SORRY))
        except Exception:
            log.warning("could not tell chat %s about the error", chat_id, exc_info=True)
