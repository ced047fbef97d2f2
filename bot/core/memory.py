"""Each learner's own memory model: FSRS parameters fitted to their review log.

Pure functions (the numbers come from ``fsrs-rs-python``); the timer and the
command that run them are :mod:`bot.core.fitting`.

**Training items.** As fsrs-rs expects them: one item per review to predict,
holding the card's history up to and including that review. ``delta_t`` is
whole days between the learner's *local* dates, so reviews on the same day
have ``delta_t`` 0 and are kept (FSRS-6 models the short term). The first
review of a card predicts nothing; an item whose history has no long-term
review (every ``delta_t`` 0) is dropped. Practice reviews (``/cram``, source
``cram``) and undone ones are never in the log handed here.

**When to fit** (:func:`fit_wanted`). The first time once the log holds
:data:`MIN_REVIEWS` reviews; then each time the log has doubled since the last
attempt, or when the last attempt is :data:`REFIT_AGE` old and
:data:`REFIT_NEW_REVIEWS` reviews have come since. ``benchmarks/fitting.py``
gives the evidence for :data:`MIN_REVIEWS` (synthetic learners, true
parameters drawn around FSRS-6's defaults, every review counted, learning
steps too): what the keep-if-better rule below keeps, judged on the learner's
next 2,000 reviews, loses 0.1-0.4 % log loss against the defaults at 800
reviews and gains 0.1-0.3 % at 1,200, 0.5-1.1 % at 1,600 and 0.9-1.7 % at
3,000 (a small held-out part is a noisy judge). Anki's research, on real
learners further from the defaults, says 50-200.

**Keeping** (:func:`fit`). The latest :data:`HELD_OUT_SHARE` of the log (by
time) is held out: the parameters are fitted on the reviews before it and
judged, with the ones in use and the defaults, by log loss on the held-out
reviews. The better of the fitted ones and the defaults is kept only when it
beats the ones in use by :data:`KEEP_MARGIN` (a gain within float noise is no
gain); so a learner whose earlier fit has become worse than the defaults goes
back to the defaults. Each attempt is recorded (:class:`~bot.core.model.ModelFit`)
either way. The kept parameters are those judged, not a re-fit on the whole log.

**After a change** (:func:`memory_states`), each card's stability and
difficulty are recomputed from its history with the new parameters. Due dates
do not move: the learner chose a rating for the interval its button showed,
and the new state takes effect at the card's next review (Anki does not
reschedule on a new fit by default either).
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from itertools import pairwise
from typing import NamedTuple
from zoneinfo import ZoneInfo

import fsrs_rs_python as rs
from fsrs import Card, Rating, Scheduler
from fsrs.scheduler import DEFAULT_PARAMETERS as FSRS_DEFAULTS
from fsrs.scheduler import LOWER_BOUNDS_PARAMETERS, UPPER_BOUNDS_PARAMETERS

from bot.core.model import ModelFit

__all__ = [
    "DEFAULT_PARAMETERS",
    "HELD_OUT_SHARE",
    "MIN_REVIEWS",
    "PARAMETER_COUNT",
    "REFIT_AGE",
    "REFIT_NEW_REVIEWS",
    "FitResult",
    "InvalidParameters",
    "Item",
    "LogEntry",
    "build_items",
    "check_parameters",
    "fit",
    "fit_wanted",
    "memory_states",
    "reviews_needed",
]

#: How many parameters the scheduler takes: py-fsrs 6.3's ``Scheduler`` (FSRS-6) needs
#: exactly 21. Stored parameters are an array of any length; another length is
#: refused here, for this scheduler (FSRS-7 has more).
PARAMETER_COUNT = len(LOWER_BOUNDS_PARAMETERS)
#: FSRS-6's defaults, as the scheduler uses them (fsrs-rs has the same, as float32).
DEFAULT_PARAMETERS: tuple[float, ...] = tuple(float(p) for p in FSRS_DEFAULTS)

#: Reviews (cram and undone ones aside) a log needs before the first fit.
MIN_REVIEWS = 1000
#: The latest share of the log, by time, that judges a fit.
HELD_OUT_SHARE = 0.2
#: A fit is tried again when the log is this many times as large as at the last attempt...
REFIT_GROWTH = 2.0
#: ... or when the last attempt is this old and this many reviews have come since.
REFIT_AGE = timedelta(days=30)
REFIT_NEW_REVIEWS = 500
#: How much lower (relatively) a log loss must be to replace the parameters in use.
KEEP_MARGIN = 1e-3

_FSRS_CARD_ID = 1  # fsrs wants an int id; passing one avoids its 1 ms sleep.

#: One usable review: the card, when, and the rating (1-4).
LogEntry = tuple[str, datetime, int]


class InvalidParameters(ValueError):
    """Parameters the scheduler cannot use.

    Attributes:
        index: the first wrong value's position (None: the array as a whole is wrong).
        value: that value (or the whole, for a wrong shape).
    """

    def __init__(self, reason: str, index: int | None = None, value: object = None) -> None:
        where = "" if index is None else f" at index {index} ({value!r})"
        super().__init__(f"{reason}{where}")
        self.index = index
        self.value = value


def check_parameters(values: object, count: int = PARAMETER_COUNT) -> tuple[float, ...]:
    """FSRS parameters as the scheduler can use them, or :class:`InvalidParameters`.

    An array of ``count`` numbers, each finite and within FSRS-6's bounds
    (py-fsrs's ``LOWER_BOUNDS_PARAMETERS`` and ``UPPER_BOUNDS_PARAMETERS``; a
    longer array for a later FSRS is checked against them as far as they go).

    Raises:
        InvalidParameters: naming the first wrong value's index, or the wrong shape.
    """
    if not isinstance(values, list | tuple):
        raise InvalidParameters(f"not an array of numbers: {type(values).__name__}")
    if len(values) != count:
        raise InvalidParameters(f"{len(values)} parameters, this scheduler takes {count}")
    checked = []
    for index, value in enumerate(values):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise InvalidParameters("not a number", index, value)
        number = float(value)
        if not math.isfinite(number):
            raise InvalidParameters("not a finite number", index, value)
        if index < PARAMETER_COUNT:
            low, high = LOWER_BOUNDS_PARAMETERS[index], UPPER_BOUNDS_PARAMETERS[index]
            if not low <= number <= high:
                raise InvalidParameters(f"outside FSRS-6's bounds [{low}, {high}]", index, value)
        checked.append(number)
    return tuple(checked)


# --------------------------------------------------------------------------- when


def fit_wanted(log_size: int, last: ModelFit | None, now: datetime) -> bool:
    """Whether a log of ``log_size`` reviews should be fitted now, after the ``last`` attempt.

    The first fit at :data:`MIN_REVIEWS`; then when the log has doubled since the
    last attempt (kept or not), or the attempt is :data:`REFIT_AGE` old and
    :data:`REFIT_NEW_REVIEWS` reviews have come since.
    """
    if log_size < MIN_REVIEWS:
        return False
    if last is None:
        return True
    before = last.reviews + last.held_out
    if log_size >= REFIT_GROWTH * before:
        return True
    return now - last.fitted_at >= REFIT_AGE and log_size - before >= REFIT_NEW_REVIEWS


def reviews_needed(log_size: int) -> int:
    """How many more reviews the log needs before its first fit (0: enough)."""
    return max(0, MIN_REVIEWS - log_size)


# --------------------------------------------------------------------------- items


def _deltas(history: Sequence[tuple[date, int]]) -> list[int]:
    """Whole local days since the card's previous review (0 for its first)."""
    days = [day for day, _ in history]
    return [0] + [(b - a).days for a, b in pairwise(days)]


