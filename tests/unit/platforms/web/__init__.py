"""Tests for bot.platforms.web: the browser workspace."""
