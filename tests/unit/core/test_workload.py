"""Tests for bot.core.workload: the simulator's inputs from a log, the suggestion, the text."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import fsrs_rs_python
import pytest

from bot.core.model import CardStateKind, LearnerSettings, ReviewSource
from bot.core.workload import (
    DEFAULT_FIRST_RATING_PROB,
    DEFAULT_REVIEW_RATING_PROB,
    DEFAULT_STATE_RATING_COSTS,
    MIN_RATINGS,
    MIN_TIMED,
    RETENTIONS,
    RetentionCost,
    RetentionCosts,
    format_costs,
    simulate_costs,
    suggest,
    workload_inputs,
)
from tests.unit.core.reviewlog import logged

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
NEW, LEARNING = CardStateKind.NEW, CardStateKind.LEARNING


def cost(retention: float, per_card: float, remembered: float = 100.0) -> RetentionCost:
    return RetentionCost(retention, 10.0, 5.0, remembered, per_card)


def test_the_copied_defaults_are_the_simulators() -> None:
    config = fsrs_rs_python.default_simulator_config()
    first, review = tuple(config.first_rating_prob), tuple(config.review_rating_prob)
    assert pytest.approx(first, abs=1e-6) == DEFAULT_FIRST_RATING_PROB
    assert pytest.approx(review, abs=1e-6) == DEFAULT_REVIEW_RATING_PROB
    for ours, theirs in zip(DEFAULT_STATE_RATING_COSTS, config.state_rating_costs, strict=True):
        assert ours == pytest.approx(tuple(theirs), abs=1e-4)


def test_retentions_run_from_75_to_97_percent() -> None:
    assert RETENTIONS[0] == 0.75 and RETENTIONS[-1] == 0.97 and len(RETENTIONS) == 12


def test_without_a_log_the_inputs_are_the_settings_and_the_defaults() -> None:
    settings = LearnerSettings(new_cards_per_day=7, max_reviews_per_day=90, desired_retention=0.85)
    inputs = workload_inputs([], settings, 155)
    assert (inputs.deck_size, inputs.learn_limit, inputs.review_limit) == (155, 7, 90)
    assert inputs.max_ivl == 36500 and inputs.current == 0.85
    assert (inputs.learning_steps, inputs.relearning_steps) == (2, 1)
    assert not inputs.own_parameters and not inputs.own_mix and inputs.own_costs == 0
    assert inputs.first_rating_prob == DEFAULT_FIRST_RATING_PROB
    assert inputs.state_rating_costs == DEFAULT_STATE_RATING_COSTS


def test_the_learners_own_mix_and_times_come_from_their_log() -> None:
    at = NOW - timedelta(days=1)
    first = [logged(at, r, state=NEW, duration_ms=4000) for r in (1, 3, 3, 4) * MIN_TIMED]
    passed = [
        logged(at, r, duration_ms=ms) for r, ms in [(2, 9000), (3, 6000), (3, 8000)] * MIN_RATINGS
    ]
    lapses = [logged(at, 1, duration_ms=12000) for _ in range(MIN_TIMED - 1)]  # too few
    ignored = [
        logged(at, 4, state=NEW, source=ReviewSource.CRAM, duration_ms=1),
        logged(at, 4, undone=True, duration_ms=1),
    ] * 50
    settings = LearnerSettings(fsrs_parameters=tuple(fsrs_rs_python.DEFAULT_PARAMETERS))
    inputs = workload_inputs([*first, *passed, *lapses, *ignored], settings, 40)
    assert inputs.own_mix and inputs.own_parameters
    assert inputs.first_rating_prob == pytest.approx((0.25, 0.0, 0.5, 0.25))
    assert inputs.review_rating_prob == pytest.approx((1 / 3, 2 / 3, 0.0))
    learning, review, relearning = inputs.state_rating_costs
    # New cards' first answers time the learning row; the medians of each cell.
    assert learning == (4.0, DEFAULT_STATE_RATING_COSTS[0][1], 4.0, 4.0)
    assert review[1:3] == (9.0, 7.0)
    assert review[0] == DEFAULT_STATE_RATING_COSTS[1][0]  # 9 lapses are not enough
    assert review[3] == DEFAULT_STATE_RATING_COSTS[1][3]
    assert relearning == DEFAULT_STATE_RATING_COSTS[2]
    assert inputs.own_costs == 5
    assert inputs.timed_reviews == len(first) + len(passed)


def test_the_suggestion_is_the_lowest_cost_per_remembered_card() -> None:
    costs = [cost(0.75, 3.1), cost(0.81, 2.7), cost(0.85, 2.9), cost(0.95, 4.0)]
    assert suggest(costs) == 0.81
    # Ties go to the higher retention; a retention that remembers nothing is never one.
    assert suggest([cost(0.8, 2.0), cost(0.9, 2.0), cost(0.7, 0.0, remembered=0.0)]) == 0.9
    assert suggest([cost(0.8, 1.0, remembered=0.0)]) is None


def test_without_new_cards_nothing_is_learned_and_nothing_suggested() -> None:
    inputs = workload_inputs([], LearnerSettings(new_cards_per_day=0), 50)
    result = simulate_costs(inputs)
    assert result.suggested is None
    assert all(c.remembered == 0 and c.reviews_per_day == 0 for c in result.costs)
    text = format_costs(result, inputs)
    assert "No card is learned in this simulation (0 new cards a day" in text
    assert "Suggestion" not in text


def test_a_simulated_year_costs_more_at_higher_retention() -> None:
    settings = LearnerSettings(desired_retention=0.9, new_cards_per_day=10)
    inputs = workload_inputs([], settings, 120)
    result = simulate_costs(inputs)
    retentions = [c.retention for c in result.costs]
    assert retentions == sorted({*RETENTIONS, 0.9})
    by = {c.retention: c for c in result.costs}
    assert by[0.97].reviews_per_day > 2 * by[0.75].reviews_per_day
    assert by[0.97].minutes_per_day > by[0.75].minutes_per_day
    assert by[0.97].remembered > by[0.75].remembered
    best = min(result.costs, key=lambda c: c.minutes_per_card)
    assert result.suggested == best.retention
    assert result.current == 0.9 and result.deck_size == 120
    assert simulate_costs(inputs) == result  # seeded: the same inputs give the same year


def test_the_text_is_a_table_with_the_learners_row_and_the_suggestion() -> None:
    inputs = workload_inputs([], LearnerSettings(desired_retention=0.85), 155)
    costs = (
        RetentionCost(0.75, 2.46, 1.1, 90.0, 3.0),
        RetentionCost(0.85, 3.9, 1.4, 100.0, 2.6),
        RetentionCost(0.97, 12.4, 3.2, 120.0, 7.5),
    )
    text = format_costs(RetentionCosts(costs, 0.85, 0.85, 155), inputs)
    assert "a year of study simulated for your 155 cards (10 new a day" in text
    assert "retention: reviews a day · minutes a day · minutes per card remembered" in text
    assert "75%: 2.5 · 1.1 · 3.0\n" in text
    assert "85%: 3.9 · 1.4 · 2.6  ← yours, lowest cost per card" in text
    assert "97%: 12 · 3.2 · 7.5" in text
    assert "Suggestion: 85% costs the least time" in text and "only a suggestion" in text
    assert "FSRS's default parameters" in text and "typical mix of answers" in text
    assert "typical review times" in text and "cannot start from what you already know" in text
    edge = format_costs(RetentionCosts(costs, 0.85, 0.75, 155), inputs)
    assert "Suggestion: 75% (the lowest I simulated)" in edge
