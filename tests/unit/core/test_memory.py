"""Tests for bot.core.memory: parameters checked, training items, when to fit, what is kept."""

from __future__ import annotations

import math
import random
from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Card, Rating, Scheduler

from bot.core import memory
from bot.core.memory import InvalidParameters, check_parameters, fit_wanted
from bot.core.model import ModelFit
from tests.memory_sim import simulate_learner, true_parameters

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
DEFAULTS = memory.DEFAULT_PARAMETERS


# --------------------------------------------------------------------------- parameters


def test_the_defaults_pass_and_come_back_as_floats() -> None:
    assert check_parameters(list(DEFAULTS)) == DEFAULTS
    assert check_parameters([1, *DEFAULTS[1:]])[0] == 1.0
    assert len(DEFAULTS) == memory.PARAMETER_COUNT == 21


@pytest.mark.parametrize(
    ("index", "value", "reason"),
    [
        (5, math.nan, "not a finite number"),
        (2, "x", "not a number"),
        (7, True, "not a number"),
        (4, 11.0, "outside FSRS-6's bounds"),
        (0, -1.0, "outside FSRS-6's bounds"),
        (20, math.inf, "not a finite number"),
    ],
)
def test_a_wrong_value_is_named_by_its_index(index: int, value: object, reason: str) -> None:
    values: list[object] = list(DEFAULTS)
    values[index] = value
    with pytest.raises(InvalidParameters) as caught:
        check_parameters(values)
    assert caught.value.index == index
    assert reason in str(caught.value) and f"index {index}" in str(caught.value)


def test_the_wrong_length_or_shape_is_refused() -> None:
    with pytest.raises(InvalidParameters, match="19 parameters, this scheduler takes 21"):
        check_parameters(list(DEFAULTS[:19]))
    with pytest.raises(InvalidParameters, match="not an array"):
        check_parameters({"w": 1})
    # A longer array (a later FSRS) is checked against FSRS-6's bounds as far as they go.
    assert len(check_parameters([*DEFAULTS, 0.5, 99.0], count=23)) == 23


# --------------------------------------------------------------------------- items


def test_delta_t_counts_the_learners_local_dates() -> None:
    # 22:30 and 23:30 UTC: the same day in UTC, two days in Berlin (23:30, then 00:30).
    log = [("a", T0.replace(hour=22, minute=30), 3), ("a", T0.replace(hour=23, minute=30), 3)]
    assert memory.build_items(log, "UTC") == []  # no long-term review: not useful
    (item,) = memory.build_items(log, "Europe/Berlin")
    assert (item.position, item.delta_t, item.item.long_term_review_cnt()) == (1, 1, 1)


def test_same_day_reviews_are_kept_once_the_history_has_a_long_term_one() -> None:
    log = [
        ("a", T0, 3),
        ("b", T0, 1),
        ("a", T0 + timedelta(minutes=10), 3),  # same day, no long-term yet: dropped
        ("a", T0 + 2 * DAY, 1),  # predicts a lapse two days on
        ("a", T0 + 2 * DAY + timedelta(minutes=10), 3),  # same day, after a long-term
        ("b", T0 + 3 * DAY, 3),
    ]
    items = memory.build_items(log, "UTC")
    assert [(i.position, i.delta_t) for i in items] == [(3, 2), (4, 0), (5, 3)]
    assert [len(i.item.reviews) for i in items] == [3, 4, 2]


# --------------------------------------------------------------------------- when


def attempt(reviews: int, held_out: int, at: datetime) -> ModelFit:
    return ModelFit(1, at, reviews, held_out, 0.4, 0.39, 0.4, True, DEFAULTS)


def test_the_first_fit_waits_for_the_threshold() -> None:
    assert not fit_wanted(memory.MIN_REVIEWS - 1, None, T0)
    assert fit_wanted(memory.MIN_REVIEWS, None, T0)
    assert memory.reviews_needed(memory.MIN_REVIEWS - 30) == 30
    assert memory.reviews_needed(memory.MIN_REVIEWS + 5) == 0


