"""Whole units of work of the core services on a real database.

A unit of work is one transaction: a double tap records one review, two
sweeps announce a quiz round once, /forget removes every row of a learner.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select

from bot.core.actions import decode
from bot.core.model import LearnerSettings
from bot.core.quiz import QuizService
from bot.core.study import StudyService, Who
from bot.deckfiles import load_decks
from bot.storage.database import SqlDatabase
from bot.storage.tables import (
    confirmations,
    learner_settings,
    learners,
    prompts,
    quiz_participants,
    quiz_rounds,
    review_logs,
)
from tests.fakes.clock import FixedClock
from tests.fakes.tokens import SequentialTokens

T0 = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
REPO = Path(__file__).resolve().parents[3]


@pytest.fixture
async def study(db: SqlDatabase) -> tuple[StudyService, FixedClock, SqlDatabase]:
    shipped = load_decks([REPO / "decks"])
    clock = FixedClock(T0)
    await db.run(lambda tx: tx.catalogue.sync(shipped.decks, clock.now()))
    service = StudyService(db, clock, SequentialTokens(), LearnerSettings(enable_fuzzing=False))
    return service, clock, db


async def test_study_loop_review_undo_and_counts(
    study: tuple[StudyService, FixedClock, SqlDatabase],
) -> None:
    service, clock, db = study
    who = Who("test", "42", "Ada")
    front = await service.next(who)
    assert front.kind == "front" and front.card is not None
    first_card = front.card.card_id
    seen = []
    reply = front
    for rating in (3, 3, 1, 4):
        assert reply.kind == "front" and reply.card is not None
        seen.append(reply.card.card_id)
        back = await service.press(who, reply.buttons[0][0].payload)
        assert back.kind == "back"
        clock.advance(timedelta(seconds=5))
        reply = await service.press(who, back.buttons[0][rating - 1].payload)
    assert seen[0] == first_card and len(set(seen)) == 4

    undo = await service.undo(who)
    assert undo.card is not None and undo.card.card_id == seen[-1]

    def check(conn: Connection) -> tuple[int, int]:
        total = conn.execute(select(func.count()).select_from(review_logs)).scalar_one()
        undone = conn.execute(
            select(func.count())
            .select_from(review_logs)
            .where(review_logs.c.undone_at.is_not(None))
        ).scalar_one()
        return int(total), int(undone)

    assert await db.run_connection(check) == (4, 1)
    learner = await service.learner(who)
    state = await db.run(lambda tx: tx.schedule.get(learner.id, seen[-1]))
    assert state.is_new  # undoing the first rating of a new card forgets it exactly
    stats = await service.stats(who)
    assert stats.reviewed_today == 3


async def test_concurrent_double_tap_records_one_review(
    study: tuple[StudyService, FixedClock, SqlDatabase],
) -> None:
    service, _, db = study
    who = Who("test", "7", "Bo")
    front = await service.next(who)
    back = await service.press(who, front.buttons[0][0].payload)
    good = back.buttons[0][2].payload
    first, second = await asyncio.gather(service.press(who, good), service.press(who, good))
    assert sorted([first.kind, second.kind]) == ["expired", "front"]

    def count(conn: Connection) -> int:
        return int(conn.execute(select(func.count()).select_from(review_logs)).scalar_one())

    assert await db.run_connection(count) == 1
    # Another learner pressing the same payload changes nothing.
    other = await service.press(Who("test", "8", "Cy"), good)
    assert other.kind == "expired"
    assert await db.run_connection(count) == 1
    assert decode(good).kind == "rate"


async def test_quiz_round_and_forget_on_sql(
    study: tuple[StudyService, FixedClock, SqlDatabase],
) -> None:
    service, clock, db = study
    quiz = QuizService(db, clock, SequentialTokens("q"), LearnerSettings(enable_fuzzing=False))
    ann, ben = Who("test", "1", "Ann"), Who("test", "2", "Ben")
    post = await quiz.start(ann, "-42", "attention")
    assert post.kind == "quiz"
    back = await service.press(ben, post.buttons[0][0].payload)
    rated = await service.press(ben, back.buttons[0][2].payload)
    assert rated.kind == "info"
    clock.advance(timedelta(minutes=10))
    # Two sweeps racing: the round is announced exactly once.
    first, second = await asyncio.gather(quiz.sweep(), quiz.sweep())
    assert len(first) + len(second) == 1

    # Ben has a review, a state, a prompt, a quiz participation: /forget removes them all.
    ask = await service.request_forget(ben)
    await service.press(ben, ask.all_buttons()[0].payload)
    ben_id_rows = await db.run_connection(
        lambda conn: conn.execute(
            select(learners.c.id).where(learners.c.platform_user_id == "2")
        ).all()
    )
    assert ben_id_rows == []

    def counts(conn: Connection) -> dict[str, int]:
        out = {}
        for table in (
            learner_settings,
            review_logs,
            prompts,
            quiz_participants,
            confirmations,
        ):
            out[table.name] = int(
                conn.execute(select(func.count()).select_from(table)).scalar_one()
            )
        out["quiz_rounds"] = int(
            conn.execute(select(func.count()).select_from(quiz_rounds)).scalar_one()
        )
        return out

    left = await db.run_connection(counts)
    # Only Ann remains: her settings row, and her confirmation-free, review-free history.
    assert left == {
        "learner_settings": 1,
        "review_logs": 0,
        "prompts": 0,
        "quiz_participants": 0,
        "confirmations": 0,
        "quiz_rounds": 1,
    }
