"""Tests for bot.core.fsrsreplay: the fast replay gives exactly py-fsrs's review."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Card, Rating, Scheduler
from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

from bot.core import srs
from bot.core.fsrsreplay import Memory, Replayer
from bot.core.memory import DEFAULT_PARAMETERS
from bot.core.model import LearnerSettings

START_MS = 1_700_000_000_000


def random_scheduler(rng: random.Random) -> Scheduler:
    """Parameters anywhere within FSRS-6's bounds (or the defaults), retention, steps
    (none to three) and a maximum interval, all drawn."""
    if rng.random() < 0.3:
        parameters = DEFAULT_PARAMETERS
    else:
        parameters = tuple(
            rng.uniform(low, high)
            for low, high in zip(LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS, strict=True)
        )

    def steps() -> tuple[timedelta, ...]:
        return tuple(
            timedelta(seconds=rng.choice((30, 60, 600, 3600, 86400)))
            for _ in range(rng.randrange(4))
        )

    return Scheduler(
        parameters=parameters,
        desired_retention=rng.uniform(0.7, 0.98),
        learning_steps=steps(),
        relearning_steps=steps(),
        maximum_interval=rng.choice((36500, 365, 30, 3)),
        enable_fuzzing=False,
    )


def gap_ms(rng: random.Random) -> int:
    """Minutes, hours, a day give or take, or weeks: same-day and long-term reviews."""
    kind = rng.randrange(4)
    if kind == 0:
        return rng.randrange(1, 3_600_000)
    if kind == 1:
        return rng.randrange(3_600_000, 86_400_000)
    if kind == 2:
        return 86_400_000 + rng.randrange(-1000, 1000)
    return rng.randrange(86_400_000, 200 * 86_400_000)


def at(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, UTC)


def test_the_replay_is_py_fsrs_to_the_last_bit() -> None:
    rng = random.Random(20260307)
    reviews = 0
    for _ in range(400):
        scheduler = random_scheduler(rng)
        replayer = Replayer(scheduler)
        ms = START_MS + rng.randrange(10**10)
        card = Card(card_id=1, due=at(ms))
        memory: Memory | None = None
        for _ in range(rng.randrange(1, 40)):
            rating = rng.choices((1, 2, 3, 4), (15, 10, 60, 15))[0]
            card, _ = scheduler.review_card(card, Rating(rating), at(ms))
            memory = replayer.review(memory, rating, ms)
            assert (memory.state, memory.step) == (int(card.state), card.step)
            assert memory.stability == card.stability
            assert memory.difficulty == card.difficulty
            assert at(ms) + memory.interval == card.due
            reviews += 1
            ms += gap_ms(rng)
    assert reviews > 5000


def test_with_the_learners_scheduler() -> None:
    settings = LearnerSettings(desired_retention=0.85, learning_steps=(timedelta(minutes=5),))
    scheduler = srs.scheduler_for(settings)
    replayer = Replayer(scheduler)
    ms = START_MS
    card = Card(card_id=1, due=at(ms))
    memory: Memory | None = None
    for rating in (3, 3, 1, 2, 3, 4, 1, 1, 3):
        card, _ = scheduler.review_card(card, Rating(rating), at(ms))
        memory = replayer.review(memory, rating, ms)
        assert (memory.stability, memory.difficulty) == (card.stability, card.difficulty)
        ms += 3 * 86_400_000


def test_a_fuzzing_scheduler_is_refused() -> None:
    with pytest.raises(ValueError, match="without fuzz"):
        Replayer(Scheduler(enable_fuzzing=True))
