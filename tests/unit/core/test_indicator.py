"""The indicator kept on screen while work runs, on a virtual clock."""

from __future__ import annotations

import asyncio

from bot.core.indicator import kept_up
from tests.fakes.virtual_time import run_virtual


def test_shown_at_once_then_every_period_until_the_work_ends() -> None:
    async def main() -> list[float]:
        loop = asyncio.get_running_loop()
        start = loop.time()
        shown: list[float] = []

        async def show() -> bool:
            shown.append(loop.time() - start)
            return True

        async with kept_up(show, 8.0):
            await asyncio.sleep(20.0)
        await asyncio.sleep(30.0)  # nothing more once the work is done
        return shown

    assert run_virtual(main()) == [0.0, 8.0, 16.0]


def test_a_refused_indicator_is_not_shown_again() -> None:
    async def main() -> int:
        calls = 0

        async def show() -> bool:
            nonlocal calls
            calls += 1
            return calls < 2  # the platform refuses the second

        async with kept_up(show, 8.0):
            await asyncio.sleep(60.0)
        return calls

    assert run_virtual(main()) == 2
