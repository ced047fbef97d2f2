"""How well the memory model's predictions match what the learner recalled.

For each past review (not undone, not ``/cram``, a day or more after the card's
last review) the model predicts a recall probability R: FSRS's retrievability at
the review's instant, with the learner's current parameters, replaying the log
from its start (:func:`bot.core.memory.recall_predictions`), so every review is
judged by the one model in use, not by the states that older parameters left.
The observed outcome is a pass (Hard, Good or Easy). Reviews are put in buckets by
predicted R; a bucket's observed pass rate should be close to its mean
prediction. The gap, weighted by reviews, is srs-benchmark's RMSE(bins) made
visible (its bins are finer: by R, interval and review count; these are by R only).

Reviews on the same day as the card's last review are left out: FSRS's
retrievability counts whole days, so it predicts 1.0 for each of them, and
learning steps say nothing about long-term memory.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from bot.core.memory import DEFAULT_PARAMETERS, LogEntry, recall_predictions

__all__ = [
    "BIN_EDGES",
    "GAP_MIN_REVIEWS",
    "MIN_REVIEWS",
    "Calibration",
    "CalibrationBin",
    "calibrate",
    "format_calibration",
]

#: Bucket edges of predicted R: everything under 0.5 in one, then 0.05 wide up to 1.
BIN_EDGES: Final = (0.0, *(round(0.5 + 0.05 * i, 2) for i in range(10)), 1.0)
#: Reviews needed before the chart means something; with fewer the text says so.
MIN_REVIEWS: Final = 50
#: Reviews a bucket needs before its gap is named as the largest.
GAP_MIN_REVIEWS: Final = 20


@dataclass(frozen=True, slots=True)
class CalibrationBin:
    """One bucket of predicted recall.

    Attributes:
        low, high: the predicted R range ``[low, high)`` (the last includes 1.0).
        reviews: reviews whose prediction fell in it.
        predicted: their mean predicted R.
        observed: the share of them passed (Hard, Good or Easy).
    """

    low: float
    high: float
    reviews: int
    predicted: float
    observed: float


@dataclass(frozen=True, slots=True)
class Calibration:
    """Predicted against observed recall.

    Attributes:
        bins: the buckets with at least one review, lowest R first.
        reviews: the reviews counted.
        rmse: the root mean square of (observed - predicted) over the buckets,
            weighted by their reviews; None without reviews.
        default_parameters: whether the predictions used FSRS's default parameters
            (the learner has none of their own).
    """

    bins: tuple[CalibrationBin, ...]
    reviews: int
    rmse: float | None
    default_parameters: bool

    @property
    def enough(self) -> bool:
        """Whether there are enough reviews (:data:`MIN_REVIEWS`) to draw the chart."""
        return self.reviews >= MIN_REVIEWS


def calibrate(log: Sequence[LogEntry], parameters: Sequence[float] | None = None) -> Calibration:
    """Bucket the learner's reviews by predicted recall (see the module's docstring).

    CPU-bound for a long log (a replay: about 10 µs a review): run it in a thread.

    Args:
        log: the learner's reviews, oldest first, cram and undone ones left out
            (``tx.models.log``, the log a fit reads).
        parameters: the learner's FSRS parameters; None uses FSRS's defaults.
    """
    w = tuple(parameters) if parameters is not None else DEFAULT_PARAMETERS
    count = [0] * (len(BIN_EDGES) - 1)
    predicted = [0.0] * len(count)
    passed = [0] * len(count)
    for r, ok in recall_predictions(log, w):
        i = _bin(r)
        count[i] += 1
        predicted[i] += r
        passed[i] += ok
    bins = tuple(
        CalibrationBin(
            BIN_EDGES[i], BIN_EDGES[i + 1], count[i], predicted[i] / count[i], passed[i] / count[i]
        )
        for i in range(len(count))
        if count[i]
    )
    total = sum(count)
    rmse = (
        math.sqrt(sum(b.reviews * (b.observed - b.predicted) ** 2 for b in bins) / total)
        if total
        else None
    )
    return Calibration(bins, total, rmse, default_parameters=parameters is None)


def _bin(r: float) -> int:
    for i in range(len(BIN_EDGES) - 2, -1, -1):
        if r >= BIN_EDGES[i]:
            return i
    return 0


def format_calibration(c: Calibration) -> str:
    """What the calibration chart shows, in words (the whole of it when it is not drawn)."""
    whose = "FSRS's default parameters" if c.default_parameters else "your fitted parameters"
    if not c.enough:
        have = "none yet" if c.reviews == 0 else f"only {c.reviews} so far"
        return (
            "Predicted vs actual recall: I need at least "
            f"{MIN_REVIEWS} reviews made a day or more after a card's last review to "
            f"check the model's predictions ({have}), so there is no chart yet."
        )
    assert c.rmse is not None
    # The widest gap among buckets with enough reviews to mean something (all, if none has).
    judged = [b for b in c.bins if b.reviews >= GAP_MIN_REVIEWS] or list(c.bins)
    worst = max(judged, key=lambda b: abs(b.observed - b.predicted))
    gap = worst.observed - worst.predicted
    lines = [
        f"Predicted vs actual recall ({whose}, {c.reviews} reviews): "
        f"the predictions are off by {c.rmse:.1%} on average (RMSE over the buckets, "
        "weighted by reviews; srs-benchmark, with finer buckets, finds about 4.6% "
        "for FSRS-6 over many learners).",
    ]
    if round(abs(gap), 2) > 0:
        lines.append(
            f"Largest gap: when it predicted {_range(worst)}, you recalled "
            f"{worst.observed:.0%} of {worst.reviews} "
            f"({'more' if gap > 0 else 'fewer'} than the {worst.predicted:.0%} predicted)."
        )
    return "\n".join(lines)


def _range(b: CalibrationBin) -> str:
    if b.low == 0.0:
        return f"under {b.high:.0%}"
    return f"{b.low:.0%}-{b.high:.0%}"
