"""Telegram end to end: a learner's own deck in /decks, paused by its button and removed
after a confirmation (the deck is written as an import writes it; sending the file is
tested with the chat adapters)."""

from __future__ import annotations

import logging
from pathlib import Path

import pytest

from bot.core.personal import write_import
from bot.core.ports import Tx
from tests.e2e.telegram.fake import TgUser, rich_text
from tests.e2e.telegram.harness import Harness, telegram_bot
from tests.fakes.imports import history, plan, planned_card, planned_deck

ANA = TgUser(101, "Ana", "ana")
BEN = TgUser(102, "Ben")


async def imported(bot: Harness, user: TgUser) -> str:
    """Give the user a personal deck of two cards (one due now); its id."""
    await bot.send(user, "/decks")
    learner_id = bot.learner_id(user)
    assert learner_id is not None
    now = bot.clock.now()

    def work(tx: Tx) -> str:
        learner = tx.learners.get_by_id(learner_id)
        assert learner is not None
        log, state = history(learner.id, "mine-1", [now.replace(year=now.year - 1)])
        cards = [planned_card("mine-1", state=state, reviews=log), planned_card("mine-2")]
        summary = write_import(tx, learner, plan(planned_deck("Verbos", cards)), now)
        return summary.decks[0].deck_id

    return await bot.app.db.run(work)


async def test_pause_by_button_then_remove_after_confirming(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path) as bot:
        deck_id = await imported(bot, ANA)
        await bot.send(ANA, "/decks")
        listing = bot.api.last_message(ANA.id)
        assert f"Your decks:\n• Verbos ({deck_id}): 2 cards" in rich_text(listing)
        await bot.tap(ANA, listing, "Pause Verbos")
        edited = bot.api.messages[(ANA.id, listing["message_id"])]
        assert f"• Verbos ({deck_id}): 2 cards, paused" in rich_text(edited)
        await bot.send(ANA, "/review")
        assert "Title of mine-1" not in rich_text(bot.api.last_message(ANA.id))  # due, paused
        await bot.tap(ANA, edited, "Resume Verbos")
        await bot.send(ANA, "/review")
        assert "Title of mine-1" in rich_text(bot.api.last_message(ANA.id))

        await bot.send(BEN, f"/decks remove {deck_id}")
        assert rich_text(bot.api.last_message(BEN.id)).startswith(
            f"You have no deck with the id “{deck_id}”."
        )
        await bot.send(ANA, f"/decks remove {deck_id}")
        question = bot.api.last_message(ANA.id)
        assert rich_text(question) == (
            "This removes 'Verbos' with its 2 cards and your 1 review of them. "
            "It cannot be undone. Remove it?"
        )
        await bot.tap(ANA, question, "Yes, remove it")
        done = bot.api.messages[(ANA.id, question["message_id"])]
        assert (
            rich_text(done)
            == "Removed 'Verbos': its 2 cards and your 1 review of them are deleted."
        )
        assert "reply_markup" not in done
        assert bot.query("SELECT count(*) FROM cards WHERE id LIKE 'mine-%'") == [(0,)]
        assert bot.query("SELECT count(*) FROM decks WHERE owner_id IS NOT NULL") == [(0,)]
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]
