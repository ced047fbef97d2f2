"""FSRS scheduling: one learner's scheduler, reviews, interval previews, local days.

Pure functions over :class:`~bot.core.model.CardState`; the ``fsrs`` package
does the maths. Schedulers are cached per settings, since learners share
most settings.

Fuzz: fsrs spreads Review intervals a little (its ``FUZZ_RANGES``) with the
global ``random``. Here the day in the same range is a weighted draw that
evens out the learner's daily load and respects their easy days
(:mod:`bot.core.balance`), with a number fixed by a hash of the review's token
and card in place of the random one: the preview on the rating buttons and
the rating itself give the same interval, with no shared random state between
threads. The reveal stores the intervals it showed (``Prompt.intervals``) and
the rating gives those, however the load changed in between.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence
from dataclasses import replace
from datetime import UTC, date, datetime, time, timedelta
from functools import lru_cache
from zoneinfo import ZoneInfo

from fsrs import Card, Rating, Scheduler, State
from fsrs.scheduler import DEFAULT_PARAMETERS, FUZZ_RANGES

from bot.core import exam
from bot.core.balance import BALANCE_HORIZON_DAYS, choose_day
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
        enable_fuzzing=False,  # _interval spreads and balances them, deterministically
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


def fuzz_range(days: int, maximum_days: int) -> tuple[int, int] | None:
    """The days a Review interval of ``days`` may be spread over, ``(low, high)`` inclusive.

    fsrs's ranges (``Scheduler._get_fuzzed_interval``): none under 2.5 days
    (None), then about ±15 % up to a week, ±10 % up to 20 days and ±5 % beyond,
    never below 2 days or above ``maximum_days``.
    """
    if days < 2.5:
        return None
    delta = 1.0
    for band in FUZZ_RANGES:
        delta += band["factor"] * max(min(float(days), band["end"]) - band["start"], 0.0)
    high = min(round(days + delta), maximum_days)
    low = min(max(2, round(days - delta)), high)
    return low, high


def fuzz(interval: timedelta, factor: float, maximum_days: int) -> timedelta:
    """A Review interval spread over its :func:`fuzz_range` by ``factor``, with no load
    known and no easy days (:func:`bot.core.balance.choose_day`)."""
    bounds = fuzz_range(interval.days, maximum_days)
    if bounds is None:
        return interval
    return timedelta(days=choose_day(*bounds, factor))


#: Counts one learner's cards due in each of consecutive local days: given the UTC
#: instants at which n + 1 consecutive days begin, the n counts
#: (``ScheduleRepo.due_per_day`` for that learner).
DueCounter = Callable[[Sequence[datetime]], Sequence[int]]


def _midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a local date begins."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


def _fuzz_days(card: Card, at: datetime, settings: LearnerSettings) -> tuple[int, int] | None:
    """The fuzz range of a reviewed card's interval in days, when it is fuzzed (a card
    in Review, fuzz on, the interval 2.5 days or more)."""
    if not settings.enable_fuzzing or card.state != State.Review:
        return None
    return fuzz_range((card.due - at).days, settings.maximum_interval_days)


class _Loads(dict[date, int]):
    """Cards due on each local day counted; a day beyond them (past the balancing
    horizon) counts as their mean, so no day looks empty for being far."""

    def __init__(self, counts: dict[date, int]) -> None:
        super().__init__(counts)
        self.beyond = sum(counts.values()) / len(counts) if counts else 0.0

    def on(self, day: date) -> float:
        return self.get(day, self.beyond)


def _day_loads(
    ranges: Sequence[tuple[int, int] | None],
    at: datetime,
    settings: LearnerSettings,
    due_counts: DueCounter | None,
) -> _Loads:
    """Cards due on each local day the ranges' intervals from ``at`` can land on, up to
    :data:`~bot.core.balance.BALANCE_HORIZON_DAYS`, in one count over their union (none
    when no range has two days within the horizon). Every rating of a preview sees the
    same load on the same day, so the four intervals stay in order."""
    spans = [r for r in ranges if r is not None and r[0] < r[1] and r[0] < BALANCE_HORIZON_DAYS]
    if due_counts is None or not spans:
        return _Loads({})
    zone = ZoneInfo(settings.timezone)
    last_day = min(max(r[1] for r in spans), BALANCE_HORIZON_DAYS)
    first = (at + timedelta(days=min(r[0] for r in spans))).astimezone(zone).date()
    last = (at + timedelta(days=last_day)).astimezone(zone).date()
    dates = [first + timedelta(days=k) for k in range((last - first).days + 1)]
    starts = [_midnight(d, zone) for d in dates]
    starts.append(_midnight(last + timedelta(days=1), zone))
    return _Loads(dict(zip(dates, due_counts(starts), strict=True)))


def _review_card(state: CardState, rating: int, at: datetime, settings: LearnerSettings) -> Card:
    """fsrs's review of the card at ``at``, unfuzzed."""
    card, _ = scheduler_for(settings).review_card(_to_fsrs(state, at), Rating(rating), at)
    return card


