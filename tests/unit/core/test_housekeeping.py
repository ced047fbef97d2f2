"""Tests for bot.core.housekeeping: old prompts and delivered outbox rows are deleted."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest

from bot.core.housekeeping import OUTBOX_RETENTION, PROMPT_RETENTION, Housekeeping
from bot.core.model import Draft, LearnerSettings, OutboxMessage, Prompt, WebSession
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase, FakeTx
from tests.fakes.decks import make_deck

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_retention() -> None:
    assert timedelta(days=30) == PROMPT_RETENTION and timedelta(days=7) == OUTBOX_RETENTION


async def test_prune_deletes_old_prompts_and_long_delivered_outbox_rows(
    caplog: pytest.LogCaptureFixture,
) -> None:
    db = FakeDatabase([make_deck("d", ["c1"])], NOW - 60 * DAY)

    def fill(tx: FakeTx) -> list[int]:
        lid = tx.learners.create("tg", "1", "Ann", LearnerSettings(), (), NOW - 60 * DAY).id
        tx.prompts.add(Prompt("old00001", lid, "c1", "dm", NOW - 30 * DAY - timedelta(seconds=1)))
        tx.prompts.add(Prompt("new00001", lid, "c1", "dm", NOW - 30 * DAY))
        tx.pushes.add_outbox(
            [OutboxMessage("tg", lid, "push", "due", NOW, NOW, "c1") for _ in range(5)]
        )
        ids = [m.id for m in tx.pushes.lease("tg", NOW, NOW + DAY, 10)]
        tx.pushes.mark_sent(ids[0], NOW - 10 * DAY)  # long delivered: pruned
        tx.pushes.mark_failed(ids[1], NOW - 8 * DAY, "blocked")  # long given up: pruned
        tx.pushes.mark_sent(ids[2], NOW - DAY)  # delivered yesterday: kept
        tx.pushes.retry_later(ids[3], NOW + DAY, "429", 2)  # to be tried again: kept
        return ids  # ids[4] is pending: kept

    ids = db.run_sync(fill)
    housekeeping = Housekeeping(db, FixedClock(NOW))
    with caplog.at_level(logging.INFO, logger="bot.core.housekeeping"):
        assert await housekeeping.prune() == (1, 2, 0, 0)
    assert (
        "pruned 1 old prompts, 2 delivered outbox rows, 0 challenge photos and 0 expired web"
        in caplog.text
    )
    assert db.prompt("old00001") is None and db.prompt("new00001") is not None
    assert [r.message.id for r in db.outbox()] == ids[2:]

    caplog.clear()
    with caplog.at_level(logging.INFO, logger="bot.core.housekeeping"):
        assert await housekeeping.prune() == (0, 0, 0, 0)
    assert "pruned" not in caplog.text  # nothing to say


async def test_prune_drops_expired_web_sessions_and_one_time_keys() -> None:
    db = FakeDatabase()

    def fill(tx: FakeTx) -> None:
        lid = tx.learners.create("tg", "1", "Ann", LearnerSettings(), (), NOW - DAY).id
        for n, expires in enumerate((NOW - DAY, NOW, NOW + timedelta(seconds=1))):
            tx.web.add_session(WebSession(f"{n}" * 64, lid, "csrf", "*", NOW - DAY, expires))
            tx.web.use_once(f"k{n}", expires)
        tx.web.save_draft(Draft(lid, "challenge:r0000001", "kept", NOW - 90 * DAY))

    db.run_sync(fill)
    assert await Housekeeping(db, FixedClock(NOW)).prune() == (0, 0, 0, 4)
    assert list(db.store.web_sessions) == ["2" * 64] and list(db.store.web_once) == ["k2"]
    assert len(db.store.web_drafts) == 1
