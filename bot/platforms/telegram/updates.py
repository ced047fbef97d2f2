"""Reading a Telegram update: who acted, in what kind of chat, with which command."""

from __future__ import annotations

from typing import Final

from telegram import Chat, Message, User
from telegram.constants import ChatType

from bot.core.learners import Who

__all__ = ["PLATFORM", "command_name", "is_private", "who_of"]

PLATFORM: Final = "telegram"


def who_of(user: User, *, dm_channel: int | None = None) -> Who:
    """The core's name for a Telegram account (``dm_channel``: their private chat, when
    the update came from there and it should be remembered)."""
    return Who(
        PLATFORM,
        str(user.id),
        user.full_name or user.username or str(user.id),
        None if dm_channel is None else str(dm_channel),
    )


def is_private(chat: Chat | None) -> bool:
    """Whether ``chat`` is a private chat with the bot (None: an inline message, treated so)."""
    return chat is None or chat.type == ChatType.PRIVATE


def command_name(message: Message) -> str:
    """The command a message starts with, lower case, without ``/`` or ``@botname``."""
    text = message.text or ""
    head = text.split(maxsplit=1)[0] if text.strip() else ""
    return head.lstrip("/").split("@", 1)[0].lower()
