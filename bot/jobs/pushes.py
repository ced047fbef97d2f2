"""Daily pushes in the running bot: the tick, persistent snooze timers, paced senders."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable
from datetime import datetime, timedelta
from typing import TYPE_CHECKING

from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.base import BaseScheduler

from bot.jobs.runtime import current_app

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

PERSISTENT = "persistent"


async def tick(app: App) -> int:
    """Claim every learner whose push is due and queue their messages."""
    platforms = sorted(app.platforms)
    if not platforms:
        return 0
    claimed = await app.pushes.tick(platforms)
    if claimed:
        log.info("push tick: %d learners claimed", claimed)
    return claimed


async def snoozed_push(learner_id: int) -> None:
    """Persistent job target: queue the snoozed learner's push now."""
    app = current_app()
    queued = await app.pushes.push_learner(learner_id)
    log.info("snoozed push for learner %s: %s", learner_id, "queued" if queued else "skipped")


async def reveal_challenge(run_id: int) -> None:
    """Persistent job target: reveal a challenge run at its deadline (once, even if late)."""
    app = current_app()
    await app.deliver(await app.challenges.reveal_due(run_id))


async def challenge_sweep(app: App) -> int:
    """Start weekly challenges, reveal overdue runs (if a timer was lost), post summaries."""
    announcements = await app.challenges.sweep()
    await app.deliver(announcements)
    return len(announcements)


class SchedulerTimers:
    """The core's Timers port over APScheduler's persistent job store."""

    def __init__(self, scheduler: BaseScheduler, misfire_grace: timedelta) -> None:
        self.scheduler = scheduler
        self.misfire_grace = misfire_grace

    async def push_at(self, learner_id: int, when: datetime) -> None:
        await asyncio.to_thread(
            self.scheduler.add_job,
            "bot.jobs.pushes:snoozed_push",
            "date",
            run_date=when,
            args=[learner_id],
            id=f"snooze-{learner_id}",
            jobstore=PERSISTENT,
            replace_existing=True,
            misfire_grace_time=int(self.misfire_grace.total_seconds()),
            coalesce=True,
        )

    async def reveal_at(self, run_id: int, when: datetime) -> None:
        await asyncio.to_thread(
            self.scheduler.add_job,
            "bot.jobs.pushes:reveal_challenge",
            "date",
            run_date=when,
            args=[run_id],
            id=f"reveal-{run_id}",
            jobstore=PERSISTENT,
            replace_existing=True,
            misfire_grace_time=int(self.misfire_grace.total_seconds()),
            coalesce=True,
        )

    async def cancel_push(self, learner_id: int) -> None:
        with contextlib.suppress(JobLookupError):
            await asyncio.to_thread(
                self.scheduler.remove_job, f"snooze-{learner_id}", jobstore=PERSISTENT
            )


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


async def sender_loop(app: App, platform: str, pacer: Pacer, stop: asyncio.Event) -> None:
    """Drain a platform's outbox until ``stop`` is set; idles a second when it is empty."""
    target = app.platforms[platform]
    # A batch must go out well within its lease (2 minutes), whatever the pace.
    limit = max(1, min(25, int(pacer.rate * 60)))
    while not stop.is_set():
        try:
            tried = await app.pushes.drain(
                platform, target.push, limit=limit, before_send=pacer.wait
            )
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("the %s sender failed; retrying in 5 s", platform)
            tried = 0
            await _idle(stop, 5.0)
        if tried == 0:
            await _idle(stop, 1.0)


async def _idle(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), timeout=seconds)
