"""Tests for bot.app: what the composition root derives from the configuration, and the
one line it starts with."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from typing import Any

import pytest

from bot.app import Backoff, push_policy, startup_summary, web_policy
from bot.config import (
    DatabaseSettings,
    DiscordSettings,
    PushSettings,
    Secret,
    Settings,
    TelegramSettings,
    default_settings,
)
from bot.config.settings import WebSettings
from bot.core.decks import DeckSet
from bot.core.webauth import link_key
from tests.fakes.decks import make_deck


def test_push_policy_follows_the_config_and_the_database() -> None:
    settings = PushSettings(remind_after_days=2, stop_after_days=9, misfire_grace_minutes=90)
    on_postgres = push_policy(settings, postgres=True)
    assert on_postgres.remind_after == timedelta(days=2)
    assert on_postgres.stop_after == timedelta(days=9)
    assert on_postgres.snooze_grace == timedelta(minutes=90)
    assert on_postgres.planners == 2  # transactions in parallel: plan side by side
    assert push_policy(settings, postgres=False).planners == 1  # SQLite has one writer


def settings_with(**sections: Any) -> Settings:
    """The default settings with a PostgreSQL URL that has a password, and ``sections``."""
    base = default_settings()
    database = DatabaseSettings(url="postgresql+asyncpg://bot:pw-SECRET@db:5432/studybot")
    return replace(base, database=database, **sections)


def test_the_start_up_line_sums_it_up() -> None:
    settings = settings_with(
        telegram=TelegramSettings(token=Secret("1:a")),
        discord=DiscordSettings(token=Secret("a.b.c"), shard_count=4, shard_ids=(2, 3)),
        push=PushSettings(tick_seconds=30),
    )
    decks = DeckSet(decks=(make_deck("a", ["a1", "a2"]), make_deck("b", ["b1"])))
    assert startup_summary(settings, decks, "0009") == (
        "studybot: telegram (polling), discord (gateway, shards 2, 3 of 4); 2 decks, 3 cards, "
        "0 challenges; database postgresql+asyncpg://bot:***@db:5432/studybot at schema 0009; "
        "push tick every 30 s"
    )


@pytest.mark.parametrize(
    ("telegram", "discord", "platforms"),
    [
        (
            TelegramSettings(token=Secret("1:a"), mode="send_only"),
            DiscordSettings(),
            "telegram (send only)",
        ),
        (
            TelegramSettings(
                token=Secret("1:a"), mode="webhook", webhook_url="https://x", webhook_port=9000
            ),
            DiscordSettings(token=Secret("a.b.c"), mode="send_only", shard_count=2),
            "telegram (webhook on 127.0.0.1:9000), discord (send only)",
        ),
        (
            TelegramSettings(),
            DiscordSettings(token=Secret("a.b.c"), shard_count=2),
            "discord (gateway, 2 shards)",
        ),
    ],
)
def test_the_start_up_line_says_how_each_platform_runs(
    telegram: TelegramSettings, discord: DiscordSettings, platforms: str
) -> None:
    line = startup_summary(settings_with(telegram=telegram, discord=discord), DeckSet(), None)
    assert line.startswith(f"studybot: {platforms}; 0 decks, 0 cards, 0 challenges;"), line
    assert "at schema empty;" in line


def test_a_platform_is_tried_again_after_waits_that_double_up_to_a_cap() -> None:
    backoff = Backoff(first=1.0, cap=60.0)
    waits = [backoff.first]
    for _ in range(7):
        waits.append(backoff.after(waits[-1]))
    assert waits == [1, 2, 4, 8, 16, 32, 60, 60]


def test_the_start_up_line_names_the_web_workspace_when_it_is_on() -> None:
    web = WebSettings(enabled=True, public_url="https://study.example.org/")
    line = startup_summary(settings_with(web=web), DeckSet(), None)
    assert line.endswith("; web workspace at https://study.example.org/app"), line
    assert "web workspace" not in startup_summary(settings_with(), DeckSet(), None)


def test_the_start_up_line_says_an_http_workspace_gets_no_telegram_button() -> None:
    web = WebSettings(enabled=True, public_url="http://127.0.0.1:8080")
    telegram = TelegramSettings(token=Secret("123456:ABC"))
    line = startup_summary(settings_with(web=web, telegram=telegram), DeckSet(), None)
    assert line.endswith(
        "; web workspace at http://127.0.0.1:8080/app"
        " (not https: Telegram chats offer no Open workspace button)"
    ), line
    # Without Telegram there is nothing to say.
    line = startup_summary(settings_with(web=web), DeckSet(), None)
    assert line.endswith("; web workspace at http://127.0.0.1:8080/app"), line


def test_the_web_policy_signs_links_with_the_web_secret_else_the_discord_token() -> None:
    web = WebSettings(
        enabled=True,
        public_url="https://study.example.org/",
        secret=Secret("s3cret"),
        init_data_max_age_seconds=300,
        link_minutes=5,
        session_hours=2,
    )
    discord = DiscordSettings(token=Secret("a.b.c"))
    policy = web_policy(
        settings_with(web=web, discord=discord, telegram=TelegramSettings(token=Secret("1:a")))
    )
    assert policy.public_url == "https://study.example.org"
    assert policy.link_key == link_key("s3cret", None)
    assert policy.telegram_token == "1:a"
    assert policy.init_data_max_age == timedelta(minutes=5)
    assert policy.link_life == timedelta(minutes=5)
    assert policy.session_life == timedelta(hours=2)
    no_secret = web_policy(settings_with(web=replace(web, secret=None), discord=discord))
    assert no_secret.link_key == link_key(None, "a.b.c")
    assert no_secret.telegram_token is None
    # Neither: no link is ever made (no Discord); a key of this process alone.
    alone = web_policy(settings_with(web=replace(web, secret=None)))
    assert len(alone.link_key) == 32
    assert alone.link_key != web_policy(settings_with(web=replace(web, secret=None))).link_key
