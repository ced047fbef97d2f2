"""A long review history replayed through a learner's FSRS scheduler, fast (pure).

:meth:`Replayer.review` is py-fsrs 6.3's ``Scheduler.review_card`` (fuzz off), operation
for operation and so to the last bit, over plain numbers: it reads the scheduler's
parameters, desired retention, steps and maximum interval, and skips what a replay does
not need (copying a ``Card``, a ``ReviewLog``, keyword calls). An import replays
hundreds of thousands of Anki reviews; ``review_card`` takes 12-17 µs a review, this
about a quarter of that. ``tests/unit/core/test_fsrsreplay.py`` checks that both give
identical states, steps, stabilities, difficulties and due instants on thousands of
random histories, parameters and steps, so a py-fsrs that computes differently fails
there first.
"""

from __future__ import annotations

import math
from datetime import timedelta
from typing import Final, NamedTuple

from fsrs import Scheduler
from fsrs.scheduler import MAX_DIFFICULTY, MIN_DIFFICULTY, STABILITY_MIN

__all__ = ["LEARNING", "RELEARNING", "REVIEW", "Memory", "Replayer"]

#: py-fsrs's states (``fsrs.State``), as ints.
LEARNING: Final = 1
REVIEW: Final = 2
RELEARNING: Final = 3
DAY_MS: Final = 86_400_000


class Memory(NamedTuple):
    """A card as a review left it.

    Attributes:
        state: :data:`LEARNING`, :data:`REVIEW` or :data:`RELEARNING`.
        step: the (re)learning step, None in Review.
        stability, difficulty: FSRS's memory state.
        interval: from the review to the card's due instant.
        at_ms: the review, milliseconds since the epoch.
    """

    state: int
    step: int | None
    stability: float
    difficulty: float
    interval: timedelta
    at_ms: int