def _reviews(history: Sequence[tuple[date, int]]) -> list[rs.FSRSReview]:
    return [
        rs.FSRSReview(rating, delta)
        for (_, rating), delta in zip(history, _deltas(history), strict=True)
    ]


class Item(NamedTuple):
    """A training item and the review it predicts.

    Attributes:
        position: that review's position in the log.
        delta_t: local days since the card's previous review (0: the same day).
        item: the card's history up to and including that review.
    """

    position: int
    delta_t: int
    item: rs.FSRSItem


def build_items(log: Sequence[LogEntry], tz: str) -> list[Item]:
    """The training items of a log, in the order of the reviews they predict.

    fsrs-rs trains on them all; it judges (``evaluate``) only those whose
    review is on a later day than the card's previous one (``delta_t`` > 0).

    Args:
        log: the usable reviews, oldest first (ties in the order they were made).
        tz: the learner's time zone: ``delta_t`` counts their local dates.
    """
    zone = ZoneInfo(tz)
    by_card: dict[str, list[tuple[int, date, int]]] = defaultdict(list)
    for position, (card_id, at, rating) in enumerate(log):
        by_card[card_id].append((position, at.astimezone(zone).date(), rating))
    items: list[Item] = []
    for history in by_card.values():
        days = [(day, rating) for _, day, rating in history]
        reviews, deltas = _reviews(days), _deltas(days)
        long_term = False
        for k in range(1, len(history)):
            long_term = long_term or deltas[k] > 0
            if long_term:
                items.append(Item(history[k][0], deltas[k], rs.FSRSItem(reviews[: k + 1])))
    items.sort(key=lambda found: found.position)
    return items


