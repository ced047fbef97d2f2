"""Open questions: the same behaviour on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import timedelta

from bot.core.ports import Database
from tests.contract.helpers import HOUR, T0, add_learner


async def test_one_open_question_per_learner_until_it_expires(db: Database) -> None:
    ann = await add_learner(db, "1")
    ben = await add_learner(db, "2")
    assert await db.run(lambda tx: tx.questions.pending(ann.id, T0)) is None
    await db.run(lambda tx: tx.questions.ask(ann.id, "tz", True, T0 + HOUR))
    await db.run(lambda tx: tx.questions.ask(ann.id, "push", False, T0 + 2 * HOUR))  # replaces
    await db.run(lambda tx: tx.questions.ask(ben.id, "tz", False, T0 + HOUR))
    assert await db.run(lambda tx: tx.questions.pending(ann.id, T0)) == ("push", False)
    later = T0 + 2 * HOUR - timedelta(seconds=1)
    assert await db.run(lambda tx: tx.questions.pending(ann.id, later)) == ("push", False)
    assert await db.run(lambda tx: tx.questions.pending(ann.id, T0 + 2 * HOUR)) is None
    await db.run(lambda tx: tx.questions.close(ann.id))
    await db.run(lambda tx: tx.questions.close(ann.id))  # nothing open: no error
    assert await db.run(lambda tx: tx.questions.pending(ann.id, T0)) is None
    assert await db.run(lambda tx: tx.questions.pending(ben.id, T0)) == ("tz", False)


async def test_forgetting_a_learner_forgets_their_question(db: Database) -> None:
    ann = await add_learner(db, "1")
    await db.run(lambda tx: tx.questions.ask(ann.id, "tz", True, T0 + HOUR))
    await db.run(lambda tx: tx.learners.delete(ann.id))
    assert await db.run(lambda tx: tx.questions.pending(ann.id, T0)) is None
