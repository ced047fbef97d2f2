"""An indicator kept on screen while work runs ("typing…"): one rule for every platform."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager

__all__ = ["kept_up"]


@asynccontextmanager
async def kept_up(show: Callable[[], Awaitable[bool]], every: float) -> AsyncIterator[None]:
    """Run the block with an indicator on screen: ``show()`` at once, then every
    ``every`` seconds (a platform shows one for a few seconds) until the block ends.

    ``show`` returns False when the platform refused it: it is not shown again (it only
    decorates the wait, and the block runs regardless).
    """

    async def keep() -> None:
        while True:
            await asyncio.sleep(every)
            if not await show():
                return

    task = asyncio.create_task(keep()) if await show() else None
    try:
        yield
    finally:
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
