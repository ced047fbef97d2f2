"""The numbers behind /stats, computed from the review history."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from zoneinfo import ZoneInfo

from bot.core.model import CardStateKind


@dataclass(frozen=True, slots=True)
class ModelStatus:
    """The "Your model" line of /stats.

    Attributes:
        fitted_reviews: reviews the parameters in use were fitted on (0: the defaults).
        fitted_on: the local date they were fitted.
        logloss, logloss_default: theirs and the defaults', on the held-out reviews.
        more_needed: reviews still needed before the first fit.
    """

    fitted_reviews: int = 0
    fitted_on: date | None = None
    logloss: float = 0.0
    logloss_default: float = 0.0
    more_needed: int = 0

    def describe(self) -> str:
        if self.fitted_on is not None:
            return (
                f"Your model: fitted on {self.fitted_reviews} reviews on "
                f"{self.fitted_on.isoformat()}: log loss {self.logloss:.3f} against "
                f"{self.logloss_default:.3f} with the defaults (lower is better)"
            )
        if self.more_needed:
            return f"Your model: not fitted yet: {self.more_needed} more reviews"
        return "Your model: not fitted yet: FSRS's defaults still predict your reviews best"


@dataclass(frozen=True, slots=True)
class StudyStats:
    """A learner's study numbers.

    Attributes:
        due_today: cards due before the end of the learner's local day.
        reviewed_today: ratings given today (local day), undone ones excluded.
        streak_days: consecutive local days with at least one review, ending today
            (or yesterday, if the learner has not studied yet today).
        retention_30d: share of reviews of mature cards (state Review before the
            rating) answered Hard, Good or Easy in the last 30 days; None if none.
        reviews_30d: how many reviews that retention is based on.
        desired_retention: the learner's target, for comparison.
        per_day_30d: reviews on each of the last 30 local days, oldest first.
        model: the learner's memory model (None: not told).
    """

    due_today: int
    reviewed_today: int
    streak_days: int
    retention_30d: float | None
    reviews_30d: int
    desired_retention: float
    per_day_30d: tuple[int, ...]
    model: ModelStatus | None = None


def compute_stats(
    history: Sequence[tuple[datetime, int, int]],
    due_today: int,
    now: datetime,
    tz: str,
    desired_retention: float,
) -> StudyStats:
    """Compute stats from ``(reviewed_at, rating, state_before)`` rows."""
    zone = ZoneInfo(tz)
    today = now.astimezone(zone).date()
    days: dict[date, int] = {}
    mature = recalled = 0
    cutoff = now - timedelta(days=30)
    for reviewed_at, rating, before in history:
        day = reviewed_at.astimezone(zone).date()
        days[day] = days.get(day, 0) + 1
        if reviewed_at >= cutoff and before == CardStateKind.REVIEW:
            mature += 1
            recalled += rating > 1
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
        retention_30d=(recalled / mature) if mature else None,
        reviews_30d=mature,
        desired_retention=desired_retention,
        per_day_30d=per_day,
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
        retention = "no mature reviews yet"
    else:
        retention = (
            f"{s.retention_30d:.0%} of {s.reviews_30d} mature reviews "
            f"(target {s.desired_retention:.0%})"
        )
    lines = [
        f"Due today: {s.due_today}",
        f"Reviewed today: {s.reviewed_today}",
        f"Streak: {s.streak_days} day{'s' if s.streak_days != 1 else ''}",
        f"Retention, last 30 days: {retention}",
    ]
    if s.model is not None:
        lines.append(s.model.describe())
    return "\n".join(lines)
