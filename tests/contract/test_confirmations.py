"""Confirmations of destructive commands: the same behaviour on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

import pytest

from bot.core.ports import Database
from tests.contract.helpers import HOUR, T0, add_learner


async def test_a_confirmation_is_used_once_by_its_learner(db: Database) -> None:
    ann = await add_learner(db, "1")
    ben = await add_learner(db, "2")
    await db.run(lambda tx: tx.confirmations.add("k0000001", ann.id, "forget", T0))
    assert await db.run(lambda tx: tx.confirmations.use("k0000001", ben.id, T0, T0)) is None
    assert await db.run(lambda tx: tx.confirmations.use("k0000001", ann.id, T0, T0)) == (
        "forget",
        None,
    )
    assert await db.run(lambda tx: tx.confirmations.use("k0000001", ann.id, T0, T0)) is None
    assert await db.run(lambda tx: tx.confirmations.use("k0000002", ann.id, T0, T0)) is None


async def test_a_confirmation_keeps_its_subject(db: Database) -> None:
    ann = await add_learner(db)
    subject = "u1-" + "x" * 61  # the column's 64 characters
    await db.run(lambda tx: tx.confirmations.add("k0000001", ann.id, "rmdeck", T0, subject))
    await db.run(lambda tx: tx.confirmations.add("k0000002", ann.id, "rmdeck", T0, "u1-b"))
    assert await db.run(lambda tx: tx.confirmations.use("k0000002", ann.id, T0, T0)) == (
        "rmdeck",
        "u1-b",
    )
    assert await db.run(lambda tx: tx.confirmations.use("k0000001", ann.id, T0, T0)) == (
        "rmdeck",
        subject,
    )


async def test_a_confirmation_made_before_the_window_is_refused(db: Database) -> None:
    ann = await add_learner(db)
    await db.run(lambda tx: tx.confirmations.add("k0000001", ann.id, "forget", T0))
    later = T0 + HOUR
    assert await db.run(lambda tx: tx.confirmations.use("k0000001", ann.id, later, later)) is None
    # Made exactly at the start of the window: still good.
    assert await db.run(lambda tx: tx.confirmations.use("k0000001", ann.id, later, T0)) == (
        "forget",
        None,
    )


async def test_a_token_names_one_confirmation(db: Database) -> None:
    ann = await add_learner(db)
    await db.run(lambda tx: tx.confirmations.add("k0000001", ann.id, "forget", T0))
    with pytest.raises(Exception, match=r"(?i)unique|duplicate|primary key"):
        await db.run(lambda tx: tx.confirmations.add("k0000001", ann.id, "reset", T0))
