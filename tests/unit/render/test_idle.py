"""The render pool's lifecycle: started by the first cold render, stopped when idle.

The clock and the timer are fakes: a test moves the clock and fires the idle check
itself, so nothing waits for wall-clock time. The pools are one-thread pools made by
an injected factory, so each start and stop can be counted.
"""

from __future__ import annotations

import asyncio
import subprocess
import sys
from collections.abc import Callable
from concurrent.futures import Executor, ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from bot.core.rendering import RenderedImage
from bot.render.cache import DiskCache, cache_key
from bot.render.service import MatplotlibRenderer
from bot.render.style import DEFAULT_STYLE
from tests.fakes.metrics import RecordingMetrics

FORMULA = ("formula", r"z = \sum_j a_j v_j")
OTHER = ("formula", r"y = x^2")
#: A tiny PNG (1 x 1): what a disk cache file holds.
PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)


class Clock:
    """Monotonic seconds that move only when a test says so."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


@dataclass
class Scheduled:
    delay: float
    callback: Callable[[], None]
    cancelled: bool = False

    def cancel(self) -> None:
        self.cancelled = True


@dataclass
class Timer:
    """Records what the renderer schedules; :meth:`fire` runs the pending call."""

    calls: list[Scheduled] = field(default_factory=list)

    def __call__(self, delay: float, callback: Callable[[], None], /) -> Scheduled:
        scheduled = Scheduled(delay, callback)
        self.calls.append(scheduled)
        return scheduled

    @property
    def pending(self) -> list[Scheduled]:
        return [c for c in self.calls if not c.cancelled]

    def fire(self) -> None:
        [due] = self.pending
        due.cancelled = True  # it has run: not pending any more
        due.callback()


@dataclass
class Pools:
    """Makes one-thread pools and keeps them, so a test sees which were shut down."""

    made: list[ThreadPoolExecutor] = field(default_factory=list)

    def __call__(self) -> Executor:
        pool = ThreadPoolExecutor(max_workers=1)
        self.made.append(pool)
        return pool

    def stopped(self) -> list[bool]:
        return [bool(getattr(p, "_shutdown", False)) for p in self.made]


def up(r: MatplotlibRenderer) -> bool:
    """Whether the renderer's pool is up (a call: mypy does not narrow it)."""
    return r.pool_running


@pytest.fixture
def clock() -> Clock:
    return Clock()


@pytest.fixture
def timer() -> Timer:
    return Timer()


@pytest.fixture
def pools() -> Pools:
    return Pools()


def renderer(
    clock: Clock, timer: Timer, pools: Pools, cache: Path | None = None, idle: float | None = 60.0
) -> MatplotlibRenderer:
    return MatplotlibRenderer(
        cache, idle_seconds=idle, clock=clock, timer=timer, pool_factory=pools
    )


async def test_no_pool_until_the_first_cold_render(
    clock: Clock, timer: Timer, pools: Pools
) -> None:
    r = renderer(clock, timer, pools)
    assert not up(r) and pools.made == [] and timer.calls == []
    assert await r.card_image(*FORMULA) is not None
    assert len(pools.made) == 1 and up(r)
    assert r.counters.pools_started == 1
    await r.close()


async def test_an_image_on_disk_is_served_without_a_pool(
    clock: Clock, timer: Timer, pools: Pools, tmp_path: Path
) -> None:
    key = cache_key(*FORMULA, DEFAULT_STYLE)
    DiskCache(tmp_path).put(RenderedImage(PNG, 1, 1, key))
    r = renderer(clock, timer, pools, tmp_path)
    image = await r.card_image(*FORMULA)
    assert image is not None and image.data == PNG
    assert pools.made == [] and not up(r) and timer.calls == []
    assert r.counters.disk_hits == 1 and r.counters.renders == 0
    await r.close()


async def test_the_pool_stops_after_the_idle_time_and_starts_again(
    clock: Clock, timer: Timer, pools: Pools
) -> None:
    r = renderer(clock, timer, pools, idle=60.0)
    await r.card_image(*FORMULA)
    [check] = timer.pending
    assert check.delay == 60.0

    clock.now += 60.0
    timer.fire()
    assert not up(r) and r.counters.pools_idled == 1
    await r.close()  # waits for the stopped pool to be joined
    assert pools.stopped() == [True]