def test_a_refit_waits_for_the_log_to_double_or_a_month_of_new_reviews() -> None:
    last = attempt(1200, 300, T0)  # the log held 1,500 reviews then
    assert not fit_wanted(2999, last, T0 + DAY)
    assert fit_wanted(3000, last, T0 + DAY)
    new = 1500 + memory.REFIT_NEW_REVIEWS
    assert not fit_wanted(new, last, T0 + memory.REFIT_AGE - DAY)
    assert fit_wanted(new, last, T0 + memory.REFIT_AGE)
    assert not fit_wanted(new - 1, last, T0 + 3 * memory.REFIT_AGE)


# --------------------------------------------------------------------------- fitting


@pytest.fixture(scope="module")
def learner_log() -> list[memory.LogEntry]:
    """A synthetic learner far from the defaults: 4,000 reviews."""
    rng = random.Random(2)
    return simulate_learner(true_parameters(rng, 0.8), 4000, rng, new_per_day=20)


def test_a_fit_that_beats_the_defaults_is_kept_with_every_cards_new_state(
    learner_log: list[memory.LogEntry],
) -> None:
    result = memory.fit(learner_log, "UTC", None)
    assert result is not None
    assert result.reviews + result.held_out == len(learner_log)
    assert result.held_out == round(len(learner_log) * memory.HELD_OUT_SHARE)
    assert 0 < result.judged <= result.held_out
    assert result.logloss_current == result.logloss_default  # the defaults were in use
    assert result.logloss_fitted < result.logloss_default
    assert result.kept
    assert check_parameters(list(result.parameters)) == result.parameters
    assert result.parameters != DEFAULTS
    cards = {card for card, _, _ in learner_log}
    assert set(result.states) == cards
    assert result.states == memory.memory_states(learner_log, result.parameters)


def test_parameters_no_better_than_those_in_use_are_not_kept(
    learner_log: list[memory.LogEntry],
) -> None:
    first = memory.fit(learner_log, "UTC", None)
    assert first is not None
    again = memory.fit(learner_log, "UTC", first.parameters)
    assert again is not None
    assert again.logloss_fitted >= again.logloss_current
    assert not again.kept and again.states == {}
    assert again.logloss_default > again.logloss_current


def test_a_log_with_nothing_to_judge_gives_no_fit() -> None:
    log = [("a", T0 + timedelta(minutes=i), 3) for i in range(50)]  # all on one day
    assert memory.fit(log, "UTC", None) is None


def test_memory_states_replay_the_scheduler_exactly() -> None:
    """With the parameters in use, a recompute gives what the reviews left."""
    scheduler = Scheduler(enable_fuzzing=False)
    plan = [(0, 3), (0.001, 3), (0.01, 3), (1, 3), (4, 1), (4.01, 3), (5, 3), (12, 4), (30, 2)]
    card = Card(card_id=1)
    log: list[memory.LogEntry] = []
    for day, rating in plan:
        at = T0 + timedelta(days=day)
        card, _ = scheduler.review_card(card, Rating(rating), at)
        log.append(("a", at, rating))
    assert memory.memory_states(log, DEFAULTS) == {"a": (card.stability, card.difficulty)}
    other = memory.memory_states(log, true_parameters(random.Random(1), 0.5))
    assert other["a"] != (card.stability, card.difficulty)


def test_a_fit_worse_than_the_defaults_sends_the_learner_back_to_them(
    learner_log: list[memory.LogEntry], monkeypatch: pytest.MonkeyPatch
) -> None:
    """When the defaults beat both the parameters in use and the new fit on the held-out
    reviews, the learner goes back to the defaults (their states recomputed with them)."""
    first = memory.fit(learner_log, "UTC", None)
    assert first is not None
    in_use = first.parameters
    losses = {in_use: 0.40, DEFAULTS: 0.30}
    monkeypatch.setattr(memory, "log_loss", lambda params, items: losses.get(tuple(params), 0.35))
    back = memory.fit(learner_log, "UTC", in_use)
    assert back is not None and back.kept and back.use_defaults
    assert (back.logloss_current, back.logloss_default) == (0.40, 0.30)
    assert back.states == memory.memory_states(learner_log, DEFAULTS)
    # A gain within the margin changes nothing.
    losses[DEFAULTS] = 0.40 * (1 - memory.KEEP_MARGIN / 2)
    monkeypatch.setattr(memory, "log_loss", lambda params, items: losses.get(tuple(params), 0.41))
    same = memory.fit(learner_log, "UTC", in_use)
    assert same is not None and not same.kept and not same.use_defaults
