"""The numbers behind /stats, computed from the review history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.model import CardStateKind, ReviewEntry, ReviewSource

#: A card is mature when the interval before its review was this long or longer (Anki's
#: "True Retention" table: ``lastIvl >= 21``); a review of a younger card in Review is young.
MATURE_INTERVAL = timedelta(days=21)
#: How far back true retention looks.
RETENTION_WINDOW = timedelta(days=30)


@dataclass(frozen=True, slots=True)
class TrueRetention:
    """Pass rates (Hard, Good or Easy) of reviews of cards in Review, young and mature.

    Attributes:
        young_passed, young_reviews: reviews whose interval before was under 21 days.
        mature_passed, mature_reviews: reviews whose interval before was 21 days or more.
    """

    young_passed: int = 0
    young_reviews: int = 0
    mature_passed: int = 0
    mature_reviews: int = 0

    @property
    def young(self) -> float | None:
        """The young cards' pass rate, or None without any young review."""
        return self.young_passed / self.young_reviews if self.young_reviews else None

    @property
    def mature(self) -> float | None:
        """The mature cards' pass rate, or None without any mature review."""
        return self.mature_passed / self.mature_reviews if self.mature_reviews else None


def counts_for_retention(entry: ReviewEntry) -> bool:
    """Whether a review is evidence of memory: not undone, and not practice (``/cram``)."""
    return entry.undone_at is None and entry.source != ReviewSource.CRAM


def interval_before(entry: ReviewEntry) -> timedelta | None:
    """The interval the card was scheduled for before this review (None: not in Review)."""
    before = entry.before
    if before.state is not CardStateKind.REVIEW or before.due is None or before.last_review is None:
        return None
    return before.due - before.last_review


def true_retention(
    entries: Sequence[ReviewEntry], now: datetime, window: timedelta = RETENTION_WINDOW
) -> TrueRetention:
    """Anki's true retention over the last ``window``: the pass rate of reviews of cards
    in Review, split young (interval before under 21 days) and mature (21 days or more).

    Learning and relearning steps, undone reviews and practice (``/cram``) never count.
    """
    young = young_passed = mature = mature_passed = 0
    since = now - window
    for e in entries:
        if e.reviewed_at < since or e.reviewed_at > now or not counts_for_retention(e):
            continue
        interval = interval_before(e)
        if interval is None:
            continue
        passed = e.rating > 1
        if interval >= MATURE_INTERVAL:
            mature += 1
            mature_passed += passed
        else:
            young += 1
            young_passed += passed
    return TrueRetention(young_passed, young, mature_passed, mature)


@dataclass(frozen=True, slots=True)
class ModelStatus:
    """The "Your model" line of /stats.

    Attributes:
        fitted_reviews: reviews the parameters in use were fitted on (0: the defaults).
        fitted_on: the local date they were fitted.
        logloss, logloss_default: theirs and the defaults', on the held-out reviews.
        more_needed: reviews still needed before the first fit.
        judged: whether a fit was tried (and the defaults, or the model in use, won).
    """

    fitted_reviews: int = 0
    fitted_on: date | None = None
    logloss: float = 0.0
    logloss_default: float = 0.0
    more_needed: int = 0
    judged: bool = False

    def describe(self) -> str:
        if self.fitted_on is not None:
            return (
                f"Your model: fitted on {self.fitted_reviews} reviews on "
                f"{self.fitted_on.isoformat()}: log loss {self.logloss:.3f} against "
                f"{self.logloss_default:.3f} with the defaults (lower is better)"
            )
        if self.more_needed:
            return f"Your model: not fitted yet: {self.more_needed} more reviews"
        if self.judged:
            return "Your model: FSRS's defaults still predict your reviews best"
        return "Your model: enough reviews for a fit of your own; it comes with the next fitting"


@dataclass(frozen=True, slots=True)
class StudyStats:
    """A learner's study numbers.

    Attributes:
        due_today: cards due before the end of the learner's local day.
        reviewed_today: ratings given today (local day), undone ones excluded.
        streak_days: consecutive local days with at least one review, ending today
            (or yesterday, if the learner has not studied yet today).
        retention_30d: true retention: the share of reviews of mature cards (an
            interval of 21 days or more before the review) answered Hard, Good or
            Easy in the last 30 days, cram and undone reviews left out; None if none.
        reviews_30d: how many mature reviews that retention is based on.
        desired_retention: the learner's target, for comparison.
        per_day_30d: reviews on each of the last 30 local days, oldest first.
        model: the learner's memory model (None: not told).
        young_retention_30d: the same pass rate for young cards (in Review, an
            interval under 21 days); None if none.
        young_reviews_30d: how many young reviews that is based on.
    """

    due_today: int
    reviewed_today: int
    streak_days: int
    retention_30d: float | None
    reviews_30d: int
    desired_retention: float
    per_day_30d: tuple[int, ...]
    model: ModelStatus | None = None
    young_retention_30d: float | None = None
    young_reviews_30d: int = 0


