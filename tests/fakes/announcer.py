"""A recording :class:`~bot.core.ports.Announcer`: what the services posted, in order."""

from __future__ import annotations

from collections.abc import Sequence

from bot.core.messages import Announcement


class RecordingAnnouncer:
    """Keeps every announcement posted to it, in order."""

    def __init__(self) -> None:
        self.posted: list[Announcement] = []
        #: How many times ``post`` was called (each call is one committed unit of work).
        self.calls = 0

    async def post(self, items: Sequence[Announcement]) -> None:
        self.calls += 1
        self.posted.extend(items)

    def take(self) -> list[Announcement]:
        """The announcements posted since the last ``take``."""
        taken, self.posted = self.posted, []
        return taken
