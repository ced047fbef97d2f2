"""Tests for bot.core.learners: what a unit of work leaves for after its commit.

A review is counted once the transaction that recorded it has committed: a tap
that changes nothing counts nothing, and neither does a transaction that fails.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TypeVar

import pytest

from bot.core.learners import Who
from bot.core.messages import Reply
from bot.core.model import ReviewSource
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase, FakeTx
from tests.fakes.decks import make_card, make_deck
from tests.services import Services, build_services, button, is_expired, only

T = TypeVar("T")
START = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
ALICE = Who("telegram", "100", "Alice")


class CommitFails(FakeDatabase):
    """A database whose commits fail while ``failing`` is set (the work runs, then rolls back)."""

    failing = False

    async def run(self, work: Callable[[FakeTx], T]) -> T:
        if not self.failing:
            return await super().run(work)

        def doomed(tx: FakeTx) -> T:
            work(tx)
            raise ConnectionError("the commit failed")

        return await super().run(doomed)


def make_services() -> Services[CommitFails]:
    deck = make_deck("deck", [make_card(f"c{i}") for i in range(1, 6)])
    return build_services(CommitFails([deck], START), FixedClock(START))


async def back_of_next_card(s: Services[CommitFails], source: str = ReviewSource.DM) -> Reply:
    front = only(await s.study.next(ALICE, source))
    revealed = await s.press(ALICE, button(front, "Show answer").payload)
    assert revealed.edit is not None
    return revealed.edit


async def test_a_rating_is_counted_by_its_source_once_committed() -> None:
    s = make_services()
    back = await back_of_next_card(s)
    assert s.metrics.reviews == Counter()
    await s.press(ALICE, button(back, "Good").payload)
    assert s.metrics.reviews == Counter({"dm": 1})
    console = await back_of_next_card(s, ReviewSource.CONSOLE)
    await s.press(ALICE, button(console, "Again").payload)
    assert s.metrics.reviews == Counter({"dm": 1, "console": 1})


async def test_a_double_tap_is_counted_once() -> None:
    s = make_services()
    good = button(await back_of_next_card(s), "Good").payload
    await s.press(ALICE, good)
    assert is_expired(await s.press(ALICE, good))
    assert s.metrics.reviews == Counter({"dm": 1})


async def test_a_rating_whose_transaction_fails_is_not_counted() -> None:
    s = make_services()
    good = button(await back_of_next_card(s), "Good").payload
    s.db.failing = True
    with pytest.raises(ConnectionError):
        await s.press(ALICE, good)
    assert s.metrics.reviews == Counter()
    s.db.failing = False
    await s.press(ALICE, good)  # the prompt is still open: the tap counts now
    assert s.metrics.reviews == Counter({"dm": 1})
