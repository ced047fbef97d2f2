"""Tests for bot.app: what the composition root derives from the configuration."""

from __future__ import annotations

from datetime import timedelta

from bot.app import push_policy
from bot.config import PushSettings


def test_push_policy_follows_the_config_and_the_database() -> None:
    settings = PushSettings(remind_after_days=2, stop_after_days=9, misfire_grace_minutes=90)
    on_postgres = push_policy(settings, postgres=True)
    assert on_postgres.remind_after == timedelta(days=2)
    assert on_postgres.stop_after == timedelta(days=9)
    assert on_postgres.snooze_grace == timedelta(minutes=90)
    assert on_postgres.planners == 2  # transactions in parallel: plan side by side
    assert push_policy(settings, postgres=False).planners == 1  # SQLite has one writer
