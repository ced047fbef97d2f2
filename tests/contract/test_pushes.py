"""The daily push fan-out and the outbox: the same behaviour on the fake, SQLite and PostgreSQL.

What needs two processes or a real lock (SKIP LOCKED, the claim's query plan)
is in tests/integration.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime, time, timedelta
from functools import partial

import pytest

from bot.core.messages import RESENT_ASSESSMENT
from bot.core.model import (
    Backlog,
    CardState,
    Learner,
    LearnerSettings,
    OutboxMessage,
    ReviewEntry,
)
from bot.core.ports import Database, Tx
from tests.contract.helpers import DAY, HOUR, T0, add_learner, one_deck, review_state, save_states

MINUTE = timedelta(minutes=1)


async def due_learner(
    db: Database,
    user: str,
    *,
    due: datetime = T0,
    platform: str = "tg",
    settings: LearnerSettings | None = None,
) -> Learner:
    """A learner created a day before ``T0`` whose next push is at ``due``."""
    learner = await add_learner(db, user, platform=platform, settings=settings, now=T0 - DAY)
    await db.run(lambda tx: tx.learners.set_next_push(learner.id, due))
    return learner


def message(
    learner_id: int,
    *,
    platform: str = "tg",
    at: datetime = T0,
    card_id: str | None = None,
    prompt_token: str | None = None,
    due_count: int = 0,
) -> OutboxMessage:
    """A push for a learner, to be sent from ``at``."""
    return OutboxMessage(
        platform, learner_id, "push", "2 cards are due", at, at, card_id, prompt_token, due_count
    )


# --------------------------------------------------------------------------- claiming


def learner_by_id(tx: Tx, learner_id: int) -> Learner | None:
    return tx.learners.get_by_id(learner_id)


async def test_claim_takes_due_learners_soonest_first(db: Database) -> None:
    late = await due_learner(db, "late", due=T0 - MINUTE)
    early = await due_learner(db, "early", due=T0 - HOUR)
    now = await due_learner(db, "now", due=T0)
    await due_learner(db, "later", due=T0 + MINUTE)
    await due_learner(db, "elsewhere", due=T0 - DAY, platform="discord")
    await add_learner(db, "never")  # no next push
    claimed = await db.run(lambda tx: tx.pushes.claim_due(T0, ["tg"], 10))
    assert [t.learner_id for t in claimed] == [early.id, late.id, now.id]
    assert [t.snoozed_at for t in claimed] == [None, None, None]  # daily pushes
    two = await db.run(lambda tx: tx.pushes.claim_due(T0, ["tg", "discord"], 2))
    assert [t.platform for t in two] == ["discord", "tg"]
    assert await db.run(lambda tx: tx.pushes.claim_due(T0, ["console"], 10)) == []


async def test_paused_and_unreachable_learners_are_not_claimed(db: Database) -> None:
    gone = await due_learner(db, "gone")
    await due_learner(db, "paused", settings=LearnerSettings(paused=True))
    kept = await due_learner(db, "kept")
    await db.run(lambda tx: tx.learners.set_unreachable(gone.id))
    claimed = await db.run(lambda tx: tx.pushes.claim_due(T0, ["tg"], 10))
    assert [t.learner_id for t in claimed] == [kept.id]


async def test_a_claim_carries_what_planning_needs(db: Database) -> None:
    settings = LearnerSettings(
        timezone="Asia/Tokyo",
        push_time=time(7, 30),
        quiet_start=time(23, 0),
        quiet_end=time(6, 0),
        days_off=(6,),
        max_cards_per_push=15,
        desired_retention=0.8,
    )
    ann = await due_learner(db, "ann", settings=settings)
    (target,) = await db.run(lambda tx: tx.pushes.claim_due(T0, ["tg"], 10))
    assert (target.learner_id, target.platform) == (ann.id, "tg")
    assert (target.last_active, target.reminded) == (T0 - DAY, False)
    assert target.timing == LearnerSettings(
        timezone="Asia/Tokyo",
        push_time=time(7, 30),
        quiet_start=time(23, 0),
        quiet_end=time(6, 0),
        days_off=(6,),
    )
    assert (target.max_cards_per_push, target.snoozed_at) == (15, None)
    await db.run(lambda tx: tx.learners.seen(ann.id, T0 - HOUR))
    (target,) = await db.run(lambda tx: tx.pushes.claim_due(T0, ["tg"], 10))
    assert target.last_active == T0 - HOUR


async def test_a_reminder_counts_until_the_learner_is_seen_again(db: Database) -> None:
    ann = await due_learner(db, "ann")
    await db.run(lambda tx: tx.pushes.reschedule([(ann.id, T0, True)], T0 - HOUR))
    (target,) = await db.run(lambda tx: tx.pushes.claim_due(T0, ["tg"], 10))
    assert target.reminded is True
    await db.run(lambda tx: tx.learners.seen(ann.id, T0 - MINUTE))
    (target,) = await db.run(lambda tx: tx.pushes.claim_due(T0, ["tg"], 10))
    assert target.reminded is False


async def test_a_snoozed_push_is_claimed_as_one_until_rescheduled(db: Database) -> None:
    ann = await due_learner(db, "ann", due=T0 + DAY)
    ben = await due_learner(db, "ben", due=T0 + DAY)
    await db.run(lambda tx: tx.learners.snooze_push(ann.id, T0 + HOUR))
    await db.run(lambda tx: tx.learners.snooze_push(ben.id, T0 + HOUR))
    assert await db.run(lambda tx: tx.pushes.claim_due(T0, ["tg"], 10)) == []
    claimed = await db.run(lambda tx: tx.pushes.claim_due(T0 + HOUR, ["tg"], 10))
    assert [(t.learner_id, t.snoozed_at) for t in claimed] == [
        (ann.id, T0 + HOUR),
        (ben.id, T0 + HOUR),
    ]
    # The planner moves the next push on (a daily one again), or the learner changes it.
    await db.run(lambda tx: tx.pushes.reschedule([(ann.id, T0 + HOUR, False)], T0 + HOUR, [ann.id]))
    await db.run(lambda tx: tx.learners.set_next_push(ben.id, T0 + HOUR))
    claimed = await db.run(lambda tx: tx.pushes.claim_due(T0 + HOUR, ["tg"], 10))
    assert [(t.learner_id, t.snoozed_at) for t in claimed] == [(ann.id, None), (ben.id, None)]


async def test_reschedule_clears_only_the_snoozes_it_is_told_of(db: Database) -> None:
    """The planner names the learners whose claimed push was a snooze; the others' rows
    are not written for it."""
    ann = await due_learner(db, "ann", due=T0 + DAY)
    await db.run(lambda tx: tx.learners.snooze_push(ann.id, T0))
    await db.run(lambda tx: tx.pushes.reschedule([(ann.id, T0, False)], T0))
    (target,) = await db.run(lambda tx: tx.pushes.claim_due(T0, ["tg"], 10))
    assert target.snoozed_at == T0
    await db.run(lambda tx: tx.pushes.reschedule([(ann.id, T0, False)], T0, [ann.id]))
    (target,) = await db.run(lambda tx: tx.pushes.claim_due(T0, ["tg"], 10))
    assert target.snoozed_at is None


async def test_reschedule_moves_or_stops_each_learners_next_push(db: Database) -> None:
    learners = [await due_learner(db, str(i)) for i in range(4)]
    a, b, c, d = (lr.id for lr in learners)
    await db.run(
        lambda tx: tx.pushes.reschedule(
            [(a, T0 + DAY, False), (b, T0 + DAY, False), (c, None, False), (d, T0, True)], T0
        )
    )
    found = [await db.run(partial(learner_by_id, learner_id=i)) for i in (a, b, c, d)]
    assert [lr.next_push_at for lr in found if lr is not None] == [T0 + DAY, T0 + DAY, None, T0]
    claimed = await db.run(lambda tx: tx.pushes.claim_due(T0 + DAY, ["tg"], 10))
    assert [(t.learner_id, t.reminded) for t in claimed] == [(d, True), (a, False), (b, False)]
    await db.run(lambda tx: tx.pushes.reschedule([], T0))


async def test_backfill_finds_active_learners_without_a_next_push(db: Database) -> None:
    recent = await add_learner(db, "recent", now=T0 - DAY)
    await db.run(lambda tx: tx.learners.seen(recent.id, T0 - HOUR))
    old = await add_learner(db, "old", now=T0 - 30 * DAY)
    returned = await add_learner(db, "returned", now=T0 - 30 * DAY)
    await db.run(lambda tx: tx.learners.seen(returned.id, T0 - 2 * DAY))
    scheduled = await due_learner(db, "scheduled")
    new = await add_learner(db, "new", now=T0)
    found = await db.run(lambda tx: tx.pushes.backfill(T0, T0 - 3 * DAY, 10))
    assert [lr.id for lr in found] == [recent.id, returned.id, new.id]
    assert found[0] == await db.run(lambda tx: tx.learners.get_by_id(recent.id))
    assert [lr.id for lr in await db.run(lambda tx: tx.pushes.backfill(T0, T0, 1))] == [new.id]
    assert old.id not in {lr.id for lr in found} and scheduled.id not in {lr.id for lr in found}


# --------------------------------------------------------------------------- what is due


async def test_due_summary_picks_the_earliest_available_card(db: Database) -> None:
    """First card by (due, card id), counting only due, live, unsuspended, unburied cards."""
    await one_deck(db, "c0", "c1", "c2")
    one, two, three, four = [await due_learner(db, str(i)) for i in range(4)]
    await save_states(
        db,
        review_state(one.id, "c2", T0 - 2 * HOUR),
        review_state(one.id, "c1", T0 - 2 * HOUR),  # ties with c2: the smaller id wins
        review_state(one.id, "c0", T0 + HOUR),  # not due yet
        review_state(two.id, "c0", T0 - 3 * HOUR, suspended=True),
        review_state(two.id, "c1", T0 - 5 * HOUR, buried_until=T0 + HOUR),
        review_state(two.id, "c2", T0 - HOUR),
        review_state(four.id, "c2", T0 - DAY),  # an earlier due beats a smaller id
        review_state(four.id, "c1", T0 - HOUR),
        review_state(four.id, "c0", T0 - 2 * HOUR),  # its card is retired below
    )
    await one_deck(db, "c1", "c2")
    ids = [one.id, two.id, three.id, four.id]
    assert await db.run(lambda tx: tx.pushes.due_summary(ids, T0)) == {
        one.id: ("c1", 2),
        two.id: ("c2", 1),
        four.id: ("c2", 2),
    }
    assert await db.run(lambda tx: tx.pushes.due_summary([three.id], T0)) == {}
    assert await db.run(lambda tx: tx.pushes.due_summary([], T0)) == {}
    # Due exactly now counts; a bury that ends now is over.
    later = T0 + HOUR
    assert await db.run(lambda tx: tx.pushes.due_summary([one.id, two.id], later)) == {
        one.id: ("c1", 2),
        two.id: ("c1", 2),
    }


async def test_mean_durations_of_recent_reviews(db: Database) -> None:
    await one_deck(db, "c")
    ann, ben, cy = [await due_learner(db, str(i)) for i in range(3)]
    state = CardState(ann.id, "c")

    def log(tx: Tx) -> None:
        for who, when, ms in (
            (ann, T0, 1000),
            (ann, T0 + HOUR, 4000),
            (ann, T0 - DAY, 90_000),  # before the window
            (ben, T0, None),  # no duration recorded
            (cy, T0, 2500),
        ):
            tx.reviews.add(
                ReviewEntry(
                    who.id,
                    "c",
                    3,
                    when,
                    "dm",
                    replace(state, learner_id=who.id),
                    replace(state, learner_id=who.id, due=T0),
                    ms,
                )
            )

    await db.run(log)
    got = await db.run(lambda tx: tx.pushes.mean_durations([ann.id, ben.id], T0))
    assert got == {ann.id: 2500.0} and isinstance(got[ann.id], float)
    assert await db.run(lambda tx: tx.pushes.mean_durations([], T0)) == {}


# --------------------------------------------------------------------------- the outbox


async def test_outbox_rows_are_leased_by_platform_in_order(db: Database) -> None:
    ann = await due_learner(db, "ann")

    def queue(tx: Tx) -> None:
        tx.pushes.add_outbox(
            [
                message(ann.id, at=T0 + MINUTE),
                replace(
                    message(ann.id, card_id="c1", prompt_token="p0000001", due_count=7),
                    id=123,
                    attempts=5,
                    parts_sent=1,
                ),
                message(ann.id, platform="discord"),
                message(ann.id, at=T0 + HOUR),
            ]
        )
        tx.pushes.add_outbox([])

    await db.run(queue)
    assert await db.run(lambda tx: tx.pushes.pending_count()) == 4
    assert await db.run(lambda tx: tx.pushes.pending_count("tg")) == 3
    leased = await db.run(lambda tx: tx.pushes.lease("tg", T0 + MINUTE, T0 + 3 * MINUTE, 10))
    assert [m.not_before for m in leased] == [T0, T0 + MINUTE]
    first = leased[0]
    assert first == OutboxMessage(
        "tg",
        ann.id,
        "push",
        "2 cards are due",
        T0,
        T0,
        card_id="c1",
        prompt_token="p0000001",
        due_count=7,
        id=first.id,
        attempts=0,
        parts_sent=0,
    )
    # Leased rows wait for their lease to run out (a sender that died).
    assert await db.run(lambda tx: tx.pushes.lease("tg", T0 + 2 * MINUTE, T0 + HOUR, 10)) == []
    again = await db.run(lambda tx: tx.pushes.lease("tg", T0 + 3 * MINUTE, T0 + HOUR, 1))
    assert [m.id for m in again] == [first.id]


async def test_delivery_outcomes(db: Database) -> None:
    ann = await due_learner(db, "ann")
    await db.run(lambda tx: tx.pushes.add_outbox([message(ann.id) for _ in range(3)]))
    sent, failed, retried = await db.run(lambda tx: tx.pushes.lease("tg", T0, T0 + MINUTE, 10))

    def finish(tx: Tx) -> None:
        tx.pushes.mark_sent(sent.id, T0)
        tx.pushes.mark_failed(failed.id, T0, "Forbidden: bot was blocked by the user")
        tx.pushes.retry_later(retried.id, T0 + HOUR, "429 Too Many Requests" * 20, 2)

    await db.run(finish)
    assert await db.run(lambda tx: tx.pushes.pending_count("tg")) == 1
    # The retry waits until its time, not for the lease; then only it comes back.
    assert await db.run(lambda tx: tx.pushes.lease("tg", T0 + HOUR - MINUTE, T0 + DAY, 10)) == []
    (back,) = await db.run(lambda tx: tx.pushes.lease("tg", T0 + HOUR, T0 + DAY, 10))
    assert (back.id, back.not_before, back.attempts, back.parts_sent) == (
        retried.id,
        T0 + HOUR,
        1,
        2,
    )
    await db.run(lambda tx: tx.pushes.mark_sent(back.id, T0 + HOUR))
    assert await db.run(lambda tx: tx.pushes.pending_count()) == 0


async def test_deferred_rows_wait_untried_and_keep_their_order(db: Database) -> None:
    """A chat told to wait: its later rows are released until then, no attempt counted,
    and come back behind the one retried, in their order."""
    ann = await due_learner(db, "ann")
    await db.run(lambda tx: tx.pushes.add_outbox([message(ann.id) for _ in range(3)]))
    first, second, third = await db.run(lambda tx: tx.pushes.lease("tg", T0, T0 + HOUR, 10))

    def wait(tx: Tx) -> None:
        tx.pushes.retry_later(first.id, T0 + MINUTE, "429", 0)
        tx.pushes.defer([second.id, third.id], T0 + MINUTE)
        tx.pushes.defer([], T0 + MINUTE)

    await db.run(wait)
    assert await db.run(lambda tx: tx.pushes.lease("tg", T0, T0 + HOUR, 10)) == []
    back = await db.run(lambda tx: tx.pushes.lease("tg", T0 + MINUTE, T0 + HOUR, 10))
    assert [(m.id, m.attempts, m.not_before) for m in back] == [
        (first.id, 1, T0 + MINUTE),
        (second.id, 0, T0 + MINUTE),
        (third.id, 0, T0 + MINUTE),
    ]
    await db.run(lambda tx: tx.pushes.mark_sent(first.id, T0 + MINUTE))
    await db.run(lambda tx: tx.pushes.defer([first.id], T0 + DAY))  # done rows stay done
    assert await db.run(lambda tx: tx.pushes.pending_count()) == 2


async def test_the_backlog_counts_pending_rows_and_finds_the_oldest(db: Database) -> None:
    assert await db.run(lambda tx: tx.pushes.backlog()) == []
    ann = await due_learner(db, "ann")
    rows = [
        message(ann.id, at=T0 + HOUR),
        message(ann.id, at=T0),
        message(ann.id, at=T0 + MINUTE),
        message(ann.id, platform="discord", at=T0 + DAY),
    ]
    await db.run(lambda tx: tx.pushes.add_outbox(rows))
    oldest, *_ = await db.run(lambda tx: tx.pushes.lease("tg", T0, T0 + MINUTE, 1))
    await db.run(lambda tx: tx.pushes.mark_sent(oldest.id, T0))
    # Sent and given-up rows are not pending; a leased or retried row still is.
    (failed,) = await db.run(lambda tx: tx.pushes.lease("tg", T0 + MINUTE, T0 + HOUR, 1))
    await db.run(lambda tx: tx.pushes.mark_failed(failed.id, T0 + MINUTE, "blocked"))
    await db.run(lambda tx: tx.pushes.lease("tg", T0 + HOUR, T0 + DAY, 1))
    assert await db.run(lambda tx: tx.pushes.backlog()) == [
        Backlog("discord", 1, T0 + DAY),
        Backlog("tg", 1, T0 + HOUR),
    ]


async def test_old_delivered_rows_are_pruned(db: Database) -> None:
    ann = await due_learner(db, "ann")
    await db.run(lambda tx: tx.pushes.add_outbox([message(ann.id) for _ in range(5)]))
    ids = [m.id for m in await db.run(lambda tx: tx.pushes.lease("tg", T0, T0 + MINUTE, 10))]

    def deliver(tx: Tx) -> None:
        tx.pushes.mark_sent(ids[0], T0 - 10 * DAY)  # long delivered: pruned
        tx.pushes.mark_failed(ids[1], T0 - 8 * DAY, "blocked")  # long given up: pruned
        tx.pushes.mark_sent(ids[2], T0 - DAY)  # delivered yesterday: kept
        tx.pushes.retry_later(ids[3], T0 + DAY, "429", 2)  # to be tried again: kept
        # ids[4] is pending: kept

    await db.run(deliver)
    assert await db.run(lambda tx: tx.pushes.prune_outbox(T0 - 7 * DAY)) == 2
    assert await db.run(lambda tx: tx.pushes.prune_outbox(T0 - 7 * DAY)) == 0
    leased = await db.run(lambda tx: tx.pushes.lease("tg", T0 + DAY, T0 + 2 * DAY, 10))
    assert {m.id: m.parts_sent for m in leased} == {ids[3]: 2, ids[4]: 0}


async def test_the_outbox_takes_rows_for_any_learner_id(db: Database) -> None:
    """No foreign key (it is written in bulk): a row whose learner is gone is dropped at
    delivery, and deleting a learner deletes their rows."""
    ann = await due_learner(db, "ann")
    await db.run(lambda tx: tx.pushes.add_outbox([message(ann.id), message(ann.id + 99)]))
    assert await db.run(lambda tx: tx.pushes.pending_count()) == 2
    await db.run(lambda tx: tx.learners.delete(ann.id))
    leased = await db.run(lambda tx: tx.pushes.lease("tg", T0, T0 + MINUTE, 10))
    assert [m.learner_id for m in leased] == [ann.id + 99]


@pytest.mark.parametrize("count", [1, 5001])
async def test_many_learners_at_once(db: Database, count: int) -> None:
    """Id lists go to the database as one parameter; updates go in chunks of 5,000."""
    await one_deck(db, "c")
    learners = [await due_learner(db, "first")]
    if count > 1:
        learners += [await due_learner(db, "last")]
    ids = [lr.id for lr in learners] + list(range(10_000, 10_000 + count))
    await save_states(db, *(review_state(lr.id, "c", T0 - HOUR) for lr in learners))
    summary = await db.run(lambda tx: tx.pushes.due_summary(ids, T0))
    assert summary == {lr.id: ("c", 1) for lr in learners}
    await db.run(lambda tx: tx.pushes.reschedule([(i, T0 + DAY, False) for i in ids], T0))
    claimed = await db.run(lambda tx: tx.pushes.claim_due(T0 + DAY, ["tg"], 10))
    assert [t.learner_id for t in claimed] == [lr.id for lr in learners]


async def test_a_learner_who_writes_again_wakes_what_waits_for_them(db: Database) -> None:
    """A self-assessment parked for an unreachable member becomes due when they write;
    it is not a push, so the backlog leaves it out."""
    ann = await due_learner(db, "ann")
    ben = await due_learner(db, "ben")
    parked = replace(
        message(ann.id, at=T0 + DAY), kind=RESENT_ASSESSMENT, created_at=T0, prompt_token="s1"
    )
    rows = [parked, message(ben.id, at=T0 + DAY)]
    await db.run(lambda tx: tx.pushes.add_outbox(rows))
    assert await db.run(lambda tx: tx.pushes.backlog()) == [Backlog("tg", 1, T0 + DAY)]
    assert await db.run(lambda tx: tx.pushes.lease("tg", T0 + HOUR, T0 + DAY, 10)) == []
    assert await db.run(lambda tx: tx.pushes.wake(ann.id, T0 + HOUR)) == 1
    assert await db.run(lambda tx: tx.pushes.wake(ann.id, T0 + HOUR)) == 0  # due already
    (woken,) = await db.run(lambda tx: tx.pushes.lease("tg", T0 + HOUR, T0 + DAY, 10))
    assert (woken.learner_id, woken.kind, woken.prompt_token, woken.not_before) == (
        ann.id,
        RESENT_ASSESSMENT,
        "s1",
        T0 + HOUR,
    )
