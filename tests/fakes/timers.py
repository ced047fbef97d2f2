"""A recording :class:`~bot.core.ports.Timers`."""

from __future__ import annotations

from datetime import datetime

from tests.fakes.store import utc


class FakeTimers:
    """A :class:`Timers` that records calls.

    ``pending`` holds the live push timer per learner, ``reveals`` the reveal
    timer per challenge run.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, datetime | None]] = []
        self.pending: dict[int, datetime] = {}
        self.reveals: dict[int, datetime] = {}

    async def push_at(self, learner_id: int, when: datetime) -> None:
        utc(when, "timer instant")
        self.calls.append(("push_at", learner_id, when))
        self.pending[learner_id] = when

    async def cancel_push(self, learner_id: int) -> None:
        self.calls.append(("cancel_push", learner_id, None))
        self.pending.pop(learner_id, None)

    async def reveal_at(self, run_id: int, when: datetime) -> None:
        utc(when, "timer instant")
        self.calls.append(("reveal_at", run_id, when))
        self.reveals[run_id] = when
