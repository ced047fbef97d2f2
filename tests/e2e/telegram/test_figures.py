"""/stats's true retention and predicted-vs-actual recall, and /settings retention's
table and chart, end to end over the fake Bot API: drawn as photos when a renderer is
there, the same numbers as text when there is none."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.model import CardState, CardStateKind, ReviewEntry
from bot.core.ports import Tx
from tests.e2e.telegram.fake import button_data
from tests.e2e.telegram.harness import FakeRenderer, Harness, telegram_bot
from tests.e2e.telegram.test_bot import ANA, no_errors, onboard


def chat_text(bot: Harness) -> str:
    """Everything sent to Ana since the last clear: messages and captions, in order."""
    return "\n".join(c.plain for c in bot.api.sent("sendMessage|sendPhoto", ANA.id))


async def add_history(bot: Harness) -> None:
    """80 cards learned a hundred days ago and reviewed once more in the last 25 days,
    mature by then: 60 passed, 20 forgotten."""
    (learner_id,) = bot.query("SELECT id FROM learners")[0]
    card_ids = [row[0] for row in bot.query("SELECT id FROM cards ORDER BY id LIMIT 80")]
    now = bot.clock.now()
    entries = []
    for i, card_id in enumerate(card_ids):
        learned = now - timedelta(days=100)
        new = CardState(learner_id, card_id)
        entries.append(ReviewEntry(learner_id, card_id, 3, learned, "dm", new, new))
        at = now - timedelta(days=1 + i % 25, hours=1)
        before = CardState(
            learner_id, card_id, CardStateKind.REVIEW, None, 30.0, 5.0,
            due=at, last_review=learned, reps=1,
        )  # fmt: skip
        after = replace(before, due=at + timedelta(days=40), last_review=at)
        entries.append(
            ReviewEntry(learner_id, card_id, 1 if i % 4 == 0 else 3, at, "dm", before, after)
        )
    entries.sort(key=lambda e: e.reviewed_at)

    def add(tx: Tx) -> None:
        for e in entries:
            tx.reviews.add(e)

    await bot.app.db.run(add)


async def test_settings_retention_and_stats_drawn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        drawn = bot.app.renderer
        assert isinstance(drawn, FakeRenderer)
        await onboard(bot, ANA, "attention")
        bot.api.clear()

        await bot.send(ANA, "/settings retention")
        [photo] = bot.api.sent("sendPhoto", ANA.id)
        assert "photo" in photo.files
        assert photo.plain.startswith("What each desired retention costs")
        text = chat_text(bot)
        assert "retention: reviews a day · minutes a day · minutes per card remembered" in text
        assert "75%: " in text and "97%: " in text
        assert "90%: " in text.split("← yours")[0].splitlines()[-1]
        assert "lowest cost per card" in text and "only a suggestion" in text
        assert ("plot", "RetentionCosts") in drawn.calls

        # With a value, it is set; the settings menu's button shows the table again.
        bot.api.clear()
        await bot.send(ANA, "/settings retention 0.85")
        assert "retention: 0.85" in chat_text(bot)
        await bot.send(ANA, "/settings")
        menu = bot.api.last_message(ANA.id)
        assert button_data(menu, "Retention: what it costs") == "os:go:retention"
        bot.api.clear()
        await bot.tap(ANA, menu, "Retention: what it costs")
        text = chat_text(bot)
        assert "85%: " in text.split("← yours")[0].splitlines()[-1]

        # /stats: true retention (mature and young), then predicted vs actual recall.
        await add_history(bot)
        bot.api.clear()
        await bot.send(ANA, "/stats")
        stats, calibration = bot.api.sent("sendPhoto", ANA.id)
        assert "True retention, last 30 days: 75% of 80 reviews of mature cards" in stats.plain
        assert "(target 85%)" in stats.plain
        assert "Young cards (interval under 21 days): no reviews of young cards yet" in stats.plain
        assert "Predicted vs actual recall (FSRS's default parameters, 80 reviews)" in (
            calibration.plain
        )
        assert "% on average" in calibration.plain
        assert "you recalled 75% of 80 (more than the" in calibration.plain
        assert ("plot", "Calibration") in drawn.calls
    no_errors(caplog)


async def test_without_a_renderer_the_numbers_are_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, renderer=False) as bot:
        await onboard(bot, ANA, "attention")
        await add_history(bot)
        bot.api.clear()
        await bot.send(ANA, "/settings retention")
        assert not bot.api.sent("sendPhoto", ANA.id)
        text = chat_text(bot)
        assert "What each desired retention costs" in text and "97%: " in text
        assert "Suggestion: " in text
        bot.api.clear()
        await bot.send(ANA, "/stats")
        assert not bot.api.sent("sendPhoto", ANA.id)
        text = chat_text(bot)
        assert "True retention, last 30 days: 75% of 80 reviews" in text
        assert "Predicted vs actual recall (FSRS's default parameters, 80 reviews)" in text
        assert "you recalled 75% of 80 (more than the" in text
    no_errors(caplog)
