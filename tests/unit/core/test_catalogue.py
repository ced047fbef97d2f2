"""Tests for bot.core.catalogue: the deck catalogue kept in step with the deck files."""

from __future__ import annotations

import logging
from datetime import UTC, datetime

import pytest

from bot.core.catalogue import sync_decks
from bot.core.decks import DeckError, DeckSet
from bot.core.model import SyncReport
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase
from tests.fakes.decks import make_deck

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


async def test_sync_adds_updates_and_retires() -> None:
    db = FakeDatabase()
    clock = FixedClock(NOW)
    first = DeckSet(decks=(make_deck("a", ["a1", "a2"]), make_deck("b", ["b1"])))
    assert await sync_decks(db, first, clock) == SyncReport(added=3)
    second = DeckSet(decks=(make_deck("a", ["a1"]),))
    report = await sync_decks(db, second, clock)
    assert (report.retired, report.unchanged) == (2, 1)
    assert db.run_sync(lambda tx: tx.catalogue.cards_in_topic("a")) == ["a1"]


async def test_nothing_is_retired_while_a_deck_file_has_problems(
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = FakeDatabase([make_deck("a", ["a1", "a2"]), make_deck("b", ["b1"])], NOW)
    broken = DeckSet(
        decks=(make_deck("a", ["a1", "a2", "a3"]),),  # b.md failed to parse
        errors=(DeckError("decks/b.md", 3, "a card needs a front"),),
    )
    with caplog.at_level(logging.WARNING, logger="bot.core.catalogue"):
        report = await sync_decks(db, broken, FixedClock(NOW))
    assert (report.added, report.retired) == (1, 0)  # the good deck is synced all the same
    assert "deck problem: decks/b.md:3: a card needs a front" in caplog.text
    assert db.run_sync(lambda tx: tx.catalogue.cards_in_topic("b")) == ["b1"]
    assert db.run_sync(lambda tx: tx.catalogue.cards_in_topic("a")) == ["a1", "a2", "a3"]
