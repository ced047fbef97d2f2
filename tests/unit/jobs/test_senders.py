"""Tests for bot.jobs.senders: the pacer and the loop that drains a platform's outbox.

Time is injected: the pacer's clock and sleep are fakes, and the loop stops on
its event, so nothing waits for real time.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.learners import Who
from bot.core.messages import Reply
from bot.core.model import CardState, CardStateKind, Learner
from bot.core.ports import Delivery, DeliveryRetry
from bot.core.pushes import ChatRows, PushPolicy
from bot.jobs.senders import Pacer, sender_loop
from tests.fakes.channels import FakeChannel
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase
from tests.fakes.decks import make_deck
from tests.fakes.virtual_time import VirtualClock, run_virtual
from tests.services import Services, build_services

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
REACHED = Delivery(reached=True)


class FakeTime:
    """A monotonic clock that only moves when the pacer sleeps."""

    def __init__(self) -> None:
        self.now = 100.0
        self.slept: list[float] = []

    def monotonic(self) -> float:
        return self.now

    async def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds


async def test_the_pacer_lets_a_burst_through_then_paces() -> None:
    t = FakeTime()
    pacer = Pacer(4.0, burst=2, monotonic=t.monotonic, sleep=t.sleep)
    for _ in range(5):
        await pacer.wait()
    assert t.slept == [0.25, 0.25, 0.25]  # two at once, then one every quarter second


async def test_the_pacer_refills_while_idle() -> None:
    t = FakeTime()
    pacer = Pacer(2.0, burst=3, monotonic=t.monotonic, sleep=t.sleep)
    for _ in range(3):
        await pacer.wait()
    t.now += 1.0  # two sends' worth of time passes
    for _ in range(2):
        await pacer.wait()
    assert t.slept == []
    await pacer.wait()
    assert t.slept == [0.5]


def test_a_burst_is_at_least_one() -> None:
    t = FakeTime()
    assert Pacer(1.0, burst=0, monotonic=t.monotonic, sleep=t.sleep).burst == 1


async def due_pushes(
    count: int, clock: FixedClock | None = None, policy: PushPolicy | None = None
) -> Services[FakeDatabase]:
    """Services with ``count`` learners whose push is queued."""
    services = build_services(
        FakeDatabase([make_deck("d", ["c1"])], START), clock or FixedClock(START), policy=policy
    )
    for n in range(count):
        learner = await services.study.learner(Who("telegram", str(n)))

        def due(tx: object, lid: int = learner.id) -> None:
            tx.learners.set_next_push(lid, START)  # type: ignore[attr-defined]
            tx.schedule.save(  # type: ignore[attr-defined]
                CardState(lid, "c1", CardStateKind.REVIEW, None, 5.0, 5.0, START, START)
            )

        await services.db.run(due)
    assert await services.pushes.tick(["telegram"]) == count
    return services


async def test_the_loop_drains_at_the_pacers_pace_until_stopped() -> None:
    services = await due_pushes(3)
    stop = asyncio.Event()
    paced: list[str] = []

    class Pacing(Pacer):
        async def wait(self) -> None:
            paced.append("wait")

    def deliver(learner: Learner, reply: Reply) -> Delivery:
        paced.append(f"push {learner.platform_user_id}")
        if len(channel.pushed) == 3:
            stop.set()
        return Delivery(reached=True)

    channel = FakeChannel("telegram", deliver)
    await asyncio.wait_for(sender_loop(services.pushes, channel, Pacing(0.05), stop), 5)
    assert paced == ["wait", "push 0", "wait", "push 1", "wait", "push 2"]
    assert all(r.sent_at is not None for r in services.db.outbox())


async def test_a_batch_is_no_more_than_a_minute_of_sends() -> None:
    """At 0.05 sends a second a batch is 3 messages, so it goes out well within its lease."""
    services = await due_pushes(4)
    stop = asyncio.Event()
    seen: list[int] = []
    take = services.pushes.take

    async def counting(platform: str, limit: int) -> list[ChatRows]:
        seen.append(limit)
        stop.set()
        return await take(platform, limit)

    services.pushes.take = counting  # type: ignore[method-assign]
    t = FakeTime()
    pacer = Pacer(0.05, monotonic=t.monotonic, sleep=t.sleep)
    await asyncio.wait_for(sender_loop(services.pushes, FakeChannel("telegram"), pacer, stop), 5)
    assert seen == [3]
    assert sum(r.sent_at is not None for r in services.db.outbox()) == 3
    assert t.slept == [20.0, 20.0]  # paced, on the fake clock


async def test_a_failing_take_is_logged_and_the_loop_goes_on(
    caplog: pytest.LogCaptureFixture,
) -> None:
    services = await due_pushes(1)
    stop = asyncio.Event()
    calls = 0

    async def broken(platform: str, limit: int) -> list[ChatRows]:
        nonlocal calls
        calls += 1
        stop.set()  # stop after this one: the 5 s pause returns at once
        raise RuntimeError("database gone")

    services.pushes.take = broken  # type: ignore[method-assign]
    with caplog.at_level(logging.ERROR, logger="bot.jobs.senders"):
        await asyncio.wait_for(
            sender_loop(services.pushes, FakeChannel("telegram"), Pacer(10.0), stop), 5
        )
    assert calls == 1
    assert "the telegram sender failed; retrying in 5 s" in caplog.text


def test_the_pacer_keeps_its_rate_for_callers_side_by_side() -> None:
    """The sender delivers to several chats at once: each waiter gets its own instant."""

    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        pacer = Pacer(4.0, monotonic=loop.time)
        went: list[float] = []

        async def one() -> None:
            await pacer.wait()
            went.append(loop.time())

        await asyncio.gather(*(one() for _ in range(5)))
        return went

    assert run_virtual(main()) == pytest.approx([0.0, 0.25, 0.5, 0.75, 1.0])


class SlowChannel(FakeChannel):
    """A platform on virtual time: each push to a chat in ``slow`` takes that long, then
    does what ``then`` says; every push's start is noted (user id, virtual instant)."""

    def __init__(self, slow: dict[str, float], then: Delivery | Exception = REACHED) -> None:
        super().__init__("telegram")
        self.slow = slow
        self.then = then
        self.started: list[tuple[str, float]] = []

    async def push(self, learner: Learner, reply: Reply, *, skip: int = 0) -> Delivery:
        user = learner.platform_user_id
        self.started.append((user, asyncio.get_running_loop().time()))
        if user in self.slow:
            await asyncio.sleep(self.slow[user])
            if isinstance(self.then, Exception):
                raise self.then
        self.pushed.append((learner, reply, skip))
        return REACHED


