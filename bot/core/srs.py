"""FSRS scheduling: one learner's scheduler, reviews, interval previews, local days.

Pure functions over :class:`~bot.core.model.CardState`; the ``fsrs`` package
does the maths. Schedulers are cached per settings, since learners share
most settings.

Fuzz: fsrs spreads Review intervals a little (its ``FUZZ_RANGES``) with the
global ``random``. Here the same spread is drawn from a hash of the review's
token and card instead, so the preview on the rating buttons and the rating
itself give the same interval, with no shared random state between threads.
"""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from fsrs import Card, Rating, Scheduler, State
from fsrs.scheduler import DEFAULT_PARAMETERS, FUZZ_RANGES

from bot.core import exam
from bot.core.model import RATING_NAMES, CardState, CardStateKind, LearnerSettings

_FSRS_CARD_ID = 1  # fsrs wants an int id; ours are strings. Passing one avoids its 1 ms sleep.

#: How far ahead the study loop reaches for a card due soon when nothing else is due.
LEARN_AHEAD = timedelta(minutes=20)


@lru_cache(maxsize=256)
def _scheduler(
    parameters: tuple[float, ...] | None,
    desired_retention: float,
    learning_steps: tuple[timedelta, ...],
    relearning_steps: tuple[timedelta, ...],
    maximum_interval: int,
) -> Scheduler:
    return Scheduler(
        parameters=parameters if parameters is not None else DEFAULT_PARAMETERS,
        desired_retention=desired_retention,
        learning_steps=learning_steps,
        relearning_steps=relearning_steps,
        maximum_interval=maximum_interval,
        enable_fuzzing=False,  # fuzz() spreads intervals, deterministically
    )


def scheduler_for(settings: LearnerSettings) -> Scheduler:
    """The FSRS scheduler for a learner's settings (cached), without fsrs's own fuzz."""
    return _scheduler(
        settings.fsrs_parameters,
        settings.desired_retention,
        settings.learning_steps,
        settings.relearning_steps,
        settings.maximum_interval_days,
    )


def _to_fsrs(state: CardState, now: datetime) -> Card:
    if state.is_new:
        return Card(card_id=_FSRS_CARD_ID, due=now)
    return Card(
        card_id=_FSRS_CARD_ID,
        state=State(int(state.state)),
        step=state.step,
        stability=state.stability,
        difficulty=state.difficulty,
        due=state.due or now,
        last_review=state.last_review,
    )


