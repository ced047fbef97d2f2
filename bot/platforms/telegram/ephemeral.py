"""Bot API ephemeral messages on the wire: a message in a group that one member alone sees.

python-telegram-bot 22.8 speaks Bot API 10.0, so the parameters go in as extra fields of
the ordinary send methods (added by :class:`~.sending.PacedRateLimiter` to every post made
inside :func:`only_for`), and the marks of an answer are read from ``api_kwargs``.

What this relies on (the Bot API changes of 10.2 and 10.3 as listed in the
telegram-bot-api server's changelog, and the methods and types of the libraries that
follow it: aiogram 3.31, tgbot 0.47, teloxide, televerse; read on 2026-12-07):

- 10.2: ``sendMessage``, ``sendPhoto``, ``sendDocument`` (and ``sendAnimation``,
  ``sendAudio``, ``sendLivePhoto``, ``sendSticker``, ``sendVideo``, ``sendVideoNote``,
  ``sendVoice``, ``sendContact``, ``sendLocation``, ``sendVenue``) take ``receiver_user_id``
  (and ``callback_query_id``). The Message returned carries ``receiver_user`` and
  ``ephemeral_message_id``. Such a message is edited with ``editEphemeralMessageText``,
  ``editEphemeralMessageCaption``, ``editEphemeralMessageMedia`` and
  ``editEphemeralMessageReplyMarkup``, and deleted with ``deleteEphemeralMessage``: each
  names ``chat_id``, ``receiver_user_id`` and ``ephemeral_message_id`` and returns True.
  ``ReplyParameters`` gained ``ephemeral_message_id`` (a reply to an ephemeral message);
  members can send the bot ephemeral commands and replies to its ephemeral messages
  (TDLib's ``sendEphemeralMessage``), which the bot and they alone see.
- 10.3 replaced the two parameters by ``ephemeral_message_parameters``
  (``EphemeralMessageParameters``: ``receiver_user_id``, ``callback_query_id``,
  ``replace_callback_query_message``, which must be false for a callback query from an
  ephemeral message: that one is edited with the ``editEphemeralMessage…`` methods), took it
  in ``sendRichMessage`` too, and allowed new uploads in ``editEphemeralMessageMedia``.
- Delivery is not guaranteed, "especially if they are offline".

Where the documentation is silent, the safest choice was taken:

- Both forms are sent (the flat ``receiver_user_id`` of 10.2 and the object of 10.3): the
  Bot API ignores parameters it does not know.
- A server that ignores both posts the message to the whole group. So a message is trusted
  as ephemeral only when its answer carries ``ephemeral_message_id`` or ``receiver_user``;
  otherwise :class:`EphemeralIgnored` is raised, and the caller deletes it at once and
  stops using ephemeral messages in this process.
- Only the methods 10.2 lists get the parameters. Any other post made for one member
  (``sendRichMessage``, ``copyMessage``) raises :class:`NotEphemeral` before it goes, so
  it takes the private way instead of reaching the whole group.
- A callback query from an ephemeral message is taken to quote it with its
  ``ephemeral_message_id``; its ``message_id`` is not relied upon.
- A member's answer to the bot's ephemeral message may come as an ephemeral message of
  theirs or as an ordinary group message replying to it (:func:`addressed_to_bot`): both
  are taken.
- Ephemeral messages are assumed to count in the group's twenty a minute: they are
  paced as group messages.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Any, Final

from telegram import Message

__all__ = [
    "SENDS",
    "EphemeralIgnored",
    "NotEphemeral",
    "addressed_to_bot",
    "checked",
    "ephemeral_id",
    "only_for",
    "prepare",
]

#: The send methods that take ``receiver_user_id`` (Bot API 10.2).
SENDS: Final = frozenset(
    {
        "sendMessage",
        "sendAnimation",
        "sendAudio",
        "sendDocument",
        "sendLivePhoto",
        "sendPhoto",
        "sendSticker",
        "sendVideo",
        "sendVideoNote",
        "sendVoice",
        "sendContact",
        "sendLocation",
        "sendVenue",
    }
)
#: Methods named like posts that post nothing.
_NOT_POSTS: Final = frozenset({"sendChatAction"})
_POSTS: Final = ("send", "copyMessage", "forwardMessage")

_RECEIVER: ContextVar[int | None] = ContextVar("telegram_ephemeral_receiver", default=None)


class NotEphemeral(Exception):
    """A post for one member by a method that cannot be shown to one member; not sent."""

    def __init__(self, endpoint: str) -> None:
        super().__init__(f"{endpoint} cannot be sent to one member of a group")
        self.endpoint = endpoint


class EphemeralIgnored(Exception):
    """The server posted a message meant for one member to the whole chat (it ignored
    ``receiver_user_id``: a Bot API server older than 10.2)."""

    def __init__(self, chat_id: int, message_id: int) -> None:
        super().__init__(f"message {message_id} in chat {chat_id} went to everyone")
        self.chat_id = chat_id
        self.message_id = message_id


@contextmanager
def only_for(user_id: int) -> Iterator[None]:
    """Every message posted inside (in this task) is shown to ``user_id`` alone."""
    token = _RECEIVER.set(user_id)
    try:
        yield
    finally:
        _RECEIVER.reset(token)


def prepare(endpoint: str, data: dict[str, Any]) -> int | None:
    """Before a request: inside :func:`only_for`, a post gets the parameters that show it
    to one member; returns that member (None: an ordinary request).

    Raises:
        NotEphemeral: the method cannot be shown to one member (nothing is sent).
    """
    user_id = _RECEIVER.get()
    if user_id is None or not endpoint.startswith(_POSTS) or endpoint in _NOT_POSTS:
        return None
    if endpoint not in SENDS:
        raise NotEphemeral(endpoint)
    data["receiver_user_id"] = user_id
    data["ephemeral_message_parameters"] = {"receiver_user_id": user_id}
    return user_id


def checked(result: Any, receiver: int | None, chat_id: int | str | None) -> Any:
    """After a request :func:`prepare` made ephemeral: its answer must say so.

    Raises:
        EphemeralIgnored: the message was posted to everyone in the chat.
    """
    if receiver is None or not isinstance(result, dict):
        return result
    if "ephemeral_message_id" in result or "receiver_user" in result:
        return result
    chat = result.get("chat", {}).get("id", chat_id)
    raise EphemeralIgnored(int(chat), int(result.get("message_id", 0)))


def ephemeral_id(message: Message | None) -> int | None:
    """The ephemeral message id of a message one member alone sees (None: an ordinary one).
    PTB 22.8 does not know the field: it is in ``api_kwargs``."""
    if message is None:
        return None
    value = message.api_kwargs.get("ephemeral_message_id")
    return value if isinstance(value, int) and not isinstance(value, bool) else None


def addressed_to_bot(message: Message, bot_id: int) -> bool:
    """A group message meant for the bot alone: one of the member's own ephemeral
    messages, or a reply to an ephemeral message the bot showed them."""
    if ephemeral_id(message) is not None:
        return True
    quoted = message.reply_to_message
    if quoted is None or ephemeral_id(quoted) is None:
        return False
    return quoted.from_user is None or quoted.from_user.id == bot_id
