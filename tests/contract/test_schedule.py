"""Card states and schedule queries: the same behaviour on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

import pytest

from bot.core.model import CardState, CardStateKind, ReviewEntry
from bot.core.ports import Database, Tx
from tests.contract.helpers import (
    DAY,
    HOUR,
    T0,
    add_learner,
    one_deck,
    review_state,
    save_states,
    sync,
)
from tests.fakes.decks import make_card, make_deck


async def test_a_state_is_saved_read_replaced_and_deleted(db: Database) -> None:
    await one_deck(db, "c")
    lr = await add_learner(db)
    assert await db.run(lambda tx: tx.schedule.get(lr.id, "c")) == CardState(lr.id, "c")
    full = CardState(
        lr.id,
        "c",
        CardStateKind.RELEARNING,
        0,
        2.5,
        7.25,
        T0 + HOUR,
        T0,
        9,
        2,
        True,
        True,
        T0 + DAY,
    )
    await save_states(db, full)
    assert await db.run(lambda tx: tx.schedule.get(lr.id, "c")) == full
    learning = CardState(lr.id, "c", CardStateKind.LEARNING, 1, 1.0, 5.0, T0, T0, 1)
    await save_states(db, learning)
    assert await db.run(lambda tx: tx.schedule.get(lr.id, "c")) == learning
    await db.run(lambda tx: tx.schedule.delete(lr.id, "c"))
    assert await db.run(lambda tx: tx.schedule.get(lr.id, "c")) == CardState(lr.id, "c")


async def test_states_for_some_learners_and_cards(db: Database) -> None:
    await one_deck(db, "a", "b", "c")
    ann, ben, cy = [await add_learner(db, str(i)) for i in range(3)]
    states = [review_state(who.id, card, T0) for who in (ann, ben, cy) for card in ("a", "b")]
    await save_states(db, *states)
    found = await db.run(lambda tx: tx.schedule.states_for([ann.id, cy.id], ["b", "c"]))
    assert sorted(found, key=lambda s: s.learner_id) == [
        review_state(ann.id, "b", T0),
        review_state(cy.id, "b", T0),
    ]
    assert await db.run(lambda tx: tx.schedule.states_for([], ["a"])) == []
    assert await db.run(lambda tx: tx.schedule.states_for([ann.id], [])) == []


async def test_next_due_and_next_new_ordering(db: Database) -> None:
    await sync(
        db,
        make_deck("a", [make_card("a1", tags=("x",)), "a2"]),
        make_deck("b", [make_card("b1", tags=("x",))]),
    )
    lr = await add_learner(db)
    assert await db.run(lambda tx: tx.schedule.next_new(lr.id, (), T0)) == "a1"
    assert await db.run(lambda tx: tx.schedule.next_new(lr.id, ("b",), T0)) == "b1"
    assert await db.run(lambda tx: tx.schedule.next_new(lr.id, ("x",), T0)) == "a1"
    assert await db.run(lambda tx: tx.schedule.next_new(lr.id, ("nothing",), T0)) is None
    await save_states(
        db,
        review_state(lr.id, "a2", T0),
        review_state(lr.id, "a1", T0 - HOUR),
        review_state(lr.id, "b1", T0 - 2 * HOUR, suspended=True),
    )
    assert await db.run(lambda tx: tx.schedule.next_due(lr.id, T0)) == "a1"
    assert await db.run(lambda tx: tx.schedule.next_new(lr.id, (), T0)) is None
    assert await db.run(lambda tx: tx.schedule.count_due(lr.id, T0 + HOUR)) == 2
    assert await db.run(lambda tx: tx.schedule.unsuspend(lr.id, None)) == 1
    assert await db.run(lambda tx: tx.schedule.next_due(lr.id, T0)) == "b1"


async def test_next_due_leaves_out_buried_retired_and_later_cards(db: Database) -> None:
    await one_deck(db, "buried", "gone", "later", "due")
    lr = await add_learner(db)
    await save_states(
        db,
        review_state(lr.id, "buried", T0 - 3 * HOUR, buried_until=T0 + HOUR),
        review_state(lr.id, "gone", T0 - 2 * HOUR),
        review_state(lr.id, "later", T0 + 2 * HOUR),
        review_state(lr.id, "due", T0 - HOUR),
    )
    await one_deck(db, "buried", "later", "due")  # "gone" is retired
    assert await db.run(lambda tx: tx.schedule.next_due(lr.id, T0)) == "due"
    # Looking ahead: cards due before the limit, buried ones still left out until then.
    ahead = T0 + 3 * HOUR
    assert await db.run(lambda tx: tx.schedule.next_due(lr.id, T0, ahead)) == "due"
    await save_states(db, review_state(lr.id, "due", T0 + 4 * HOUR))
    assert await db.run(lambda tx: tx.schedule.next_due(lr.id, T0, ahead)) == "later"
    assert await db.run(lambda tx: tx.schedule.next_due(lr.id, T0)) is None
    # Once the bury ends, the buried card is the most overdue.
    assert await db.run(lambda tx: tx.schedule.next_due(lr.id, T0 + HOUR)) == "buried"
    other = await add_learner(db, "2")
    assert await db.run(lambda tx: tx.schedule.next_due(other.id, ahead)) is None


async def test_next_new_walks_live_unstudied_cards_in_deck_order(db: Database) -> None:
    await sync(
        db,
        make_deck("second", ["s1", make_card("s2", tags=("t",))]),
        make_deck("first", ["f1", "f2"]),
    )
    lr = await add_learner(db)
    assert await db.run(lambda tx: tx.schedule.next_new(lr.id, (), T0)) == "s1"
    await save_states(db, review_state(lr.id, "s1", T0 + DAY))
    assert await db.run(lambda tx: tx.schedule.next_new(lr.id, (), T0)) == "s2"
    assert await db.run(lambda tx: tx.schedule.next_new(lr.id, ("first",), T0)) == "f1"
    assert await db.run(lambda tx: tx.schedule.next_new(lr.id, ("first", "t"), T0)) == "s2"
    await sync(db, make_deck("first", ["f1", "f2"]))  # the second deck is retired
    assert await db.run(lambda tx: tx.schedule.next_new(lr.id, (), T0)) == "f1"
    assert await db.run(lambda tx: tx.schedule.next_new(lr.id, ("t",), T0)) is None
    other = await add_learner(db, "2")
    assert await db.run(lambda tx: tx.schedule.next_new(other.id, (), T0)) == "f1"


async def test_next_due_and_counts_in_one_read(db: Database) -> None:
    await one_deck(db, "a", "b", "c")
    lr = await add_learner(db)
    assert await db.run(lambda tx: tx.schedule.next_due_and_counts(lr.id, T0, T0)) == (None, 0, 0)
    new, seen = CardState(lr.id, "a"), review_state(lr.id, "b", T0 - DAY)

    def study(tx: Tx) -> None:
        tx.schedule.save(review_state(lr.id, "b", T0 - HOUR))
        tx.reviews.add(ReviewEntry(lr.id, "a", 3, T0 - 2 * HOUR, "dm", new, seen))
        tx.reviews.add(ReviewEntry(lr.id, "b", 3, T0 - HOUR, "dm", seen, seen))
        tx.reviews.add(ReviewEntry(lr.id, "b", 3, T0 - DAY, "dm", seen, seen))

    await db.run(study)
    got = await db.run(lambda tx: tx.schedule.next_due_and_counts(lr.id, T0, T0 - 3 * HOUR))
    assert got == ("b", 2, 1)
    separately = await db.run(
        lambda tx: (tx.schedule.next_due(lr.id, T0), *tx.reviews.counts_since(lr.id, T0 - 3 * HOUR))
    )
    assert got == separately


async def test_due_cards_narrowed_to_topics(db: Database) -> None:
    """With topics (deck ids or tags), the next due card, the counts' next due card and the
    next due time come from those only; the counts stay the learner's whole day."""
    await sync(
        db,
        make_deck("a", ["a1", make_card("a2", tags=("x", "y")), "a3"]),
        make_deck("b", ["b1", make_card("b2", tags=("x",))]),
    )
    lr = await add_learner(db)
    await save_states(
        db,
        review_state(lr.id, "a1", T0 - 3 * HOUR),
        review_state(lr.id, "a2", T0 + 5 * HOUR),
        review_state(lr.id, "b1", T0 - 2 * HOUR),
        review_state(lr.id, "b2", T0 - HOUR, suspended=True),
        review_state(lr.id, "a3", T0 + HOUR, buried_until=T0 + 7 * HOUR),
    )
    seen = review_state(lr.id, "a1", T0 - DAY)
    await db.run(
        lambda tx: tx.reviews.add(ReviewEntry(lr.id, "a1", 3, T0 - HOUR, "dm", seen, seen))
    )

    assert await db.run(lambda tx: tx.schedule.next_due(lr.id, T0, topics=())) == "a1"
    assert await db.run(lambda tx: tx.schedule.next_due(lr.id, T0, topics=("b",))) == "b1"
    assert await db.run(lambda tx: tx.schedule.next_due(lr.id, T0, topics=("a", "b"))) == "a1"
    assert await db.run(lambda tx: tx.schedule.next_due(lr.id, T0, topics=("x",))) is None
    assert await db.run(lambda tx: tx.schedule.next_due(lr.id, T0, topics=("nope",))) is None
    ahead = T0 + 6 * HOUR  # learn-ahead: a2 by its tag; a3 is buried past now
    assert await db.run(lambda tx: tx.schedule.next_due(lr.id, T0, ahead, topics=("y",))) == "a2"
    got = await db.run(
        lambda tx: tx.schedule.next_due_and_counts(lr.id, T0, T0 - 3 * HOUR, topics=("b",))
    )
    assert got == ("b1", 1, 0)
    got = await db.run(
        lambda tx: tx.schedule.next_due_and_counts(lr.id, T0, T0 - 3 * HOUR, topics=("x", "y"))
    )
    assert got == (None, 1, 0)
    got = await db.run(lambda tx: tx.schedule.next_due_and_counts(lr.id, T0, T0 - 3 * HOUR))
    assert got == ("a1", 1, 0)
    assert await db.run(lambda tx: tx.schedule.next_due_at(lr.id)) == T0 - 3 * HOUR
    assert await db.run(lambda tx: tx.schedule.next_due_at(lr.id, topics=("b",))) == T0 - 2 * HOUR
    assert await db.run(lambda tx: tx.schedule.next_due_at(lr.id, topics=("x",))) == T0 + 5 * HOUR
    assert await db.run(lambda tx: tx.schedule.next_due_at(lr.id, topics=("nope",))) is None
    # A retired deck's cards are in no topic.
    await sync(db, make_deck("a", ["a1", make_card("a2", tags=("x", "y")), "a3"]))
    assert await db.run(lambda tx: tx.schedule.next_due(lr.id, T0, topics=("b",))) is None
    assert await db.run(lambda tx: tx.schedule.next_due_at(lr.id, topics=("b",))) is None


