"""The operators' HTTP endpoint: ``/healthz`` and ``/metrics``, on the bot's event loop.

``/healthz`` answers as long as the process lives: 200 once the database answers
and every platform is connected, 503 otherwise, with a JSON body that says which
part is not ready. ``/metrics`` is the Prometheus text format; the outbox gauges
are read from the database just before each scrape. A :class:`LagMonitor` keeps
the event-loop lag gauge current. Built and started by :mod:`bot.app` when
``[ops] enabled`` is true.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import Awaitable, Callable, Sequence
from types import TracebackType
from typing import Any, Final, Protocol

from aiohttp import web

from bot.core.model import Backlog
from bot.core.ports import CannotStart, Clock
from bot.ops.metrics import CONTENT_TYPE, PrometheusMetrics

__all__ = ["CHECK_SECONDS", "LagMonitor", "OpsServer", "Probe"]

log = logging.getLogger(__name__)

#: The longest a health check or a backlog read may take before it counts as failed.
CHECK_SECONDS: Final = 5.0


class Probe(Protocol):
    """A platform as the health check sees it."""

    @property
    def name(self) -> str:
        """The platform's name."""
        ...

    @property
    def connected(self) -> bool:
        """Whether it is connected and taking updates now."""
        ...


class LagMonitor:
    """Measures how late the event loop wakes a timer, every ``every`` seconds.

    ``monotonic`` and ``sleep`` are injectable so tests never wait for real time.
    """

    def __init__(
        self,
        report: Callable[[float], None],
        every: float = 1.0,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.report = report
        self.every = every
        self.monotonic = monotonic
        self.sleep = sleep

    async def measure(self) -> float:
        """Sleep once; report and return how much later than asked the loop woke."""
        began = self.monotonic()
        await self.sleep(self.every)
        lag = max(0.0, self.monotonic() - began - self.every)
        self.report(lag)
        return lag

    async def run(self) -> None:
        """Measure until cancelled."""
        while True:
            await self.measure()


class OpsServer:
    """``/healthz`` and ``/metrics`` over HTTP; use it as an async context manager.

    Args:
        host: the address to listen on.
        port: the port (0 picks a free one; :attr:`port` says which).
        metrics: what ``/metrics`` serves.
        ping: answers when the database does (raises otherwise).
        backlog: each platform's pending pushes, for the outbox gauges.
        platforms: the platforms this process runs.
        clock: to age the outbox's oldest row.
    """

    def __init__(
        self,
        *,
        host: str,
        port: int,
        metrics: PrometheusMetrics,
        ping: Callable[[], Awaitable[None]],
        backlog: Callable[[], Awaitable[list[Backlog]]],
        platforms: Sequence[Probe],
        clock: Clock,
    ) -> None:
        self.host = host
        self.port = port
        self.metrics = metrics
        self.ping = ping
        self.backlog = backlog
        self.platforms = tuple(platforms)
        self.clock = clock
        self.lag = LagMonitor(metrics.set_loop_lag)
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        self._runner = web.AppRunner(app, access_log=None, handle_signals=False)
        self._lag_task: asyncio.Task[None] | None = None

    async def start(self) -> None:
        """Listen, and start measuring the event-loop lag.

        Raises:
            CannotStart: the address cannot be listened on (the port is taken, say).
        """
        await self._runner.setup()
        site = web.TCPSite(self._runner, self.host, self.port)
        try:
            await site.start()
        except OSError as exc:
            await self._runner.cleanup()
            raise CannotStart(
                f"[ops] cannot listen on {self.host}:{self.port} "
                f"({os.strerror(exc.errno) if exc.errno else exc}): set [ops] port to a free port, "
                "or [ops] host to an address of this machine"
            ) from None
        address: Any = self._runner.addresses[0]
        self.port = int(address[1])
        self._lag_task = asyncio.create_task(self.lag.run(), name="event-loop-lag")
        log.info("ops endpoint on http://%s:%d (/healthz, /metrics)", self.host, self.port)

    async def stop(self) -> None:
        """Stop measuring and listening."""
        task, self._lag_task = self._lag_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self._runner.cleanup()

    async def __aenter__(self) -> OpsServer:
        await self.start()
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.stop()

    async def health(self) -> dict[str, Any]:
        """What ``/healthz`` says: live, ready, and the state of each part."""
        try:
            await asyncio.wait_for(self.ping(), CHECK_SECONDS)
            database = "ok"
        except Exception as exc:  # any failure means "not ready"; the details go to the log
            log.warning("health check: the database does not answer: %s", exc)
            database = f"not answering ({type(exc).__name__})"
        platforms = {
            p.name: "connected" if p.connected else "not connected" for p in self.platforms
        }
        not_ready = [f"database: {database}"] if database != "ok" else []
        not_ready += [
            f"{name}: {state}" for name, state in platforms.items() if state != "connected"
        ]
        return {
            "live": True,
            "ready": not not_ready,
            "database": database,
            "platforms": platforms,
            "not_ready": not_ready,
        }

    async def _healthz(self, request: web.Request) -> web.Response:
        body = await self.health()
        return web.json_response(body, status=200 if body["ready"] else 503)

    async def _metrics(self, request: web.Request) -> web.Response:
        try:
            backlog = await asyncio.wait_for(self.backlog(), CHECK_SECONDS)
        except Exception as exc:  # the counters are still worth serving
            log.warning("metrics: cannot read the outbox: %s", exc)
        else:
            names = [p.name for p in self.platforms]
            self.metrics.set_backlog(backlog, self.clock.now(), names)
        return web.Response(body=self.metrics.exposition(), headers={"Content-Type": CONTENT_TYPE})
