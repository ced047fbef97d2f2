"""Paced senders: each platform's outbox drained at a pace under the platform's limits.

The sender's pace caps pushes as a whole; each chat's own pace and a 429's wait are
the platform adapter's (Telegram: :mod:`bot.core.pacing`), and
:meth:`~bot.core.pushes.PushService.drain` sends to several chats side by side.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

from bot.core.pacing import Rate, Schedule
from bot.core.ports import Channel
from bot.core.pushes import PushService

log = logging.getLogger(__name__)


class Pacer:
    """At most ``rate`` sends a second, with bursts up to ``burst``, for a sender
    that delivers to several chats side by side (:class:`~bot.core.pacing.Schedule`:
    each caller reserves its instant, so concurrent callers keep the rate).

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
        self.schedule = Schedule(Rate(rate, self.burst), monotonic())

    async def wait(self) -> None:
        now = self.monotonic()
        at = self.schedule.reserve(now)
        if at > now:
            await self.sleep(at - now)


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
