"""The in-memory fakes themselves: every port method, and a unit of work that raises.

The behaviour of each repository is checked against the real databases by the
rest of this suite; these are what only the fakes have to prove.
"""

from __future__ import annotations

import inspect
from datetime import UTC, datetime, timedelta
from typing import get_type_hints

import pytest

from bot.core import ports
from bot.core.model import CardState, CardStateKind, LearnerSettings, OutboxMessage
from tests.fakes.database import FakeDatabase, FakeTx
from tests.fakes.decks import make_deck
from tests.fakes.store import FakeStore

T0 = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
SETTINGS = LearnerSettings()


def test_fakes_implement_every_port_method() -> None:
    """Every repository method of the ``Tx`` protocol exists on the fakes, with its parameters."""
    fake_tx = FakeTx(FakeStore())
    for name, value in vars(ports.Tx).items():
        if not isinstance(value, property) or value.fget is None:
            continue
        repo_protocol = get_type_hints(value.fget, vars(ports))["return"]
        fake_repo = getattr(fake_tx, name)
        for method_name, method in vars(repo_protocol).items():
            if method_name.startswith("_") or not callable(method):
                continue
            fake_method = getattr(fake_repo, method_name, None)
            assert fake_method is not None, f"{type(fake_repo).__name__}.{method_name} missing"
            wanted = list(inspect.signature(method).parameters)[1:]
            got = list(inspect.signature(fake_method).parameters)
            assert got == wanted, f"{type(fake_repo).__name__}.{method_name}{got} != {wanted}"


async def test_a_unit_of_work_that_raises_leaves_the_whole_store_as_it_was() -> None:
    db = FakeDatabase([make_deck("d", ["c1"])], T0)
    lid = db.run_sync(lambda tx: tx.learners.create("tg", "1", "Ann", SETTINGS, (), T0)).id
    before = db.snapshot()
    message = OutboxMessage("tg", lid, "push", "hi", T0, T0, "c1", "tok00001", 1)

    def work(tx: FakeTx) -> None:
        tx.learners.create("tg", "2", "Ben", SETTINGS, (), T0)
        tx.schedule.save(CardState(lid, "c1", CardStateKind.REVIEW, due=T0, last_review=T0))
        tx.pushes.add_outbox([message])
        tx.pushes.reschedule([(lid, T0 + timedelta(days=1), True)], T0)
        tx.learners.snooze_push(lid, T0 + timedelta(hours=1))
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        await db.run(work)
    assert db.snapshot() == before
    assert db.rollbacks == 1
    assert db.learner("tg", "2") is None
    assert db.outbox() == [] and db.last_reminder(lid) is None
    assert not db.has_state(lid, "c1")

    ben = await db.run(lambda tx: tx.learners.create("tg", "2", "Ben", SETTINGS, (), T0))
    assert db.learner("tg", "2") == ben


def test_a_naive_instant_fails_loudly() -> None:
    db = FakeDatabase()
    with pytest.raises(AssertionError, match="aware UTC"):
        db.run_sync(lambda tx: tx.pushes.claim_due(datetime(2026, 3, 3, 9), ["tg"], 10))