async def test_count_due_and_due_times(db: Database) -> None:
    await one_deck(db, "due", "buried", "until", "suspended", "gone", "later")
    lr = await add_learner(db)
    await save_states(
        db,
        review_state(lr.id, "due", T0 - HOUR),
        review_state(lr.id, "buried", T0 - HOUR, buried_until=T0 + 2 * HOUR),
        review_state(lr.id, "until", T0 + HOUR),  # exactly at the limit: not before it
        review_state(lr.id, "suspended", T0 - HOUR, suspended=True),
        review_state(lr.id, "gone", T0 - HOUR),
        review_state(lr.id, "later", T0 + DAY),
    )
    await one_deck(db, "due", "buried", "until", "suspended", "later")
    assert await db.run(lambda tx: tx.schedule.count_due(lr.id, T0 + HOUR)) == 1
    assert await db.run(lambda tx: tx.schedule.count_due(lr.id, T0 + 3 * HOUR)) == 3
    times = await db.run(lambda tx: tx.schedule.due_times(lr.id, T0 + HOUR))
    # A buried card falls due when its bury ends.
    assert sorted(times) == [T0 - HOUR, T0 + 2 * HOUR]
    other = await add_learner(db, "2")
    assert await db.run(lambda tx: tx.schedule.count_due(other.id, T0 + DAY)) == 0
    assert await db.run(lambda tx: tx.schedule.due_times(other.id, T0 + DAY)) == []


