"""Housekeeping on a real database: old prompts and long-delivered outbox rows go."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from bot.core.housekeeping import Housekeeping
from bot.core.model import LearnerSettings, OutboxMessage, Prompt, WebSession
from bot.core.ports import Tx
from bot.storage.database import SqlDatabase
from bot.storage.tables import outbox
from tests.fakes.clock import FixedClock
from tests.fakes.decks import make_deck

NOW = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)


async def test_old_prompts_and_delivered_outbox_rows_are_pruned(db: SqlDatabase) -> None:
    def fill(tx: Tx) -> list[int]:
        tx.catalogue.sync([make_deck("d", ["c1"])], NOW - 60 * DAY)
        lid = tx.learners.create("fake", "u1", "Ann", LearnerSettings(), (), NOW - 60 * DAY).id
        tx.prompts.add(Prompt("old00001", lid, "c1", "dm", NOW - 31 * DAY))
        tx.prompts.add(Prompt("new00001", lid, "c1", "dm", NOW - 29 * DAY))
        tx.pushes.add_outbox(
            [OutboxMessage("fake", lid, "push", "due", NOW, NOW, "c1") for _ in range(5)]
        )
        ids = [m.id for m in tx.pushes.lease("fake", NOW, NOW + DAY, 10)]
        tx.pushes.mark_sent(ids[0], NOW - 10 * DAY)  # long delivered: pruned
        tx.pushes.mark_failed(ids[1], NOW - 8 * DAY, "blocked")  # long given up: pruned
        tx.pushes.mark_sent(ids[2], NOW - DAY)  # delivered yesterday: kept
        tx.pushes.retry_later(ids[3], NOW + DAY, "429", 2)  # to be tried again: kept
        return ids  # ids[4] is pending: kept

    ids = await db.run(fill)
    housekeeping = Housekeeping(db, FixedClock(NOW))
    assert await housekeeping.prune() == (1, 2, 0, 0)
    assert await housekeeping.prune() == (0, 0, 0, 0)
    left = await db.run_connection(
        lambda conn: list(conn.execute(select(outbox.c.id).order_by(outbox.c.id)).scalars())
    )
    assert left == ids[2:]
    assert await db.run(lambda tx: tx.prompts.get("old00001")) is None
    assert await db.run(lambda tx: tx.prompts.get("new00001")) is not None
    # The retry remembers how many of its messages went out already.
    leased = await db.run(lambda tx: tx.pushes.lease("fake", NOW + DAY, NOW + 2 * DAY, 10))
    assert {m.id: m.parts_sent for m in leased} == {ids[3]: 2, ids[4]: 0}


async def test_expired_web_sessions_and_one_time_keys_are_pruned(db: SqlDatabase) -> None:
    def fill(tx: Tx) -> int:
        lid = tx.learners.create("fake", "u1", "Ann", LearnerSettings(), (), NOW - DAY).id
        for n, expires in enumerate((NOW - DAY, NOW, NOW + timedelta(seconds=1))):
            tx.web.add_session(WebSession(f"{n}" * 64, lid, "csrf", "*", NOW - DAY, expires))
            tx.web.use_once(f"k{n}", expires)
        return lid

    lid = await db.run(fill)
    housekeeping = Housekeeping(db, FixedClock(NOW))
    assert await housekeeping.prune() == (0, 0, 0, 4)
    assert await housekeeping.prune() == (0, 0, 0, 0)
    now = NOW - 2 * DAY  # the session's own expiry aside, is the row still there?
    found = await db.run(lambda tx: [tx.web.session(f"{n}" * 64, now) for n in range(3)])
    assert [s.learner_id if s else None for s in found] == [None, None, lid]
    assert await db.run(lambda tx: tx.web.use_once("k2", NOW)) is False
