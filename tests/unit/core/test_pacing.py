"""Tests for bot.core.pacing: per-chat and overall pacing, on virtual time only.

Each test runs on :class:`~tests.fakes.virtual_time.VirtualTimeLoop`: the pacer's
clock is the loop's, and every sleep moves that clock instead of waiting.
"""

from __future__ import annotations

import asyncio

import pytest

from bot.core.pacing import ChatBusy, Pacing, Rate, Schedule
from tests.fakes.virtual_time import run_virtual


def now() -> float:
    return asyncio.get_running_loop().time()


async def send_times(pacing: Pacing, chats: list[int | str | None], **kwargs: bool) -> list[float]:
    """Ask for a place for each chat, all at once; returns when each one went."""
    went: list[float] = [0.0] * len(chats)

    async def one(i: int, chat: int | str | None) -> None:
        await pacing.slot(chat, **kwargs)
        went[i] = now()

    await asyncio.gather(*(one(i, c) for i, c in enumerate(chats)))
    return went


def test_one_private_chat_gets_a_short_burst_then_one_message_a_second() -> None:
    """Three at once after a pause (a learner tapping quickly is not kept waiting), then
    one a second: a longer run keeps to Telegram's pace."""
    went = run_virtual(send_times(Pacing(), [7, 7, 7, 7, 7, 7]))
    assert went == pytest.approx([0.0, 0.04, 0.08, 1.0, 2.0, 3.0])  # the overall pace between
    steady = run_virtual(send_times(Pacing(private=Rate(1.0)), [7, 7, 7, 7]))
    assert steady == pytest.approx([0.0, 1.0, 2.0, 3.0])


def test_a_group_takes_a_short_burst_then_twenty_a_minute() -> None:
    went = run_virtual(send_times(Pacing(), [-100] * 30, group=True))
    assert went[:5] == pytest.approx([0.0, 0.04, 10 / 3, 20 / 3, 10.0])  # overall pace between
    # Never more than twenty in any sixty seconds: nineteen, one in hand for a first
    # message the overall pace delays (then the burst's end is closer to the next ones).
    assert max(sum(start <= t < start + 60 for t in went) for start in went) == 19


def test_different_chats_share_only_the_overall_pace() -> None:
    """Fifty chats, one message each: 25 a second in all, none waits for a chat."""
    went = run_virtual(send_times(Pacing(), list(range(50))))
    assert went == pytest.approx([i / 25 for i in range(50)])
    assert sum(t < 1.0 for t in went) == 25


def test_a_held_chat_waits_and_the_others_do_not() -> None:
    async def main() -> tuple[list[float], list[float]]:
        pacing = Pacing()
        pacing.hold(1, 30.0)  # a 429 with retry_after 30 for chat 1
        held, free = await asyncio.gather(send_times(pacing, [1, 1]), send_times(pacing, [2, 3, 4]))
        return held, free

    held, free = run_virtual(main())
    assert held == pytest.approx([30.0, 31.0])
    assert max(free) < 0.2


def test_a_hold_that_comes_while_waiting_moves_the_waiters_after_it_in_order() -> None:
    async def main() -> list[tuple[str, float]]:
        pacing = Pacing()
        order: list[tuple[str, float]] = []

        async def send(name: str) -> None:
            await pacing.slot(9)
            order.append((name, now()))

        first = asyncio.ensure_future(send("first"))
        await asyncio.sleep(0)
        second = asyncio.ensure_future(send("second"))
        third = asyncio.ensure_future(send("third"))
        await first
        pacing.hold(9, 10.0)  # the first one's request was answered 429
        await asyncio.gather(second, third)
        return order

    order = run_virtual(main())
    assert [name for name, _ in order] == ["first", "second", "third"]
    assert order[1][1] == pytest.approx(10.0)
    assert order[2][1] == pytest.approx(11.0)


