"""Starting the real PTB application over the fake Bot API: what a start says when it fails,
``send_only`` mode, and a failed poll in one log line."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from dataclasses import replace
from pathlib import Path

import pytest

from bot.app import App, build_app, telegram_platform
from bot.config import Secret, default_settings
from bot.core.messages import Reply
from bot.core.ports import CannotStart, PlatformUnreachable
from bot.platforms.telegram import TelegramPlatform
from bot.platforms.telegram.platform import POLLING_CONFLICT, REJECTED_TOKEN
from tests.e2e.process.harness import free_port
from tests.e2e.telegram.fake import TOKEN, FakeBotAPI

GROUP = -1001234567890


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    """A text-only app without decks, its Telegram token set."""
    base = default_settings(data_dir=tmp_path)
    settings = replace(
        base,
        telegram=replace(base.telegram, token=Secret(TOKEN), base_url="http://127.0.0.1:9/bot"),
        decks=replace(base.decks, paths=()),
    )
    built = await build_app(settings, auto_upgrade=True)
    try:
        yield built
    finally:
        await built.close()


def platform_of(app: App, api: FakeBotAPI, mode: str = "polling") -> TelegramPlatform:
    settings = replace(app.settings, telegram=replace(app.settings.telegram, mode=mode))
    return telegram_platform(replace(app, settings=settings), request=api)


async def until(predicate: Callable[[], object], what: str) -> None:
    """Let the event loop run until ``predicate()`` holds (a few thousand turns at most)."""
    for _ in range(10_000):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never: {what}")


async def test_send_only_checks_the_token_and_takes_no_updates(app: App) -> None:
    api = FakeBotAPI()
    platform = platform_of(app, api, "send_only")
    await platform.start()
    try:
        await platform.announce(str(GROUP), Reply("quiz_result", "The answer"))
    finally:
        await platform.stop()
    assert [call.endpoint for call in api.calls] == ["getMe", "sendMessage"]


async def test_a_rejected_token_is_one_line_without_the_token(app: App) -> None:
    api = FakeBotAPI()
    api.fail("getMe", "unauthorized")
    with pytest.raises(CannotStart) as info:
        await platform_of(app, api).start()
    assert str(info.value) == REJECTED_TOKEN
    assert info.value.__cause__ is None and info.value.__suppress_context__
    assert TOKEN not in str(info.value)


async def test_an_unreachable_bot_api_is_said_in_one_line_and_the_start_can_be_tried_again(
    app: App,
) -> None:
    api = FakeBotAPI()
    api.fail("getMe", "network")
    platform = platform_of(app, api)
    with pytest.raises(PlatformUnreachable) as info:
        await platform.start()
    assert str(info.value) == (
        "cannot reach the Telegram Bot API (NetworkError: connection reset by fake peer)"
    )
    await platform.start()
    try:
        assert platform.application.updater is not None
        assert platform.application.updater.running
    finally:
        await platform.stop()
    assert [c.endpoint for c in api.calls if c.endpoint != "getUpdates"] == [
        "getMe",
        "getMe",
        "setMyCommands",
        "setMyCommands",
        "deleteWebhook",
    ]


@pytest.mark.parametrize(
    ("kind", "line"),
    [
        ("conflict", POLLING_CONFLICT),
        (
            "network",
            "telegram: polling failed, trying again: NetworkError: connection reset by fake peer",
        ),
    ],
)
async def test_a_failed_poll_is_one_line(
    app: App, caplog: pytest.LogCaptureFixture, kind: str, line: str
) -> None:
    """PTB's polling loop tries again by itself; each failure is one line, no traceback."""
    caplog.set_level(logging.DEBUG)
    api = FakeBotAPI()
    api.fail("getUpdates", kind)
    platform = platform_of(app, api)
    await platform.start()
    try:
        await until(lambda: any(r.getMessage() == line for r in caplog.records), line)
    finally:
        await platform.stop()
    loud = [r for r in caplog.records if r.levelno >= logging.WARNING]
    assert [r.getMessage() for r in loud] == [line]
    assert all(r.exc_info is None for r in loud)


async def test_a_refused_webhook_is_one_line_naming_the_key(app: App) -> None:
    api = FakeBotAPI()
    api.fail("setWebhook", "bad_request")
    telegram = replace(
        app.settings.telegram,
        mode="webhook",
        webhook_url="https://bot.example.org/telegram/hook",
        webhook_port=free_port(),
    )
    platform = telegram_platform(
        replace(app, settings=replace(app.settings, telegram=telegram)), request=api
    )
    with pytest.raises(CannotStart) as info:
        await platform.start()
    assert str(info.value) == (
        "Telegram refused the webhook (Can't parse entities: unexpected end tag): "
        "check [telegram] webhook_url"
    )
    assert not platform.application.running


@pytest.mark.parametrize(
    ("public_url", "offered"),
    [
        ("https://study.example.org", "https://study.example.org"),
        ("http://127.0.0.1:8080", None),  # Telegram opens Mini Apps over https only
    ],
)
def test_chats_offer_the_mini_app_only_over_https(
    app: App, public_url: str, offered: str | None
) -> None:
    web = replace(app.settings.web, enabled=True, public_url=public_url)
    on = telegram_platform(
        replace(app, settings=replace(app.settings, web=web)), request=FakeBotAPI()
    )
    off = telegram_platform(app, request=FakeBotAPI())
    assert on.sender.workspace_url == offered
    assert off.sender.workspace_url is None
