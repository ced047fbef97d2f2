"""``serve`` on a real database and timers, with platforms whose starts a test scripts.

A platform that cannot be reached is tried again in the background while the
others, the timers and the push senders run; once it starts, its pushes go out
at once (not at the next tick). One that refuses to start for good stops
everything that had started. A stop ends a start that is still being tried.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TypeVar

import pytest

from bot.app import App, Backoff, build_app, serve
from bot.config import default_settings
from bot.core.messages import Reply
from bot.core.model import Learner, LearnerSettings
from bot.core.ports import CannotStart, Delivery, PlatformUnreachable, Tx
from tests.contract.helpers import review_state, save_states
from tests.fakes.channels import FakeChannel
from tests.fakes.clock import FixedClock

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
#: No wait between attempts: the test decides when each attempt ends.
AT_ONCE = Backoff(first=0.0, cap=0.0)
T = TypeVar("T")


class Scripted(FakeChannel):
    """A platform whose every start attempt ends as the test says (:meth:`answer`)."""

    def __init__(self, name: str) -> None:
        super().__init__(name)
        self.outcomes: asyncio.Queue[BaseException | None] = asyncio.Queue()
        self.attempts = 0
        self.cancelled = 0
        self.running = False
        self.stopped = False
        self.waiting = asyncio.Event()
        self.pushed_once = asyncio.Event()

    def answer(self, outcome: BaseException | None) -> None:
        """End the attempt that waits (or the next): raise ``outcome``, or start."""
        self.outcomes.put_nowait(outcome)

    async def start(self) -> None:
        self.attempts += 1
        self.waiting.set()
        try:
            outcome = await self.outcomes.get()
        except asyncio.CancelledError:
            self.cancelled += 1
            raise
        finally:
            self.waiting.clear()
        if outcome is not None:
            raise outcome
        self.running = True

    async def stop(self) -> None:
        self.running = False
        self.stopped = True

    @property
    def connected(self) -> bool:
        return self.running

    async def push(self, learner: Learner, reply: Reply, *, skip: int = 0) -> Delivery:
        delivery = await super().push(learner, reply, skip=skip)
        self.pushed_once.set()
        return delivery


async def soon(awaitable: Awaitable[T]) -> T:
    """``awaitable``, within a few seconds of real time (the timers are real)."""
    return await asyncio.wait_for(awaitable, 10)


async def until(predicate: Callable[[], bool], what: str) -> None:
    """Let the event loop run until ``predicate()`` holds (a few thousand turns at most)."""
    for _ in range(10_000):
        if predicate():
            return
        await asyncio.sleep(0)
    raise AssertionError(f"never: {what}")


@pytest.fixture
async def app(tmp_path: Path) -> AsyncIterator[App]:
    """The app on a new SQLite file with the shipped decks, its clock at :data:`NOW`."""
    settings = default_settings(data_dir=tmp_path)
    built = await build_app(settings, auto_upgrade=True, clock=FixedClock(NOW))
    try:
        yield built
    finally:
        await built.close()


async def due_push(app: App, platform: str) -> None:
    """A learner of ``platform`` whose daily push is due, with one card due."""
    card = next(iter(app.decks.cards())).id

    def work_learner(tx: Tx) -> Learner:
        return tx.learners.create(
            platform, "1", "Ann", LearnerSettings(), (), NOW - timedelta(days=1)
        )

    learner = await app.db.run(work_learner)
    await app.db.run(lambda tx: tx.learners.set_next_push(learner.id, NOW - timedelta(minutes=1)))
    await save_states(app.db, review_state(learner.id, card, NOW - timedelta(hours=1)))


async def test_one_platform_runs_and_pushes_while_another_is_tried_again(
    app: App, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.app")
    alpha, beta = Scripted("alpha"), Scripted("beta")
    alpha.answer(None)
    beta.answer(PlatformUnreachable("cannot reach beta (NetworkError: Bad Gateway)"))
    await due_push(app, "alpha")
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, [alpha, beta], stop, backoff=AT_ONCE))

    await soon(alpha.pushed_once.wait())  # alpha's sender and the timers run
    await soon(beta.waiting.wait())
    assert alpha.running and not beta.running and beta.attempts == 2
    beta.answer(PlatformUnreachable("cannot reach beta (NetworkError: Bad Gateway)"))
    await until(lambda: beta.attempts == 3 and beta.waiting.is_set(), "a third attempt")
    # Due now, after the first tick: only the tick run when beta starts plans it.
    await due_push(app, "beta")
    beta.answer(None)
    await soon(beta.pushed_once.wait())
    assert app.channels.names() == ["alpha", "beta"]

    stop.set()
    await soon(serving)
    assert alpha.stopped and beta.stopped and app.channels.names() == []
    assert [r.getMessage() for r in caplog.records if r.name == "bot.app"] == [
        "beta: cannot reach beta (NetworkError: Bad Gateway); trying again in 0 s"
    ] * 2


async def test_a_platform_that_refuses_to_start_when_tried_again_stops_everything(
    app: App,
) -> None:
    alpha, beta = Scripted("alpha"), Scripted("beta")
    alpha.answer(None)
    beta.answer(PlatformUnreachable("cannot reach beta"))
    beta.answer(CannotStart("beta rejected the token"))
    with pytest.raises(CannotStart, match="beta rejected the token"):
        await soon(serve(app, [alpha, beta], asyncio.Event(), backoff=AT_ONCE))
    assert alpha.stopped and not beta.stopped and app.channels.names() == []


async def test_a_platform_that_refuses_to_start_at_once_stops_those_started(app: App) -> None:
    alpha, beta = Scripted("alpha"), Scripted("beta")
    alpha.answer(None)
    beta.answer(CannotStart("beta rejected the token"))
    with pytest.raises(CannotStart):
        await soon(serve(app, [alpha, beta], asyncio.Event(), backoff=AT_ONCE))
    assert alpha.stopped and app.channels.names() == []


async def test_a_stop_ends_the_starts_still_tried(app: App) -> None:
    """A stop during a first attempt, and during a later one: each is given up."""
    hanging = Scripted("alpha")
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, [hanging], stop, backoff=AT_ONCE))
    await soon(hanging.waiting.wait())
    stop.set()
    await soon(serving)
    assert hanging.cancelled == 1 and not hanging.stopped

    retried = Scripted("beta")
    retried.answer(PlatformUnreachable("cannot reach beta"))
    stop = asyncio.Event()
    serving = asyncio.create_task(serve(app, [retried], stop, backoff=AT_ONCE))
    await until(lambda: retried.attempts == 2 and retried.waiting.is_set(), "a second attempt")
    stop.set()
    await soon(serving)
    assert retried.cancelled == 1 and app.channels.names() == []
