"""Tests for bot.core.localtime: push instants across DST, odd offsets, quiet hours, days off.

Every instant is handed in; nothing reads the wall clock or sleeps.
"""

from __future__ import annotations

import itertools
from datetime import UTC, date, datetime, time, timedelta
from typing import Any
from zoneinfo import ZoneInfo

import pytest

from bot.core.localtime import in_quiet_hours, local_instant, next_push_after
from bot.core.model import LearnerSettings

NEW_YORK = "America/New_York"
MON, TUE, WED, THU, FRI, SAT, SUN = range(7)


def utc(year: int, month: int, day: int, hour: int = 0, minute: int = 0) -> datetime:
    return datetime(year, month, day, hour, minute, tzinfo=UTC)


def settings(tz: str = "UTC", at: time = time(9, 0), /, **kw: Any) -> LearnerSettings:
    return LearnerSettings(timezone=tz, push_time=at, enable_fuzzing=False, **kw)


def push_after(s: LearnerSettings, after: datetime) -> datetime:
    """``next_push_after``, checked for the invariants every result must keep."""
    result = next_push_after(s, after)
    assert result is not None
    assert result.tzinfo is UTC
    assert result > after
    return result


def pushes_from(s: LearnerSettings, after: datetime, n: int) -> list[datetime]:
    """The next ``n`` push instants, each one strictly after the previous."""
    out: list[datetime] = []
    for _ in range(n):
        after = push_after(s, after)
        out.append(after)
    return out


# --------------------------------------------------------------------------- local_instant


def test_local_instant_is_aware_utc() -> None:
    got = local_instant(date(2026, 3, 2), time(9, 0), ZoneInfo("Europe/Paris"))
    assert got == utc(2026, 3, 2, 8, 0)
    assert got.tzinfo is UTC


def test_local_instant_in_the_spring_gap_is_the_next_valid_minute() -> None:
    got = local_instant(date(2026, 3, 8), time(2, 30), ZoneInfo(NEW_YORK))
    assert got == utc(2026, 3, 8, 7, 0)  # 03:00 EDT
    assert got.tzinfo is UTC
    assert got.astimezone(ZoneInfo(NEW_YORK)).time() == time(3, 0)


def test_local_instant_in_the_autumn_repeat_is_the_first_occurrence() -> None:
    got = local_instant(date(2026, 11, 1), time(1, 30), ZoneInfo(NEW_YORK))
    assert got == utc(2026, 11, 1, 5, 30)  # 01:30 EDT, not 01:30 EST (06:30 UTC)
    assert got.tzinfo is UTC


# --------------------------------------------------------------------------- DST in New York


def test_spring_forward_push_in_the_gap_is_sent_at_three_edt() -> None:
    s = settings(NEW_YORK, time(2, 30))
    got = pushes_from(s, utc(2026, 3, 7, 12, 0), 3)
    assert got == [
        utc(2026, 3, 8, 7, 0),  # 02:30 does not exist on 8 March: 03:00 EDT
        utc(2026, 3, 9, 6, 30),  # 02:30 EDT
        utc(2026, 3, 10, 6, 30),
    ]


def test_spring_forward_push_before_the_change_keeps_its_wall_time() -> None:
    s = settings(NEW_YORK, time(9, 0))
    got = pushes_from(s, utc(2026, 3, 6, 15, 0), 3)
    assert got == [
        utc(2026, 3, 7, 14, 0),  # 09:00 EST
        utc(2026, 3, 8, 13, 0),  # 09:00 EDT
        utc(2026, 3, 9, 13, 0),
    ]


def test_fall_back_repeated_time_gets_one_push_at_its_first_occurrence() -> None:
    s = settings(NEW_YORK, time(1, 30))
    got = pushes_from(s, utc(2026, 10, 31, 12, 0), 2)
    assert got == [
        utc(2026, 11, 1, 5, 30),  # 01:30 EDT, the first 01:30
        utc(2026, 11, 2, 6, 30),  # the next day (01:30 EST), not the second 01:30 at 06:30
    ]


@pytest.mark.parametrize(
    "after",
    [
        pytest.param(utc(2026, 11, 1, 5, 30), id="at-first-occurrence"),
        pytest.param(utc(2026, 11, 1, 6, 0), id="between-the-two"),
        pytest.param(utc(2026, 11, 1, 6, 30), id="at-second-occurrence"),
    ],
)
def test_fall_back_never_pushes_at_the_second_occurrence(after: datetime) -> None:
    s = settings(NEW_YORK, time(1, 30))
    assert push_after(s, after) == utc(2026, 11, 2, 6, 30)


