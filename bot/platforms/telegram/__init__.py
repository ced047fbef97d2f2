"""Telegram (python-telegram-bot 22): study in private chats; /quiz and /challenge in groups."""

from bot.platforms.telegram.platform import PLATFORM, TelegramPlatform, build_telegram

__all__ = ["PLATFORM", "TelegramPlatform", "build_telegram"]