def _replay(
    log: Sequence[LogEntry], parameters: Sequence[float]
) -> Iterator[tuple[LogEntry, Card | None, Card, Scheduler]]:
    """Each review of the log (oldest first) with its card as the reviews before it left
    it (None for a card's first review) and as it left it, through py-fsrs's scheduler
    with ``parameters``."""
    scheduler = Scheduler(parameters=tuple(parameters), enable_fuzzing=False)
    cards: dict[str, Card] = {}
    for entry in log:
        card_id, at, rating = entry
        before = cards.get(card_id)
        after, _ = scheduler.review_card(
            before or Card(card_id=_FSRS_CARD_ID, due=at), Rating(rating), at
        )
        cards[card_id] = after
        yield entry, before, after, scheduler


def memory_states(
    log: Sequence[LogEntry], parameters: Sequence[float]
) -> dict[str, tuple[float, float]]:
    """Each card's (stability, difficulty) after its whole history, with ``parameters``.

    Replayed through py-fsrs's scheduler, the one that schedules the learner's
    reviews, so a recomputed state is exactly what the reviews would have left
    with these parameters (py-fsrs counts days in 24-hour periods where the
    training items count local dates).
    """
    last = {entry[0]: after for entry, _, after, _ in _replay(log, parameters)}
    return {
        card_id: (float(card.stability or 0.0), float(card.difficulty or 0.0))
        for card_id, card in last.items()
    }


def recall_predictions(
    log: Sequence[LogEntry], parameters: Sequence[float]
) -> list[tuple[float, bool]]:
    """For each review a day or more after its card's previous one: the recall the model
    with ``parameters`` predicted for it, replaying the log from its start, and whether
    it was passed (Hard, Good or Easy). Same-day reviews are left out: FSRS counts whole
    days, so it predicts 1.0 for each."""
    out: list[tuple[float, bool]] = []
    for (_, at, rating), before, _, scheduler in _replay(log, parameters):
        last = before.last_review if before is not None else None
        if before is not None and last is not None and (at - last).days >= 1:
            out.append((float(scheduler.get_card_retrievability(before, at)), rating > 1))
    return out


# --------------------------------------------------------------------------- fitting


