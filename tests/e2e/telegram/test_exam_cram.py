"""/exam and /cram through the real python-telegram-bot, against the fake Bot API."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.telegram.fake import rich_text
from tests.e2e.telegram.harness import GROUP, telegram_bot
from tests.e2e.telegram.test_bot import ANA, no_errors, onboard


async def test_exam_set_shown_changed_and_cleared(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path) as bot:
        await onboard(bot, ANA)

        async def say(text: str) -> str:
            await bot.send(ANA, text)
            return bot.api.sent("sendMessage", ANA.id)[-1].plain

        def saved() -> list[tuple[object, ...]]:
            return bot.query("SELECT exam_date, exam_topic, exam_target FROM learner_settings")

        assert (await say("/exam")).startswith("No exam set. Set one and, until that day,")
        assert (await say("/exam 2020-01-01")) == (
            "Wed 01 Jan 2020 has passed. Give a date after today (Mon 05 Jan)."
        )
        assert (await say("/exam 31/12")).startswith(
            "I couldn't read “31/12” as a date. Try 2027-01-15, 15 Jan 2027, Jan 15, "
            "tomorrow or in 3 weeks"
        )
        assert (await say("/exam 2027-01-15 cooking")).startswith(
            "I don't know the topic “cooking”. Topics: architecture, attention,"
        )
        assert saved() == [(None, None, 0.9)]

        text = await say("/exam 15 Jan 2027 similarity")
        assert text.startswith(
            "Exam set: Fri 15 Jan 2027 (in 375 days), covering similarity, target recall 90%."
        )
        assert "Where it stands:\n• No card of it studied yet." in text
        assert saved() == [("2027-01-15", "similarity", 0.9)]
        text = await say("/exam target 0.85")
        assert text.startswith("Your exam: Fri 15 Jan 2027 (in 375 days)")
        assert "target recall 85%" in text and text.endswith("/exam off clears it.")
        assert (await say("/exam target 120%")).startswith(
            "A target is the recall you want on the day, from 70% to 99%"
        )
        assert saved() == [("2027-01-15", "similarity", 0.85)]
        assert await say("/exam off") == "Exam cleared: every card is back on its usual schedule."
        assert saved() == [(None, None, 0.85)]

        await bot.send(ANA, "/exam", GROUP)
        assert "private chat" in bot.api.sent("sendMessage", GROUP)[-1].plain
        help_text = await say("/help")
        assert "/exam 2027-01-15 attention: until that day" in help_text
        assert "/cram attention practise a topic" in help_text
    no_errors(caplog)


async def test_cram_shows_cards_and_leaves_the_schedule_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path) as bot:
        await onboard(bot, ANA)
        await bot.send(ANA, "/cram attention")
        front = bot.api.last_message(ANA.id)
        assert rich_text(front).startswith(
            "Cram: 67 cards of attention, lowest recall first. Practice only: your ratings "
            "are logged but your schedule stays as it is. /review goes back to normal study.\n"
            "Cram · card 1 of 67."
        )
        keyboard = front["reply_markup"]["inline_keyboard"]
        assert [[b["text"] for b in row] for row in keyboard] == [["Show answer"]]
        await bot.tap(ANA, front, "Show answer")
        back = bot.api.messages[(ANA.id, front["message_id"])]
        keyboard = back["reply_markup"]["inline_keyboard"]
        assert [[b["text"] for b in row] for row in keyboard] == [["Again", "Hard", "Good", "Easy"]]
        await bot.tap(ANA, back, "Good")
        nxt = bot.api.last_message(ANA.id)
        assert rich_text(nxt).startswith(
            "Good (practice: the schedule is unchanged).\nCram · attention · card 2 of 67.\n"
        )
        assert bot.query("SELECT card_id, rating, source FROM review_logs") == [
            ("att-purpose", 3, "cram")
        ]
        assert bot.query("SELECT count(*) FROM card_states") == [(0,)]

        await bot.send(ANA, "/cram nosuch")
        assert rich_text(bot.api.last_message(ANA.id)).startswith(
            "I don't know the topic “nosuch”."
        )
        await bot.send(ANA, "/review")  # back to normal study
        normal = bot.api.last_message(ANA.id)
        labels = [b["text"] for row in normal["reply_markup"]["inline_keyboard"] for b in row]
        assert labels == ["Show answer", "Bury until tomorrow", "Suspend"]
    no_errors(caplog)
