"""Starting the real discord.py client offline: a rejected token, Discord out of reach, and
``send_only`` mode (pushes over HTTP, no gateway)."""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import aiohttp
import pytest

from bot.app import App, build_app, discord_platform
from bot.config import Secret, default_settings
from bot.core.messages import Reply
from bot.core.model import Learner
from bot.core.ports import CannotStart, Delivery, PlatformUnreachable
from bot.platforms.discord import DiscordPlatform, sync_commands
from bot.platforms.discord.platform import REJECTED_TOKEN
from tests.e2e.discord.discord_fakes import FakeDiscord, dm_channel_id

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
