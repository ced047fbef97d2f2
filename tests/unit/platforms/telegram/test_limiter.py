"""Tests for PacedRateLimiter: which schedules a Bot API request takes (virtual time)."""

from __future__ import annotations

import asyncio
from datetime import timedelta
from typing import Any

import pytest
from telegram.error import RetryAfter

from bot.core.metrics import NULL_METRICS
from bot.core.pacing import Pacing
from bot.platforms.telegram.sending import PacedRateLimiter, announcing, pushing, replying
from tests.fakes.virtual_time import run_virtual


async def sends(limiter: PacedRateLimiter, chats: list[int]) -> list[float]:
    """A sendMessage to each chat, all at once: when each one went."""
    loop = asyncio.get_running_loop()
    went: list[float] = []

    async def request() -> bool:
        went.append(loop.time())
        return True

    async def one(chat: int) -> Any:
        return await limiter.process_request(
            request, (), {}, "sendMessage", {"chat_id": chat}, None
        )

    await asyncio.gather(*(one(chat) for chat in chats))
    return went


def test_replies_to_the_people_who_just_tapped_take_no_overall_place() -> None:
    """Fifty learners tap at once: their replies go at once; fifty pushes share 25 a second."""

    async def main() -> tuple[list[float], list[float], list[float]]:
        limiter = PacedRateLimiter(Pacing(), NULL_METRICS, retries=3)
        with replying():
            replies = await sends(limiter, list(range(50)))
            with pushing():  # a push started from a reply's context is a push
                inner = await sends(limiter, list(range(100, 150)))
        pushes = await sends(limiter, list(range(200, 250)))
        return replies, inner, pushes

    replies, inner, pushes = run_virtual(main())
    assert replies == pytest.approx([0.0] * 50)
    assert max(inner) == pytest.approx(49 / 25)
    assert max(pushes) - min(pushes) == pytest.approx(49 / 25)


def test_a_reply_keeps_its_chats_pace() -> None:
    async def main() -> list[float]:
        limiter = PacedRateLimiter(Pacing(), NULL_METRICS, retries=3)
        with replying():
            return await sends(limiter, [7, 7, 7, 7, 7])

    # A burst of three (no overall place to wait for), then one a second.
    assert run_virtual(main()) == pytest.approx([0.0, 0.0, 0.0, 1.0, 2.0])


def test_an_announcement_made_while_replying_takes_its_overall_place() -> None:
    """A tap's handler that posts a quiz's answer to groups: those posts share the overall
    budget with the pushes, as any message to many chats does."""

    async def main() -> list[float]:
        limiter = PacedRateLimiter(Pacing(), NULL_METRICS, retries=3)
        with replying(), announcing():
            return await sends(limiter, list(range(-50, 0)))

    went = run_virtual(main())
    assert max(went) == pytest.approx(49 / 25)


def test_a_429_on_a_callback_answer_is_not_retried_and_holds_no_chat(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """A callback answer names no chat: a 429 on it is raised at once (an answer that
    comes late shows nothing), and no chat, nor the whole bot, is held for it."""
    monkeypatch.setenv("PTB_TIMEDELTA", "true")  # as the Telegram platform sets it

    async def main() -> tuple[int, list[float]]:
        loop = asyncio.get_running_loop()
        limiter = PacedRateLimiter(Pacing(), NULL_METRICS, retries=3)
        tries = 0

        async def refused() -> bool:
            nonlocal tries
            tries += 1
            raise RetryAfter(timedelta(seconds=30))

        with pytest.raises(RetryAfter):
            await limiter.process_request(refused, (), {}, "answerCallbackQuery", {}, None)
        start = loop.time()
        went = [t - start for t in await sends(limiter, [7, 8])]
        return tries, went

    tries, went = run_virtual(main())
    assert tries == 1
    assert went == pytest.approx([0.0, 0.04])  # not held for 30 s


def test_a_rich_message_keeps_its_chats_pace_and_a_rich_edit_does_not_wait() -> None:
    """sendRichMessage (Bot API 10.1, sent through do_api_request) is a new message: a burst
    of three, then one a second in a private chat; the reveal's editMessageText is not."""

    async def main() -> tuple[list[float], list[float]]:
        loop = asyncio.get_running_loop()
        limiter = PacedRateLimiter(Pacing(), NULL_METRICS, retries=3)
        went: dict[str, list[float]] = {"sendRichMessage": [], "editMessageText": []}

        async def request(endpoint: str) -> bool:
            went[endpoint].append(loop.time())
            return True

        with replying():
            for endpoint in ("sendRichMessage", "editMessageText"):
                for _ in range(5):
                    await limiter.process_request(
                        request, (endpoint,), {}, endpoint, {"chat_id": 7}, None
                    )
        return went["sendRichMessage"], went["editMessageText"]

    rich, edits = run_virtual(main())
    assert rich == pytest.approx([0.0, 0.0, 0.0, 1.0, 2.0])
    assert edits == pytest.approx([2.0] * 5)
