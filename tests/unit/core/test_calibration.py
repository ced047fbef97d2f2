"""Tests for bot.core.calibration: predicted recall, buckets and RMSE(bins)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from fsrs.scheduler import DEFAULT_PARAMETERS

from bot.core import srs
from bot.core.calibration import (
    MIN_REVIEWS,
    calibrate,
    format_calibration,
    predicted_recall,
)
from bot.core.model import CardState, CardStateKind, LearnerSettings, ReviewSource
from tests.unit.core.reviewlog import logged

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)
#: Fitted-looking parameters: FSRS's defaults with another decay.
OWN = (*DEFAULT_PARAMETERS[:20], 0.35)


@pytest.mark.parametrize("parameters", [None, OWN])
@pytest.mark.parametrize(("stability", "elapsed"), [(1.0, 1), (10.0, 10), (3.0, 17.5), (80, 40)])
def test_predicted_recall_is_what_fsrs_computes(
    parameters: tuple[float, ...] | None, stability: float, elapsed: float
) -> None:
    last = NOW - timedelta(days=elapsed)
    state = CardState(
        1, "c", CardStateKind.REVIEW, None, stability, 5.0, NOW, last_review=last, reps=2
    )
    settings = LearnerSettings(fsrs_parameters=parameters)
    w = parameters or tuple(DEFAULT_PARAMETERS)
    assert predicted_recall(stability, last, NOW, w) == pytest.approx(
        srs.retrievability(state, NOW, settings), abs=1e-9
    )


def test_at_the_stability_the_prediction_is_ninety_percent() -> None:
    assert predicted_recall(12.0, NOW - timedelta(days=12), NOW, OWN) == pytest.approx(0.9)


def test_reviews_are_bucketed_by_prediction_and_rmse_weights_by_reviews() -> None:
    w = tuple(DEFAULT_PARAMETERS)
    # Stability 10, 10 days elapsed: R = 0.9 (bucket 0.90-0.95); 3 passed of 4.
    # Stability 1, 3 days elapsed: R below 0.9; 1 passed of 2.
    high = [logged(NOW, r, elapsed=10, stability=10.0) for r in (3, 3, 4, 1)]
    low = [logged(NOW, r, elapsed=3, stability=1.0, interval=1) for r in (2, 1)]
    skipped = [
        logged(NOW, 1, elapsed=10, source=ReviewSource.CRAM),
        logged(NOW, 1, elapsed=10, undone=True),
        logged(NOW, 1, state=CardStateKind.NEW),
        logged(NOW, 1, elapsed=0.5, state=CardStateKind.LEARNING),  # same day
    ]
    c = calibrate([*high, *low, *skipped], None)
    assert c.reviews == 6 and c.default_parameters
    r_low = predicted_recall(1.0, NOW - timedelta(days=3), NOW, w)
    assert [(b.reviews, b.observed) for b in c.bins] == [(2, 0.5), (4, 0.75)]
    assert c.bins[1].predicted == pytest.approx(0.9)
    assert (c.bins[1].low, c.bins[1].high) == (0.9, 0.95)
    assert c.bins[0].predicted == pytest.approx(r_low)
    assert c.bins[0].low <= r_low < c.bins[0].high
    expected = math.sqrt((2 * (0.5 - r_low) ** 2 + 4 * (0.75 - 0.9) ** 2) / 6)
    assert c.rmse == pytest.approx(expected)
    assert not c.enough


def test_the_learners_parameters_change_the_prediction() -> None:
    reviews = [logged(NOW, 3, elapsed=30, stability=10.0)]
    default = calibrate(reviews, None).bins[0].predicted
    own = calibrate(reviews, OWN).bins[0]
    assert own.predicted != pytest.approx(default)
    assert own.predicted == pytest.approx(
        predicted_recall(10.0, NOW - timedelta(days=30), NOW, OWN)
    )
    assert not calibrate(reviews, OWN).default_parameters


def test_a_prediction_of_one_goes_in_the_top_bucket_and_low_ones_together() -> None:
    c = calibrate(
        [
            logged(NOW, 3, elapsed=1, stability=5000.0),  # R ~ 1.0
            logged(NOW, 1, elapsed=300, stability=1.0),  # R far under 0.5
        ]
    )
    assert [(b.low, b.high) for b in c.bins] == [(0.0, 0.5), (0.95, 1.0)]


def test_no_reviews_no_rmse_and_the_text_says_why() -> None:
    c = calibrate([])
    assert c.bins == () and c.rmse is None and c.reviews == 0
    assert "none yet" in format_calibration(c)
    few = calibrate([logged(NOW, 3, elapsed=10) for _ in range(MIN_REVIEWS - 1)])
    text = format_calibration(few)
    assert f"only {MIN_REVIEWS - 1} so far" in text and "no chart yet" in text


def test_the_text_gives_the_rmse_and_the_largest_gap() -> None:
    reviews = [logged(NOW, 3, elapsed=10, stability=10.0) for _ in range(60)]
    reviews += [logged(NOW, 1, elapsed=10, stability=10.0) for _ in range(20)]
    c = calibrate(reviews)
    assert c.enough and c.rmse == pytest.approx(0.15)
    text = format_calibration(c)
    assert "FSRS's default parameters, 80 reviews" in text
    assert "off by 15.0% on average" in text
    assert (
        "when it predicted 90%-95%, you recalled 75% of 80 (fewer than the 90% predicted)" in text
    )
