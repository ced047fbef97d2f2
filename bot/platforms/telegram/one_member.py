"""A message in a group for one member alone: Telegram's ephemeral messages, or nothing.

:class:`OneMember` shows core replies inside a group to one member (see :mod:`.ephemeral`
for the Bot API it relies on) and remembers, for this process, where the server will
not: every group when it refused the parameter or ignored it (a message posted to the
whole group is deleted at once), one group when the refusal was about that group. The
callers keep the private chat as their way when it says no (for the replies it did not
show: :meth:`OneMember.show` says how many it did), so nothing is lost or seen twice.
:class:`EphemeralSender` is the :class:`~.sending.Sender` of one member's ephemeral
messages: what it posts goes to them alone, and it edits and deletes their ephemeral
messages with the ``editEphemeralMessage…`` methods.

Pace: an ephemeral message takes a place in its group's schedule like any group message
(twenty a minute). :meth:`OneMember.has_room` says whether the group can take one now,
so an interactive reply waits for a crowded group only when no private chat can take it.
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Sequence
from typing import Any, Final, Literal, TypeVar

from telegram import InlineKeyboardMarkup, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.core.messages import Reply
from bot.core.pacing import Pacing
from bot.core.rendering import RenderedImage
from bot.platforms.telegram.ephemeral import (
    EphemeralIgnored,
    NotEphemeral,
    ephemeral_id,
    only_for,
)
from bot.platforms.telegram.sending import NO_PREVIEW, Sender, not_modified

__all__ = ["ROOM_WAIT", "EphemeralSender", "OneMember", "refusal_scope"]

log = logging.getLogger(__name__)
T = TypeVar("T")

#: A group whose next message may go within this many seconds has room for an
#: interactive ephemeral reply; beyond it, a member with a private chat is answered there.
ROOM_WAIT: Final = 2.0


class EphemeralSender(Sender):
    """Sends to one member of a group only, and edits and deletes their ephemeral
    messages (an ordinary message passed to it is edited as usual).

    Args:
        base: the platform's sender (its bot, renderer and photo cache are shared).
        user_id: the member.
    """

    def __init__(self, base: Sender, user_id: int) -> None:
        super().__init__(base.bot, base.renderer)
        self.sleep = base.sleep
        self._file_ids = base._file_ids
        self._answered = base._answered
        self.user_id = user_id
        # sendRichMessage is not among the methods that take receiver_user_id (Bot API
        # 10.2): a card for one member goes as today's text, formulas drawn or in Unicode.
        self.rich.missing = True

    async def call(self, request: Callable[[], Awaitable[T]]) -> T:
        with only_for(self.user_id):
            return await super().call(request)

    async def _ephemeral(self, endpoint: str, message: Message, fields: dict[str, Any]) -> None:
        """One ``editEphemeralMessage…``/``deleteEphemeralMessage`` request about
        ``message``; "not modified" is fine."""
        bot = self.bot
        kwargs: dict[str, Any] = {
            "chat_id": message.chat_id,
            "receiver_user_id": self.user_id,
            "ephemeral_message_id": ephemeral_id(message),
            **fields,
        }
        try:
            await self.call(lambda: bot.do_api_request(endpoint, api_kwargs=kwargs))
        except BadRequest as exc:
            if not not_modified(exc):
                raise

    async def edit(
        self, message: Message, html_text: str, markup: InlineKeyboardMarkup | None
    ) -> None:
        if ephemeral_id(message) is None:
            await super().edit(message, html_text, markup)
            return
        fields: dict[str, Any] = {"parse_mode": ParseMode.HTML}
        if markup is not None:
            fields["reply_markup"] = markup
        if message.photo:
            await self._ephemeral(
                "editEphemeralMessageCaption", message, {**fields, "caption": html_text}
            )
        else:
            fields.update(text=html_text, link_preview_options=NO_PREVIEW)
            await self._ephemeral("editEphemeralMessageText", message, fields)

    async def edit_photo(
        self,
        message: Message,
        image: RenderedImage,
        caption: str,
        markup: InlineKeyboardMarkup | None,
    ) -> None:
        """An ephemeral photo keeps its picture and takes the new caption: uploads in
        ``editEphemeralMessageMedia`` came only with Bot API 10.3."""
        if ephemeral_id(message) is None:
            await super().edit_photo(message, image, caption, markup)
            return
        await self.edit(message, caption, markup)

    async def _remove_keyboard(self, message: Message) -> None:
        if ephemeral_id(message) is None:
            await super()._remove_keyboard(message)
            return
        await self._ephemeral("editEphemeralMessageReplyMarkup", message, {})

    async def delete(self, message: Message) -> None:
        if ephemeral_id(message) is None:
            await super().delete(message)
            return
        try:
            await self._ephemeral("deleteEphemeralMessage", message, {})
        except BadRequest as exc:  # gone already, or never seen: nothing left to tidy
            log.info("could not delete an ephemeral telegram message: %s", exc)


#: Words of a refusal of the parameter itself (or of ephemeral messages as such).
_ABOUT_THE_FEATURE: Final = (
    "parameter",
    "ephemeral",
    "receiver_user_id",
    "unknown",
    "not supported",
    "unsupported",
)


#: Words of a refusal of one message's content (its HTML, its length, its picture).
_ABOUT_THE_MESSAGE: Final = (
    "can't parse",
    "too long",
    "photo_",
    "image_process",
    "wrong file",
    "file identifier",
)


def refusal_scope(exc: TelegramError) -> Literal["process", "group", "member", "message"]:
    """What a refusal of an ephemeral message is about: that one message (its content:
    nothing remembered), ephemeral messages as such (the server's version: none in this
    process), the group (the bot may not write there, or it is gone), or that member (not
    in the group); when it cannot tell, the process."""
    text = str(exc).lower()
    if any(words in text for words in _ABOUT_THE_MESSAGE):
        return "message"
    if any(word in text for word in _ABOUT_THE_FEATURE):
        return "process"
    if isinstance(exc, Forbidden) or "chat" in text or "rights" in text:
        return "group"
    if any(word in text for word in ("user", "member", "participant")):
        return "member"
    return "process"


class OneMember:
    """Shows replies in a group to one member alone, while the server takes it.

    Args:
        sender: the platform's sender.
        pacing: the platform's pacing (how soon a group can take a message).
        enabled: ``[telegram] ephemeral_messages``.
    """

    def __init__(self, sender: Sender, pacing: Pacing, *, enabled: bool) -> None:
        self.sender = sender
        self.pacing = pacing
        #: False once the server refused or ignored the parameter (until a restart).
        self.enabled = enabled
        #: Groups where the server refused an ephemeral message (until a restart).
        self.refused_in: set[int] = set()

    def usable(self, chat_id: int) -> bool:
        """Whether an ephemeral message may be tried in this chat (a group)."""
        return self.enabled and chat_id < 0 and chat_id not in self.refused_in

    def has_room(self, chat_id: int) -> bool:
        """Usable, and the group can take a message within :data:`ROOM_WAIT` seconds."""
        return self.usable(chat_id) and self.pacing.wait_for(chat_id) <= ROOM_WAIT

    def sender_for(self, message: Message | None, user_id: int) -> Sender:
        """The sender that shows a tap's outcome: the member's ephemeral sender when they
        tapped one of their ephemeral messages (its edits and replies stay theirs alone)."""
        if ephemeral_id(message) is None:
            return self.sender
        return EphemeralSender(self.sender, user_id)

    async def show(self, chat_id: int, user_id: int, replies: Sequence[Reply]) -> int:
        """Show ``replies`` in the group to ``user_id`` alone, in order: how many were
        shown. Fewer than all when the server will not show the next one (nothing of it
        stays visible to others): the caller takes its private way for the rest
        (``replies[shown:]``) alone, so the member sees none of them twice.

        Raises:
            telegram.error.RetryAfter, telegram.error.NetworkError: as any send does.
        """
        if not replies or not self.usable(chat_id):
            return 0
        sender = EphemeralSender(self.sender, user_id)
        shown = 0
        try:
            for reply in replies:
                await sender.send_reply(chat_id, reply)
                shown += 1
        except EphemeralIgnored as exc:
            self.enabled = False
            log.warning(
                "telegram ignored receiver_user_id (a Bot API server older than 10.2?): a "
                "message for one member went to all of chat %s; deleting it, and no more "
                "ephemeral messages until a restart",
                chat_id,
            )
            await self._take_back(exc.chat_id, exc.message_id)
            return shown
        except NotEphemeral as exc:
            log.info("telegram: %s; shown privately instead", exc)
            return shown
        except (BadRequest, Forbidden) as exc:
            scope = refusal_scope(exc)
            if scope == "member":
                log.info("telegram refused an ephemeral message for user %s: %s", user_id, exc)
            elif scope == "message":
                log.info("telegram refused an ephemeral message in chat %s: %s", chat_id, exc)
            elif scope == "group":
                self.refused_in.add(chat_id)
                log.warning(
                    "telegram refused ephemeral messages in chat %s (%s): private chats there "
                    "until a restart",
                    chat_id,
                    exc,
                )
            else:
                self.enabled = False
                log.warning(
                    "telegram refused ephemeral messages (%s): private chats until a restart",
                    exc,
                )
            return shown
        return shown

    async def _take_back(self, chat_id: int, message_id: int) -> None:
        """Delete a message the server posted to everyone instead of one member."""
        bot = self.sender.bot
        try:
            await self.sender.call(
                lambda: bot.delete_message(chat_id=chat_id, message_id=message_id)
            )
        except TelegramError as exc:
            log.warning(
                "could not delete message %s in chat %s that went to everyone: %s",
                message_id,
                chat_id,
                exc,
            )

    async def remove(self, message: Message) -> bool:
        """Delete a member's message from the group (their answer, posted where all could
        see it); False when the bot may not (it needs the right to delete messages)."""
        if ephemeral_id(message) is not None:
            return True  # the bot and they alone see it
        bot = self.sender.bot
        try:
            await self.sender.call(
                lambda: bot.delete_message(chat_id=message.chat_id, message_id=message.message_id)
            )
        except TelegramError as exc:
            log.info("could not delete a member's answer in chat %s: %s", message.chat_id, exc)
            return False
        return True
