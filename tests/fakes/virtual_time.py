"""An event loop on virtual time: sleeps, timeouts and ``loop.time()`` never wait for the wall.

When nothing is ready to run, the loop jumps its clock to the next timer instead
of blocking, so a test that sleeps for an hour of virtual time returns at once,
and concurrent coroutines wake in the order their timers say. Only for code that
does no real I/O and starts no threads (the fakes in ``tests/fakes``, the fake Bot
API in memory): waiting for a socket or a thread with nothing scheduled is a
deadlock, reported as one.
"""

from __future__ import annotations

import asyncio
import selectors
from collections.abc import Coroutine
from datetime import datetime, timedelta
from typing import Any, TypeVar

from tests.fakes.clock import FixedClock

T = TypeVar("T")


class _VirtualSelector(selectors.DefaultSelector):
    """Looks for ready file descriptors without waiting; a wait moves the clock instead."""

    def __init__(self, loop: VirtualTimeLoop) -> None:
        super().__init__()
        self.loop = loop

    def select(self, timeout: float | None = None) -> list[tuple[selectors.SelectorKey, int]]:
        ready = super().select(0)
        if ready or timeout == 0:
            return ready
        if timeout is None:
            raise RuntimeError("virtual time: every task waits and no timer is set (a deadlock)")
        self.loop.advance(timeout)
        return []


class VirtualTimeLoop(asyncio.SelectorEventLoop):
    """A selector event loop whose clock only moves when every task waits."""

    def __init__(self) -> None:
        self.virtual = 0.0
        super().__init__(_VirtualSelector(self))

    def time(self) -> float:
        return self.virtual

    def advance(self, seconds: float) -> None:
        self.virtual += max(0.0, seconds)


def run_virtual(main: Coroutine[Any, Any, T]) -> T:
    """Run a coroutine to completion on a fresh :class:`VirtualTimeLoop`."""
    loop = VirtualTimeLoop()
    try:
        return loop.run_until_complete(main)
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


class VirtualClock(FixedClock):
    """The ``Clock`` port on the running virtual loop: ``start`` plus the loop's time."""

    def __init__(self, start: datetime) -> None:
        super().__init__(start)
        self.start = start

    def now(self) -> datetime:
        return self.start + timedelta(seconds=asyncio.get_running_loop().time())
