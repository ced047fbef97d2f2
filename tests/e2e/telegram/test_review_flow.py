"""A review costs at most two messages: the real PTB Application over the fake Bot API.

A learner reviews the shipped decks (card images drawn by the fake renderer, so
the photo cards are photos). Every tap is answered first; revealing edits the
card into its back, and rating turns that same message into the next card with
the rating's outcome on top. A photo that cannot be an edit (a text message
cannot become a photo) takes the old message's place: sent, the old one deleted.
"""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.platforms.telegram.errors import SORRY
from tests.e2e.telegram.fake import Call, rich_text
from tests.e2e.telegram.harness import FakeRenderer, Harness, telegram_bot
from tests.e2e.telegram.test_bot import ANA, assert_all_answered, card_buttons, onboard

pytestmark = pytest.mark.asyncio
log = logging.getLogger(__name__)

REVIEWS = 30
RATINGS = ("Good", "Easy", "Again", "Hard", "Good")
#: What a learner sees: a new message, or one that changes.
SHOWN = ("sendMessage", "sendRichMessage", "sendPhoto", "sendDocument", "editMessage")


def shows(call: Call) -> bool:
    return call.endpoint.startswith(SHOWN)


async def tap(bot: Harness, message: dict[str, object], label: str) -> list[Call]:
    """Tap a button; the calls it made, in order."""
    before = len(bot.api.calls)
    await bot.tap(ANA, message, label)
    return bot.api.calls[before:]


async def session(bot: Harness) -> tuple[int, list[list[Call]], list[str]]:
    """Review up to REVIEWS cards of the shipped decks: (reviews, each tap's calls, the
    chat as the learner sees it after each tap)."""
    await onboard(bot, ANA)
    await bot.send(ANA, "/settings new 40")
    await bot.send(ANA, "/review")
    taps: list[list[Call]] = []
    transcript: list[str] = []
    reviews = 0
    while reviews < REVIEWS:
        card = bot.api.last_message(ANA.id)
        if "Show answer" not in [label for label, _ in card_buttons(card)]:
            break
        taps.append(await tap(bot, card, "Show answer"))
        back = bot.api.message_with_button(ANA.id, "Good")
        rating = RATINGS[reviews % len(RATINGS)]
        taps.append(await tap(bot, back, rating))
        reviews += 1
        shown = bot.api.last_message(ANA.id)
        photo = "photo" in shown
        transcript.append(f"[photo] {shown.get('caption')}" if photo else rich_text(shown))
    return reviews, taps, transcript


async def test_a_review_of_the_shipped_decks_is_at_most_two_messages(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        bot.api.clear()
        reviews, taps, transcript = await session(bot)
        assert reviews == REVIEWS
        photos = sum(1 for calls in taps for c in calls if c.endpoint == "sendPhoto")
        assert photos > 0, "the session has photo cards"
        rich = sum(1 for calls in taps for c in calls if c.endpoint == "sendRichMessage")
        assert rich > 0, "the text cards are rich messages"
        messages = sum(1 for calls in taps for c in calls if shows(c))
        assert messages / reviews <= 2.0, (messages, reviews)
        # Each tap is answered first, before anything it shows.
        for calls in taps:
            assert calls and calls[0].endpoint == "answerCallbackQuery", [c.endpoint for c in calls]
        # The chat holds one card at a time, with the rating's outcome on top of the next.
        cards = [
            m
            for m in bot.api.messages_in(ANA.id)
            if {"Show answer", "Suspend"} & {label for label, _ in card_buttons(m)}
        ]
        assert len(cards) == 1, cards
        deletes = sum(1 for calls in taps for c in calls if c.endpoint == "deleteMessage")
        log.info(
            "%d messages sent or edited for %d reviews (%d photos, %d rich sent, %d deleted)",
            messages,
            reviews,
            photos,
            rich,
            deletes,
        )
        # A drawing is uploaded once; after that Telegram's file id goes instead.
        drawn = bot.app.renderer
        assert isinstance(drawn, FakeRenderer)
        uploads = [c for calls in taps for c in calls if c.files]
        assert uploads and len(uploads) <= len(set(drawn.calls)), (len(uploads), drawn.calls)
        for line in transcript:
            log.info("after a rating: %s", line.replace("\n", " | ")[:300])
        outcome_first = [t.split("\n")[0] for t in transcript if not t.startswith("[photo]")]
        assert all(line.split(":")[0] in RATINGS for line in outcome_first), outcome_first
        assert not bot.api.violations
        assert_all_answered(bot)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


async def test_a_failure_after_the_tap_was_answered_is_told_in_the_chat(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The tap is answered before its card is shown: when showing it fails, the toast
    is spent, so the sorry comes as a message; the next tap works again. (On a server
    without rich messages: a refused rich edit is recovered, see test_rich_messages.)"""
    async with telegram_bot(tmp_path, fake_renderer=True, rich=False) as bot:
        await onboard(bot, ANA)
        await bot.send(ANA, "/review")
        card = bot.api.last_message(ANA.id)
        bot.api.fail("editMessageText", "bad_request", chat_id=ANA.id)
        with caplog.at_level(logging.ERROR):
            calls = await tap(bot, card, "Show answer")
        assert calls[0].endpoint == "answerCallbackQuery"
        assert bot.api.sent("sendMessage", ANA.id)[-1].plain == SORRY
        await bot.tap(ANA, card, "Show answer")
        back = bot.api.messages[(ANA.id, card["message_id"])]
        assert "Answer" in back["text"]
        assert_all_answered(bot)
