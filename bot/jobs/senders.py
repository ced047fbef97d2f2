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
from datetime import datetime

from bot.core.pacing import Rate, Schedule
from bot.core.ports import Channel
from bot.core.pushes import ChatRows, PushService

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
    """Drain a platform's outbox until ``stop`` is set; idles a second when it is empty.

    Learners are served side by side, up to ``policy.chats_at_once`` at a time, and
    the loop takes more rows as soon as half of that room is free, never waiting for
    a whole batch: a slow chat (a request that times out, a DM discord.py holds
    for its route's limit) holds up only its own messages. A learner's rows taken
    while an earlier one of theirs is still under way go after it, in order (and
    wait with it if it must wait).
    """
    # A batch must go out well within its lease (2 minutes), whatever the pace.
    limit = max(1, min(25, int(pacer.rate * 60)))
    room = max(1, pushes.policy.chats_at_once)
    flights: dict[asyncio.Task[datetime | None], int] = {}  # task -> its learner
    last: dict[int, asyncio.Task[datetime | None]] = {}  # learner -> their latest task
    try:
        while not stop.is_set():
            free = room - len(flights)
            taken: list[ChatRows] = []
            if not flights or free * 2 >= room:
                try:
                    taken = await pushes.take(channel.name, min(limit, free))
                except asyncio.CancelledError:
                    raise
                except Exception:
                    log.exception("the %s sender failed; retrying in 5 s", channel.name)
                    await _idle(stop, 5.0)
                    continue
            for rows in taken:
                learner = rows[0][0].learner_id
                task = asyncio.create_task(
                    _in_turn(pushes, rows, last.get(learner), channel, pacer),
                    name=f"{channel.name}-push-{learner}",
                )
                flights[task] = learner
                last[learner] = task
            if not taken:
                if flights:
                    await _first_done(set(flights), stop, 1.0)
                else:
                    await _idle(stop, 1.0)
            for task in [t for t in flights if t.done()]:
                learner = flights.pop(task)
                if last.get(learner) is task:
                    del last[learner]
                if not task.cancelled() and task.exception() is not None:
                    log.error(
                        "the %s sender failed for learner %s",
                        channel.name,
                        learner,
                        exc_info=task.exception(),
                    )
    except BaseException:  # cancelled (the platform stops): so are the sends under way
        for task in flights:
            task.cancel()
        raise
    finally:  # stopped: the sends under way end first
        await asyncio.gather(*flights, return_exceptions=True)


async def _in_turn(
    pushes: PushService,
    rows: ChatRows,
    before: asyncio.Task[datetime | None] | None,
    channel: Channel,
    pacer: Pacer,
) -> datetime | None:
    """Deliver a learner's rows once their earlier rows are done (or wait with them)."""
    if before is not None:
        with contextlib.suppress(Exception):
            wait_until = await asyncio.shield(before)
            if wait_until is not None:
                await pushes.defer(rows, wait_until)
                return wait_until
    return await pushes.deliver(rows, channel.push, before_send=pacer.wait)


async def _first_done(
    tasks: set[asyncio.Task[datetime | None]], stop: asyncio.Event, seconds: float
) -> None:
    """Until one of ``tasks`` ends, ``stop`` is set, or ``seconds`` pass."""
    stopping = asyncio.ensure_future(stop.wait())
    try:
        await asyncio.wait({*tasks, stopping}, timeout=seconds, return_when=asyncio.FIRST_COMPLETED)
    finally:
        stopping.cancel()


async def _idle(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
