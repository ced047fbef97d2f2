"""Nothing a learner does is lost or left unanswered, on Telegram: a question survives a
restart, any message counts as writing again, and challenge answers and taps are
answered once and kept whole.

The real PTB Application over the fake Bot API on a SQLite file; the clock is moved by
hand and nothing sleeps.
"""

from __future__ import annotations

import asyncio
import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.inputs import TEXT_HINT
from bot.core.learners import Who
from bot.core.onboarding import QUESTION_TTL
from bot.platforms.telegram.errors import SORRY
from tests.e2e.telegram.fake import TgUser, button_data
from tests.e2e.telegram.harness import GROUP, Harness, telegram_bot
from tests.e2e.telegram.test_challenges import (
    SCALED,
    assert_all_answered,
    onboard,
    shown,
    starts_in,
)

ANA = TgUser(101, "Ana", "ana")
BEN = TgUser(102, "Ben")
CAT = TgUser(103, "Cat", "cat")


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


# ---------------------------------------------------------------------- challenges


async def started(bot: Harness, *members: TgUser) -> dict[str, Any]:
    """Every member onboarded, Ana an admin; Ana starts the scaled dot-product challenge."""
    bot.api.set_member(GROUP, ANA.id, "administrator")
    for member in members:
        await onboard(bot, member)
    await bot.send(ANA, f"/challenge start {SCALED} 10", GROUP)
    return bot.api.message_with_button(GROUP, "Submit my answer")


