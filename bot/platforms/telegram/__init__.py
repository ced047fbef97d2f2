"""Telegram (python-telegram-bot 22): study in private chats; /quiz and /challenge in groups."""

from bot.platforms.telegram.platform import TelegramPlatform
from bot.platforms.telegram.updates import PLATFORM

__all__ = ["PLATFORM", "TelegramPlatform"]
