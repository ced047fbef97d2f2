"""Tests for bot.core.calibration: predicted recall by replaying the log, buckets and
RMSE(bins)."""

from __future__ import annotations

import math
from datetime import UTC, datetime, timedelta

import pytest
from fsrs import Card, Rating, Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS

from bot.core import memory
from bot.core.calibration import GAP_MIN_REVIEWS, MIN_REVIEWS, calibrate, format_calibration

T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
#: Fitted-looking parameters: FSRS's defaults with another decay.
OWN = (*DEFAULT_PARAMETERS[:20], 0.35)


def card_log(card: str, days: list[float], ratings: list[int]) -> list[memory.LogEntry]:
    return [(card, T0 + timedelta(days=d), r) for d, r in zip(days, ratings, strict=True)]


def expected(log: list[memory.LogEntry], w: tuple[float, ...]) -> list[float]:
    """What py-fsrs itself predicts before each review a day or more after the last."""
    scheduler = Scheduler(parameters=w, enable_fuzzing=False)
    cards: dict[str, Card] = {}
    out = []
    for card_id, at, rating in log:
        before = cards.get(card_id)
        if before is not None and before.last_review and (at - before.last_review).days >= 1:
            out.append(scheduler.get_card_retrievability(before, at))
        cards[card_id], _ = scheduler.review_card(
            before or Card(card_id=1, due=at), Rating(rating), at
        )
    return out


def test_predictions_replay_the_log_with_the_parameters_in_use() -> None:
    """Each prediction is FSRS's own for the card as its history left it, with one set of
    parameters; same-day reviews are left out."""
    log = card_log("a", [0, 0.01, 1, 4, 12, 12.2, 30], [3, 3, 3, 3, 1, 3, 3])
    log += card_log("b", [0.5, 2, 9], [4, 3, 2])
    log.sort(key=lambda e: e[1])
    for w in (tuple(DEFAULT_PARAMETERS), OWN):
        got = memory.recall_predictions(log, w)
        assert [r for r, _ in got] == pytest.approx(expected(log, w))
        assert len(got) == 5  # a: 4, 12, 30; b: 2, 9 (first reviews and same-day ones out)
    assert [ok for _, ok in memory.recall_predictions(log, OWN)] == [
        True, True, True, False, True,
    ]  # fmt: skip
    own = calibrate(log, OWN)
    default = calibrate(log, None)
    assert own.default_parameters is False and default.default_parameters is True
    assert [b.predicted for b in own.bins] != pytest.approx([b.predicted for b in default.bins])


def test_reviews_are_bucketed_by_prediction_and_rmse_weights_by_reviews() -> None:
    log = card_log("a", [0, 1, 4, 12, 30], [3, 3, 3, 1, 3])
    log += card_log("b", [0, 2, 9, 20], [3, 2, 1, 3])
    log.sort(key=lambda e: e[1])
    c = calibrate(log, None)
    pairs = memory.recall_predictions(log, tuple(DEFAULT_PARAMETERS))
    assert c.reviews == len(pairs) == 7 and not c.enough
    assert sum(b.reviews for b in c.bins) == 7
    for b in c.bins:
        inside = [(r, ok) for r, ok in pairs if b.low <= r < b.high or (b.high == 1.0 and r == 1)]
        assert b.reviews == len(inside)
        assert b.predicted == pytest.approx(sum(r for r, _ in inside) / len(inside))
        assert b.observed == pytest.approx(sum(ok for _, ok in inside) / len(inside))
    rmse = math.sqrt(sum(b.reviews * (b.observed - b.predicted) ** 2 for b in c.bins) / 7)
    assert c.rmse == pytest.approx(rmse)


def test_no_reviews_no_rmse_and_the_text_says_why() -> None:
    c = calibrate([])
    assert c.bins == () and c.rmse is None and c.reviews == 0
    assert "none yet" in format_calibration(c)
    few = [(f"c{i}", T0, 3) for i in range(MIN_REVIEWS - 1)]
    few += [(f"c{i}", T0 + timedelta(days=3), 3) for i in range(MIN_REVIEWS - 1)]
    text = format_calibration(calibrate(few))
    assert f"only {MIN_REVIEWS - 1} so far" in text and "no chart yet" in text


def test_the_text_gives_the_rmse_and_the_widest_gap_among_buckets_that_count() -> None:
    """Sixty cards seen again after 3 days (R about 0.93): 45 passed. Five seen again after
    90 days (R far lower), all passed: too few to be named the largest gap."""
    log = [(f"c{i}", T0, 3) for i in range(65)]
    log += [(f"c{i}", T0 + timedelta(days=3), 3 if i % 4 else 1) for i in range(60)]
    log += [(f"c{i}", T0 + timedelta(days=90), 3) for i in range(60, 65)]
    c = calibrate(log)
    assert c.enough and c.reviews == 65
    text = format_calibration(c)
    assert "FSRS's default parameters, 65 reviews" in text
    top = max(c.bins, key=lambda b: b.reviews)
    assert top.reviews == 60 >= GAP_MIN_REVIEWS and top.observed == 0.75
    assert f"you recalled 75% of 60 (fewer than the {top.predicted:.0%} predicted)" in text