async def test_a_cold_render_after_an_idle_stop_starts_a_new_pool(
    clock: Clock, timer: Timer, pools: Pools
) -> None:
    metrics = RecordingMetrics()
    r = MatplotlibRenderer(
        idle_seconds=60.0, clock=clock, timer=timer, pool_factory=pools, metrics=metrics
    )
    await r.card_image(*FORMULA)
    clock.now += 61.0
    timer.fire()
    assert not up(r)

    assert await r.card_image(*OTHER) is not None
    assert len(pools.made) == 2 and up(r) and r.counters.pools_started == 2
    assert len(timer.pending) == 1  # idle again after this render: checked again
    await r.close()
    assert pools.stopped() == [True, True]
    assert metrics.render_pools == [True, False, True, False]
    assert metrics.render_misses == 2 and len(metrics.render_seconds) == 2


async def test_an_early_check_looks_again_when_the_idle_time_is_up(
    clock: Clock, timer: Timer, pools: Pools
) -> None:
    """A timer that fires before the idle time is up (a clock of its own) stops nothing:
    the renderer looks again for the time that is left."""
    r = renderer(clock, timer, pools, idle=60.0)
    await r.card_image(*FORMULA)
    clock.now += 45.0
    timer.fire()
    assert up(r) and r.counters.pools_idled == 0
    [again] = timer.pending
    assert again.delay == pytest.approx(15.0)
    clock.now += 15.0
    timer.fire()
    assert not up(r)
    await r.close()


async def test_a_job_cancels_the_pending_check_and_the_idle_time_counts_from_its_end(
    clock: Clock, timer: Timer, pools: Pools
) -> None:
    r = renderer(clock, timer, pools, idle=60.0)
    await r.card_image(*FORMULA)
    [first] = timer.pending
    clock.now += 50.0
    await r.card_image(*OTHER)  # a job 50 s later: the pool is busy again
    assert first.cancelled
    assert len(timer.pending) == 1
    clock.now += 30.0  # 80 s since the first job, 30 s since the last
    timer.fire()
    assert up(r) and len(pools.made) == 1
    await r.close()


async def test_a_check_while_a_job_runs_stops_nothing(
    clock: Clock, timer: Timer, pools: Pools
) -> None:
    """A check that fires while a job runs (say, one already queued on the loop) leaves
    the pool up; the job's end schedules the next check."""
    r = renderer(clock, timer, pools, idle=60.0)
    await r.card_image(*FORMULA)
    [check] = timer.pending
    clock.now += 120.0
    task = asyncio.ensure_future(r.card_image(*OTHER))
    for _ in range(100):  # until the job is handed to the pool: it cancels the check
        if check.cancelled:
            break
        await asyncio.sleep(0)
    assert check.cancelled
    check.callback()  # a call that was already on its way
    assert up(r) and r.counters.pools_idled == 0
    assert await task is not None
    assert len(timer.pending) == 1
    await r.close()


async def test_without_an_idle_time_the_pool_stays_until_close(
    clock: Clock, timer: Timer, pools: Pools
) -> None:
    r = renderer(clock, timer, pools, idle=None)
    await r.card_image(*FORMULA)
    assert timer.calls == [] and up(r)
    await r.close()
    assert pools.stopped() == [True]


async def test_a_given_executor_is_never_stopped_for_idleness(clock: Clock, timer: Timer) -> None:
    given = ThreadPoolExecutor(max_workers=1)
    try:
        r = MatplotlibRenderer(executor=given, idle_seconds=1.0, clock=clock, timer=timer)
        await r.card_image(*FORMULA)
        assert timer.calls == []
        await r.close()
        assert not given._shutdown
    finally:
        given.shutdown()


async def test_close_cancels_the_pending_check(clock: Clock, timer: Timer, pools: Pools) -> None:
    r = renderer(clock, timer, pools)
    await r.card_image(*FORMULA)
    [check] = timer.calls
    await r.close()
    assert check.cancelled and pools.stopped() == [True]


def test_an_idle_time_must_be_positive() -> None:
    with pytest.raises(ValueError, match="positive"):
        MatplotlibRenderer(idle_seconds=0)


def test_the_bot_process_imports_no_matplotlib() -> None:
    """What ``studybot run`` imports before it takes updates (the command line, the app,
    the renderer and the platforms) brings in neither matplotlib nor numpy: they load in
    the render worker only."""
    probe = (
        "import sys, bot.cli, bot.app, bot.render.service, bot.render.worker\n"
        "import bot.platforms.telegram.platform, bot.platforms.discord.platform\n"
        "print(sorted({m.split('.')[0] for m in sys.modules} & {'matplotlib', 'numpy', 'PIL'}))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, timeout=60, check=True
    )
    assert done.stdout.strip() == "[]", done.stdout + done.stderr