def test_an_edit_waits_only_for_a_hold() -> None:
    async def main() -> list[float]:
        pacing = Pacing()
        await pacing.slot(5)
        edit = await send_times(pacing, [5], message=False)
        pacing.hold(5, 4.0)
        held = await send_times(pacing, [5], message=False)
        return edit + held

    edit, held = run_virtual(main())
    assert edit < 0.1  # the next message would wait a second; an edit does not
    assert held == pytest.approx(4.0 + 1 / 25, abs=0.05)


def test_a_caller_that_cannot_wait_is_told_how_long_the_chat_is_busy() -> None:
    async def main() -> float:
        pacing = Pacing(private=Rate(1.0))
        pacing.hold(3, 12.0)
        with pytest.raises(ChatBusy) as busy:
            await pacing.slot(3, max_wait=5.0)
        await pacing.slot(4, max_wait=5.0)  # another chat goes at once
        assert pacing.wait_for(3) == pytest.approx(12.0)
        assert pacing.wait_for(4) == pytest.approx(1.0)
        return busy.value.wait

    assert run_virtual(main()) == pytest.approx(12.0)


def test_a_hold_for_no_chat_holds_everything() -> None:
    async def main() -> list[float]:
        pacing = Pacing()
        pacing.hold(None, 2.0)
        return await send_times(pacing, [1, None])

    assert run_virtual(main()) == pytest.approx([2.0, 2.04])


def test_the_overall_rate_is_configurable_and_refills_while_idle() -> None:
    async def main() -> list[float]:
        pacing = Pacing(overall=Rate(2.0, burst=2))
        first = await send_times(pacing, [1, 2, 3])
        await asyncio.sleep(10)
        second = await send_times(pacing, [4, 5])
        return first + second

    assert run_virtual(main()) == pytest.approx([0.0, 0.0, 0.5, 10.5, 10.5])


def test_a_schedule_with_an_injected_clock_needs_no_loop() -> None:
    schedule = Schedule(Rate(1.0, burst=2), 100.0)
    assert [schedule.reserve(100.0) for _ in range(4)] == [100.0, 100.0, 101.0, 102.0]
    schedule.hold(200.0)
    assert schedule.reserve(150.0) == 200.0
    assert schedule.reserve(150.0) == 201.0  # no burst right after a hold


def test_idle_chats_are_forgotten_when_there_are_many() -> None:
    async def main() -> int:
        pacing = Pacing(overall=Rate(1e6))
        for chat in range(4096):
            await pacing.slot(chat)
        await asyncio.sleep(120)
        await pacing.slot("new")
        return len(pacing._chats)

    assert run_virtual(main()) == 1


def test_a_rate_must_be_positive() -> None:
    with pytest.raises(ValueError):
        Rate(0)


def test_interactive_replies_take_none_of_the_overall_budget() -> None:
    """Fifty learners' replies (overall=False) go at once, each kept to its chat's pace;
    a push to a fifty-first chat meanwhile takes the first overall place, as if they
    had not been sent."""

    async def main() -> tuple[list[float], list[float], list[float]]:
        pacing = Pacing(private=Rate(1.0))
        replies, again, push = await asyncio.gather(
            send_times(pacing, list(range(50)), overall=False),
            send_times(pacing, [0, 1], overall=False),
            send_times(pacing, [99]),
        )
        return replies, again, push

    replies, again, push = run_virtual(main())
    assert replies == pytest.approx([0.0] * 50)
    assert again == pytest.approx([1.0, 1.0]), "each chat keeps its own pace"
    assert push == pytest.approx([0.0])


def test_an_interactive_reply_still_waits_for_its_chats_hold_and_a_hold_of_all() -> None:
    async def main() -> list[float]:
        pacing = Pacing()
        pacing.hold(1, 10.0)
        pacing.hold(None, 3.0)  # a 429 that named no chat
        return await send_times(pacing, [1, 2], overall=False)

    assert run_virtual(main()) == pytest.approx([10.0, 3.0])
