"""The memory-model repository (``tx.models``) on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.core.model import CardState, CardStateKind, ModelFit, ReviewEntry, ReviewSource
from bot.core.ports import Database, Tx
from tests.contract.helpers import DAY, HOUR, T0, add_learner, one_deck, review_state, save_states

PARAMS = tuple(0.1 * i + 0.5 for i in range(21))


def entry(
    learner_id: int, card_id: str, at: datetime, rating: int = 3, **kw: object
) -> ReviewEntry:
    before = CardState(learner_id, card_id)
    after = replace(before, state=CardStateKind.REVIEW, stability=2.0, difficulty=5.0, due=at + DAY)
    source = str(kw.get("source", ReviewSource.DM))
    return ReviewEntry(
        learner_id, card_id, rating, at, source, before, replace(after, last_review=at)
    )


def fit(learner_id: int, at: datetime, *, kept: bool, reviews: int = 800) -> ModelFit:
    return ModelFit(learner_id, at, reviews, 200, 0.41, 0.39, 0.42, kept, PARAMS)


async def test_claims_take_never_looked_at_first_and_lease_them(db: Database) -> None:
    a = await add_learner(db, "a")
    b = await add_learner(db, "b")
    c = await add_learner(db, "c")
    await db.run(lambda tx: tx.models.set_next(b.id, T0 - HOUR))
    await db.run(lambda tx: tx.models.set_next(c.id, T0 + HOUR))  # not due yet
    lease = T0 + HOUR / 2
    first = await db.run(lambda tx: tx.models.claim_due(T0, lease, 1))
    assert first == [a.id]  # NULL: never looked at, so first
    rest = await db.run(lambda tx: tx.models.claim_due(T0, lease, 10))
    assert rest == [b.id]
    assert await db.run(lambda tx: tx.models.claim_due(T0, lease, 10)) == []  # leased
    assert await db.run(lambda tx: tx.models.next_at(a.id)) == lease
    # Once the lease has run out (a fitter died), the learner is claimed again.
    later = await db.run(lambda tx: tx.models.claim_due(T0 + HOUR, T0 + 2 * HOUR, 10))
    assert sorted(later) == sorted([a.id, b.id, c.id])


async def test_set_next_and_the_learner_list(db: Database) -> None:
    a = await add_learner(db, "a")
    b = await add_learner(db, "b")
    await db.run(lambda tx: tx.models.set_next(a.id, T0 + DAY))
    assert await db.run(lambda tx: tx.models.next_at(a.id)) == T0 + DAY
    assert await db.run(lambda tx: tx.models.next_at(b.id)) is None
    await db.run(lambda tx: tx.models.set_next(a.id, None))
    assert await db.run(lambda tx: tx.models.next_at(a.id)) is None
    assert await db.run(lambda tx: tx.models.learner_ids()) == [a.id, b.id]


async def test_the_log_leaves_out_practice_and_undone_reviews(db: Database) -> None:
    await one_deck(db, "c1", "c2")
    lr = await add_learner(db, "a")
    other = await add_learner(db, "b")

    def work(tx: Tx) -> None:
        tx.reviews.add(entry(lr.id, "c2", T0 + DAY, 1))
        tx.reviews.add(entry(lr.id, "c1", T0, 3))
        tx.reviews.add(entry(lr.id, "c1", T0 + HOUR, 4, source=ReviewSource.CRAM))
        undone = tx.reviews.add(entry(lr.id, "c1", T0 + 2 * HOUR, 2))
        tx.reviews.mark_undone(undone, T0 + 2 * HOUR)
        tx.reviews.add(entry(lr.id, "c1", T0 + DAY, 2))  # same instant as c2's: by entry
        tx.reviews.add(entry(other.id, "c1", T0, 3))

    await db.run(work)
    log = await db.run(lambda tx: tx.models.log(lr.id))
    assert log == [("c1", T0, 3), ("c2", T0 + DAY, 1), ("c1", T0 + DAY, 2)]
    assert all(at.tzinfo is T0.tzinfo for _, at, _ in log)
    assert await db.run(lambda tx: tx.models.log_size(lr.id)) == 3


async def test_fits_are_recorded_and_the_latest_is_read_kept_or_not(db: Database) -> None:
    lr = await add_learner(db, "a")
    assert await db.run(lambda tx: tx.models.latest(lr.id)) is None
    first = await db.run(lambda tx: tx.models.add(fit(lr.id, T0, kept=True)))
    assert first.id is not None and first.parameters == PARAMS
    second = await db.run(lambda tx: tx.models.add(fit(lr.id, T0 + DAY, kept=False, reviews=2000)))
    assert await db.run(lambda tx: tx.models.latest(lr.id)) == second
    assert await db.run(lambda tx: tx.models.latest(lr.id, kept=True)) == first
    assert await db.run(lambda tx: tx.models.latest(lr.id, kept=False)) == second
    assert second.fitted_at == T0 + DAY and second.reviews == 2000 and not second.kept


async def test_memory_states_change_only_where_the_last_review_is_the_one_given(
    db: Database,
) -> None:
    await one_deck(db, "c1", "c2", "c3")
    lr = await add_learner(db, "a")
    await save_states(
        db, *(review_state(lr.id, c, T0 + DAY) for c in ("c1", "c2", "c3"))
    )  # last reviewed at T0 - 5 days, stability and difficulty 5.0
    last = T0 - 5 * DAY
    states = [("c1", last, 12.5, 3.25), ("c2", last - HOUR, 9.0, 9.0), ("zz", last, 1.0, 1.0)]
    await db.run(lambda tx: tx.models.set_memory_states(lr.id, states))
    c1, c2, c3 = await db.run(lambda tx: [tx.schedule.get(lr.id, c) for c in ("c1", "c2", "c3")])
    assert (c1.stability, c1.difficulty) == (12.5, 3.25)
    assert c1.due == T0 + DAY and c1.last_review == last  # due dates stay
    assert (c2.stability, c2.difficulty) == (5.0, 5.0)  # reviewed since: left alone
    assert (c3.stability, c3.difficulty) == (5.0, 5.0)


async def test_a_deleted_learner_takes_their_fits_with_them(db: Database) -> None:
    lr = await add_learner(db, "a")
    await db.run(lambda tx: tx.models.add(fit(lr.id, T0, kept=True)))
    await db.run(lambda tx: tx.learners.delete(lr.id))
    assert await db.run(lambda tx: tx.models.latest(lr.id)) is None
    assert await db.run(lambda tx: tx.models.learner_ids()) == []
