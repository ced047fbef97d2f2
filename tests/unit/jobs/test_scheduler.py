"""Tests for bot.jobs.scheduler: what each timer does, and the challenge deadline alarm.

The scheduler is started only to show that stopping waits for a running job
(which waits on an event), and nothing sleeps: the job methods are called
directly and the alarm is read back with ``scheduler.get_job``. (On a scheduler
that has not started, APScheduler keeps added jobs in a pending list and only
replaces a job of the same id at start, so each test arms the alarm from a
fresh :class:`Jobs` at most once before reading it.)
"""

from __future__ import annotations

import asyncio
import logging
from datetime import UTC, datetime, timedelta
from functools import partial

import pytest
from apscheduler.triggers.date import DateTrigger
from apscheduler.triggers.interval import IntervalTrigger

from bot.core.challenges.definitions import ChallengeDef
from bot.core.challenges.groups import ChallengeCatalog
from bot.core.delivery import Channels
from bot.core.fitting import FitPolicy, ModelFitter
from bot.core.learners import Who
from bot.core.ports import Tx
from bot.jobs.scheduler import DEADLINE_ALARM, Jobs
from tests.fakes.channels import FakeChannel
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase
from tests.fakes.decks import make_deck
from tests.services import Services, build_services

START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
ADA = Who("telegram", "1", "Ada")
TEN = ChallengeDef("ten", "set", "Ten minutes", "derivation", 10, "Derive it.", "Like so.")
THIRTY = ChallengeDef("thirty", "set", "Thirty minutes", "essay", 30, "Write it.", "Like so.")


class Env:
    def __init__(self) -> None:
        self.services: Services[FakeDatabase] = build_services(
            FakeDatabase([make_deck("d", ["c1"])], START),
            FixedClock(START),
            catalog=ChallengeCatalog({"ten": TEN, "thirty": THIRTY}),
        )
        self.channels = Channels()
        self.clock = self.services.clock

    def jobs(self) -> Jobs:
        """A fresh set of timers over the same services (never started)."""
        s = self.services
        return Jobs(
            pushes=s.pushes,
            quiz=s.quiz,
            challenges=s.challenges,
            housekeeping=s.housekeeping,
            channels=self.channels,
            tick_seconds=60,
        )

    async def start(self, challenge_id: str, chat: str) -> None:
        outcome = await self.services.challenges.start(ADA, chat, challenge_id, None, True)
        assert outcome.replies[0].kind == "challenge", outcome


@pytest.fixture
def env() -> Env:
    return Env()


def alarm_at(jobs: Jobs) -> datetime | None:
    job = jobs.scheduler.get_job(DEADLINE_ALARM)
    if job is None:
        return None
    assert isinstance(job.trigger, DateTrigger) and job.misfire_grace_time is None
    run_date: datetime = job.trigger.run_date
    return run_date


async def test_the_timers(env: Env) -> None:
    jobs = env.jobs()
    got = {job.id: job for job in jobs.scheduler.get_jobs()}
    assert set(got) == {"push_tick", "close_quizzes", "challenge_sweep", "prune_old_rows"}
    intervals = {}
    for job_id, job in got.items():
        assert isinstance(job.trigger, IntervalTrigger)
        intervals[job_id] = job.trigger.interval
    assert intervals == {
        "push_tick": timedelta(seconds=60),
        "close_quizzes": timedelta(seconds=15),
        "challenge_sweep": timedelta(seconds=30),
        "prune_old_rows": timedelta(hours=6),
    }
    assert got["push_tick"].func == jobs.push_tick
    assert got["challenge_sweep"].func == jobs.challenge_sweep
    assert alarm_at(jobs) is None
    assert not jobs.scheduler.running
    await jobs.stop()  # not running: nothing to stop


async def test_arm_deadline_sets_the_alarm_at_the_earliest_open_deadline(env: Env) -> None:
    await env.start("thirty", "-1")
    await env.start("ten", "-2")
    jobs = env.jobs()
    await jobs.arm_deadline()
    assert alarm_at(jobs) == START + timedelta(minutes=10)
    assert jobs.scheduler.get_job(DEADLINE_ALARM).func == jobs.reveal_at_deadline


async def test_arm_deadline_clears_the_alarm_when_no_run_is_open(env: Env) -> None:
    await env.start("ten", "-1")
    jobs = env.jobs()
    await jobs.arm_deadline()
    assert alarm_at(jobs) is not None
    await env.services.challenges.cancel(ADA, "-1", is_admin=True)
    await jobs.arm_deadline()
    assert alarm_at(jobs) is None
    await env.jobs().arm_deadline()  # nothing to clear: no error


