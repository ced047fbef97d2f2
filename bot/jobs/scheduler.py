"""APScheduler wiring: the timers the bot runs while it is up.

APScheduler only ticks; the database decides. Every job lives in memory and is
added again at each start: a push tick that claims whichever learners' next push
instant has passed (a snooze is such an instant), sweeps that close quiz rounds
and reveal overdue challenges, and housekeeping. One in-memory alarm is set at the
earliest open challenge deadline, read from the database at start and after every
sweep and reveal, so a challenge is revealed on time; were it lost, the next sweep
reveals the run, once, whichever process gets there first. A fitting tick (when
``[fitting]`` is on) claims learners whose memory model is due a look.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import UTC, datetime

from apscheduler.events import (
    EVENT_JOB_ERROR,
    EVENT_JOB_EXECUTED,
    EVENT_JOB_SUBMITTED,
    JobEvent,
)
from apscheduler.jobstores.base import JobLookupError
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.challenges.service import ChallengeService
from bot.core.delivery import Channels
from bot.core.fitting import ModelFitter
from bot.core.housekeeping import Housekeeping
from bot.core.pushes import PushService
from bot.core.quiz import QuizService

log = logging.getLogger(__name__)

DEADLINE_ALARM = "challenge_deadline"
PUSH_TICK_NOW = "push_tick_now"
QUIZ_SWEEP_SECONDS = 15
CHALLENGE_SWEEP_SECONDS = 30
PRUNE_HOURS = 6


class Jobs:
    """The bot's timers: what each one does, and the scheduler that runs them.

    Args:
        pushes, quiz, challenges, housekeeping: the services the jobs call.
        channels: the running platforms (the push tick plans pushes for them).
        tick_seconds: how often the push tick runs.
        fitter: fits learners' memory models (None: no fitting timer).
        fit_tick_seconds: how often the fitting tick runs.
    """

    def __init__(
        self,
        *,
        pushes: PushService,
        quiz: QuizService,
        challenges: ChallengeService,
        housekeeping: Housekeeping,
        channels: Channels,
        tick_seconds: int,
        fitter: ModelFitter | None = None,
        fit_tick_seconds: int = 60,
    ) -> None:
        self.pushes = pushes
        self.quiz = quiz
        self.challenges = challenges
        self.housekeeping = housekeeping
        self.channels = channels
        self.fitter = fitter
        self.scheduler = AsyncIOScheduler(
            job_defaults={"coalesce": True, "max_instances": 1}, timezone="UTC"
        )
        add = self.scheduler.add_job
        now = datetime.now(UTC)
        # The push tick and the challenge sweep run at start too: what came due while
        # the bot was down goes out at once, and the deadline alarm is set. A late tick
        # is simply the next tick; a late sweep runs once, late.
        add(
            self.push_tick,
            "interval",
            seconds=tick_seconds,
            id="push_tick",
            misfire_grace_time=tick_seconds,
            next_run_time=now,
        )
        add(
            self.close_quizzes,
            "interval",
            seconds=QUIZ_SWEEP_SECONDS,
            id="close_quizzes",
            misfire_grace_time=QUIZ_SWEEP_SECONDS,
        )
        add(
            self.challenge_sweep,
            "interval",
            seconds=CHALLENGE_SWEEP_SECONDS,
            id="challenge_sweep",
            misfire_grace_time=CHALLENGE_SWEEP_SECONDS,
            next_run_time=now,
        )
        add(self.prune, "interval", hours=PRUNE_HOURS, id="prune_old_rows", misfire_grace_time=3600)
        if fitter is not None:
            add(
                self.fit_tick,
                "interval",
                seconds=fit_tick_seconds,
                id="fit_tick",
                misfire_grace_time=fit_tick_seconds,
                next_run_time=now,  # a model due a look while the bot was down gets it now
            )

        #: Jobs submitted and not finished; stopping waits for them rather than cancel one
        #: halfway through a transaction.
        self._running = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.scheduler.add_listener(self._submitted, EVENT_JOB_SUBMITTED)
        self.scheduler.add_listener(self._finished, EVENT_JOB_EXECUTED | EVENT_JOB_ERROR)

    def _submitted(self, event: JobEvent) -> None:
        self._running += 1
        self._idle.clear()

    def _finished(self, event: JobEvent) -> None:
        self._running = max(0, self._running - 1)
        if not self._running:
            self._idle.set()

    def start(self) -> None:
        self.scheduler.start()

    async def stop(self, grace: float = 10.0) -> None:
        """Run no new job, let the ones running finish (up to ``grace`` seconds), then stop.

        A job cancelled halfway would roll its transaction back and be logged as an error.
        """
        if not self.scheduler.running:
            return
        self.scheduler.pause()
        try:
            await asyncio.wait_for(self._idle.wait(), grace)
        except TimeoutError:
            log.warning(
                "%d timer jobs still running after %.0f s; stopping them", self._running, grace
            )
        self.scheduler.shutdown(wait=False)

    def tick_now(self) -> None:
        """Run a push tick now, besides the regular ones: a platform has just started,
        and what is due for it should not wait for the next tick."""
        self.scheduler.add_job(
            self.push_tick, id=PUSH_TICK_NOW, replace_existing=True, misfire_grace_time=None
        )

    async def push_tick(self) -> int:
        """Claim every learner whose push is due and queue their messages."""
        platforms = self.channels.names()
        if not platforms:
            return 0
        claimed = await self.pushes.tick(platforms)
        if claimed:
            log.info("push tick: %d learners claimed", claimed)
        return claimed

    async def close_quizzes(self) -> int:
        """Close /quiz rounds whose window has ended and post their answers (exactly once)."""
        return await self.quiz.sweep()

    async def challenge_sweep(self) -> int:
        """Reveal overdue runs, start weekly challenges, post late summaries; set the alarm."""
        posted = await self.challenges.sweep()
        await self.arm_deadline()
        return posted

    async def reveal_at_deadline(self) -> int:
        """The deadline alarm: reveal what is due now, and set the alarm for the next one."""
        revealed = await self.challenges.reveal_overdue()
        await self.arm_deadline()
        return revealed

    async def arm_deadline(self) -> None:
        """Set the one alarm at the earliest open challenge deadline (or clear it)."""
        deadline = await self.challenges.next_deadline()
        if deadline is None:
            with contextlib.suppress(JobLookupError):
                self.scheduler.remove_job(DEADLINE_ALARM)
            return
        # No misfire limit: however late the loop gets to it, a due reveal runs once.
        self.scheduler.add_job(
            self.reveal_at_deadline,
            "date",
            run_date=deadline,
            id=DEADLINE_ALARM,
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def fit_tick(self) -> int:
        """Claim learners whose memory model is due a look, and fit those whose log has grown."""
        if self.fitter is None:
            return 0
        reports = await self.fitter.tick()
        fitted = sum(1 for r in reports if r.fit is not None)
        if fitted:
            log.info("fitting tick: %d of %d learners fitted", fitted, len(reports))
        return len(reports)

    async def prune(self) -> tuple[int, int, int, int]:
        """Housekeeping: old prompts, delivered outbox rows, old challenge photos and
        expired web sessions and one-time keys."""
        return await self.housekeeping.prune()
