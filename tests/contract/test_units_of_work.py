"""Units of work: the same behaviour on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime

import pytest

from bot.core.model import LearnerSettings
from bot.core.ports import Database, Tx
from tests.contract.helpers import T0
from tests.fakes.decks import make_deck


async def test_a_unit_of_work_that_returns_is_committed(db: Database) -> None:
    def work(tx: Tx) -> int:
        tx.catalogue.sync([make_deck("d", ["c"])], T0)
        return 42

    assert await db.run(work) == 42
    assert [d.id for d in await db.run(lambda tx: tx.catalogue.decks())] == ["d"]


async def test_a_unit_of_work_that_raises_leaves_no_trace(db: Database) -> None:
    def boom(tx: Tx) -> None:
        tx.catalogue.sync([make_deck("d", ["c"])], T0)
        tx.learners.create("tg", "1", "Ann", LearnerSettings(), (), T0)
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await db.run(boom)
    assert await db.run(lambda tx: tx.catalogue.decks()) == []
    assert await db.run(lambda tx: tx.learners.get("tg", "1")) is None


async def test_naive_instants_are_refused(db: Database) -> None:
    def write(tx: Tx) -> None:
        tx.catalogue.sync([make_deck("d", ["c"])], datetime(2026, 1, 1))

    with pytest.raises(Exception, match=r"(?i)naive|aware UTC"):
        await db.run(write)
    assert await db.run(lambda tx: tx.catalogue.decks()) == []
