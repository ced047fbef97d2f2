"""Ephemeral replies the server stops taking part way: the member sees each one once.

When the server refuses the second of several replies meant for one member of a group
(its content, or the group), the ones already shown there stay theirs, and only the rest
goes the other way (their private chat, or the group for a command's answer), never the
whole lot again. The core's outcome is fixed here (several replies) so that every caller
of :meth:`~bot.platforms.telegram.one_member.OneMember.show` is driven through the real
handlers over the fake Bot API.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot.core.challenges.service import ChallengeService
from bot.core.inputs import Inputs
from bot.core.learners import Who
from bot.core.messages import Reply
from bot.core.outcomes import Outcome
from bot.platforms.telegram.callbacks import SENT_PRIVATELY
from bot.platforms.telegram.commands import Commands
from tests.e2e.telegram.fake import Failure, TgUser, button_data
from tests.e2e.telegram.harness import GROUP, Harness, telegram_bot
from tests.e2e.telegram.test_ephemeral import answer_to, no_errors, onboard, shown

ANA = TgUser(101, "Ana", "ana")
BEN = TgUser(102, "Ben")
MARKS = ("first-of-three", "second-of-three", "third-of-three")
SCALED = "refl-scaled-dot-product"


@dataclass
class RefusedAfter(Failure):
    """Refuses the ephemeral sends (those with ``receiver_user_id``) after the first
    ``skip`` of them."""

    skip: int = 1

    def matches(self, endpoint: str, params: dict[str, Any]) -> bool:
        if "receiver_user_id" not in params or not super().matches(endpoint, params):
            return False
        if self.skip > 0:
            self.skip -= 1
            return False
        return True


def refuse_the_second(bot: Harness, kind: str) -> None:
    bot.api.failures.append(RefusedAfter("sendMessage", kind, GROUP, times=1, skip=1))


def three() -> tuple[Reply, ...]:
    return tuple(Reply("info", mark) for mark in MARKS)


def seen(messages: list[dict[str, Any]], mark: str) -> int:
    return sum(mark in shown(m) for m in messages)


def each_once(bot: Harness, user: TgUser, elsewhere: int) -> None:
    """Each mark seen by ``user`` exactly once: the first in the group to them alone,
    the others in chat ``elsewhere``."""
    here = bot.api.ephemeral_in(GROUP, user.id)
    there = bot.api.messages_in(elsewhere)
    assert [seen(here, m) for m in MARKS] == [1, 0, 0]
    assert [seen(there, m) for m in MARKS] == [0, 1, 1]


@pytest.mark.parametrize("kind", ["bad_request", "no_rights"])
async def test_a_tap_whose_second_reply_is_refused_sends_only_the_rest_privately(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch, kind: str
) -> None:
    async with telegram_bot(tmp_path, ephemeral=True) as bot:
        await onboard(bot, ANA)
        await bot.send(ANA, "/quiz attention", GROUP)
        quiz = bot.api.message_with_button(GROUP, "Reveal")

        async def press(self: Inputs, who: Who, payload: str, **_: Any) -> Outcome:
            return Outcome(replies=three(), to="private")

        monkeypatch.setattr(Inputs, "press", press)
        refuse_the_second(bot, kind)
        query = await bot.tap_data(ANA, quiz, button_data(quiz, "Reveal"))
        each_once(bot, ANA, ANA.id)
        assert answer_to(bot, query).params["text"] == SENT_PRIVATELY
    no_errors(caplog)


async def test_a_command_whose_second_message_is_refused_posts_only_the_rest(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The notice went to the member alone; the replies the server refused go to the
    group as a command's answer does without ephemeral messages, the notice not again."""
    async with telegram_bot(tmp_path, ephemeral=True) as bot:

        async def challenge(self: Commands, *_: Any) -> Outcome:
            return Outcome(notice=MARKS[0], replies=three()[1:], to="ephemeral")

        monkeypatch.setattr(Commands, "_challenge", challenge)
        refuse_the_second(bot, "bad_request")
        await bot.send(BEN, "/challenge status", GROUP)
        each_once(bot, BEN, GROUP)
    no_errors(caplog)


async def test_an_answer_in_the_group_whose_second_reply_is_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with telegram_bot(tmp_path, ephemeral=True, fake_renderer=True) as bot:
        bot.api.set_member(GROUP, ANA.id, "administrator")
        await onboard(bot, ANA)
        bot.api.can_delete_in.add(GROUP)
        await bot.send(ANA, f"/challenge start {SCALED} 10", GROUP)
        start = bot.api.message_with_button(GROUP, "Submit my answer")
        await bot.tap_data(ANA, start, button_data(start, "Submit my answer"))
        [ask] = bot.api.ephemeral_in(GROUP, ANA.id)

        async def posted(self: ChallengeService, *_: Any, **__: Any) -> Outcome:
            return Outcome(replies=three())

        monkeypatch.setattr(ChallengeService, "posted_in_group", posted)
        refuse_the_second(bot, "bad_request")
        await bot.feed(bot.updates.reply(ANA, "softmax(QK^T/sqrt(d_k))V", ask))
        here = bot.api.ephemeral_in(GROUP, ANA.id)[1:]  # after the request
        there = bot.api.messages_in(ANA.id)
        assert [seen(here, m) for m in MARKS] == [1, 0, 0]
        assert [seen(there, m) for m in MARKS] == [0, 1, 1]
    no_errors(caplog)