def _interval(
    card: Card, at: datetime, settings: LearnerSettings, factor: float, loads: _Loads
) -> timedelta:
    """The interval a card reviewed at ``at`` gets: fsrs's, and for a card in Review with
    fuzz on, the day of its fuzz range :func:`~bot.core.balance.choose_day` picks from the
    learner's ``loads`` and easy days. Rules on the chosen interval go after the choice."""
    interval: timedelta = card.due - at
    bounds = _fuzz_days(card, at, settings)
    if bounds is None:
        return interval
    low, high = bounds
    zone = ZoneInfo(settings.timezone)
    days = [(at + timedelta(days=d)).astimezone(zone).date() for d in range(low, high + 1)]
    easy = settings.easy_days if len(settings.easy_days) == 7 else ()
    chosen = choose_day(
        low,
        high,
        factor,
        loads=[loads.on(d) for d in days],
        shares=[easy[d.weekday()] for d in days] if easy else (),
    )
    return timedelta(days=chosen)


def _exam_capped(
    card: Card, at: datetime, interval: timedelta, settings: LearnerSettings, factor: float
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
        exam.review_days(day, settings.timezone),
        settings.exam_target,
        scheduler_for(settings),
        factor,
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
    due_counts: DueCounter | None = None,
    interval: timedelta | None = None,
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
        due_counts: counts the learner's cards due per local day, for the load
            balancer (None: no load known, only easy days count).
        interval: the interval the learner was shown for this rating (a
            reveal's stored intervals): the card gets it, FSRS's state is
            still computed as of ``shown_at``.
        in_exam: whether the learner's exam covers the card
            (:func:`bot.core.exam.covers`): then it comes back in time for it.
    """
    if rating not in RATING_NAMES:
        raise ValueError(f"rating must be 1-4, got {rating}")
    at = now if shown_at is None else shown_at
    card = _review_card(state, rating, at, settings)
    if interval is None:  # no preview stored: the one it would have shown, all four ratings
        shown = preview(state, at, settings, token=token, due_counts=due_counts, in_exam=in_exam)
        interval = shown[rating]
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
        # An exam's cap is an instant worked out as of the reveal: a late rating keeps it.
        due=(at if in_exam else now) + interval,
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
    due_counts: DueCounter | None = None,
    in_exam: bool = False,
) -> dict[int, timedelta]:
    """The interval each rating would give at ``now``, fuzz, load balancing and exam
    included: exactly what :func:`review` with the same ``token``, loads and ``in_exam``
    schedules (``shown_at=now``). The loads are counted once, over every rating's range."""
    factor = fuzz_factor(token, state)
    cards = {r: _review_card(state, r, now, settings) for r in RATING_NAMES}
    ranges = [_fuzz_days(card, now, settings) for card in cards.values()]
    loads = _day_loads(ranges, now, settings, due_counts)
    intervals = {r: _interval(card, now, settings, factor, loads) for r, card in cards.items()}
    if in_exam:
        capped = {
            r: _exam_capped(cards[r], now, iv, settings, factor) for r, iv in intervals.items()
        }
        # A stronger memory holds on every day a weaker one does, but its spread may pick
        # an earlier one: never shorter than the rating below it, nor past its own.
        for r in (2, 3, 4):
            capped[r] = min(max(capped[r], capped[r - 1]), intervals[r])
        intervals = capped
    return intervals


def to_seconds(intervals: dict[int, timedelta]) -> tuple[int, ...]:
    """A preview as a prompt stores it: whole seconds for ratings 1-4."""
    return tuple(round(intervals[r].total_seconds()) for r in RATING_NAMES)


def from_seconds(seconds: Sequence[int]) -> dict[int, timedelta]:
    """A prompt's stored intervals as a preview (ratings 1-4)."""
    return {r: timedelta(seconds=s) for r, s in zip(RATING_NAMES, seconds, strict=True)}


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
