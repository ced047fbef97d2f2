"""The one error handler of the Telegram adapter.

Whatever a handler raises ends here: it is logged with the chat and user ids
(never the token), the person gets a short apology, and the bot goes on. A
refusal to deliver (the person blocked the bot) is not an error: it is logged
quietly and the learner is marked unreachable. Nor is a chat Telegram kept
asking to wait (429) through every retry: one warning line, and a tap still gets
its answer. Nor is a file the person sent that could not be downloaded: one
warning line (never its URL, which holds the token), and they are told to send
it again.
"""

from __future__ import annotations

import logging
from typing import Final

from telegram import CallbackQuery, Chat, Update, User
from telegram.error import BadRequest, Forbidden, RetryAfter, TelegramError
from telegram.ext import ContextTypes

from bot.core.study import StudyService
from bot.platforms.telegram.sending import FileUnavailable, Sender, not_modified, unreachable
from bot.platforms.telegram.updates import is_private, who_of

__all__ = ["CANNOT_POST_HERE", "SORRY", "ErrorHandler", "cannot_post"]

log = logging.getLogger(__name__)

SORRY: Final = "Sorry, something went wrong there. Your progress is safe; please try again."
CANNOT_POST_HERE: Final = (
    "I can't post in that group: I'm not allowed to send messages there. "
    "Ask an admin to let me send messages (and photos), then try again."
)
#: How Telegram says the bot may not write in a group (descriptions compared in lower case).
_NO_RIGHTS: Final = (
    "not enough rights",
    "chat_write_forbidden",
    "have no rights to send",
    "chat not found",
    "chat_restricted",
)


def cannot_post(exc: BaseException) -> bool:
    """Telegram refuses to let the bot post in a group: removed from it (403 "bot was
    kicked from the group chat"), or not allowed to send there (400 "not enough rights
    to send text messages", CHAT_WRITE_FORBIDDEN). A refusal about a user (blocked,
    never started) is not one."""
    text = str(exc).lower()
    if isinstance(exc, Forbidden):
        return "user" not in text
    return isinstance(exc, BadRequest) and any(words in text for words in _NO_RIGHTS)


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
        if chat is not None and not is_private(chat) and cannot_post(error):
            await self._cannot_post(chat.id, user, query, error)
            return
        if isinstance(error, TelegramError) and unreachable(error):
            log.info("telegram refused a message (chat %s, user %s): %s", chat_id, user_id, error)
            if user is not None and is_private(chat):
                await self.study.mark_unreachable(who_of(user))
            if query is not None:
                await self.sender.answer(query)
            return
        if isinstance(error, FileUnavailable):
            log.warning(
                "could not download a file telegram user %s sent (chat %s): %s",
                user_id,
                chat_id,
                error.why,
            )
            if chat_id is not None:
                await self._tell(chat_id, str(error))
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
            # A tap answered already (its outcome failed after the answer) is told in the chat.
            answered = query is not None and await self.sender.answer(query, SORRY, alert=True)
        except Exception:
            log.warning("could not tell chat %s about the error", chat_id, exc_info=True)
            return
        if not answered and chat_id is not None:
            await self._tell(chat_id, SORRY)

    async def _tell(self, chat_id: int, text: str) -> None:
        """Say ``text`` in the chat; a failure to is one warning, never another error."""
        try:
            await self.sender.send_markdown(chat_id, text)
        except Exception:
            log.warning("could not tell chat %s about the error", chat_id, exc_info=True)

    async def _cannot_post(
        self, chat_id: int, user: User | None, query: CallbackQuery | None, error: Exception
    ) -> None:
        """The bot may not write in this group: the person who asked is told privately
        (a toast for a tap; a private message, when they have started the bot)."""
        log.info("telegram refused a post to group %s: %s", chat_id, error)
        if query is not None and await self.sender.answer(query, CANNOT_POST_HERE, alert=True):
            return
        if user is None:
            return
        try:
            await self.sender.send_markdown(user.id, CANNOT_POST_HERE)
        except TelegramError as exc:
            log.info(
                "could not tell telegram user %s that I cannot post in %s: %s",
                user.id,
                chat_id,
                exc,
            )
