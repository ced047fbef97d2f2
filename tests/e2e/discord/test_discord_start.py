"""Starting the real discord.py client offline: a rejected token, Discord out of reach, and
``send_only`` mode (pushes over HTTP, no gateway)."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from types import SimpleNamespace

import aiohttp
import discord
import pytest

import bot.platforms.discord.platform as discord_module
from bot.app import App, build_app, discord_platform
from bot.config import DiscordSettings, Secret, default_settings
from bot.core.messages import Reply
from bot.core.metrics import NULL_METRICS, Metrics
from bot.core.model import Learner
from bot.core.ports import CannotStart, Delivery, PlatformUnreachable
from bot.platforms.discord import DiscordPlatform, sync_commands
from bot.platforms.discord.platform import REJECTED_TOKEN, ShardedStudyClient, StudyClient
from tests.e2e.discord.discord_fakes import FakeDiscord, dm_channel_id
from tests.fakes.metrics import RecordingMetrics

TOKEN = "discord-test-token-do-not-log"
ALICE = 111_111_111_111_111_111


@pytest.fixture
def fake(monkeypatch: pytest.MonkeyPatch) -> FakeDiscord:
    discord_api = FakeDiscord()
    discord_api.install(monkeypatch)
    return discord_api


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    """A text-only app without decks, its Discord token set."""
    base = default_settings(data_dir=tmp_path)
    settings = replace(
        base,
        discord=replace(base.discord, token=Secret(TOKEN)),
        decks=replace(base.decks, paths=()),
    )
    built = await build_app(settings, auto_upgrade=True)
    try:
        yield built
    finally:
        await built.close()


def platform_of(app: App, mode: str = "gateway") -> DiscordPlatform:
    settings = replace(app.settings, discord=replace(app.settings.discord, mode=mode))
    return discord_platform(replace(app, settings=settings))


async def test_send_only_logs_in_and_pushes_over_http_without_the_gateway(
    app: App, fake: FakeDiscord
) -> None:
    platform = platform_of(app, "send_only")
    await platform.start()
    try:
        assert platform._task is None  # no gateway connection
        alice = Learner(1, "discord", str(ALICE), "Alice", datetime(2026, 3, 2, tzinfo=UTC))
        delivery = await platform.push(alice, Reply("info", "You have 3 cards due."))
    finally:
        await platform.stop()
    assert delivery == Delivery(reached=True, dm_channel=str(dm_channel_id(ALICE)))
    assert [(c.method, c.path) for c in fake.calls] == [
        ("GET", "/users/@me"),
        ("GET", "/oauth2/applications/@me"),
        ("POST", "/users/@me/channels"),
        ("POST", f"/channels/{dm_channel_id(ALICE)}/messages"),
    ]


async def test_a_rejected_token_is_one_line_without_the_token(app: App, fake: FakeDiscord) -> None:
    fake.login_failures.append(fake.error(401, 0))
    with pytest.raises(CannotStart) as info:
        await platform_of(app).start()
    assert str(info.value) == REJECTED_TOKEN
    assert TOKEN not in str(info.value)


@pytest.mark.parametrize(
    "failure",
    [aiohttp.ClientConnectionError("Cannot connect to host discord.com:443"), None],
    ids=["network", "5xx"],
)
async def test_discord_out_of_reach_is_said_in_one_line_and_the_start_can_be_tried_again(
    app: App, fake: FakeDiscord, failure: BaseException | None
) -> None:
    fake.login_failures.append(failure or fake.error(503, 0))
    platform = platform_of(app, "send_only")
    first = platform.client
    with pytest.raises(PlatformUnreachable) as info:
        await platform.start()
    assert str(info.value).startswith("cannot reach Discord (")
    assert platform.client is not first and first.is_closed()  # a closed client cannot log in
    await platform.start()
    await platform.stop()
    assert [c.path for c in fake.calls].count("/users/@me") == 2


async def test_discord_sync_with_a_rejected_token_is_one_line(app: App, fake: FakeDiscord) -> None:
    fake.login_failures.append(fake.error(401, 0))
    with pytest.raises(CannotStart) as info:
        await sync_commands(app.settings.discord)
    assert str(info.value) == REJECTED_TOKEN


def closed(code: int) -> discord.ConnectionClosed:
    """What discord.py raises when the gateway closes with ``code``."""
    return discord.ConnectionClosed(SimpleNamespace(close_code=code), shard_id=None)  # type: ignore[arg-type]


@pytest.mark.parametrize(
    ("failure", "line"),
    [
        (discord.PrivilegedIntentsRequired(None), "enable it for the bot in the Developer Portal"),
        (closed(4004), REJECTED_TOKEN),
        (closed(4011), "set [discord] shard_count"),
        (closed(4010), "check [discord] shard_ids and shard_count"),
        (closed(4999), "the gateway closed the connection with code 4999"),
        (RuntimeError(f"boom\n{TOKEN}"), "the gateway connection failed (RuntimeError: boom ***)"),
    ],
    ids=["intents", "token", "sharding-required", "invalid-shard", "unknown-code", "other"],
)
async def test_the_gateway_ending_for_good_is_one_error_line_and_discord_is_off(
    app: App,
    fake: FakeDiscord,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
    failure: Exception,
    line: str,
) -> None:
    """Past the login, discord.py gives up on the gateway: one error line saying what to do,
    no traceback, no token, and the platform reports itself not connected."""
    platform = platform_of(app)

    async def connect(*, reconnect: bool) -> None:
        raise failure

    monkeypatch.setattr(platform.client, "connect", connect)
    caplog.set_level(logging.INFO)
    await platform.start()
    try:
        assert platform._task is not None
        await platform._task
        assert not platform.connected
    finally:
        await platform.stop()
    [error] = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert error.getMessage().startswith("discord is off until restarted: ")
    assert line in error.getMessage()
    assert not error.exc_info  # no traceback below DEBUG
    assert TOKEN not in caplog.text


async def test_the_client_made_again_after_a_failed_start_keeps_counting(
    app: App, fake: FakeDiscord, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A closed client cannot log in again, so a failed start makes a new one: it counts
    Discord's errors in the same metrics as the first."""
    metrics = RecordingMetrics()
    platform = discord_platform(replace(app, metrics=metrics))
    made: list[Metrics] = []
    real = discord_module.make_client

    def make_client(
        settings: DiscordSettings, owner: DiscordPlatform | None, metrics: Metrics = NULL_METRICS
    ) -> StudyClient | ShardedStudyClient:
        made.append(metrics)
        return real(settings, owner, metrics)

    monkeypatch.setattr(discord_module, "make_client", make_client)
    fake.login_failures.append(fake.error(503, 0))
    with pytest.raises(PlatformUnreachable):
        await platform.start()
    try:
        assert made == [metrics]
    finally:
        await platform.client.close()
