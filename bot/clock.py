"""The real clock (the core takes a Clock port; tests pass a fixed one)."""

from __future__ import annotations

from datetime import UTC, datetime


class SystemClock:
    """Now, as aware UTC."""

    def now(self) -> datetime:
        return datetime.now(UTC)
