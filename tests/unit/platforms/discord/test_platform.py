"""Tests for bot.platforms.discord.platform: failed Discord API requests are counted.

discord.py's HTTP session carries :func:`request_trace`; here the same trace runs
on an aiohttp session against a server on loopback that answers as Discord does
when things go wrong.
"""

from __future__ import annotations

import bot.platforms.discord  # noqa: F401  (first: it imports discord.py without the audioop warning)

# isort: split
import socket
from collections import Counter
from contextlib import closing

import aiohttp
import pytest
from aiohttp import web

from bot.platforms.discord.platform import StudyClient, request_trace
from tests.fakes.metrics import RecordingMetrics


async def test_429s_server_errors_refusals_and_network_failures_are_counted() -> None:
    async def answer(request: web.Request) -> web.Response:
        return web.json_response({}, status=int(request.match_info["status"]))

    app = web.Application()
    app.router.add_get("/{status}", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    port = runner.addresses[0][1]
    with closing(socket.socket()) as unused:
        unused.bind(("127.0.0.1", 0))
        closed_port = unused.getsockname()[1]
    metrics = RecordingMetrics()
    try:
        async with aiohttp.ClientSession(trace_configs=[request_trace(metrics)]) as session:
            for status in (200, 204, 429, 429, 404, 403, 502):
                async with session.get(f"http://127.0.0.1:{port}/{status}") as response:
                    assert response.status == status
            with pytest.raises(aiohttp.ClientConnectionError):
                await session.get(f"http://127.0.0.1:{closed_port}/")
    finally:
        await runner.cleanup()
    assert metrics.errors == Counter(
        {("discord", "rate_limited"): 2, ("discord", "refused"): 2, ("discord", "network"): 2}
    )


async def test_the_client_makes_its_requests_with_the_trace() -> None:
    client = StudyClient(None, RecordingMetrics())
    try:
        assert client.http.http_trace is not None
    finally:
        await client.close()
