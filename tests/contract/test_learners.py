"""Learners and their settings: the same behaviour on the fake, SQLite and PostgreSQL."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, time, timedelta

import pytest

from bot.core.memory import DEFAULT_PARAMETERS
from bot.core.model import (
    ChallengeRun,
    GroupSettings,
    LearnerSettings,
    OutboxMessage,
    Prompt,
    QuizParticipant,
    QuizRound,
    ReviewEntry,
    Submission,
)
from bot.core.ports import AccountTaken, Database, Tx
from tests.contract.helpers import DAY, HOUR, T0, add_learner, one_deck, review_state

SETTINGS = LearnerSettings(
    timezone="Europe/Paris",
    push_time=time(7, 45),
    desired_retention=0.85,
    new_cards_per_day=7,
    max_reviews_per_day=120,
    learning_steps=(timedelta(minutes=2), timedelta(minutes=15), timedelta(hours=1)),
    relearning_steps=(timedelta(minutes=5),),
    maximum_interval_days=365,
    leech_threshold=5,
    enable_fuzzing=False,
    paused=True,
    fsrs_parameters=(0.4, 1.2, 3.1, 15.5, *DEFAULT_PARAMETERS[4:]),
    quiet_start=time(22, 0),
    quiet_end=time(7, 0),
    days_off=(5, 6),
    max_cards_per_push=12,
    easy_days=(1.0, 1.0, 1.0, 1.0, 0.8, 0.5, 0.0),
    exam_date=date(2027, 1, 15),
    exam_topic="attention",
    exam_target=0.85,
)


async def test_a_created_learner_is_found_by_account_and_by_id(db: Database) -> None:
    made = await add_learner(db, "42", name="Ada" * 50, settings=SETTINGS, topics=("x", "y"))
    assert made.display_name == ("Ada" * 50)[:128]
    assert (made.last_seen_at, made.unreachable, made.next_push_at) == (T0, False, None)
    found = await db.run(lambda tx: tx.learners.get("tg", "42"))
    assert found == made
    assert await db.run(lambda tx: tx.learners.get_by_id(made.id)) == made
    assert await db.run(lambda tx: tx.learners.get("tg", "43")) is None
    assert await db.run(lambda tx: tx.learners.get("discord", "42")) is None
    assert await db.run(lambda tx: tx.learners.get_by_id(made.id + 1)) is None


async def test_parameters_the_scheduler_cannot_use_are_read_as_the_defaults(
    db: Database,
) -> None:
    short = replace(SETTINGS, fsrs_parameters=(0.4, 1.2, 3.1, 15.5, 7.2))
    made = await add_learner(db, "42", settings=short)
    found = await db.run(lambda tx: tx.learners.get_by_id(made.id))
    assert found is not None and found.settings == replace(SETTINGS, fsrs_parameters=None)


async def test_one_account_is_one_learner(db: Database) -> None:
    ann = await add_learner(db, "1")
    with pytest.raises(AccountTaken):  # and nothing was written
        await add_learner(db, "1", name="Again")
    assert await db.run(lambda tx: tx.learners.get("tg", "1")) == ann
    other = await add_learner(db, "1", platform="discord")
    assert other.id != ann.id


async def test_settings_are_saved_and_read_back(db: Database) -> None:
    learner = await add_learner(db)
    assert learner.settings == LearnerSettings()
    await db.run(lambda tx: tx.learners.save_settings(learner.id, SETTINGS))
    found = await db.run(lambda tx: tx.learners.get_by_id(learner.id))
    assert found is not None and found.settings == SETTINGS


async def test_settings_are_stored_as_the_columns_hold_them(db: Database) -> None:
    """Times to the minute, steps to the second, days off sorted, no parameters as None."""
    rough = LearnerSettings(
        push_time=time(7, 45, 30),
        quiet_start=time(22, 0, 59),
        quiet_end=time(6, 30, 1),
        learning_steps=(timedelta(seconds=90.5),),
        relearning_steps=(),
        days_off=(6, 0, 3),
        fsrs_parameters=(),
    )
    learner = await add_learner(db)
    await db.run(lambda tx: tx.learners.save_settings(learner.id, rough))
    found = await db.run(lambda tx: tx.learners.get_by_id(learner.id))
    assert found is not None
    assert found.settings == LearnerSettings(
        push_time=time(7, 45),
        quiet_start=time(22, 0),
        quiet_end=time(6, 30),
        learning_steps=(timedelta(seconds=90),),
        relearning_steps=(),
        days_off=(0, 3, 6),
        fsrs_parameters=None,
    )


async def test_topics(db: Database) -> None:
    learner = await add_learner(db, topics=("attention", "math"))
    assert learner.topics == ("attention", "math")
    found = await db.run(lambda tx: tx.learners.get_by_id(learner.id))
    assert found is not None and found.topics == ("attention", "math")
    await db.run(lambda tx: tx.learners.set_topics(learner.id, ["transformers"]))
    found = await db.run(lambda tx: tx.learners.get_by_id(learner.id))
    assert found is not None and found.topics == ("transformers",)
    await db.run(lambda tx: tx.learners.set_topics(learner.id, []))
    found = await db.run(lambda tx: tx.learners.get_by_id(learner.id))
    assert found is not None and found.topics == ()


async def test_contact_reachability_and_dm_channel(db: Database) -> None:
    learner = await add_learner(db)

    def lose(tx: Tx) -> None:
        tx.learners.set_unreachable(learner.id)
        tx.learners.set_dm_channel(learner.id, "dm-123")

    await db.run(lose)
    found = await db.run(lambda tx: tx.learners.get_by_id(learner.id))
    assert found is not None
    assert (found.unreachable, found.dm_channel_id, found.last_seen_at) == (True, "dm-123", T0)
    await db.run(lambda tx: tx.learners.seen(learner.id, T0 + DAY))
    found = await db.run(lambda tx: tx.learners.get_by_id(learner.id))
    assert found is not None
    assert (found.unreachable, found.last_seen_at) == (False, T0 + DAY)


async def test_next_push_and_snoozed_push(db: Database) -> None:
    learner = await add_learner(db)
    await db.run(lambda tx: tx.learners.set_next_push(learner.id, T0 + DAY))
    found = await db.run(lambda tx: tx.learners.get_by_id(learner.id))
    assert found is not None and found.next_push_at == T0 + DAY
    await db.run(lambda tx: tx.learners.snooze_push(learner.id, T0 + HOUR))
    found = await db.run(lambda tx: tx.learners.get_by_id(learner.id))
    assert found is not None and found.next_push_at == T0 + HOUR
    await db.run(lambda tx: tx.learners.set_next_push(learner.id, None))
    found = await db.run(lambda tx: tx.learners.get_by_id(learner.id))
    assert found is not None and found.next_push_at is None


async def test_deleting_a_learner_deletes_what_is_held_about_them(db: Database) -> None:
    """Like ON DELETE CASCADE / SET NULL; the outbox (no foreign key) is cleared explicitly."""
    await one_deck(db, "c1", "c2")
    ann = await add_learner(db, "1", name="Ann")
    ben = await add_learner(db, "2", name="Ben")
    quiz = QuizRound(0, "q0000001", "tg", "-1", "c1", "d", T0, T0 + HOUR, started_by=ann.id)
    run = ChallengeRun(0, "r0000001", "tg", "-1", "ch", T0, T0 + HOUR, started_by=ann.id)

    def fill(tx: Tx) -> tuple[int, int]:
        round_id = tx.quizzes.add(quiz).id
        run_id = tx.challenges.add_run(run).id
        for who in (ann, ben):
            state = review_state(who.id, "c1", T0)
            tx.schedule.save(state)
            tx.reviews.add(ReviewEntry(who.id, "c1", 3, T0, "dm", state, state))
            tx.prompts.add(Prompt(f"p{who.id:07d}", who.id, "c1", "dm", T0))
            tx.confirmations.add(f"k{who.id:07d}", who.id, "forget", T0)
            tx.quizzes.add_participant(
                QuizParticipant(round_id, who.id, f"p{who.id:07d}", who.display_name, T0)
            )
            tx.pushes.add_outbox(
                [OutboxMessage("tg", who.id, "push", "cards are due", T0, T0, card_id="c1")]
            )
            tx.challenges.save_submission(
                Submission(run_id, who.id, f"s{who.id:07d}", who.display_name, T0)
            )
        tx.challenges.save_group(GroupSettings("tg", "-1", "UTC", "everyone"))
        return round_id, run_id

    round_id, run_id = await db.run(fill)
    await db.run(lambda tx: tx.learners.delete(ann.id))

    def look(tx: Tx, learner_id: int) -> tuple[object, ...]:
        return (
            tx.learners.get_by_id(learner_id) is not None,
            tx.schedule.get(learner_id, "c1").is_new,
            len(tx.reviews.all_for(learner_id)),
            tx.prompts.get(f"p{learner_id:07d}") is not None,
            [p.learner_id for p in tx.quizzes.participants(round_id)],
            tx.challenges.submission(run_id, learner_id) is not None,
        )

    assert await db.run(lambda tx: look(tx, ann.id)) == (False, True, 0, False, [ben.id], False)
    assert await db.run(lambda tx: look(tx, ben.id)) == (True, False, 1, True, [ben.id], True)
    assert await db.run(lambda tx: tx.confirmations.use(f"k{ann.id:07d}", ann.id, T0, T0)) is None
    assert await db.run(lambda tx: tx.confirmations.use(f"k{ben.id:07d}", ben.id, T0, T0)) == (
        "forget",
        None,
    )
    leased = await db.run(lambda tx: tx.pushes.lease("tg", T0, T0 + HOUR, 10))
    assert [m.learner_id for m in leased] == [ben.id]
    quiz_left = await db.run(lambda tx: tx.quizzes.by_id(round_id))
    run_left = await db.run(lambda tx: tx.challenges.run_by_id(run_id))
    assert quiz_left is not None and quiz_left.started_by is None
    assert run_left is not None and run_left.started_by is None
    assert await db.run(lambda tx: tx.challenges.group("tg", "-1")) is not None
