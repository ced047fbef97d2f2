"""Synthetic learners for the memory model: review logs drawn from known FSRS-6 parameters.

Shared by the tests of fitting and ``benchmarks/fitting.py``. A learner studies
``new_per_day`` new cards a day (learning steps 1 and 10 minutes) and every
card when it is due, through py-fsrs's ``Scheduler`` with the true
parameters; each recall is drawn from the retrievability the true model
predicts, a new card's first rating from Again/Hard/Good/Easy 20/10/55/15 %,
a recalled card's from Hard/Good/Easy 15/70/15 %.
"""

from __future__ import annotations

import heapq
import math
import random
from datetime import UTC, datetime, timedelta

from fsrs import Card, Rating, Scheduler, State
from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

from bot.core import memory

START = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
FIRST_RATINGS = (0.20, 0.10, 0.55, 0.15)  # Again, Hard, Good, Easy
RECALL_RATINGS = (0.15, 0.70, 0.15)  # Hard, Good, Easy


def true_parameters(rng: random.Random, spread: float) -> tuple[float, ...]:
    """FSRS-6 parameters around the defaults, inside the bounds."""
    drawn = []
    for i, p in enumerate(memory.DEFAULT_PARAMETERS):
        value = p * math.exp(rng.gauss(0.0, spread))
        drawn.append(min(max(value, LOWER_BOUNDS_PARAMETERS[i]), UPPER_BOUNDS_PARAMETERS[i]))
    return tuple(drawn)


def simulate_learner(
    parameters: tuple[float, ...], reviews: int, rng: random.Random, new_per_day: int
) -> list[memory.LogEntry]:
    """A learner's review log from the true model: ``reviews`` reviews, oldest first."""
    scheduler = Scheduler(
        parameters=parameters,
        desired_retention=0.9,
        learning_steps=(timedelta(minutes=1), timedelta(minutes=10)),
        relearning_steps=(timedelta(minutes=10),),
        enable_fuzzing=False,
    )
    cards: list[Card] = []
    due: list[tuple[datetime, int]] = []
    log: list[memory.LogEntry] = []
    day = 0
    while len(log) < reviews:
        start = START + timedelta(days=day)
        end = start + timedelta(days=1)
        for _ in range(new_per_day):
            cards.append(Card(card_id=len(cards) + 1, due=start))
            heapq.heappush(due, (start, len(cards) - 1))
        clock = start
        while due and due[0][0] < end and len(log) < reviews:
            when, index = heapq.heappop(due)
            at = max(when, clock)
            card = cards[index]
            if card.state == State.Learning and card.step == 0 and card.last_review is None:
                rating = rng.choices((1, 2, 3, 4), FIRST_RATINGS)[0]
            else:
                recall = scheduler.get_card_retrievability(card, at)
                recalled = rng.random() < recall
                rating = rng.choices((2, 3, 4), RECALL_RATINGS)[0] if recalled else 1
            card, _ = scheduler.review_card(card, Rating(rating), at)
            cards[index] = card
            log.append((str(index), at, rating))
            heapq.heappush(due, (card.due, index))
            clock = at + timedelta(seconds=8)
        day += 1
    return log
