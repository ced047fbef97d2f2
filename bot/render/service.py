"""The matplotlib implementation of the core's :class:`~bot.core.rendering.Renderer` port.

Cached images come from memory at once, or from PNGs kept on disk under
``<data_dir>/render-cache``; cold renders run in a worker process pool
(matplotlib holds the GIL while it draws, so threads would stall the event loop).
Concurrent requests for the same image share one render.

The pool starts with the first cold render, not with the bot, and stops after
``idle_seconds`` without a job (the next cold render starts it again): a bot at
rest holds no render worker (about 80 MB), and this process never imports
matplotlib.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import multiprocessing
import os
import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Protocol

from bot.core.messages import HeatMap, Plot
from bot.core.metrics import NULL_METRICS, Metrics
from bot.core.rendering import RenderedImage, RenderError
from bot.core.stats import StudyStats
from bot.render.cache import DiskCache, MemoryCache, cache_key
from bot.render.jobs import ChartData, Job, check_heatmap
from bot.render.style import DEFAULT_STYLE, Style
from bot.render.worker import WORKER_NICENESS, init_worker, run_job, warm_up

__all__ = [
    "DEFAULT_IDLE_SECONDS",
    "Cancellable",
    "MatplotlibRenderer",
    "RenderCounters",
    "Timer",
    "chart_data",
    "loop_timer",
]

log = logging.getLogger(__name__)

_MAX_FAILURES: Final = 1024

#: How long the render workers stay up without a job, by default (``[render]
#: worker_idle_seconds``).
DEFAULT_IDLE_SECONDS: Final = 300.0


class Cancellable(Protocol):
    """A call scheduled by a :class:`Timer`."""

    def cancel(self) -> None: ...


class Timer(Protocol):
    """Calls ``callback`` on the event loop after ``delay`` seconds (tests pass their own)."""

    def __call__(self, delay: float, callback: Callable[[], None], /) -> Cancellable: ...


def loop_timer(delay: float, callback: Callable[[], None], /) -> Cancellable:
    """The running event loop's ``call_later``: the :class:`Timer` by default."""
    return asyncio.get_running_loop().call_later(delay, callback)


@dataclass(slots=True)
class RenderCounters:
    """What the renderer has done since it was made."""

    memory_hits: int = 0
    disk_hits: int = 0
    renders: int = 0
    failures: int = 0
    coalesced: int = 0
    #: Pools started (with the first cold render, and again after an idle stop).
    pools_started: int = 0
    #: Pools stopped after ``idle_seconds`` without a job.
    pools_idled: int = 0


def chart_data(stats: StudyStats, forecast: Sequence[int]) -> ChartData:
    """The plain numbers of a stats chart."""
    return ChartData(
        forecast=tuple(int(x) for x in forecast),
        per_day=tuple(int(x) for x in stats.per_day_30d),
        retention=stats.retention_30d,
        reviews=stats.reviews_30d,
        desired_retention=stats.desired_retention,
        due_today=stats.due_today,
        streak_days=stats.streak_days,
    )


def default_workers() -> int:
    """Worker processes by default: one CPU is left to the event loop; at most two."""
    return max(1, min(2, (os.cpu_count() or 2) - 1))