def compute_stats(
    history: Sequence[tuple[datetime, int, int]],
    due_today: int,
    now: datetime,
    tz: str,
    desired_retention: float,
    retention: TrueRetention | None = None,
) -> StudyStats:
    """Compute stats from ``(reviewed_at, rating, state_before)`` rows (active reviews),
    with the retention :func:`true_retention` found (None: none yet)."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    days: dict[date, int] = {}
    for reviewed_at, _rating, _before in history:
        day = reviewed_at.astimezone(zone).date()
        days[day] = days.get(day, 0) + 1
    r = retention or TrueRetention()
    streak = 0
    day = today if today in days else today - timedelta(days=1)
    while day in days:
        streak += 1
        day -= timedelta(days=1)
    per_day = tuple(days.get(today - timedelta(days=i), 0) for i in range(29, -1, -1))
    return StudyStats(
        due_today=due_today,
        reviewed_today=days.get(today, 0),
        streak_days=streak,
        retention_30d=r.mature,
        reviews_30d=r.mature_reviews,
        desired_retention=desired_retention,
        per_day_30d=per_day,
        young_retention_30d=r.young,
        young_reviews_30d=r.young_reviews,
    )


def due_forecast(
    due_times: Sequence[datetime], now: datetime, tz: str, days: int = 30
) -> list[int]:
    """Cards due on each of the next ``days`` local days, today first (overdue counts today)."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    counts = [0] * days
    for due in due_times:
        offset = max(0, (due.astimezone(zone).date() - today).days)
        if offset < days:
            counts[offset] += 1
    return counts


def format_stats(s: StudyStats) -> str:
    """Plain-text stats for any platform."""
    if s.retention_30d is None:
        retention = f"no mature reviews yet (target {s.desired_retention:.0%})"
    else:
        retention = (
            f"{s.retention_30d:.0%} of {_reviews(s.reviews_30d)} of mature cards "
            f"(target {s.desired_retention:.0%})"
        )
    if s.young_retention_30d is None:
        young = "no reviews of young cards yet"
    else:
        young = f"{s.young_retention_30d:.0%} of {_reviews(s.young_reviews_30d)}"
    lines = [
        f"Due today: {s.due_today}",
        f"Reviewed today: {s.reviewed_today}",
        f"Streak: {s.streak_days} day{'s' if s.streak_days != 1 else ''}",
        f"True retention, last 30 days: {retention}",
        f"Young cards (interval under 21 days): {young}",
    ]
    if s.model is not None:
        lines.append(s.model.describe())
    return "\n".join(lines)


def _reviews(n: int) -> str:
    return f"{n} review{'s' if n != 1 else ''}"


# --------------------------------------------------------------------------- the stats page

#: Weeks of retention the stats page shows (the current week last).
RETENTION_WEEKS = 12
#: Days of workload the stats page shows (today last).
WORKLOAD_DAYS = 30


@dataclass(frozen=True, slots=True)
class WeekRetention:
    """One local week (Monday first) of reviews of cards in Review.

    Attributes:
        week: the Monday that starts it, in the learner's time zone.
        reviews: reviews of cards in Review (as true retention counts them: young and
            mature, no learning steps, no practice, nothing undone).
        recalled: those answered Hard, Good or Easy.
    """

    week: date
    reviews: int
    recalled: int


@dataclass(frozen=True, slots=True)
class DayWorkload:
    """One local day's work.

    Attributes:
        day: the date in the learner's time zone.
        reviews: ratings given (undone ones left out, practice counted: it is work).
        seconds: time spent on them, from the durations the log holds (a review
            without one counts 0), rounded to whole seconds.
    """

    day: date
    reviews: int
    seconds: int


def weekly_retention(
    entries: Sequence[ReviewEntry], now: datetime, tz: str, weeks: int = RETENTION_WEEKS
) -> list[WeekRetention]:
    """The pass rate of reviews of cards in Review, per local week, for the last ``weeks``
    weeks (the current one last, every week listed even without a review)."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    this_monday = today - timedelta(days=today.weekday())
    first = this_monday - timedelta(weeks=weeks - 1)
    reviews = [0] * weeks
    recalled = [0] * weeks
    for e in entries:
        if e.reviewed_at > now or not counts_for_retention(e) or interval_before(e) is None:
            continue
        i = (e.reviewed_at.astimezone(zone).date() - first).days // 7
        if 0 <= i < weeks:
            reviews[i] += 1
            recalled[i] += e.rating > 1
    return [
        WeekRetention(first + timedelta(weeks=i), reviews[i], recalled[i]) for i in range(weeks)
    ]


def daily_workload(
    entries: Sequence[ReviewEntry], now: datetime, tz: str, days: int = WORKLOAD_DAYS
) -> list[DayWorkload]:
    """Reviews and seconds spent on each of the last ``days`` local days, today last."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    first = today - timedelta(days=days - 1)
    counts = [0] * days
    millis = [0] * days
    for e in entries:
        if e.undone_at is not None or e.reviewed_at > now:
            continue
        i = (e.reviewed_at.astimezone(zone).date() - first).days
        if 0 <= i < days:
            counts[i] += 1
            millis[i] += max(0, e.duration_ms or 0)
    return [
        DayWorkload(first + timedelta(days=i), counts[i], round(millis[i] / 1000))
        for i in range(days)
    ]


def forecast_days(counts: Sequence[int], now: datetime, tz: str) -> list[tuple[date, int]]:
    """:func:`due_forecast`'s counts with their local dates (today first)."""
    today = now.astimezone(ZoneInfo(tz)).date()
    return [(today + timedelta(days=i), n) for i, n in enumerate(counts)]