async def test_next_due_at(db: Database) -> None:
    await one_deck(db, "a", "b", "c")
    lr = await add_learner(db)
    assert await db.run(lambda tx: tx.schedule.next_due_at(lr.id)) is None
    await save_states(
        db,
        review_state(lr.id, "a", T0 + 3 * HOUR),
        review_state(lr.id, "b", T0 + HOUR, buried_until=T0 + 2 * HOUR),
        review_state(lr.id, "c", T0, suspended=True),
    )
    assert await db.run(lambda tx: tx.schedule.next_due_at(lr.id)) == T0 + 2 * HOUR
    await one_deck(db, "a", "c")  # b is retired
    assert await db.run(lambda tx: tx.schedule.next_due_at(lr.id)) == T0 + 3 * HOUR


async def test_unsuspend_some_or_all(db: Database) -> None:
    await one_deck(db, "a", "b", "c")
    lr = await add_learner(db)
    leech = review_state(lr.id, "a", T0, suspended=True, leech=True)
    await save_states(
        db,
        leech,
        review_state(lr.id, "b", T0, suspended=True),
        review_state(lr.id, "c", T0),
    )
    assert await db.run(lambda tx: tx.schedule.unsuspend(lr.id, ["a", "c"])) == 1
    assert await db.run(lambda tx: tx.schedule.get(lr.id, "a")) == replace(
        leech, suspended=False, leech=False
    )
    assert (await db.run(lambda tx: tx.schedule.get(lr.id, "b"))).suspended
    assert await db.run(lambda tx: tx.schedule.unsuspend(lr.id, None)) == 1
    assert await db.run(lambda tx: tx.schedule.unsuspend(lr.id, None)) == 0


def _midnights(first: date, days: int, tz: str) -> list[datetime]:
    zone = ZoneInfo(tz)
    return [
        datetime.combine(first + timedelta(days=k), time(0), tzinfo=zone).astimezone(UTC)
        for k in range(days + 1)
    ]


