"""Telegram: the study loop in private chats and /quiz in groups (python-telegram-bot 22)."""

from bot.platforms.telegram.platform import PLATFORM, TelegramPlatform, build_telegram

__all__ = ["PLATFORM", "TelegramPlatform", "build_telegram"]
