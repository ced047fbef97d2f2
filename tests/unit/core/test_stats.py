"""Tests for bot.core.stats: streaks, local days, retention and the per-day series."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime, timedelta

import pytest

from bot.core.model import CardStateKind, ReviewSource
from bot.core.stats import (
    ModelStatus,
    StudyStats,
    compute_stats,
    daily_workload,
    forecast_days,
    format_stats,
    true_retention,
    weekly_retention,
)
from tests.unit.core.reviewlog import logged

NEW = int(CardStateKind.NEW)
LEARNING = int(CardStateKind.LEARNING)
REVIEW = int(CardStateKind.REVIEW)
RELEARNING = int(CardStateKind.RELEARNING)
NEW_STATE, LEARNING_STATE = CardStateKind.NEW, CardStateKind.LEARNING
RELEARNING_STATE = CardStateKind.RELEARNING

NOW = datetime(2026, 3, 10, 15, 0, tzinfo=UTC)


def stats(
    history: list[tuple[datetime, int, int]],
    *,
    now: datetime = NOW,
    tz: str = "UTC",
    due_today: int = 0,
    desired: float = 0.9,
) -> StudyStats:
    return compute_stats(history, due_today, now, tz, desired)


def days_ago(n: int, hour: int = 12) -> datetime:
    return (NOW - timedelta(days=n)).replace(hour=hour, minute=0)


def test_empty_history() -> None:
    s = stats([], due_today=4, desired=0.85)
    assert s.due_today == 4
    assert s.reviewed_today == 0
    assert s.streak_days == 0
    assert s.retention_30d is None
    assert s.reviews_30d == 0
    assert s.desired_retention == 0.85
    assert s.per_day_30d == (0,) * 30


def test_streak_includes_today() -> None:
    history = [(days_ago(n), 3, REVIEW) for n in (0, 1, 2)]
    s = stats(history)
    assert s.streak_days == 3
    assert s.reviewed_today == 1


def test_streak_ending_yesterday_counts() -> None:
    history = [(days_ago(n), 3, REVIEW) for n in (1, 2, 3, 4)]
    s = stats(history)
    assert s.streak_days == 4
    assert s.reviewed_today == 0


def test_gap_breaks_the_streak() -> None:
    history = [(days_ago(n), 3, REVIEW) for n in (0, 1, 3, 4, 5)]
    assert stats(history).streak_days == 2


def test_streak_is_zero_when_last_review_was_two_days_ago() -> None:
    history = [(days_ago(n), 3, REVIEW) for n in (2, 3)]
    assert stats(history).streak_days == 0


def test_many_reviews_on_one_day_count_as_one_streak_day() -> None:
    history = [(days_ago(0, hour=h), 3, REVIEW) for h in (1, 5, 9, 13)]
    s = stats(history)
    assert s.streak_days == 1
    assert s.reviewed_today == 4


def test_local_day_boundaries_follow_the_timezone() -> None:
    """Two reviews an hour apart, on either side of New York's midnight, are two local days."""
    now = datetime(2026, 3, 3, 6, 0, tzinfo=UTC)  # 01:00 EST on 3 March
    before_midnight = datetime(2026, 3, 3, 4, 30, tzinfo=UTC)  # 23:30 EST, 2 March
    after_midnight = datetime(2026, 3, 3, 5, 30, tzinfo=UTC)  # 00:30 EST, 3 March
    history = [(before_midnight, 3, REVIEW), (after_midnight, 3, REVIEW)]

    ny = stats(history, now=now, tz="America/New_York")
    assert ny.streak_days == 2
    assert ny.reviewed_today == 1
    assert ny.per_day_30d[-2:] == (1, 1)

    utc_view = stats(history, now=now, tz="UTC")
    assert utc_view.streak_days == 1
    assert utc_view.reviewed_today == 2
    assert utc_view.per_day_30d[-2:] == (0, 2)


def test_today_is_the_learners_local_today() -> None:
    """At 23:00 UTC it is already tomorrow in Tokyo: yesterday's UTC review is 'yesterday' there."""
    now = datetime(2026, 3, 10, 23, 0, tzinfo=UTC)  # 08:00 on 11 March in Tokyo
    history = [(datetime(2026, 3, 10, 10, 0, tzinfo=UTC), 3, REVIEW)]  # 19:00 on 10 March
    tokyo = stats(history, now=now, tz="Asia/Tokyo")
    assert tokyo.reviewed_today == 0
    assert tokyo.streak_days == 1  # ends yesterday, still counts
    assert stats(history, now=now, tz="UTC").reviewed_today == 1


