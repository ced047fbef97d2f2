"""A challenge's reveal for 30 members on virtual time: the group stays under 20 a minute.

The reveal posts the reference to the group and a self-assessment to each member who
answered. A member the private chat reaches gets it there; the others get it in the
group, to them alone (an ephemeral message), each taking its place in the group's pace
(a burst of two, then 18 a minute). The real Telegram adapter and
:class:`~bot.core.delivery.PlatformAnnouncer` run on
:class:`~tests.fakes.virtual_time.VirtualTimeLoop`, so every instant below is virtual.

Measured: with 10 of the 30 reachable privately (every third one), the 10 private ones
are out within 1.3 s (the announcer shows what goes to the group after every private
message of the batch; interleaved, the last private one had waited 63 s), and the 20
ephemeral self-assessments end 63 s after the reference; with none reachable, the 30
take 97 s. No 60 s window ever holds more than 20 group messages. (With the burst of
three the group had before, 21 group messages fell within 59.96 s here: the reference
waited 0.04 s for the overall pace.)
"""

from __future__ import annotations

import asyncio
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest

from bot.config import Secret, default_settings
from bot.core.delivery import Channels, PlatformAnnouncer
from bot.core.learners import Who
from bot.core.messages import Announcement, Button, Reply
from bot.platforms.telegram import TelegramPlatform
from tests.e2e.telegram.fake import TOKEN, FakeBotAPI
from tests.fakes.database import FakeDatabase
from tests.fakes.decks import make_deck
from tests.fakes.virtual_time import VirtualClock, run_virtual
from tests.services import build_services

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
GROUP = -1009
MEMBERS = list(range(201, 231))


class TimedBotAPI(FakeBotAPI):
    """The fake Bot API, noting the virtual instant of each accepted message:
    (chat, receiver or None, when)."""

    def __init__(self) -> None:
        super().__init__()
        self.timeline: list[tuple[int, int | None, float]] = []

    async def call(
        self,
        endpoint: str,
        params: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]] | None = None,
        *,
        client: str = "",
    ) -> tuple[int, bytes]:
        status, body = await super().call(endpoint, params, files, client=client)
        if endpoint == "sendMessage" and status == 200:
            receiver = params.get("receiver_user_id")
            when = asyncio.get_running_loop().time()
            self.timeline.append((int(params["chat_id"]), receiver, when))
        return status, body

    def group_times(self) -> list[float]:
        return [t for chat, _, t in self.timeline if chat == GROUP]


async def reveal(reachable: set[int]) -> TimedBotAPI:
    """The reference and 30 self-assessments, the ``reachable`` members having a private
    chat with the bot."""
    clock = VirtualClock(START)
    services = build_services(FakeDatabase([make_deck("d", ["c1"])], START), clock)
    api = TimedBotAPI()
    settings = default_settings()
    telegram = replace(
        settings.telegram, token=Secret(TOKEN), mode="send_only", ephemeral_messages=True
    )
    platform = TelegramPlatform(
        telegram,
        study=services.study,
        quiz=services.quiz,
        challenges=services.challenges,
        onboarding=services.onboarding,
        inputs=services.inputs,
        renderer=None,
        request=api,
    )
    await platform.initialize()
    channels = Channels()
    channels.attach(platform)
    items = [Announcement("telegram", str(GROUP), Reply("challenge_result", "Time is up!"))]
    for user in MEMBERS:
        learner = await services.study.learner(Who("telegram", str(user), f"M{user}"))
        if user not in reachable:
            api.fail("sendMessage", "never_started", chat_id=user, times=99)
        rate = Button("Confident", f"grade:s{user}:3", "grade")
        reply = Reply("assess", f"Self-assessment for M{user}", buttons=((rate,),))
        items.append(
            Announcement("telegram", str(GROUP), reply, learner.id, resend_token=f"s{user}")
        )
    await PlatformAnnouncer(services.db, channels, clock).post(items)
    await platform.stop()
    shown = len(api.ephemerals)
    waiting = [r for r in services.db.outbox() if r.pending]
    assert len(waiting) == shown, "each shown in the group also waits for a private word"
    return api


def most_in_a_minute(times: list[float]) -> int:
    return max(sum(1 for t in times if start <= t < start + 60.0) for start in times)


def test_ten_reachable_privately_and_twenty_in_the_group() -> None:
    reachable = set(MEMBERS[2::3])  # spread through the list: every third member
    api = run_virtual(reveal(reachable))
    private = [t for chat, _, t in api.timeline if chat > 0]
    # 30 private attempts at the overall 25 a second: all done within 1.3 s.
    assert len(private) == 10 and max(private) < 1.3, "the private ones at once"
    shown = [(r, t) for chat, r, t in api.timeline if chat == GROUP and r is not None]
    assert sorted(int(r) for r, _ in shown) == sorted(set(MEMBERS) - reachable)
    assert min(t for _, t in shown) >= max(private), "after every private one"
    assert len(api.ephemerals) == 20
    times = api.group_times()
    assert len(times) == 21 and most_in_a_minute(times) <= 20
    # A burst of two, then one every 60/18 s: the 21st group message at 19 intervals.
    assert max(times) == pytest.approx(19 * 60 / 18, abs=0.5)  # 63 s


def test_thirty_members_without_a_private_chat_take_about_a_minute_and_a_half() -> None:
    api = run_virtual(reveal(reachable=set()))
    times = api.group_times()
    assert len(times) == 31 and most_in_a_minute(times) <= 20
    assert max(times) == pytest.approx(29 * 60 / 18, abs=0.5)  # 97 s