def test_fall_back_push_after_the_change_keeps_its_wall_time() -> None:
    s = settings(NEW_YORK, time(9, 0))
    got = pushes_from(s, utc(2026, 10, 31, 12, 0), 3)
    assert got == [
        utc(2026, 10, 31, 13, 0),  # 09:00 EDT
        utc(2026, 11, 1, 14, 0),  # 09:00 EST
        utc(2026, 11, 2, 14, 0),
    ]


# --------------------------------------------------------------------------- odd offsets


def test_kolkata_half_hour_offset() -> None:
    s = settings("Asia/Kolkata", time(9, 0))
    assert push_after(s, utc(2026, 3, 2, 3, 29)) == utc(2026, 3, 2, 3, 30)
    assert push_after(s, utc(2026, 3, 2, 3, 30)) == utc(2026, 3, 3, 3, 30)  # strictly after


def test_kiritimati_plus_fourteen_pushes_the_previous_utc_day() -> None:
    s = settings("Pacific/Kiritimati", time(9, 0))
    # 12:00 UTC on 2 March is 02:00 on 3 March in Kiritimati.
    assert push_after(s, utc(2026, 3, 2, 12, 0)) == utc(2026, 3, 2, 19, 0)
    assert push_after(s, utc(2026, 3, 2, 19, 0)) == utc(2026, 3, 3, 19, 0)


def test_kiritimati_days_off_are_local_weekdays() -> None:
    # 3 March 2026 is a Tuesday in Kiritimati while it is still Monday 2 March in UTC.
    s = settings("Pacific/Kiritimati", time(9, 0), days_off=(TUE,))
    got = push_after(s, utc(2026, 3, 2, 12, 0))
    assert got == utc(2026, 3, 3, 19, 0)  # Wednesday 09:00 local
    assert got.astimezone(ZoneInfo("Pacific/Kiritimati")).weekday() == WED


def test_pago_pago_minus_eleven() -> None:
    s = settings("Pacific/Pago_Pago", time(9, 0))
    # 10:30 UTC on 3 March is 23:30 on 2 March in Pago Pago: the push is 09:00 on 3 March.
    assert push_after(s, utc(2026, 3, 3, 10, 30)) == utc(2026, 3, 3, 20, 0)
    assert push_after(s, utc(2026, 3, 3, 20, 0)) == utc(2026, 3, 4, 20, 0)
    assert push_after(s, utc(2026, 3, 2, 21, 0)) == utc(2026, 3, 3, 20, 0)


def test_pago_pago_days_off_are_local_weekdays() -> None:
    # Monday 2 March 20:00 UTC is Monday 09:00 local; Tuesday 3 March 05:00 UTC is still Monday.
    s = settings("Pacific/Pago_Pago", time(9, 0), days_off=(TUE,))
    assert push_after(s, utc(2026, 3, 3, 5, 0)) == utc(2026, 3, 4, 20, 0)  # Wednesday local


# --------------------------------------------------------------------------- quiet hours


QUIET = {"quiet_start": time(22, 0), "quiet_end": time(7, 0)}


@pytest.mark.parametrize(
    ("local", "quiet"),
    [
        (time(23, 0), True),
        (time(3, 0), True),
        (time(0, 0), True),
        (time(22, 0), True),
        (time(6, 59), True),
        (time(7, 0), False),
        (time(12, 0), False),
        (time(21, 59), False),
    ],
)
def test_quiet_hours_wrapping_midnight(local: time, quiet: bool) -> None:
    s = settings(**QUIET)
    assert in_quiet_hours(s, datetime.combine(date(2026, 3, 2), local, tzinfo=UTC)) is quiet


def test_quiet_hours_are_local_time() -> None:
    s = settings("Asia/Kolkata", **QUIET)
    assert in_quiet_hours(s, utc(2026, 3, 2, 17, 30))  # 23:00 IST
    assert in_quiet_hours(s, utc(2026, 3, 2, 21, 30))  # 03:00 IST
    assert not in_quiet_hours(s, utc(2026, 3, 2, 1, 30))  # 07:00 IST
    assert not in_quiet_hours(s, utc(2026, 3, 2, 16, 29))  # 21:59 IST