def test_retention_is_none_without_mature_reviews() -> None:
    history = [(days_ago(1), 1, NEW), (days_ago(1), 3, LEARNING), (days_ago(0), 1, RELEARNING)]
    s = stats(history)
    assert s.retention_30d is None
    assert s.reviews_30d == 0


def test_true_retention_counts_reviews_of_cards_in_review_young_and_mature() -> None:
    reviews = [
        # Mature (interval before >= 21 days): 3 passed (Hard, Good, Easy), 1 forgotten.
        logged(days_ago(1), 2, interval=21),
        logged(days_ago(2), 3, interval=40),
        logged(days_ago(3), 4, interval=300),
        logged(days_ago(29), 1, interval=25),
        # Young (in Review, interval under 21 days): 1 passed, 1 forgotten.
        logged(days_ago(1), 3, interval=20.9),
        logged(days_ago(4), 1, interval=3),
        # Never counted: steps, practice, undone, too old.
        logged(days_ago(1), 1, state=LEARNING_STATE),
        logged(days_ago(1), 3, state=RELEARNING_STATE, interval=30),
        logged(days_ago(1), 1, state=NEW_STATE),
        logged(days_ago(1), 1, interval=30, source=ReviewSource.CRAM),
        logged(days_ago(1), 1, interval=30, undone=True),
        logged(NOW - timedelta(days=30, seconds=1), 1, interval=30),
        logged(days_ago(45), 1, interval=30),
    ]
    r = true_retention(reviews, NOW)
    assert (r.mature_passed, r.mature_reviews) == (3, 4)
    assert (r.young_passed, r.young_reviews) == (1, 2)
    s = compute_stats([], 0, NOW, "UTC", 0.9, retention=r)
    assert s.retention_30d == pytest.approx(0.75) and s.reviews_30d == 4
    assert s.young_retention_30d == pytest.approx(0.5) and s.young_reviews_30d == 2


def test_true_retention_window_includes_exactly_30_days_ago() -> None:
    r = true_retention([logged(NOW - timedelta(days=30), 3, interval=30)], NOW)
    assert (r.mature_passed, r.mature_reviews, r.mature) == (1, 1, 1.0)
    assert r.young is None


def test_a_review_state_before_is_not_enough_to_be_mature() -> None:
    """The old rule (state Review before) counted a 3-day card as mature; Anki's does not."""
    r = true_retention([logged(days_ago(1), 1, interval=3)], NOW)
    assert r.mature_reviews == 0 and r.young_reviews == 1


def test_per_day_30d_is_oldest_first_and_30_long() -> None:
    history = [
        (days_ago(0), 3, REVIEW),
        (days_ago(0), 3, REVIEW),
        (days_ago(1), 3, REVIEW),
        (days_ago(29), 3, NEW),
        (days_ago(30), 3, REVIEW),  # outside the series
    ]
    s = stats(history)
    assert len(s.per_day_30d) == 30
    assert s.per_day_30d[-1] == 2
    assert s.per_day_30d[-2] == 1
    assert s.per_day_30d[0] == 1
    assert sum(s.per_day_30d) == 4


def test_per_day_30d_length_is_30_whatever_the_timezone() -> None:
    for tz in ("UTC", "America/New_York", "Europe/Paris", "Pacific/Kiritimati"):
        assert len(stats([], tz=tz).per_day_30d) == 30


def test_long_streak_beyond_30_days() -> None:
    history = [(days_ago(n), 3, REVIEW) for n in range(0, 100)]
    assert stats(history).streak_days == 100


def test_format_stats_texts() -> None:
    none = stats([], due_today=1)
    text = format_stats(none)
    assert "Due today: 1" in text
    assert "Reviewed today: 0" in text
    assert "Streak: 0 days" in text
    assert "True retention, last 30 days: no mature reviews yet (target 90%)" in text
    assert "Young cards (interval under 21 days): no reviews of young cards yet" in text

    history = [(days_ago(0), 3, REVIEW), (days_ago(1), 1, REVIEW)]
    r = true_retention(
        [
            logged(days_ago(0), 3, interval=30),
            logged(days_ago(1), 1, interval=30),
            logged(days_ago(1), 3, interval=5),
        ],
        NOW,
    )
    some = format_stats(compute_stats(history, 0, NOW, "UTC", 0.9, retention=r))
    assert "Streak: 2 days" in some
    assert "True retention, last 30 days: 50% of 2 reviews of mature cards (target 90%)" in some
    assert "Young cards (interval under 21 days): 100% of 1 review" in some

    one = format_stats(stats([(days_ago(0), 3, REVIEW)]))
    assert "Streak: 1 day\n" in one and "Streak: 1 days" not in one