async def test_minutes_in_superscript_get_the_usage_not_a_crash(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        bot.api.set_member(GROUP, ANA.id, "administrator")
        await onboard(bot, ANA)
        for minutes in ("²", "١٥", "99999"):
            await bot.send(ANA, f"/challenge start {SCALED} {minutes}", GROUP)
            said = bot.api.sent("sendMessage", GROUP)[-1].plain
            assert said.startswith("Minutes are a whole number"), said
        assert not starts_in(bot, GROUP)
        assert all(SORRY not in c.plain for c in bot.api.sent("sendMessage"))
    no_errors(caplog)


async def test_repeated_taps_are_answered_and_change_nothing_more(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        start = await started(bot, ANA, BEN)
        join = button_data(start, "Submit my answer")
        answered = len(bot.api.sent("answerCallbackQuery"))
        await asyncio.gather(*(bot.tap_data(BEN, start, join) for _ in range(5)))
        ins = [c for c in bot.api.sent("sendMessage", BEN.id) if "You're in" in c.plain]
        assert len(ins) == 1, "one private message, however often the button is tapped"
        assert len(bot.api.sent("answerCallbackQuery")) == answered + 5
        await bot.send(BEN, "QK^T V, no idea why the root")
        await bot.send(ANA, "/challenge reveal", GROUP)

        form = bot.api.message_with_button(BEN.id, "Apply to my cards")
        key = (BEN.id, form["message_id"])
        await bot.tap(BEN, form, "2. Re-study")
        form = bot.api.messages[key]
        apply = button_data(form, "Apply to my cards")
        edits_before = len(bot.api.sent("editMessageText|editMessageCaption"))
        await asyncio.gather(*(bot.tap_data(BEN, form, apply) for _ in range(5)))
        applied = shown(bot.api.messages[key])
        assert "Applied to your schedule" in applied and "already applied" not in applied
        edits = bot.api.sent("editMessageText|editMessageCaption")[edits_before:]
        assert len(edits) == 1, [c.plain for c in edits]
        assert len(bot.api.sent("answerCallbackQuery")) == answered + 5 + 1 + 5
        assert_all_answered(bot)
        reviews = bot.query("SELECT count(*) FROM review_logs WHERE source = 'challenge'")
        assert reviews == [(3,)]
    no_errors(caplog)


async def test_an_answer_after_the_reveal_is_told_time_is_up(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        start = await started(bot, ANA, BEN)
        await bot.tap(BEN, start, "Submit my answer")
        bot.clock.advance(timedelta(minutes=11))
        assert await bot.app.challenges.reveal_overdue() == 1
        await bot.send(BEN, "softmax(QK^T / sqrt(d_k)) V")
        late = bot.api.sent("sendMessage", BEN.id)[-1].plain
        assert late.startswith("Sorry, time is up"), late
        assert bot.query("SELECT count(*) FROM challenge_submissions WHERE text IS NOT NULL") == [
            (0,)
        ]
    no_errors(caplog)


async def test_an_answer_posted_in_the_group_gets_a_pointer_to_the_private_chat(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        start = await started(bot, ANA, BEN)
        await bot.send(BEN, "good luck everyone", GROUP)  # not in the challenge: not mine
        count = len(bot.api.sent("sendMessage", GROUP))
        await bot.tap(BEN, start, "Submit my answer")
        await bot.send(BEN, "softmax(QK^T / sqrt(d_k)) V", GROUP)
        [hint] = bot.api.sent("sendMessage", GROUP)[count:]
        assert hint.plain.startswith("Ben, answers go to me privately"), hint.plain
        assert "Open our private chat" in hint.plain
        await bot.send(BEN, "softmax(QK^T / sqrt(d_k)) V")
        assert bot.api.sent("sendMessage", BEN.id)[-1].plain.startswith("Got your answer")
        await bot.send(BEN, "done, that was easy", GROUP)  # answered: chatting is chatting
        assert len(bot.api.sent("sendMessage", GROUP)) == count + 1
    no_errors(caplog)


async def test_a_long_answer_in_several_parts_is_kept_whole_and_a_cut_is_said(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        start = await started(bot, ANA, BEN)
        await bot.tap(BEN, start, "Submit my answer")
        first, second = "a" * 4096, "b" * 1200  # the client split a 5,296-character text
        await bot.send(BEN, first)
        assert bot.api.sent("sendMessage", BEN.id)[-1].plain.startswith("Got your answer")
        bot.clock.advance(timedelta(seconds=1))
        await bot.send(BEN, second)
        added = bot.api.sent("sendMessage", BEN.id)[-1].plain
        assert added.startswith("Added this to your answer"), added
        assert bot.query("SELECT text FROM challenge_submissions WHERE text IS NOT NULL") == [
            (f"{first}\n{second}",)
        ]
        # A new answer a while later replaces it; one too long says what was kept.
        bot.clock.advance(timedelta(minutes=1))
        await bot.send(BEN, "short")
        assert bot.api.sent("sendMessage", BEN.id)[-1].plain.startswith("Replaced")
        for part in range(4):
            bot.clock.advance(timedelta(seconds=1))
            await bot.send(BEN, str(part) * 4096 if part else "x" * 4096)
        cut = bot.api.sent("sendMessage", BEN.id)[-1].plain
        assert "longer than 12,000 characters: I kept the first 12,000" in cut, cut
        [(kept,)] = bot.query("SELECT text FROM challenge_submissions WHERE text IS NOT NULL")
        assert len(kept) == 12_000 and kept.startswith("x" * 4096)
    no_errors(caplog)


async def test_self_assessments_reach_members_who_come_back_and_the_summary_does_not_wait(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, fake_renderer=True, rich=False) as bot:
        start = await started(bot, ANA, BEN, CAT)
        for member in (ANA, BEN, CAT):
            await bot.tap(member, start, "Submit my answer")
            await bot.send(member, f"softmax(QK^T / sqrt(d_k)) V, says {member.first_name}")
        # Cat blocks the bot after answering; the network fails on the way to Ben.
        bot.api.fail("sendMessage", "blocked", chat_id=CAT.id, times=99)
        bot.api.fail("sendMessage", "network", chat_id=BEN.id, times=10)
        bot.clock.advance(timedelta(minutes=11))
        assert await bot.app.challenges.reveal_overdue() == 1

        group = [c.plain for c in bot.api.sent("sendMessage|sendPhoto", GROUP)]
        reveal = next(text for text in group if text.startswith("Time is up"))
        assert "I have sent" not in reveal
        [told] = [text for text in group if "could not reach" in text]
        assert told.startswith("I could not reach Cat privately"), told
        assert "Ben" not in told, "a message that failed for now is only late: nobody is told"
        assert unreachable(bot, CAT) and not unreachable(bot, BEN)
        bot.api.failures.clear()

        # The outbox tries Ben's again soon; Cat's waits for Cat.
        bot.clock.advance(timedelta(seconds=31))
        assert await bot.app.pushes.drain("telegram", bot.platform.push) == 1
        form = bot.api.message_with_button(BEN.id, "Apply to my cards")
        assert "Self-assessment for" in shown(form)
        with pytest.raises(AssertionError):
            bot.api.message_with_button(CAT.id, "Apply to my cards")

        # Ana and Ben apply: the summary goes out without Cat.
        for member in (ANA, BEN):
            form = bot.api.message_with_button(member.id, "Apply to my cards")
            key = (member.id, form["message_id"])
            await bot.tap(member, form, "2. Shaky")
            await bot.tap(member, bot.api.messages[key], "Apply to my cards")
        [summary] = [
            c for c in bot.api.sent("sendPhoto|sendMessage", GROUP) if "Summary" in c.plain
        ]
        assert "3 answered, 2 assessed" in summary.plain

        # Cat writes again (anything): their self-assessment comes.
        await bot.send(CAT, "hello")
        assert not unreachable(bot, CAT)
        assert await bot.app.pushes.drain("telegram", bot.platform.push) == 1
        form = bot.api.message_with_button(CAT.id, "Apply to my cards")
        assert "says Cat" in shown(form)
        key = (CAT.id, form["message_id"])
        await bot.tap(CAT, form, "2. Shaky")
        await bot.tap(CAT, bot.api.messages[key], "Apply to my cards")
        assert "Applied to your schedule" in shown(bot.api.messages[key])
        assert bot.query(
            "SELECT count(DISTINCT learner_id) FROM review_logs WHERE source = 'challenge'"
        ) == [(3,)]
        assert (
            len([c for c in bot.api.sent("sendPhoto|sendMessage", GROUP) if "Summary" in c.plain])
            == 1
        )
        assert await bot.app.pushes.drain("telegram", bot.platform.push) == 0
    no_errors(caplog)
