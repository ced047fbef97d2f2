"""Benchmark of the image renderer: cold and cached renders, and event-loop lag.

What it measures (see benchmarks/RENDER_FIGURES.md):

1. Cold: every distinct image of the shipped decks rendered once, one after
   another, through ``MatplotlibRenderer.card_image`` with a warm worker pool
   and no disk cache (latency as the caller sees it, worker hop included).
2. Cached: the same images asked for again (in-memory LRU hits), many times.
3. Disk: a new renderer over a filled disk cache (first request per image).
4. Loop lag: a ticker task sleeps 5 ms again and again and records how late
   it wakes up while 50 distinct cold renders run at once (``asyncio.gather``).

The figures go to stdout; the LAST line is one JSON object.

Run: ``python benchmarks/render.py`` (``--executor thread`` to compare a
one-thread pool, ``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import re
import statistics
import sys
import tempfile
import time
from concurrent.futures import Executor, ThreadPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # running without an editable install
    sys.path.insert(0, str(REPO))

import matplotlib  # noqa: E402

from bot.deckfiles import SHIPPED_DECKS, load_decks  # noqa: E402
from bot.render.service import MatplotlibRenderer  # noqa: E402

CONCURRENT = 50
TICK_S = 0.005


def shipped_images() -> list[tuple[str, str]]:
    """Distinct (kind, spec) of every card image in the shipped decks."""
    deck_set = load_decks([SHIPPED_DECKS])
    seen: dict[tuple[str, str], None] = {}
    for card in deck_set.cards():
        for _side, image in card.images():
            seen[(image.kind, image.source)] = None
    return list(seen)


def variant(kind: str, spec: str, k: int) -> tuple[str, str]:
    """A different image of the same kind and complexity (a new cache key)."""
    if kind == "formula":
        return kind, "{" * k + spec + "}" * k  # same drawing, new key
    # Shift every example size by k: a new diagram of the same shape.
    return kind, re.sub(
        r"(?<=[;,])(\s*)(?!heads|highlight|mask|show)([A-Za-z_]\w*)=(\d+)",
        lambda m: f"{m.group(1)}{m.group(2)}={int(m.group(3)) + k}",
        spec,
    )


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    idx = min(len(ordered) - 1, max(0, round(q / 100 * (len(ordered) - 1))))
    return ordered[idx]


def make_renderer(mode: str, cache_dir: Path | None, workers: int) -> MatplotlibRenderer:
    executor: Executor | None = None
    if mode == "thread":
        executor = ThreadPoolExecutor(max_workers=1)
    return MatplotlibRenderer(cache_dir, max_memory_items=1024, executor=executor, workers=workers)


async def close(renderer: MatplotlibRenderer) -> None:
    await renderer.close()
    executor = renderer._executor  # a given thread pool is not shut down by close()
    if executor is not None:
        executor.shutdown(wait=True)


async def cold_and_cached(
    images: list[tuple[str, str]], mode: str, workers: int, cached_rounds: int
) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as tmp:
        disk = Path(tmp)
        renderer = make_renderer(mode, disk, workers)
        t0 = time.perf_counter()
        await renderer.start() if mode == "process" else None
        start_s = time.perf_counter() - t0
        cold: list[float] = []
        sizes: list[int] = []
        for kind, spec in images:
            t = time.perf_counter()
            image = await renderer.card_image(kind, spec)
            cold.append((time.perf_counter() - t) * 1000)
            if image is None:
                raise SystemExit(f"could not render {kind} {spec!r}")
            sizes.append(len(image.data))
        cached: list[float] = []
        for _ in range(cached_rounds):
            for kind, spec in images:
                t = time.perf_counter()
                await renderer.card_image(kind, spec)
                cached.append((time.perf_counter() - t) * 1000)
        renders = renderer.counters.renders
        await close(renderer)

        fresh = make_renderer(mode, disk, workers)
        from_disk: list[float] = []
        for kind, spec in images:
            t = time.perf_counter()
            await fresh.card_image(kind, spec)
            from_disk.append((time.perf_counter() - t) * 1000)
        disk_hits = fresh.counters.disk_hits
        await close(fresh)
    return {
        "pool_start_s": round(start_s, 2),
        "cold": cold,
        "cached": cached,
        "disk": from_disk,
        "renders": renders,
        "disk_hits": disk_hits,
        "png_kb_p50": statistics.median(sizes) / 1024,
    }


async def loop_lag(images: list[tuple[str, str]], mode: str, workers: int) -> dict[str, Any]:
    renderer = make_renderer(mode, None, workers)
    if mode == "process":
        await renderer.start()
    lags: list[float] = []
    stop = asyncio.Event()

    async def ticker() -> None:
        while not stop.is_set():
            t = time.perf_counter()
            await asyncio.sleep(TICK_S)
            lags.append(max(0.0, (time.perf_counter() - t - TICK_S) * 1000))

    tick = asyncio.create_task(ticker())
    await asyncio.sleep(0.05)
    lags.clear()
    t0 = time.perf_counter()
    results = await asyncio.gather(*(renderer.card_image(k, s) for k, s in images))
    total = time.perf_counter() - t0
    stop.set()
    await tick
    await close(renderer)
    if any(r is None for r in results):
        raise SystemExit("a concurrent render failed")
    return {"lags": lags, "total_s": total, "renders": len(results)}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--executor", choices=("process", "thread"), default="process")
    parser.add_argument("--workers", type=int, default=None, help="processes (default: up to 2)")
    parser.add_argument("--quick", action="store_true", help="fewer images, for a smoke run")
    args = parser.parse_args()
    from bot.render.service import default_workers

    workers = args.workers or default_workers()
    images = shipped_images()
    if args.quick:
        images = images[:8]
    concurrent: list[tuple[str, str]] = []
    k = 1
    while len(concurrent) < (10 if args.quick else CONCURRENT):
        concurrent.extend(variant(kind, spec, k) for kind, spec in images)
        k += 1
    concurrent = concurrent[: (10 if args.quick else CONCURRENT)]

    print(
        f"python {platform.python_version()}, matplotlib {matplotlib.__version__}, "
        f"{os.cpu_count()} CPUs, executor={args.executor}, workers={workers}"
    )
    a = asyncio.run(cold_and_cached(images, args.executor, workers, 5 if args.quick else 50))
    b = asyncio.run(loop_lag(concurrent, args.executor, workers))

    figures = {
        "executor": args.executor,
        "workers": workers if args.executor == "process" else 1,
        "images": len(images),
        "cold_p50_ms": round(statistics.median(a["cold"]), 1),
        "cold_p95_ms": round(percentile(a["cold"], 95), 1),
        "cached_p50_ms": round(statistics.median(a["cached"]), 4),
        "cached_p99_ms": round(percentile(a["cached"], 99), 4),
        "disk_p50_ms": round(statistics.median(a["disk"]), 2),
        "concurrent_renders": b["renders"],
        "concurrent_total_s": round(b["total_s"], 2),
        "loop_lag_p50_ms": round(statistics.median(b["lags"]), 2) if b["lags"] else None,
        "loop_lag_p99_ms": round(percentile(b["lags"], 99), 2),
        "loop_lag_max_ms": round(max(b["lags"], default=0.0), 2),
        "lag_samples": len(b["lags"]),
        "png_kb_p50": round(a["png_kb_p50"], 1),
        "pool_start_s": a["pool_start_s"],
    }
    print(f"images of the shipped decks: {len(images)} distinct")
    print(
        f"cold render: p50 {figures['cold_p50_ms']} ms, p95 {figures['cold_p95_ms']} ms "
        f"({a['renders']} renders)"
    )
    print(f"cached (memory): p50 {figures['cached_p50_ms']} ms, p99 {figures['cached_p99_ms']} ms")
    print(f"disk cache, new renderer: p50 {figures['disk_p50_ms']} ms ({a['disk_hits']} hits)")
    print(
        f"{b['renders']} concurrent cold renders: {figures['concurrent_total_s']} s; "
        f"loop lag p50 {figures['loop_lag_p50_ms']} ms, p99 {figures['loop_lag_p99_ms']} ms, "
        f"max {figures['loop_lag_max_ms']} ms ({len(b['lags'])} ticks)"
    )
    print(json.dumps(figures))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
