"""A 429 stays with the chat it hit: the real Telegram adapter and push sender on virtual time.

Five learners' chats answer every message with 429 and ``retry_after``; a sixth
learner is due the same minute. The real python-telegram-bot Application (over
the in-memory fake Bot API), the real :class:`~bot.core.pushes.PushService` and
sender loop run on :class:`~tests.fakes.virtual_time.VirtualTimeLoop`, so each
call's instant is virtual: the assertions are on virtual time and on the calls,
never on the wall clock.
"""

from __future__ import annotations

import asyncio
import itertools
import logging
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.config import Secret, default_settings
from bot.core.learners import Who
from bot.core.model import CardState, CardStateKind
from bot.core.ports import Tx
from bot.jobs.senders import Pacer, sender_loop
from bot.platforms.telegram import TelegramPlatform
from tests.e2e.telegram.fake import TOKEN, FakeBotAPI
from tests.fakes.database import FakeDatabase
from tests.fakes.decks import make_deck
from tests.fakes.virtual_time import VirtualClock, run_virtual
from tests.services import Services, build_services

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
STORMY = [1, 2, 3, 4, 5]
CALM = 6
RETRY_AFTER = 10


class TimedBotAPI(FakeBotAPI):
    """The fake Bot API, noting the virtual instant of every call: (method, chat, when)."""

    def __init__(self) -> None:
        super().__init__()
        self.timeline: list[tuple[str, int, float]] = []

    async def call(
        self,
        endpoint: str,
        params: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]] | None = None,
        *,
        client: str = "",
    ) -> tuple[int, bytes]:
        when = asyncio.get_running_loop().time()
        self.timeline.append((endpoint, int(params.get("chat_id", 0)), when))
        return await super().call(endpoint, params, files, client=client)

    def times(self, chat: int) -> list[float]:
        """When the chat was sent a message (a card goes as a rich message, Bot API 10.1)."""
        sends = ("sendMessage", "sendRichMessage")
        return [t for endpoint, c, t in self.timeline if c == chat and endpoint in sends]


async def due_learners(services: Services[FakeDatabase], chats: list[int]) -> None:
    for chat in chats:
        learner = await services.study.learner(Who("telegram", str(chat)))

        def due(tx: Tx, lid: int = learner.id) -> None:
            tx.learners.set_next_push(lid, START)
            tx.schedule.save(
                CardState(lid, "c1", CardStateKind.REVIEW, None, 5.0, 5.0, START, START)
            )

        await services.db.run(due)


def platform_over(api: FakeBotAPI, services: Services[FakeDatabase]) -> TelegramPlatform:
    settings = default_settings()
    telegram = replace(settings.telegram, token=Secret(TOKEN), mode="send_only")
    return TelegramPlatform(
        telegram,
        study=services.study,
        quiz=services.quiz,
        challenges=services.challenges,
        onboarding=services.onboarding,
        inputs=services.inputs,
        renderer=None,
        request=api,
    )


async def storm(seconds: float) -> tuple[TimedBotAPI, Services[FakeDatabase]]:
    """Six learners due at once, five of whose chats answer 429; the sender runs for
    ``seconds`` of virtual time."""
    loop = asyncio.get_running_loop()
    services = build_services(FakeDatabase([make_deck("d", ["c1"])], START), VirtualClock(START))
    await due_learners(services, [*STORMY, CALM])
    api = TimedBotAPI()
    for chat in STORMY:
        # A push of a card is one rich message: its sendRichMessage meets the storm.
        api.fail("sendRichMessage", "429", chat_id=chat, times=1000, retry_after=RETRY_AFTER)
    platform = platform_over(api, services)
    await platform.initialize()
    assert await services.pushes.tick(["telegram"]) == 6
    stop = asyncio.Event()
    sender = asyncio.ensure_future(
        sender_loop(services.pushes, platform, Pacer(25.0, monotonic=loop.time), stop)
    )
    await asyncio.sleep(seconds)
    stop.set()
    await sender
    await platform.stop()
    return api, services


def test_a_learner_due_with_five_chats_in_a_429_storm_gets_their_push_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    with caplog.at_level(logging.INFO):
        api, services = run_virtual(storm(45.0))

    # The calm chat's push went out within the first second, once.
    [calm] = api.times(CALM)
    assert calm < 1.0
    assert [m["chat"]["id"] for m in api.messages.values()] == [CALM]
    # Each stormy chat was tried again and again, never before its retry_after.
    for chat in STORMY:
        times = api.times(chat)
        assert len(times) >= 4, times
        assert all(b - a >= RETRY_AFTER for a, b in itertools.pairwise(times)), times
    # The outbox keeps them pending, each tried again at Telegram's word.
    rows = services.db.outbox()
    assert sum(r.sent_at is not None for r in rows) == 1
    assert all(r.pending and r.message.attempts >= 4 for r in rows if r.sent_at is None)
    # A handled 429 is an INFO line: no ERROR, no traceback.
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR or r.exc_info]
    assert any(
        "telegram 429 on sendRichMessage for chat 1" in r.getMessage() for r in caplog.records
    )


def test_a_reply_after_a_429_waits_for_its_own_chat_only() -> None:
    """A reply (not a push) is tried again in place after retry_after, for its chat alone."""

    async def main() -> TimedBotAPI:
        services = build_services(
            FakeDatabase([make_deck("d", ["c1"])], START), VirtualClock(START)
        )
        api = TimedBotAPI()
        api.fail("sendMessage", "429", chat_id=1, times=2, retry_after=RETRY_AFTER)
        platform = platform_over(api, services)
        await platform.initialize()
        send = platform.sender.send_text
        await asyncio.gather(send(1, "held"), send(2, "free"), send(3, "free too"))
        await platform.stop()
        return api

    api = run_virtual(main())
    assert api.times(1) == pytest.approx([0.0, 10.0, 20.0], abs=0.2)
    assert max(api.times(2) + api.times(3)) < 0.2
    assert len(api.messages) == 3
