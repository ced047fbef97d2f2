"""Schedules on a real database: a learner's first state of a card written by two units
of work at once (two reviews of one card side by side, say quizzes in two groups)."""

from __future__ import annotations

import asyncio

from bot.storage.database import SqlDatabase
from tests.contract.helpers import DAY, T0, add_learner, one_deck, review_state, save_states

CARDS = 30


async def test_two_first_states_of_one_card_at_once_keep_one_row(database_url: str) -> None:
    """Each of 30 cards gets its first state from two databases' pools at once: no
    unique-key error, one row each, the state of one of the writes. A plain insert failed
    on PostgreSQL's key when both found no row."""
    first, second = SqlDatabase(database_url), SqlDatabase(database_url)
    await first.upgrade()
    try:
        ids = [f"c{i}" for i in range(CARDS)]
        await one_deck(first, *ids)
        learner = await add_learner(first)
        early, late = T0 + DAY, T0 + 9 * DAY
        # Warm both pools first: opening their connections would otherwise keep the
        # writes apart.
        await asyncio.gather(
            *(
                db.run(lambda tx: tx.learners.get_by_id(learner.id))
                for db in (first, second)
                for _ in range(5)
            )
        )
        await asyncio.gather(
            *(
                save_states(db, review_state(learner.id, card, due))
                for card in ids
                for db, due in ((first, early), (second, late))
            )
        )
        states = await first.run(lambda tx: tx.schedule.states_for([learner.id], ids))
        assert sorted(s.card_id for s in states) == sorted(ids)
        assert {s.due for s in states} <= {early, late}
    finally:
        await first.dispose()
        await second.dispose()