def test_quiet_hours_within_one_day() -> None:
    s = settings(quiet_start=time(12, 0), quiet_end=time(14, 0))
    assert not in_quiet_hours(s, utc(2026, 3, 2, 11, 59))
    assert in_quiet_hours(s, utc(2026, 3, 2, 12, 0))
    assert in_quiet_hours(s, utc(2026, 3, 2, 13, 59))
    assert not in_quiet_hours(s, utc(2026, 3, 2, 14, 0))
    assert not in_quiet_hours(s, utc(2026, 3, 2, 23, 0))


def test_no_quiet_hours_is_never_quiet() -> None:
    s = settings()
    assert not in_quiet_hours(s, utc(2026, 3, 2, 3, 0))
    assert not in_quiet_hours(s, utc(2026, 3, 2, 23, 0))


@pytest.mark.parametrize("at", [time(23, 0), time(22, 0), time(3, 0), time(6, 59)])
def test_push_time_inside_quiet_hours_moves_to_their_end(at: time) -> None:
    s = settings("UTC", at, **QUIET)
    assert pushes_from(s, utc(2026, 3, 2, 6, 0), 2) == [
        utc(2026, 3, 2, 7, 0),
        utc(2026, 3, 3, 7, 0),
    ]


@pytest.mark.parametrize(
    ("at", "first"),
    [(time(7, 0), utc(2026, 3, 2, 7, 0)), (time(21, 59), utc(2026, 3, 2, 21, 59))],
)
def test_push_time_outside_quiet_hours_stays(at: time, first: datetime) -> None:
    s = settings("UTC", at, **QUIET)
    assert push_after(s, utc(2026, 3, 2, 6, 0)) == first


def test_moved_push_time_is_local_to_the_learner() -> None:
    s = settings(NEW_YORK, time(23, 30), **QUIET)
    assert push_after(s, utc(2026, 3, 2, 6, 0)) == utc(2026, 3, 2, 12, 0)  # 07:00 EST


# --------------------------------------------------------------------------- days off


def test_days_off_are_skipped() -> None:
    s = settings(days_off=(SAT, SUN))
    # Friday 6 March 09:00, then Monday 9 March: the weekend is off.
    got = pushes_from(s, utc(2026, 3, 6, 8, 0), 3)
    assert got == [utc(2026, 3, 6, 9, 0), utc(2026, 3, 9, 9, 0), utc(2026, 3, 10, 9, 0)]
    assert all(g.weekday() not in (SAT, SUN) for g in got)


def test_six_days_off_leaves_one_push_a_week() -> None:
    s = settings(days_off=(MON, TUE, WED, THU, FRI, SAT))
    got = pushes_from(s, utc(2026, 3, 2, 12, 0), 3)
    assert got == [utc(2026, 3, 8, 9, 0), utc(2026, 3, 15, 9, 0), utc(2026, 3, 22, 9, 0)]


def test_six_days_off_from_just_after_the_only_push() -> None:
    s = settings(days_off=(MON, TUE, WED, THU, FRI, SAT))
    assert push_after(s, utc(2026, 3, 8, 9, 0)) == utc(2026, 3, 15, 9, 0)


def test_every_day_off_means_no_push() -> None:
    s = settings(days_off=(MON, TUE, WED, THU, FRI, SAT, SUN))
    assert next_push_after(s, utc(2026, 3, 2, 12, 0)) is None


# --------------------------------------------------------------------------- invariants


@pytest.mark.parametrize(
    "tz", [NEW_YORK, "Asia/Kolkata", "Pacific/Kiritimati", "Pacific/Pago_Pago", "UTC"]
)
@pytest.mark.parametrize("at", [time(0, 0), time(1, 30), time(2, 30), time(9, 0), time(23, 59)])
def test_a_year_of_pushes_is_one_a_local_day(tz: str, at: time) -> None:
    """Through both 2026 DST changes: aware UTC, strictly increasing, one per local day."""
    s = settings(tz, at)
    zone = ZoneInfo(tz)
    got = pushes_from(s, utc(2026, 1, 1, 0, 0), 365)
    days = [g.astimezone(zone).date() for g in got]
    assert len(set(days)) == 365
    assert all(b - a == timedelta(days=1) for a, b in itertools.pairwise(days))
    assert all(g.tzinfo is UTC for g in got)