@dataclass(frozen=True, slots=True)
class FitResult:
    """One attempt's figures (what a :class:`~bot.core.model.ModelFit` records).

    Attributes:
        reviews: log reviews before the held-out ones: the fit's training data.
        held_out: the latest reviews, held out; log loss is over those that came
            a day or more after the card's previous review (:attr:`judged`).
        judged: held-out reviews judged (fsrs-rs evaluates no same-day review).
        logloss_current, logloss_fitted, logloss_default: on the held-out items.
        kept: whether the parameters in use change: to the fitted ones, or, when
            :attr:`use_defaults`, back to the defaults.
        parameters: the fitted parameters (checked: usable by the scheduler).
        states: when kept, every card's new (stability, difficulty); else empty.
        use_defaults: the defaults beat both the fitted parameters and the ones
            in use (which were not the defaults): the learner goes back to them.
    """

    reviews: int
    held_out: int
    judged: int
    logloss_current: float
    logloss_fitted: float
    logloss_default: float
    kept: bool
    parameters: tuple[float, ...]
    states: dict[str, tuple[float, float]]
    use_defaults: bool = False

    def model_fit(self, learner_id: int, now: datetime) -> ModelFit:
        return ModelFit(
            learner_id=learner_id,
            fitted_at=now,
            reviews=self.reviews,
            held_out=self.held_out,
            logloss_current=self.logloss_current,
            logloss_fitted=self.logloss_fitted,
            logloss_default=self.logloss_default,
            kept=self.kept,
            parameters=self.parameters,
        )


def log_loss(parameters: Sequence[float], items: Sequence[rs.FSRSItem]) -> float:
    """Log loss of ``parameters`` predicting the last review of each item."""
    return float(rs.FSRS(list(parameters)).evaluate(list(items)).log_loss)


def fit(log: Sequence[LogEntry], tz: str, current: Sequence[float] | None) -> FitResult | None:
    """Fit parameters on the log but its latest reviews; judge them on those; keep if better.

    CPU-bound (fsrs-rs): run it in a thread, never on the event loop.

    Args:
        log: the learner's usable reviews, oldest first.
        tz: the learner's time zone.
        current: the parameters in use (None: the defaults).

    Returns:
        The figures, or None when the held-out reviews or the training items are
        too few to fit or judge anything.
    """
    cut = len(log) - max(1, round(len(log) * HELD_OUT_SHARE))
    items = build_items(log, tz)
    train = [found.item for found in items if found.position < cut]
    test = [found.item for found in items if found.position >= cut and found.delta_t > 0]
    if not train or not test:
        return None
    fitted_raw = rs.FSRS(list(DEFAULT_PARAMETERS)).compute_parameters(train)
    in_use = tuple(current) if current is not None else DEFAULT_PARAMETERS
    current_loss = log_loss(in_use, test)
    default_loss = current_loss if current is None else log_loss(DEFAULT_PARAMETERS, test)
    # fsrs-rs clips to the same bounds; clamping again only absorbs float rounding.
    fitted = check_parameters(
        [
            min(max(float(p), LOWER_BOUNDS_PARAMETERS[i]), UPPER_BOUNDS_PARAMETERS[i])
            for i, p in enumerate(fitted_raw)
        ]
    )
    fitted_loss = log_loss(fitted, test)
    use_defaults = current is not None and default_loss < fitted_loss
    best, best_loss = (DEFAULT_PARAMETERS, default_loss) if use_defaults else (fitted, fitted_loss)
    kept = best_loss < current_loss * (1 - KEEP_MARGIN) and best != in_use
    return FitResult(
        reviews=cut,
        held_out=len(log) - cut,
        judged=len(test),
        logloss_current=current_loss,
        logloss_fitted=fitted_loss,
        logloss_default=default_loss,
        kept=kept,
        parameters=fitted,
        states=memory_states(log, best) if kept else {},
        use_defaults=kept and use_defaults,
    )