async def run_sender(
    services: Services[FakeDatabase], channel: FakeChannel, seconds: float
) -> None:
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    sender = asyncio.ensure_future(
        sender_loop(services.pushes, channel, Pacer(25.0, monotonic=loop.time), stop)
    )
    await asyncio.sleep(seconds)
    stop.set()
    await sender


def test_a_slow_chat_does_not_hold_up_the_next_rows() -> None:
    """Forty learners due, more than one take: the first learner's chat takes ten
    minutes; everyone else's push goes out within the first seconds."""

    async def main() -> SlowChannel:
        services = await due_pushes(40, VirtualClock(START))
        channel = SlowChannel({"0": 600.0})
        await run_sender(services, channel, 10.0)
        return channel

    channel = run_virtual(main())
    started = dict(channel.started)
    assert len(started) == 40
    assert max(t for user, t in started.items() if user != "0") < 3.0


def test_a_learners_later_row_waits_behind_their_earlier_one_and_with_it() -> None:
    """Room for two chats: Ana's first push is slow and then told to wait a minute; her
    second, taken meanwhile, is not sent before it and waits the same minute, untried."""

    async def main() -> tuple[SlowChannel, Services[FakeDatabase]]:
        clock = VirtualClock(START)
        services = await due_pushes(2, clock, PushPolicy(chats_at_once=2))
        ana = services.db.outbox()[0].message
        again = replace(ana, id=0, prompt_token="second00", text="second")
        await services.db.run(lambda tx: tx.pushes.add_outbox([again]))
        channel = SlowChannel({"0": 30.0}, then=DeliveryRetry("429", retry_after=60))
        await run_sender(services, channel, 45.0)
        return channel, services

    channel, services = run_virtual(main())
    assert [user for user, _ in channel.started] == ["0", "1"]  # Ana's second never tried
    pending = sorted((r for r in services.db.outbox() if r.pending), key=lambda r: r.message.id)
    later = START + timedelta(seconds=90)
    assert [(r.message.text, r.message.not_before, r.message.attempts) for r in pending] == [
        (pending[0].message.text, later, 1),
        ("second", later, 0),
    ]