def fuzz_factor(token: str, state: CardState) -> float:
    """A number in [0, 1) fixed by one review: the token that names it, and the card.

    It stands in for fsrs's ``random()``: the same review always gets the same
    fuzz, whichever thread computes it and however often.
    """
    key = f"{token}\x1f{state.learner_id}\x1f{state.card_id}".encode()
    digest = hashlib.blake2b(key, digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64


def fuzz(interval: timedelta, factor: float, maximum_days: int) -> timedelta:
    """A Review interval spread as fsrs spreads it, with ``factor`` in place of ``random()``.

    The same ranges as fsrs's ``Scheduler._get_fuzzed_interval``: none under
    2.5 days, then about ±15 % up to a week, ±10 % up to 20 days and ±5 %
    beyond, never below 2 days or above ``maximum_days``.

    Args:
        interval: the interval fsrs computed (whole days for a card in Review).
        factor: in [0, 1): where in the range the interval lands (0 the shortest).
        maximum_days: the learner's maximum interval.
    """
    days = interval.days
    if days < 2.5:
        return interval
    delta = 1.0
    for band in FUZZ_RANGES:
        delta += band["factor"] * max(min(float(days), band["end"]) - band["start"], 0.0)
    high = min(round(days + delta), maximum_days)
    low = min(max(2, round(days - delta)), high)
    return timedelta(days=min(round(factor * (high - low + 1) + low), maximum_days))


def _scheduled(
    state: CardState,
    rating: int,
    at: datetime,
    settings: LearnerSettings,
    factor: float,
    in_exam: bool = False,
) -> tuple[Card, timedelta]:
    """fsrs's review at ``at``, and the interval it gives once fuzzed by ``factor``;
    then, for a card the learner's exam covers (``in_exam``), no later than
    :func:`bot.core.exam.exam_due` allows."""
    scheduler = scheduler_for(settings)
    card, _ = scheduler.review_card(_to_fsrs(state, at), Rating(rating), at)
    interval: timedelta = card.due - at
    if settings.enable_fuzzing and card.state == State.Review:
        interval = fuzz(interval, factor, settings.maximum_interval_days)
    if in_exam:
        interval = _exam_capped(card, at, interval, settings, scheduler)
    return card, interval


def _exam_capped(
    card: Card, at: datetime, interval: timedelta, settings: LearnerSettings, scheduler: Scheduler
) -> timedelta:
    """The interval, shortened if the exam needs the card back sooner (never lengthened)."""
    day = settings.exam_date
    if day is None or card.stability is None or card.difficulty is None:
        return interval
    cap = exam.exam_due(
        card.stability,
        card.difficulty,
        at,
        exam.exam_instant(day, settings.timezone),
        exam.last_day_start(day, settings.timezone),
        settings.exam_target,
        scheduler,
    )
    return interval if cap is None else min(interval, cap - at)


def review(
    state: CardState,
    rating: int,
    now: datetime,
    settings: LearnerSettings,
    *,
    token: str,
    shown_at: datetime | None = None,
    in_exam: bool = False,
) -> CardState:
    """Apply one rating to a card state and return the new state.

    Counts repetitions and lapses (an Again on a card in Review) and marks a
    card a leech, suspending it, when its lapses reach the learner's threshold.
    The card is due the interval :func:`preview` showed for this rating after
    ``now``.

    Args:
        state: the card's state before the rating.
        rating: 1 Again, 2 Hard, 3 Good, 4 Easy.
        now: when the rating is made: the review's instant.
        settings: the learner's settings.
        token: names this one review (a prompt's token; a challenge answer's):
            with the card it fixes the fuzz, as in :func:`preview`.
        shown_at: when the learner saw the answer and the intervals (the
            reveal), if they did. FSRS runs as of then, when the learner
            recalled the card: an interval in days drifts a little with the
            instant it is computed at, and the learner gets the one they saw.
        in_exam: whether the learner's exam covers the card
            (:func:`bot.core.exam.covers`): then it comes back in time for it.
    """
    if rating not in RATING_NAMES:
        raise ValueError(f"rating must be 1-4, got {rating}")
    at = now if shown_at is None else shown_at
    card, interval = _scheduled(
        state, rating, at, settings, fuzz_factor(token, state), in_exam=in_exam
    )
    lapsed = rating == 1 and state.state is CardStateKind.REVIEW
    lapses = state.lapses + lapsed
    # A leech at the threshold, and again every half-threshold lapses after it (as Anki does).
    threshold = settings.leech_threshold
    becomes_leech = (
        lapsed and lapses >= threshold and (lapses - threshold) % max(1, threshold // 2) == 0
    )
    return replace(
        state,
        state=CardStateKind(int(card.state)),
        step=card.step,
        stability=card.stability,
        difficulty=card.difficulty,
        due=now + interval,
        last_review=now,
        reps=state.reps + 1,
        lapses=lapses,
        leech=state.leech or becomes_leech,
        suspended=state.suspended or becomes_leech,
        buried_until=None,
    )


def preview(
    state: CardState,
    now: datetime,
    settings: LearnerSettings,
    *,
    token: str,
    in_exam: bool = False,
) -> dict[int, timedelta]:
    """The interval each rating would give at ``now``, fuzz and exam included: exactly
    what :func:`review` with the same ``token`` and ``in_exam`` schedules (``shown_at=now``)."""
    factor = fuzz_factor(token, state)
    return {
        r: _scheduled(state, r, now, settings, factor, in_exam=in_exam)[1] for r in RATING_NAMES
    }


def format_interval(delta: timedelta) -> str:
    """Short human interval: 45s, 1m, 10m, 3h, 4d, 2mo, 1.5y."""
    seconds = max(0, round(delta.total_seconds()))
    if seconds < 60:
        return f"{seconds}s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"{minutes}m"
    hours = round(seconds / 3600)
    if hours < 24:
        return f"{hours}h"
    days = round(seconds / 86400)
    if days < 31:
        return f"{days}d"
    if days < 365:
        return f"{days / 30.44:.1f}".rstrip("0").rstrip(".") + "mo"
    return f"{days / 365.25:.1f}".rstrip("0").rstrip(".") + "y"


def due_in(interval: timedelta) -> str:
    """When a card just rated comes back, as a promise that holds.

    "in 8d"; but "in 10m, or sooner if nothing else is due" when the study
    loop's learn-ahead (a card due within :data:`LEARN_AHEAD`, shown when
    nothing else is due) could bring it back earlier than the stated interval.
    """
    text = f"in {format_interval(interval)}"
    if format_interval(interval - LEARN_AHEAD) != format_interval(interval):
        text += ", or sooner if nothing else is due"
    return text


def outlook(before: CardState, after: CardState, now: datetime) -> str:
    """What a rating at ``now`` means for when the card comes back, as a promise that holds.

    "see it again in 8d" (with learn-ahead's caveat from :func:`due_in`);
    for a card this rating suspended as a leech, "this card has lapsed 8 times,
    so it is suspended as a leech"; for a card already suspended, "it stays
    suspended".
    """
    if after.suspended and not before.suspended:
        times = "1 time" if after.lapses == 1 else f"{after.lapses} times"
        return f"this card has lapsed {times}, so it is suspended as a leech"
    if after.suspended:
        return "it stays suspended"
    assert after.due is not None, "a reviewed card always has a due time"
    return f"see it again {due_in(after.due - now)}"


def local_date(now: datetime, tz: str) -> date:
    """The learner's calendar date at ``now``."""
    return now.astimezone(ZoneInfo(tz)).date()


def day_start(now: datetime, tz: str) -> datetime:
    """The UTC instant the learner's local day containing ``now`` began."""
    zone = ZoneInfo(tz)
    local = now.astimezone(zone)
    start = datetime.combine(local.date(), time(0), tzinfo=zone)
    return start.astimezone(UTC)


def next_day_start(now: datetime, tz: str) -> datetime:
    """The UTC instant the learner's next local day begins (handles DST)."""
    zone = ZoneInfo(tz)
    tomorrow = now.astimezone(zone).date() + timedelta(days=1)
    return datetime.combine(tomorrow, time(0), tzinfo=zone).astimezone(UTC)


def retrievability(state: CardState, now: datetime, settings: LearnerSettings) -> float:
    """Probability the learner recalls the card now (0 for a card never studied)."""
    if state.is_new or state.stability is None or state.last_review is None:
        return 0.0
    return float(scheduler_for(settings).get_card_retrievability(_to_fsrs(state, now), now))