async def test_the_alarm_reveals_once_and_rearms_for_the_next_deadline(env: Env) -> None:
    await env.start("ten", "-1")
    await env.start("thirty", "-2")
    env.clock.set(START + timedelta(minutes=10))
    jobs = env.jobs()
    assert await jobs.reveal_at_deadline() == 1
    (revealed,) = env.services.announcer.take()
    assert revealed.chat_id == "-1" and revealed.reply.kind == "challenge_result"
    assert alarm_at(jobs) == START + timedelta(minutes=30)
    assert await jobs.reveal_at_deadline() == 0  # once
    assert env.services.announcer.take() == []


async def test_the_challenge_sweep_arms_the_alarm_too(env: Env) -> None:
    await env.start("ten", "-1")
    jobs = env.jobs()
    assert await jobs.challenge_sweep() == 0
    assert alarm_at(jobs) == START + timedelta(minutes=10)


async def test_the_challenge_sweep_reveals_what_came_due_while_down(env: Env) -> None:
    await env.start("ten", "-1")
    env.clock.set(START + timedelta(hours=2))
    jobs = env.jobs()
    assert await jobs.challenge_sweep() == 1
    assert alarm_at(jobs) is None


def set_next_push(tx: Tx, learner_id: int, when: datetime) -> None:
    tx.learners.set_next_push(learner_id, when)


async def test_the_push_tick_plans_for_the_attached_platforms_only(env: Env) -> None:
    services = env.services
    ids = {}
    for platform in ("telegram", "discord"):
        learner = await services.study.learner(Who(platform, "1"))
        await services.db.run(partial(set_next_push, learner_id=learner.id, when=START))
        ids[platform] = learner.id
    jobs = env.jobs()
    assert await jobs.push_tick() == 0  # no platform running: nobody claimed
    assert services.db.store.learners[ids["telegram"]].next_push_at == START

    env.channels.attach(FakeChannel("telegram"))
    assert await jobs.push_tick() == 1
    assert services.db.store.learners[ids["telegram"]].next_push_at != START
    assert services.db.store.learners[ids["discord"]].next_push_at == START


async def test_the_quiz_sweep_and_housekeeping_call_their_services(env: Env) -> None:
    services = env.services
    await services.quiz.start(ADA, "-1", "d")
    jobs = env.jobs()
    assert await jobs.close_quizzes() == 0
    env.clock.advance(timedelta(minutes=10))
    assert await jobs.close_quizzes() == 1
    assert [a.reply.kind for a in services.announcer.take()] == ["quiz_result"]
    await services.study.next(ADA)  # a button prompt
    assert await jobs.prune() == (0, 0, 0, 0)
    env.clock.advance(timedelta(days=31))
    assert await jobs.prune() == (1, 0, 0, 0)


async def test_stopping_lets_a_running_job_finish_instead_of_cancelling_it(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    """SIGTERM during the push tick: the tick completes, no new job starts, nothing errs."""
    jobs = env.jobs()
    entered, release, finished = asyncio.Event(), asyncio.Event(), asyncio.Event()

    async def slow_tick() -> int:
        entered.set()
        await release.wait()
        finished.set()
        return 0

    jobs.scheduler.remove_all_jobs()
    jobs.scheduler.add_job(slow_tick, "date", run_date=datetime.now(UTC), id="slow")
    jobs.start()
    await asyncio.wait_for(entered.wait(), 5)
    stopping = asyncio.create_task(jobs.stop())
    await asyncio.sleep(0)  # let stop() pause the scheduler and start waiting
    assert not stopping.done()
    release.set()
    await asyncio.wait_for(stopping, 5)
    assert finished.is_set()
    assert not jobs.scheduler.running
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


# --------------------------------------------------------------------------- fitting


async def test_the_fitting_tick_runs_only_with_a_fitter() -> None:
    env = Env()
    assert env.jobs().scheduler.get_job("fit_tick") is None
    assert await env.jobs().fit_tick() == 0
    s = env.services
    await s.study.next(ADA)  # enrols Ada: never looked at, so due a look at once
    fitter = ModelFitter(s.db, s.clock, FitPolicy(recheck=timedelta(hours=6)))
    jobs = Jobs(
        pushes=s.pushes,
        quiz=s.quiz,
        challenges=s.challenges,
        housekeeping=s.housekeeping,
        channels=env.channels,
        tick_seconds=60,
        fitter=fitter,
        fit_tick_seconds=120,
    )
    job = jobs.scheduler.get_job("fit_tick")
    assert job is not None and isinstance(job.trigger, IntervalTrigger)
    assert job.trigger.interval == timedelta(seconds=120)
    assert await jobs.fit_tick() == 1  # looked at (too few reviews to fit)
    assert await jobs.fit_tick() == 0  # not again before the recheck
    learner = s.db.learner("telegram", "1")
    assert learner is not None
    assert s.db.run_sync(lambda tx: tx.models.next_at(learner.id)) == START + timedelta(hours=6)