def test_the_model_line_comes_last_when_there_is_one() -> None:
    s = stats([])
    assert "Your model" not in format_stats(s)
    waiting = format_stats(replace(s, model=ModelStatus(more_needed=640)))
    assert waiting.splitlines()[-1] == "Your model: not fitted yet: 640 more reviews"
    fitted = ModelStatus(1200, date(2026, 3, 9), 0.3312, 0.3671)
    assert format_stats(replace(s, model=fitted)).splitlines()[-1] == (
        "Your model: fitted on 1200 reviews on 2026-03-09: log loss 0.331 against 0.367"
        " with the defaults (lower is better)"
    )


# --------------------------------------------------------------------------- the stats page


def test_weekly_retention_lists_twelve_local_weeks_monday_first() -> None:
    # NOW is Tuesday 10 March 2026: the current week began Monday 9 March.
    weeks = weekly_retention([], NOW, "UTC")
    assert len(weeks) == 12
    assert weeks[-1].week == date(2026, 3, 9)
    assert weeks[0].week == date(2026, 3, 9) - timedelta(weeks=11)
    assert all(w.reviews == 0 and w.recalled == 0 for w in weeks)


def test_weekly_retention_counts_reviews_of_cards_in_review_only() -> None:
    entries = [
        logged(days_ago(0), 3),  # this week, recalled
        logged(days_ago(1), 1),  # Monday: this week, forgotten
        logged(days_ago(2), 4),  # Sunday: last week
        logged(days_ago(0), 3, state=LEARNING_STATE),  # a learning step: not counted
        logged(days_ago(0), 1, state=NEW_STATE),  # a new card: not counted
        logged(days_ago(0), 3, undone=True),  # undone: not counted
        logged(days_ago(0), 3, source=ReviewSource.CRAM),  # practice: not counted
        logged(days_ago(200), 3),  # older than twelve weeks: not listed
    ]
    weeks = weekly_retention(entries, NOW, "UTC")
    assert (weeks[-1].reviews, weeks[-1].recalled) == (2, 1)
    assert (weeks[-2].reviews, weeks[-2].recalled) == (1, 1)
    assert sum(w.reviews for w in weeks) == 3


def test_weekly_retention_weeks_are_the_learners_local_weeks() -> None:
    # Monday 9 March 01:00 in Tokyo is Sunday 8 March 16:00 UTC.
    at = datetime(2026, 3, 8, 16, 0, tzinfo=UTC)
    utc_weeks = weekly_retention([logged(at, 3)], NOW, "UTC")
    tokyo_weeks = weekly_retention([logged(at, 3)], NOW, "Asia/Tokyo")
    assert utc_weeks[-2].reviews == 1 and utc_weeks[-1].reviews == 0
    assert tokyo_weeks[-1].reviews == 1


def test_daily_workload_counts_reviews_and_seconds_per_local_day() -> None:
    entries = [
        logged(days_ago(0), 3, duration_ms=4_000),
        logged(days_ago(0), 1, duration_ms=2_600, state=LEARNING_STATE),  # work all the same
        logged(days_ago(0), 3, duration_ms=None),  # no duration: 0 seconds
        logged(days_ago(0), 3, duration_ms=9_000, source=ReviewSource.CRAM),  # practice is work
        logged(days_ago(0), 3, duration_ms=60_000, undone=True),  # undone: not counted
        logged(days_ago(29), 2, duration_ms=1_000),  # the oldest day shown
        logged(days_ago(30), 2, duration_ms=1_000),  # one day too old
    ]
    days = daily_workload(entries, NOW, "UTC")
    assert len(days) == 30
    assert days[-1].day == date(2026, 3, 10)
    assert (days[-1].reviews, days[-1].seconds) == (4, 16)  # 15.6 s rounds to 16
    assert (days[0].day, days[0].reviews, days[0].seconds) == (date(2026, 2, 9), 1, 1)
    assert sum(d.reviews for d in days) == 5


def test_forecast_days_dates_the_counts_from_the_local_today() -> None:
    late = datetime(2026, 3, 10, 23, 30, tzinfo=UTC)  # already 11 March in Berlin
    assert forecast_days([3, 0, 2], late, "Europe/Berlin") == [
        (date(2026, 3, 11), 3),
        (date(2026, 3, 12), 0),
        (date(2026, 3, 13), 2),
    ]
