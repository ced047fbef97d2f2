"""A clock that stands still until a test moves it (the ``Clock`` port)."""

from __future__ import annotations

from datetime import datetime, timedelta

from tests.fakes.store import utc


class FixedClock:
    """A clock that stands still until a test moves it.

    Args:
        now: the starting instant (aware UTC).
    """

    def __init__(self, now: datetime) -> None:
        utc(now, "FixedClock time")
        self._now = now

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        """Jump to an instant (aware UTC)."""
        utc(now, "FixedClock time")
        self._now = now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward (or back, with a negative delta); returns the new now."""
        self._now = self._now + delta
        return self._now
