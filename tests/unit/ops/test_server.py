"""Tests for bot.ops.server: /healthz and /metrics on loopback, and the lag monitor.

The server listens on 127.0.0.1, port 0 (a free port); the database ping, the
backlog and the platforms are stand-ins, so each test can say what they answer.
"""

from __future__ import annotations

import socket
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

import aiohttp
import pytest

from bot.core.model import Backlog
from bot.core.ports import CannotStart
from bot.ops.metrics import PrometheusMetrics
from bot.ops.server import LagMonitor, OpsServer
from tests.fakes.clock import FixedClock
from tests.scraping import health, scrape

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@dataclass
class FakePlatform:
    name: str
    connected: bool = False


@dataclass
class World:
    """What the server's checks find."""

    database_up: bool = True
    backlog: list[Backlog] = field(default_factory=list)
    backlog_reads: int = 0

    async def ping(self) -> None:
        if not self.database_up:
            raise ConnectionRefusedError("connection refused")

    async def read_backlog(self) -> list[Backlog]:
        self.backlog_reads += 1
        if not self.database_up:
            raise ConnectionRefusedError("connection refused")
        return self.backlog


@asynccontextmanager
async def serving(
    world: World, *platforms: FakePlatform, metrics: PrometheusMetrics | None = None
) -> AsyncIterator[tuple[OpsServer, str, aiohttp.ClientSession]]:
    server = OpsServer(
        host="127.0.0.1",
        port=0,
        metrics=metrics or PrometheusMetrics([p.name for p in platforms]),
        ping=world.ping,
        backlog=world.read_backlog,
        platforms=platforms,
        clock=FixedClock(NOW),
    )
    async with server, aiohttp.ClientSession() as session:
        assert server.port != 0
        yield server, f"http://127.0.0.1:{server.port}", session


async def test_healthz_is_ready_when_the_database_answers_and_every_platform_is_connected() -> None:
    telegram, discord = FakePlatform("telegram", True), FakePlatform("discord", True)
    async with serving(World(), telegram, discord) as (_, base, session):
        status, body = await health(session, base)
    assert status == 200
    assert body == {
        "live": True,
        "ready": True,
        "database": "ok",
        "platforms": {"telegram": "connected", "discord": "connected"},
        "not_ready": [],
    }


async def test_healthz_says_which_platform_is_not_connected() -> None:
    telegram, discord = FakePlatform("telegram", True), FakePlatform("discord", False)
    async with serving(World(), telegram, discord) as (_, base, session):
        status, body = await health(session, base)
        assert status == 503
        assert body["live"] is True and body["ready"] is False
        assert body["not_ready"] == ["discord: not connected"]
        discord.connected = True
        status, body = await health(session, base)
        assert status == 200 and body["ready"] is True


async def test_healthz_is_live_but_not_ready_while_the_database_does_not_answer(
    caplog: pytest.LogCaptureFixture,
) -> None:
    world = World(database_up=False)
    async with serving(world, FakePlatform("telegram", True)) as (_, base, session):
        status, body = await health(session, base)
        assert status == 503
        assert body["live"] is True
        assert body["database"] == "not answering (ConnectionRefusedError)"
        assert body["not_ready"] == ["database: not answering (ConnectionRefusedError)"]
        # /metrics still serves the counters when the outbox cannot be read.
        samples = await scrape(session, base)
        assert "studybot_reviews_total" in samples.names()
        world.database_up = True
        status, _ = await health(session, base)
        assert status == 200
    assert "the database does not answer" in caplog.text


async def test_metrics_reads_the_backlog_at_each_scrape() -> None:
    world = World(backlog=[Backlog("telegram", 4, NOW - timedelta(seconds=90))])
    metrics = PrometheusMetrics(["telegram"])
    async with serving(world, FakePlatform("telegram"), metrics=metrics) as (_, base, session):
        samples = await scrape(session, base)
        assert samples.value("studybot_outbox_depth", platform="telegram") == 4
        assert samples.value("studybot_outbox_oldest_age_seconds", platform="telegram") == 90
        world.backlog = []
        metrics.reviewed("push")
        samples = await scrape(session, base)
        assert samples.value("studybot_outbox_depth", platform="telegram") == 0
        assert samples.value("studybot_reviews_total", source="push") == 1
        async with session.get(f"{base}/nothing") as response:
            assert response.status == 404
    assert world.backlog_reads == 2


async def test_a_port_in_use_fails_in_one_line_naming_the_section() -> None:
    with closing(socket.socket()) as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        server = OpsServer(
            host="127.0.0.1",
            port=port,
            metrics=PrometheusMetrics(),
            ping=World().ping,
            backlog=World().read_backlog,
            platforms=(),
            clock=FixedClock(NOW),
        )
        with pytest.raises(
            CannotStart,
            match=rf"^\[ops\] cannot listen on 127.0.0.1:{port} \(Address already in use\): "
            r"set \[ops\] port to a free port",
        ):
            await server.start()


async def test_the_lag_monitor_reports_how_late_the_loop_woke() -> None:
    now = [100.0]
    reported: list[float] = []

    async def slow_sleep(seconds: float) -> None:
        now[0] += seconds + 0.25  # the loop was busy for a quarter of a second

    monitor = LagMonitor(reported.append, every=1.0, monotonic=lambda: now[0], sleep=slow_sleep)
    assert await monitor.measure() == 0.25
    assert reported == [0.25]

    async def early_sleep(seconds: float) -> None:
        now[0] += seconds - 0.001  # clocks differ a little: never a negative lag

    monitor.sleep = early_sleep
    assert await monitor.measure() == 0.0
