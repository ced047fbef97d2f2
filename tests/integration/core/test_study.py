"""The study loop's and a quiz's units of work on a real database.

A unit of work is one transaction: a double tap records one review, undo
restores a card exactly, /forget removes every row of a learner.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import Connection, func, select

from bot.core.learners import Who
from bot.core.messages import StatsChart
from bot.deckfiles import SHIPPED_DECKS, load_decks
from bot.storage.database import SqlDatabase
from bot.storage.tables import (
    card_states,
    confirmations,
    learner_settings,
    learners,
    prompts,
    quiz_participants,
    quiz_rounds,
    review_logs,
)
from tests.fakes.clock import FixedClock
from tests.services import Services, action_of, build_services, is_expired, only

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)


@pytest.fixture
async def services(db: SqlDatabase) -> Services[SqlDatabase]:
    shipped = load_decks([SHIPPED_DECKS])
    await db.run(lambda tx: tx.catalogue.sync(shipped.decks, T0))
    return build_services(db, FixedClock(T0))


def count_reviews(conn: Connection) -> int:
    return int(conn.execute(select(func.count()).select_from(review_logs)).scalar_one())


async def test_study_loop_review_undo_and_counts(services: Services[SqlDatabase]) -> None:
    s, db = services, services.db
    who = Who("test", "42", "Ada")
    front = only(await s.study.next(who))
    assert front.kind == "front" and front.card is not None
    first_card = front.card.card_id
    seen = []
    reply = front
    for rating in (3, 3, 1, 4):
        assert reply.kind == "front" and reply.card is not None
        seen.append(reply.card.card_id)
        back = (await s.press(who, reply.buttons[0][0].payload)).edit
        assert back is not None and back.kind == "back"
        s.clock.advance(timedelta(seconds=5))
        reply = only(await s.press(who, back.buttons[0][rating - 1].payload))
    assert seen[0] == first_card and len(set(seen)) == 4

    undo = only(await s.study.undo(who))
    assert undo.card is not None and undo.card.card_id == seen[-1]

    def check(conn: Connection) -> tuple[int, int]:
        undone = conn.execute(
            select(func.count())
            .select_from(review_logs)
            .where(review_logs.c.undone_at.is_not(None))
        ).scalar_one()
        return count_reviews(conn), int(undone)

    assert await db.run_connection(check) == (4, 1)
    learner = await s.study.learner(who)
    state = await db.run(lambda tx: tx.schedule.get(learner.id, seen[-1]))
    assert state.is_new  # undoing the first rating of a new card forgets it exactly
    numbers, model = (await s.study.stats(who)).replies
    chart = numbers.figure
    assert isinstance(chart, StatsChart) and chart.stats.reviewed_today == 3
    assert model.figure is None and "Predicted vs actual recall" in model.text


async def test_concurrent_double_tap_records_one_review(services: Services[SqlDatabase]) -> None:
    s, db = services, services.db
    who = Who("test", "7", "Bo")
    front = only(await s.study.next(who))
    back = (await s.press(who, front.buttons[0][0].payload)).edit
    assert back is not None
    good = back.buttons[0][2].payload
    first, second = await asyncio.gather(s.press(who, good), s.press(who, good))
    assert sorted([is_expired(first), is_expired(second)]) == [False, True]
    assert [o.replies[0].kind for o in (first, second) if o.replies] == ["front"]
    assert await db.run_connection(count_reviews) == 1
    # Another learner pressing the same payload changes nothing.
    assert is_expired(await s.press(Who("test", "8", "Cy"), good))
    assert await db.run_connection(count_reviews) == 1
    assert action_of(good).kind == "rate"


async def test_quiz_round_and_forget_on_sql(services: Services[SqlDatabase]) -> None:
    s, db = services, services.db
    ann, ben = Who("test", "1", "Ann"), Who("test", "2", "Ben")
    post = only(await s.quiz.start(ann, "-42", "attention"))
    assert post.kind == "quiz"
    back = only(await s.press(ben, post.buttons[0][0].payload))
    rated = await s.press(ben, back.buttons[0][2].payload)
    assert rated.close is not None and rated.replies == ()
    s.clock.advance(timedelta(minutes=10))
    # Two sweeps racing: the round is announced exactly once.
    first, second = await asyncio.gather(s.quiz.sweep(), s.quiz.sweep())
    assert first + second == 1 and len(s.announcer.take()) == 1

    # Ben has a review, a state, a prompt, a quiz participation: /forget removes them all.
    ask = only(await s.study.request_forget(ben))
    await s.press(ben, ask.all_buttons()[0].payload)
    ben_id_rows = await db.run_connection(
        lambda conn: conn.execute(
            select(learners.c.id).where(learners.c.platform_user_id == "2")
        ).all()
    )
    assert ben_id_rows == []

    def counts(conn: Connection) -> dict[str, int]:
        return {
            table.name: int(conn.execute(select(func.count()).select_from(table)).scalar_one())
            for table in (
                learner_settings,
                review_logs,
                prompts,
                quiz_participants,
                confirmations,
                quiz_rounds,
            )
        }

    # Only Ann remains: her settings row, and her confirmation-free, review-free history.
    assert await db.run_connection(counts) == {
        "learner_settings": 1,
        "review_logs": 0,
        "prompts": 0,
        "quiz_participants": 0,
        "confirmations": 0,
        "quiz_rounds": 1,
    }


async def test_cram_leaves_the_card_states_row_as_it_was(services: Services[SqlDatabase]) -> None:
    """/cram on a real database: the card's card_states row is identical before and after
    a practice rating, and the log row has source cram."""
    s, db = services, services.db
    who = Who("test", "43", "Ben")
    front = only(await s.study.next(who))
    back = (await s.press(who, front.buttons[0][0].payload)).edit
    assert back is not None
    only(await s.press(who, back.buttons[0][2].payload))  # Good: the card is studied

    def row(conn: Connection) -> tuple[object, ...]:
        found = conn.execute(select(card_states)).all()
        assert len(found) == 1
        return tuple(found[0])

    before = await db.run_connection(row)
    s.clock.advance(timedelta(hours=1))
    cram = only(await s.study.cram(who))
    assert cram.card is not None and front.card is not None
    assert cram.card.card_id == front.card.card_id  # the one studied card: lowest recall first
    back = (await s.press(who, cram.buttons[0][0].payload)).edit
    assert back is not None
    outcome = await s.press(who, back.buttons[0][0].payload)  # Again, as practice
    assert outcome.close == "Again (practice: the schedule is unchanged)."
    assert await db.run_connection(row) == before

    def last_log(conn: Connection) -> tuple[object, ...]:
        return tuple(
            conn.execute(
                select(
                    review_logs.c.source,
                    review_logs.c.before_stability,
                    review_logs.c.after_stability,
                )
                .order_by(review_logs.c.id.desc())
                .limit(1)
            ).one()
        )

    source, before_s, after_s = await db.run_connection(last_log)
    assert source == "cram" and before_s == after_s
    chart = (await s.study.stats(who)).replies[0].figure
    assert isinstance(chart, StatsChart) and chart.stats.reviewed_today == 1
