"""The review log and undo: the same behaviour on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.core.model import CardState, CardStateKind, ReviewEntry
from bot.core.ports import Database, Tx
from tests.contract.helpers import DAY, HOUR, T0, add_learner, one_deck, review_state

MINUTE = timedelta(minutes=1)


def entry(learner_id: int, card_id: str, when: datetime, *, rating: int = 3) -> ReviewEntry:
    """A rating of a new card that moved it into learning."""
    before = CardState(learner_id, card_id)
    after = CardState(learner_id, card_id, CardStateKind.LEARNING, 0, 2.3, 5.1, T0 + HOUR, T0, 1)
    return ReviewEntry(learner_id, card_id, rating, when, "dm", before, after)


async def test_a_review_is_logged_and_read_back(db: Database) -> None:
    await one_deck(db, "c")
    lr = await add_learner(db)
    before = review_state(lr.id, "c", T0 - HOUR)
    after = CardState(lr.id, "c", CardStateKind.REVIEW, None, 12.0, 4.5, T0 + 12 * DAY, T0, 4, 0)
    logged = ReviewEntry(lr.id, "c", 4, T0, "push", before, after, 1500, "typed answer")
    review_id = await db.run(lambda tx: tx.reviews.add(logged))
    last = await db.run(lambda tx: tx.reviews.last_active(lr.id))
    assert last is not None
    assert last.id == review_id and last.undone_at is None
    assert (last.rating, last.reviewed_at, last.source) == (4, T0, "push")
    assert (last.duration_ms, last.typed_answer) == (1500, "typed answer")
    assert last.before == before and last.after == after


async def test_the_log_keeps_what_undo_needs_of_the_state_after(db: Database) -> None:
    """The state after a rating is stored without its flags; reps is one more than before."""
    await one_deck(db, "c")
    lr = await add_learner(db)
    before = review_state(lr.id, "c", T0 - HOUR)
    after = CardState(
        lr.id, "c", CardStateKind.RELEARNING, 0, 1.0, 9.0, T0 + HOUR, T0, 99, 1, True, True, T0
    )
    await db.run(lambda tx: tx.reviews.add(ReviewEntry(lr.id, "c", 1, T0, "dm", before, after)))
    last = await db.run(lambda tx: tx.reviews.last_active(lr.id))
    assert last is not None
    assert last.after == CardState(
        lr.id, "c", CardStateKind.RELEARNING, 0, 1.0, 9.0, T0 + HOUR, T0, before.reps + 1, 1
    )
    assert (last.duration_ms, last.typed_answer) == (None, None)


async def test_undo_marks_the_latest_review_and_counts_skip_it(db: Database) -> None:
    await one_deck(db, "a", "b")
    lr = await add_learner(db)
    first = await db.run(lambda tx: tx.reviews.add(entry(lr.id, "a", T0)))
    second = await db.run(lambda tx: tx.reviews.add(entry(lr.id, "b", T0 + MINUTE)))
    assert first != second
    assert await db.run(lambda tx: tx.reviews.counts_since(lr.id, T0)) == (2, 2)
    last = await db.run(lambda tx: tx.reviews.last_active(lr.id))
    assert last is not None and last.id == second
    await db.run(lambda tx: tx.reviews.mark_undone(second, T0 + 2 * MINUTE))
    last = await db.run(lambda tx: tx.reviews.last_active(lr.id))
    assert last is not None and last.id == first
    assert await db.run(lambda tx: tx.reviews.counts_since(lr.id, T0)) == (1, 1)
    everything = await db.run(lambda tx: tx.reviews.all_for(lr.id))
    assert [(e.id, e.undone_at) for e in everything] == [
        (first, None),
        (second, T0 + 2 * MINUTE),
    ]
    await db.run(lambda tx: tx.reviews.mark_undone(first, T0 + 3 * MINUTE))
    assert await db.run(lambda tx: tx.reviews.last_active(lr.id)) is None


async def test_the_latest_of_two_reviews_at_one_instant_is_the_later_logged(db: Database) -> None:
    await one_deck(db, "a", "b")
    lr = await add_learner(db)
    await db.run(lambda tx: tx.reviews.add(entry(lr.id, "a", T0)))
    later = await db.run(lambda tx: tx.reviews.add(entry(lr.id, "b", T0)))
    last = await db.run(lambda tx: tx.reviews.last_active(lr.id))
    assert last is not None and (last.id, last.card_id) == (later, "b")


async def test_all_for_is_oldest_first_and_only_the_learners(db: Database) -> None:
    await one_deck(db, "a", "b")
    ann = await add_learner(db, "1")
    ben = await add_learner(db, "2")

    def log(tx: Tx) -> None:
        tx.reviews.add(entry(ann.id, "a", T0 + HOUR))
        tx.reviews.add(entry(ben.id, "a", T0))
        tx.reviews.add(entry(ann.id, "b", T0))

    await db.run(log)
    got = await db.run(lambda tx: tx.reviews.all_for(ann.id))
    assert [(e.card_id, e.reviewed_at) for e in got] == [("b", T0), ("a", T0 + HOUR)]
    assert await db.run(lambda tx: tx.reviews.all_for(ben.id + 1)) == []
    since = await db.run(lambda tx: tx.reviews.all_for(ann.id, since=T0 + HOUR))
    assert [(e.card_id, e.reviewed_at) for e in since] == [("a", T0 + HOUR)]


async def test_counts_by_source_and_history(db: Database) -> None:
    await one_deck(db, "a", "b", "c")
    lr = await add_learner(db)
    seen = review_state(lr.id, "a", T0)

    def log(tx: Tx) -> int:
        tx.reviews.add(entry(lr.id, "a", T0 - DAY, rating=1))  # before the window
        tx.reviews.add(entry(lr.id, "a", T0, rating=3))  # at its start: counted
        tx.reviews.add(ReviewEntry(lr.id, "a", 4, T0 + HOUR, "quiz", seen, seen))
        return tx.reviews.add(ReviewEntry(lr.id, "b", 2, T0 + 2 * HOUR, "quiz", seen, seen))

    undone = await db.run(log)
    await db.run(lambda tx: tx.reviews.mark_undone(undone, T0 + 3 * HOUR))
    assert await db.run(lambda tx: tx.reviews.counts_since(lr.id, T0)) == (2, 1)
    assert await db.run(lambda tx: tx.reviews.count_source_since(lr.id, "quiz", T0)) == 1
    assert await db.run(lambda tx: tx.reviews.count_source_since(lr.id, "dm", T0 - DAY)) == 2
    assert await db.run(lambda tx: tx.reviews.history(lr.id, T0)) == [
        (T0, 3, int(CardStateKind.NEW)),
        (T0 + HOUR, 4, int(CardStateKind.REVIEW)),
    ]


async def test_practice_counts_in_no_limit_and_no_figure(db: Database) -> None:
    """A /cram rating (source cram) is logged, but left out of the daily counts and the
    history behind the retention figures; the cards crammed are found by source."""
    await one_deck(db, "a", "b", "c")
    lr = await add_learner(db)
    seen = review_state(lr.id, "a", T0)
    new = CardState(lr.id, "c")

    def log(tx: Tx) -> None:
        tx.reviews.add(entry(lr.id, "b", T0, rating=3))
        tx.reviews.add(ReviewEntry(lr.id, "a", 1, T0 + HOUR, "cram", seen, seen))
        tx.reviews.add(ReviewEntry(lr.id, "c", 3, T0 + HOUR, "cram", new, new))
        tx.reviews.add(ReviewEntry(lr.id, "a", 3, T0 - DAY, "cram", seen, seen))

    await db.run(log)
    assert await db.run(lambda tx: tx.reviews.counts_since(lr.id, T0)) == (1, 1)
    _due, reviews, introduced = await db.run(
        lambda tx: tx.schedule.next_due_and_counts(lr.id, T0, T0)
    )
    assert (reviews, introduced) == (1, 1)
    assert await db.run(lambda tx: tx.reviews.history(lr.id, T0 - DAY)) == [
        (T0, 3, int(CardStateKind.NEW))
    ]
    assert await db.run(lambda tx: tx.reviews.cards_since(lr.id, "cram", T0)) == {"a", "c"}
    assert await db.run(lambda tx: tx.reviews.cards_since(lr.id, "cram", T0 + DAY)) == set()
    assert len(await db.run(lambda tx: tx.reviews.all_for(lr.id))) == 4
