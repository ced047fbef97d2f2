"""Nothing a learner does is lost or left unanswered, on Telegram: a question survives a
restart, any message counts as writing again, and challenge answers and taps are
answered once and kept whole.

The real PTB Application over the fake Bot API on a SQLite file; the clock is moved by
hand and nothing sleeps.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.core.inputs import TEXT_HINT
from bot.core.learners import Who
from bot.core.onboarding import QUESTION_TTL
from tests.e2e.telegram.fake import TgUser
from tests.e2e.telegram.harness import Harness, telegram_bot

ANA = TgUser(101, "Ana", "ana")
BEN = TgUser(102, "Ben")


def no_errors(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def last_text(bot: Harness, user: TgUser) -> str:
    message = bot.api.last_message(user.id)
    return str(message.get("text") or message.get("caption") or "")


def unreachable(bot: Harness, user: TgUser) -> bool:
    rows = bot.query("SELECT unreachable FROM learners WHERE platform_user_id = ?", str(user.id))
    return bool(rows[0][0])


# ---------------------------------------------------------------------- open questions


async def test_the_time_zone_typed_after_a_restart_is_understood(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, renderer=False) as first:
        await first.send(ANA, "/start")
        assert "Your time zone" in last_text(first, ANA)
    async with telegram_bot(tmp_path, renderer=False, restart_of=first) as bot:
        await bot.send(ANA, "Paris")
        sent = [c.plain for c in bot.api.sent("sendMessage", ANA.id)[-2:]]
        assert sent[0] == "✓ Time zone: Europe/Paris"
        assert "Daily reminder" in sent[1]
        assert bot.query("SELECT timezone FROM learner_settings") == [("Europe/Paris",)]
        await bot.send(ANA, "7:30")  # the next question survives too
        assert bot.api.sent("sendMessage", ANA.id)[-2].plain == "✓ Daily reminder: 07:30"
    no_errors(caplog)


async def test_a_question_left_open_too_long_gets_the_hint(tmp_path: Path) -> None:
    async with telegram_bot(tmp_path, renderer=False) as bot:
        await bot.send(ANA, "/start")
        bot.clock.advance(QUESTION_TTL)
        await bot.send(ANA, "Paris")
        assert bot.api.sent("sendMessage", ANA.id)[-1].plain == TEXT_HINT
        assert bot.query("SELECT timezone FROM learner_settings") == [("UTC",)]


# ---------------------------------------------------------------------- writing again


async def test_a_blocked_learner_who_writes_hello_is_reachable_again(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, renderer=False) as bot:
        await bot.send(ANA, "/start")
        await bot.send(ANA, "/help")  # closes the question: "hello" is not a time zone
        await bot.app.study.mark_unreachable(Who("telegram", str(ANA.id)))
        assert unreachable(bot, ANA)
        await bot.send(ANA, "hello")
        assert bot.api.sent("sendMessage", ANA.id)[-1].plain == TEXT_HINT
        assert not unreachable(bot, ANA)
    no_errors(caplog)