class MatplotlibRenderer:
    """Renders card images, stats charts, heat maps and text images, and converts imported
    images to PNG; implements ``Renderer``.

    Args:
        cache_dir: where PNGs are kept between runs (``cache_dir_for(settings.data_dir)``);
            None keeps them in memory only.
        max_memory_items: how many images the in-memory LRU holds.
        executor: where renders run. None (the default) makes a process pool of
            ``workers`` processes on the first cold render, stops it after
            ``idle_seconds`` without a job and in :meth:`close`.
            A given executor is used as is and never shut down; a thread pool works
            but must have ONE thread (mathtext's parser is not thread-safe) and
            stalls the event loop while it draws.
        style: sizes and colours (part of every cache key).
        workers: processes in the default pool.
        metrics: counts cache hits and misses and times cold renders (a cold
            render that starts the pool includes the worker's start).
        idle_seconds: how long the pool the renderer made stays up without a job;
            None keeps it until :meth:`close`.
        clock: monotonic seconds (tests pass a fake one).
        timer: schedules the idle check (tests pass one they fire themselves).
        pool_factory: makes the pool instead of the default process pool (tests);
            the renderer owns what it makes: stops it when idle and in :meth:`close`.
    """

    def __init__(
        self,
        cache_dir: Path | None = None,
        max_memory_items: int = 256,
        executor: Executor | None = None,
        *,
        style: Style = DEFAULT_STYLE,
        workers: int | None = None,
        metrics: Metrics = NULL_METRICS,
        idle_seconds: float | None = DEFAULT_IDLE_SECONDS,
        clock: Callable[[], float] = time.monotonic,
        timer: Timer = loop_timer,
        pool_factory: Callable[[], Executor] | None = None,
    ) -> None:
        if idle_seconds is not None and idle_seconds <= 0:
            raise ValueError("idle_seconds must be positive (or None: never)")
        self.style = style
        self.metrics = metrics
        self._style_key = style.digest()
        self.counters = RenderCounters()
        self._memory = MemoryCache(max_memory_items)
        self._disk = DiskCache(cache_dir) if cache_dir is not None else None
        self._executor = executor
        self._owns_executor = executor is None
        self._workers = workers or default_workers()
        self._inflight: dict[str, asyncio.Task[RenderedImage]] = {}
        self._failures: OrderedDict[str, str] = OrderedDict()
        self._closed = False
        self._idle_seconds = idle_seconds
        self._clock = clock
        self._timer = timer
        self._pool_factory = pool_factory or self._process_pool
        #: Jobs handed to the pool and not finished yet.
        self._running = 0
        self._last_job = clock()
        self._idle_check: Cancellable | None = None
        #: Pools stopped for idleness whose processes are still being joined.
        self._stopping: set[asyncio.Task[None]] = set()

    # ------------------------------------------------------------------ port

    async def card_image(self, kind: str | None, spec: str | None) -> RenderedImage | None:
        """The image of a card, or None when it has none or it cannot be drawn (logged)."""
        if not kind or not spec:
            return None
        key = cache_key(kind, spec, self._style_key)
        hit = self._from_memory(key)
        if hit is not None:
            return hit
        if key in self._failures:
            return None
        try:
            return await self._get(key, ("card", kind, spec), disk=True)
        except RenderError as exc:
            self._remember_failure(key, str(exc))
            log.warning("cannot draw the %s image %r: %s", kind, spec, exc)
            return None

    async def stats_chart(self, stats: StudyStats, forecast: Sequence[int]) -> RenderedImage:
        """The /stats chart (kept in memory only: it changes with every review)."""
        data = chart_data(stats, forecast)
        key = cache_key("stats", repr(data), self._style_key)
        hit = self._from_memory(key)
        if hit is not None:
            return hit
        return await self._get(key, ("stats", data), disk=False)

    async def text_image(self, markdown: str) -> RenderedImage:
        """Markdown (tables, wide code) drawn as an image."""
        key = cache_key("text", markdown, self._style_key)
        hit = self._from_memory(key)
        if hit is not None:
            return hit
        return await self._get(key, ("text", markdown), disk=True)

    async def heatmap(self, chart: HeatMap) -> RenderedImage:
        """A challenge summary's heat map (kept in memory only, like the stats chart).

        Raises:
            RenderError: when the chart is malformed (ragged values, no rows ...)
                or cannot be drawn.
        """
        check_heatmap(chart)  # cheap: a malformed chart never reaches a worker
        key = cache_key("heatmap", repr(chart), self._style_key)
        hit = self._from_memory(key)
        if hit is not None:
            return hit
        return await self._get(key, ("heatmap", chart), disk=False)

    async def plot(self, figure: Plot) -> RenderedImage:
        """A plot (calibration, retention costs), kept in memory only like the stats chart:
        the same numbers are drawn once, and they change with the learner's reviews."""
        key = cache_key("plot", repr(figure), self._style_key)
        hit = self._from_memory(key)
        if hit is not None:
            return hit
        return await self._get(key, ("plot", figure), disk=False)

    async def convert(self, data: bytes) -> RenderedImage:
        """An imported image (GIF, WebP, CMYK JPEG) as PNG, converted in a worker and
        cached by its content, in memory and on disk; a failure is remembered too.

        Raises:
            RenderError: when the worker cannot read it, or it is too large to show.
        """
        key = cache_key("picture", hashlib.sha256(data).hexdigest(), self._style_key)
        hit = self._from_memory(key)
        if hit is not None:
            return hit
        failed = self._failures.get(key)
        if failed is not None:
            raise RenderError(failed)
        try:
            return await self._get(key, ("picture", data), disk=True)
        except RenderError as exc:
            self._remember_failure(key, str(exc))
            raise

    async def close(self) -> None:
        """Wait for running renders to finish and stop the worker processes.

        Afterwards only images already in memory are served; anything else
        raises ``RuntimeError``.
        """
        self._closed = True
        pending = list(self._inflight.values())
        if pending:
            await asyncio.gather(*pending, return_exceptions=True)
        self._disarm()
        if self._owns_executor and self._executor is not None:
            executor, self._executor = self._executor, None
            self.metrics.render_pool(False)
            await asyncio.to_thread(executor.shutdown, True, cancel_futures=True)
        if self._stopping:
            await asyncio.gather(*self._stopping, return_exceptions=True)

    # ------------------------------------------------------------------ extras

    async def start(self) -> None:
        """Start the worker processes now and load fonts in them, so the first render is
        fast (``studybot run`` does not: its workers start with the first cold render).
        They stop after ``idle_seconds`` without a job, like a pool started by a render."""
        loop = asyncio.get_running_loop()
        pool = self._pool()
        self._job_began()
        try:
            await asyncio.gather(
                *(loop.run_in_executor(pool, warm_up) for _ in range(self._workers))
            )
        finally:
            self._job_ended()

    @property
    def pool_running(self) -> bool:
        """Whether a pool is up (the renderer's own, or the executor it was given)."""
        return self._executor is not None

    def cached(self, kind: str, spec: str) -> RenderedImage | None:
        """The image if it is in memory (no disk access, no rendering)."""
        return self._memory.get(cache_key(kind, spec, self._style_key))

    # ------------------------------------------------------------------ internals

    def _remember_failure(self, key: str, reason: str) -> None:
        self._failures[key] = reason
        while len(self._failures) > _MAX_FAILURES:
            self._failures.popitem(last=False)

    def _from_memory(self, key: str) -> RenderedImage | None:
        hit = self._memory.get(key)
        if hit is not None:
            self.counters.memory_hits += 1
            self.metrics.render_hit("memory")
        return hit

    def _process_pool(self) -> Executor:
        return ProcessPoolExecutor(
            max_workers=self._workers,
            mp_context=multiprocessing.get_context("spawn"),
            initializer=init_worker,
            # Workers end with this process, even when it is killed (kill -9).
            initargs=(WORKER_NICENESS, os.getpid()),
        )

    def _pool(self) -> Executor:
        if self._closed:
            raise RuntimeError("the renderer is closed")
        if self._executor is None:
            log.info("starting the render worker for a cold render")
            self._executor = self._pool_factory()
            self.counters.pools_started += 1
            self.metrics.render_pool(True)
        return self._executor

    # ------------------------------------------------------------------ idleness

    def _job_began(self) -> None:
        self._running += 1
        self._disarm()

    def _job_ended(self) -> None:
        self._running -= 1
        self._last_job = self._clock()
        if self._running == 0:
            self._arm(self._idle_seconds)

    def _arm(self, delay: float | None) -> None:
        """Look again after ``delay`` seconds whether the pool has been idle long enough."""
        self._disarm()
        if delay is None or not self._owns_executor or self._closed or self._executor is None:
            return
        self._idle_check = self._timer(delay, self._check_idle)

    def _disarm(self) -> None:
        if self._idle_check is not None:
            self._idle_check.cancel()
            self._idle_check = None

    def _check_idle(self) -> None:
        """The timer's call: stop the pool if no job ran for ``idle_seconds``."""
        self._idle_check = None
        idle = self._idle_seconds
        if idle is None or self._running or self._executor is None or self._closed:
            return
        left = idle - (self._clock() - self._last_job)
        if left > 0:  # the timer was early (a clock of its own): look again then
            self._arm(left)
            return
        executor, self._executor = self._executor, None
        self.counters.pools_idled += 1
        self.metrics.render_pool(False)
        log.info("stopping the render worker: no job for %g s", idle)
        task = asyncio.ensure_future(asyncio.to_thread(executor.shutdown, True))
        self._stopping.add(task)
        task.add_done_callback(self._stopping.discard)

    async def _get(self, key: str, job: Job, *, disk: bool) -> RenderedImage:
        task = self._inflight.get(key)
        if task is None:
            task = asyncio.ensure_future(self._produce(key, job, disk))
            self._inflight[key] = task
            task.add_done_callback(lambda t: self._finished(key, t))
        else:
            self.counters.coalesced += 1
        # shield: one caller giving up (a cancelled handler) does not cancel the others.
        return await asyncio.shield(task)

    def _finished(self, key: str, task: asyncio.Task[RenderedImage]) -> None:
        if self._inflight.get(key) is task:
            del self._inflight[key]
        if not task.cancelled() and task.exception() is not None:
            self.counters.failures += 1

    async def _produce(self, key: str, job: Job, disk: bool) -> RenderedImage:
        loop = asyncio.get_running_loop()
        if disk and self._disk is not None:
            found = await loop.run_in_executor(None, self._disk.get, key)
            if found is not None:
                self.counters.disk_hits += 1
                self.metrics.render_hit("disk")
                self._memory.put(found)
                return found
        self.counters.renders += 1
        self.metrics.render_miss()
        began = time.perf_counter()
        data, width, height = await self._run(job)
        self.metrics.rendered(time.perf_counter() - began)
        image = RenderedImage(data, width, height, key)
        self._memory.put(image)
        if disk and self._disk is not None:
            await loop.run_in_executor(None, self._disk.put, image)
        return image

    async def _run(self, job: Job) -> tuple[bytes, int, int]:
        loop = asyncio.get_running_loop()
        for attempt in (1, 2):
            pool = self._pool()
            self._job_began()
            try:
                return await loop.run_in_executor(pool, run_job, job, self.style)
            except BrokenProcessPool:
                if not self._owns_executor or attempt == 2:
                    raise RenderError("the render worker died") from None
                log.warning("a render worker died; starting a new pool")
                if self._executor is pool:
                    self._executor = None
                pool.shutdown(wait=False, cancel_futures=True)
            finally:
                self._job_ended()
        raise AssertionError("unreachable")