class Replayer:
    """Reviews cards as one scheduler would (see the module docs).

    Raises:
        ValueError: the scheduler fuzzes intervals (a replay must not draw at random).
    """

    __slots__ = (
        "_days",
        "_decay",
        "_delta",
        "_e_w8",
        "_easy_difficulty",
        "_factor",
        "_forget_short",
        "_initial_difficulty",
        "_initial_stability",
        "_interval_factor",
        "_kept_share",
        "_learning",
        "_maximum",
        "_relearning",
        "_reverted_to",
        "_short_gain",
        "_w",
    )

    def __init__(self, scheduler: Scheduler) -> None:
        if scheduler.enable_fuzzing:
            raise ValueError("a replay needs a scheduler without fuzz")
        w = tuple(scheduler.parameters)
        self._w = w
        self._learning: tuple[timedelta, ...] = tuple(scheduler.learning_steps)
        self._relearning: tuple[timedelta, ...] = tuple(scheduler.relearning_steps)
        self._maximum: int = scheduler.maximum_interval
        self._decay: float = -w[20]
        self._factor: float = 0.9 ** (1 / self._decay) - 1
        # The parts of py-fsrs's formulas that depend on the parameters alone (the same
        # expressions, computed once: the same floats).
        self._interval_factor: float = (scheduler.desired_retention ** (1 / self._decay)) - 1
        self._initial_stability = {r: max(w[r - 1], STABILITY_MIN) for r in (1, 2, 3, 4)}
        self._initial_difficulty = {
            r: min(max(w[4] - (math.e ** (w[5] * (r - 1))) + 1, MIN_DIFFICULTY), MAX_DIFFICULTY)
            for r in (1, 2, 3, 4)
        }
        self._easy_difficulty: float = w[4] - (math.e ** (w[5] * (4 - 1))) + 1
        self._short_gain = {r: math.e ** (w[17] * (r - 3 + w[18])) for r in (1, 2, 3, 4)}
        self._forget_short: float = math.e ** (w[17] * w[18])
        self._e_w8: float = math.e ** (w[8])
        self._delta = {r: -(w[6] * (r - 3)) for r in (1, 2, 3, 4)}
        self._reverted_to: float = w[7] * self._easy_difficulty
        self._kept_share: float = 1 - w[7]
        self._days: dict[int, timedelta] = {}

    # ------------------------------------------------------------------ formulas

    def _next_interval(self, stability: float) -> timedelta:
        days = round((stability / self._factor) * self._interval_factor)
        days = 1 if days < 1 else self._maximum if days > self._maximum else days
        found = self._days.get(days)
        if found is None:
            found = self._days[days] = timedelta(days=days)
        return found

    def _short_term(self, stability: float, rating: int) -> float:
        increase: float = self._short_gain[rating] * (stability ** -self._w[19])
        if rating != 1:
            increase = max(increase, 1.0)
        return max(stability * increase, STABILITY_MIN)

    def _next_difficulty(self, difficulty: float, rating: int) -> float:
        damped = difficulty + (10.0 - difficulty) * self._delta[rating] / 9.0
        reverted = self._reverted_to + self._kept_share * damped
        return (
            MIN_DIFFICULTY
            if reverted < MIN_DIFFICULTY
            else MAX_DIFFICULTY
            if reverted > MAX_DIFFICULTY
            else reverted
        )

    def _next_stability(
        self, difficulty: float, stability: float, elapsed_days: int, rating: int
    ) -> float:
        w = self._w
        found: float
        retrievability: float = (1 + self._factor * max(0, elapsed_days) / stability) ** self._decay
        if rating == 1:
            long_term: float = (
                w[11]
                * (difficulty ** -w[12])
                * (((stability + 1) ** (w[13])) - 1)
                * (math.e ** ((1 - retrievability) * w[14]))
            )
            short_term = stability / self._forget_short
            found = min(long_term, short_term)
        else:
            hard_penalty = w[15] if rating == 2 else 1
            easy_bonus = w[16] if rating == 4 else 1
            found = stability * (
                1
                + self._e_w8
                * (11 - difficulty)
                * (stability ** -w[9])
                * ((math.e ** ((1 - retrievability) * w[10])) - 1)
                * hard_penalty
                * easy_bonus
            )
        return max(found, STABILITY_MIN)

    # ------------------------------------------------------------------ one review

    def review(self, card: Memory | None, rating: int, at_ms: int) -> Memory:
        """``card`` (None: never reviewed) rated ``rating`` (1-4) at ``at_ms``."""
        if card is None:
            return self._steps(
                LEARNING,
                0,
                self._initial_stability[rating],
                self._initial_difficulty[rating],
                rating,
                at_ms,
            )
        days = (at_ms - card.at_ms) // DAY_MS
        stability, difficulty = card.stability, card.difficulty
        if days < 1:
            stability = self._short_term(stability, rating)
            if card.state != REVIEW:
                difficulty = self._next_difficulty(difficulty, rating)
        else:
            stability = self._next_stability(difficulty, stability, days, rating)
            if card.state != REVIEW:
                difficulty = self._next_difficulty(difficulty, rating)
        if card.state == REVIEW:
            difficulty = self._next_difficulty(difficulty, rating)
            if rating == 1 and self._relearning:
                return Memory(RELEARNING, 0, stability, difficulty, self._relearning[0], at_ms)
            return Memory(
                REVIEW, None, stability, difficulty, self._next_interval(stability), at_ms
            )
        assert card.step is not None
        return self._steps(card.state, card.step, stability, difficulty, rating, at_ms)

    def _steps(
        self, state: int, step: int, stability: float, difficulty: float, rating: int, at_ms: int
    ) -> Memory:
        """A (re)learning card's next step, or its graduation to Review."""
        steps = self._learning if state == LEARNING else self._relearning
        if not steps or (step >= len(steps) and rating != 1):
            return self._graduate(stability, difficulty, at_ms)
        if rating == 1:
            return Memory(state, 0, stability, difficulty, steps[0], at_ms)
        if rating == 2:
            if step == 0 and len(steps) == 1:
                interval = steps[0] * 1.5
            elif step == 0 and len(steps) >= 2:
                interval = (steps[0] + steps[1]) / 2.0
            else:
                interval = steps[step]
            return Memory(state, step, stability, difficulty, interval, at_ms)
        if rating == 3 and step + 1 != len(steps):
            return Memory(state, step + 1, stability, difficulty, steps[step + 1], at_ms)
        return self._graduate(stability, difficulty, at_ms)

    def _graduate(self, stability: float, difficulty: float, at_ms: int) -> Memory:
        return Memory(REVIEW, None, stability, difficulty, self._next_interval(stability), at_ms)
