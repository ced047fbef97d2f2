"""Local wall-clock time for daily pushes: DST gaps and repeats, quiet hours, days off."""

from __future__ import annotations

from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from bot.core.model import LearnerSettings

MINUTE = timedelta(minutes=1)


def local_instant(day: date, at: time, zone: ZoneInfo) -> datetime:
    """The UTC instant of a local wall-clock time.

    A time that happens twice (autumn) is its first occurrence; a time that
    does not exist (spring forward) becomes the next valid minute.
    """
    wall = datetime.combine(day, at)
    aware = wall.replace(tzinfo=zone, fold=0)
    instant = aware.astimezone(UTC)
    if instant.astimezone(zone).replace(tzinfo=None) == wall:
        return instant
    probe = wall
    for _ in range(24 * 60):
        probe += MINUTE
        candidate = probe.replace(tzinfo=zone).astimezone(UTC)
        if candidate.astimezone(zone).replace(tzinfo=None) == probe:
            return candidate
    return instant  # pragma: no cover - no zone skips a whole day of minutes


def in_quiet_hours(settings: LearnerSettings, instant: datetime) -> bool:
    """Whether ``instant`` falls in the learner's quiet hours (which may wrap midnight)."""
    start, end = settings.quiet_start, settings.quiet_end
    if start is None or end is None or start == end:
        return False
    local = instant.astimezone(ZoneInfo(settings.timezone)).time().replace(tzinfo=None)
    if start < end:
        return start <= local < end
    return local >= start or local < end


def _push_time(settings: LearnerSettings) -> time:
    """The push time, moved to the end of quiet hours when it falls inside them."""
    t, start, end = settings.push_time, settings.quiet_start, settings.quiet_end
    if start is None or end is None or start == end:
        return t
    inside = (start <= t < end) if start < end else (t >= start or t < end)
    return end if inside else t


def next_push_after(settings: LearnerSettings, after: datetime) -> datetime | None:
    """The learner's first push instant strictly after ``after`` (None if every day is off)."""
    zone = ZoneInfo(settings.timezone)
    at = _push_time(settings)
    # No push time on an earlier local date can be after ``after``: start from its own date.
    day = after.astimezone(zone).date()
    for offset in range(8):
        d = day + timedelta(days=offset)
        if d.weekday() in settings.days_off:
            continue
        instant = local_instant(d, at, zone)
        if instant > after:
            return instant
    return None
