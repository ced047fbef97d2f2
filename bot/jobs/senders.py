"""Paced senders: each platform's outbox drained at a pace under the platform's limits."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot.core.ports import Channel
from bot.core.pushes import PushService

log = logging.getLogger(__name__)


class Pacer:
    """A token bucket: at most ``rate`` sends a second, with bursts up to ``burst``.

    ``monotonic`` and ``sleep`` are injectable so tests never wait for real time.
    """

    def __init__(
        self,
        rate: float,
        burst: int = 1,
        *,
        monotonic: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self.rate = rate
        self.burst = max(1, burst)
        self.monotonic = monotonic
        self.sleep = sleep
        self.tokens = float(self.burst)
        self.stamp = monotonic()

    async def wait(self) -> None:
        now = self.monotonic()
        self.tokens = min(self.burst, self.tokens + (now - self.stamp) * self.rate)
        self.stamp = now
        if self.tokens < 1:
            await self.sleep((1 - self.tokens) / self.rate)
            self.stamp = self.monotonic()
            self.tokens = 0.0
        else:
            self.tokens -= 1


async def sender_loop(
    pushes: PushService, channel: Channel, pacer: Pacer, stop: asyncio.Event
) -> None:
    """Drain a platform's outbox until ``stop`` is set; idles a second when it is empty."""
    # A batch must go out well within its lease (2 minutes), whatever the pace.
    limit = max(1, min(25, int(pacer.rate * 60)))
    while not stop.is_set():
        try:
            tried = await pushes.drain(
                channel.name, channel.push, limit=limit, before_send=pacer.wait
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the %s sender failed; retrying in 5 s", channel.name)
            tried = 0
            await _idle(stop, 5.0)
        if tried == 0:
            await _idle(stop, 1.0)


async def _idle(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