@pytest.mark.parametrize("tz", ["UTC", "Europe/Berlin", "Asia/Kathmandu", "Australia/Lord_Howe"])
async def test_due_per_day_counts_each_local_day(db: Database, tz: str) -> None:
    """Cards due in each local day, midnights exact, across a clock change (Berlin's on
    29 March, Lord Howe's half hour on 5 April), in a +05:45 zone: live, unsuspended,
    this learner's only; buried cards count (their bury ends before these days)."""
    starts = _midnights(date(2026, 3, 27), 12, tz)  # Fri 27 March to Tue 7 April
    ids = [f"c{n}" for n in range(16)]
    await one_deck(db, *ids, "retired", "suspended", "other")
    lr, other = await add_learner(db), await add_learner(db, "2")
    us = timedelta(microseconds=1)
    dues = [
        starts[0],  # the first instant: day 0
        starts[1] - us,  # the last microsecond of day 0
        starts[1],  # day 1
        starts[2] + timedelta(hours=23, minutes=59, seconds=59, microseconds=999_999)
        if tz == "UTC"
        else starts[3] - us,  # day 2's last instant
        starts[3] + 13 * HOUR,  # day 3, after the change in Berlin
        starts[3] + 13 * HOUR,
        starts[9] + HOUR,  # day 9, after Lord Howe's change
        starts[11] + 23 * HOUR if tz == "UTC" else starts[12] - us,  # the last day
        starts[12],  # the end: not counted
        starts[0] - us,  # before: not counted
    ]
    states = [review_state(lr.id, card, due) for card, due in zip(ids, dues, strict=False)]
    states.append(review_state(lr.id, "c15", starts[5], buried_until=starts[0]))
    states.append(review_state(lr.id, "suspended", starts[5], suspended=True))
    states.append(review_state(lr.id, "retired", starts[5]))
    states.append(review_state(other.id, "other", starts[5]))
    await save_states(db, *states)
    await one_deck(db, *ids, "suspended", "other")  # "retired" is retired
    counts = await db.run(lambda tx: tx.schedule.due_per_day(lr.id, starts))
    assert counts == [2, 1, 1, 2, 0, 1, 0, 0, 0, 1, 0, 1]
    assert (
        await db.run(lambda tx: tx.schedule.due_per_day(other.id, starts))
        == [0] * 5 + [1] + [0] * 6
    )
    assert await db.run(lambda tx: tx.schedule.due_per_day(lr.id, starts[:1])) == []
    assert await db.run(lambda tx: tx.schedule.due_per_day(lr.id, starts[3:5])) == [2]


async def test_save_many_inserts_and_updates_exactly(db: Database) -> None:
    ann = await add_learner(db)
    await one_deck(db, "c1", "c2", "c3")
    odd = T0 + timedelta(microseconds=123457)
    await db.run(lambda tx: tx.schedule.save(review_state(ann.id, "c1", T0)))
    states = [
        review_state(ann.id, "c1", odd, suspended=True),  # an update
        review_state(ann.id, "c2", odd, buried_until=odd + timedelta(days=1), leech=True),
        CardState(ann.id, "c3", CardStateKind.LEARNING, 1, 0.5, 6.0, odd, odd, 1, 0),
    ]
    assert await db.run(lambda tx: tx.schedule.save_many(states)) == 3
    assert await db.run(lambda tx: tx.schedule.save_many([])) == 0
    got = await db.run(lambda tx: tx.schedule.states_for([ann.id], ["c1", "c2", "c3"]))
    assert sorted(got, key=lambda s: s.card_id) == states
    assert await db.run(lambda tx: tx.schedule.next_due(ann.id, odd)) == "c3"


async def test_states_for_many_cards_of_one_learner_and_of_several(db: Database) -> None:
    ann = await add_learner(db, "1")
    ben = await add_learner(db, "2")
    ids = [f"c{i:04d}" for i in range(1200)]
    await one_deck(db, *ids)
    await db.run(
        lambda tx: tx.schedule.save_many(
            [review_state(ann.id, c, T0) for c in ids[:700]]
            + [review_state(ben.id, c, T0) for c in ids[650:1000]]
        )
    )
    asked = [*ids, "nope", ids[0]]  # past one slice; an unknown id and a repeat
    mine = await db.run(lambda tx: tx.schedule.states_for([ann.id], asked))
    assert sorted(s.card_id for s in mine) == ids[:700]
    both = await db.run(lambda tx: tx.schedule.states_for([ann.id, ben.id], asked))
    assert len(both) == 700 + 350
    few = await db.run(lambda tx: tx.schedule.states_for([ben.id], ids[:660]))
    assert sorted(s.card_id for s in few) == ids[650:660]
