"""Benchmark of fitting a learner's memory model (FSRS-6 with fsrs-rs), on synthetic learners.

What it does (see benchmarks/README.md):

1. Synthetic learners: true FSRS-6 parameters drawn around the defaults (each
   one times e^N(0, --spread), kept inside FSRS-6's bounds); a simulator over
   py-fsrs's ``Scheduler`` with those parameters studies ``--new-per-day`` new
   cards a day (learning steps 1 and 10 minutes) and every card when it is due.
   Each recall is drawn from the retrievability the true model predicts; a new
   card's first rating from Again/Hard/Good/Easy 20/10/55/15 %, a recalled
   card's from Hard/Good/Easy 15/70/15 %.
2. Fitting time: ``bot.core.memory.fit`` (training items, fsrs-rs
   ``compute_parameters``, three evaluations, the memory states when kept) on
   logs of 1k, 5k and 50k reviews.
3. Log loss on held-out reviews (the latest 20 %) at 5k reviews for the fitted,
   the true and the default parameters, averaged over ``--learners`` learners.
4. The threshold: for logs of 200 to 3,000 reviews, parameters fitted on the log
   judged against the defaults on the learner's next 2,000 reviews.
5. The GIL: a Python thread's pace and longest pause while fsrs-rs fits in
   another, and the event loop's largest lag while a whole fit runs in a thread
   (``asyncio.to_thread``, what the timer does) and in a spawned process.
6. The retention sweep: ``fsrs_rs_python.simulate`` for desired retention
   0.75-0.97 in steps of 0.02, over a learner-sized deck (``--deck`` cards, a year).
7. Peak memory: the process's max RSS (fsrs-rs allocates outside tracemalloc's
   view) and tracemalloc's peak over one 5k fit (traced apart: tracemalloc slows
   Python several times over, so the timings run without it).

The figures go to stdout; the LAST line is one JSON object.

Run: ``python benchmarks/fitting.py`` (``--quick`` for a smoke run).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import multiprocessing
import os
import random
import resource
import statistics
import sys
import threading
import time
import tracemalloc
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # running without an editable install
    sys.path.insert(0, str(REPO))

import fsrs_rs_python as rs  # noqa: E402

from bot.core import memory  # noqa: E402
from bot.core.fitting import fit_in_thread  # noqa: E402
from bot.render.worker import WORKER_NICENESS, init_worker  # noqa: E402
from tests.memory_sim import simulate_learner, true_parameters  # noqa: E402

#: Log sizes the threshold study fits on.
THRESHOLD_SIZES = [200, 400, 800, 1200, 1600, 3000]


def timed_fit(log: list[memory.LogEntry]) -> tuple[float, memory.FitResult | None]:
    started = time.perf_counter()
    result = memory.fit(log, "UTC", None)
    return time.perf_counter() - started, result


def threshold_study(
    sizes: list[int], learners: list[tuple[tuple[float, ...], list[memory.LogEntry]]]
) -> dict[int, dict[str, float]]:
    """At each log size: fitted parameters, and what the keep-if-better rule keeps, judged
    against the defaults on the learner's next 2,000 reviews."""
    found: dict[int, dict[str, float]] = {}
    for size in sizes:
        better = kept = kept_right = 0
        gains, rule_gains = [], []
        for _true, log in learners:
            items = memory.build_items(log[: size + 2000], "UTC")
            train = [found.item for found in items if found.position < size]
            test = [found.item for found in items if found.position >= size and found.delta_t]
            if not train or not test:
                continue
            fitted = rs.FSRS(list(memory.DEFAULT_PARAMETERS)).compute_parameters(train)
            fitted_loss = memory.log_loss(fitted, test)
            default_loss = memory.log_loss(memory.DEFAULT_PARAMETERS, test)
            better += fitted_loss < default_loss
            gains.append((default_loss - fitted_loss) / default_loss)
            # The bot's own rule on the log so far: fit on 80 %, keep if better on the rest.
            result = memory.fit(log[:size], "UTC", None)
            rule_loss = default_loss
            if result is not None and result.kept:
                kept += 1
                rule_loss = memory.log_loss(result.parameters, test)
                kept_right += rule_loss < default_loss
            rule_gains.append((default_loss - rule_loss) / default_loss)
        found[size] = {
            "beats_default_share": better / max(1, len(gains)),
            "mean_gain": statistics.fmean(gains) if gains else 0.0,
            "kept_share": kept / max(1, len(gains)),
            "kept_right_share": kept_right / max(1, kept),
            "rule_gain": statistics.fmean(rule_gains) if rule_gains else 0.0,
        }
    return found


async def fit_in_process(
    log: list[memory.LogEntry], tz: str, current: tuple[float, ...] | None
) -> memory.FitResult | None:
    """A fit in a fresh spawned process (low priority, as a render worker): the way the
    bot does not fit, measured to show why."""
    pool = ProcessPoolExecutor(
        max_workers=1,
        mp_context=multiprocessing.get_context("spawn"),
        initializer=init_worker,
        initargs=(WORKER_NICENESS, os.getpid()),
    )
    try:
        return await asyncio.get_running_loop().run_in_executor(pool, memory.fit, log, tz, current)
    finally:
        await asyncio.to_thread(pool.shutdown)


async def loop_lag(run: Any, log: list[memory.LogEntry]) -> tuple[float, float]:
    """The event loop's largest lag (s) while ``run`` fits ``log``, and how long it took."""
    worst = 0.0
    done = False

    async def ticker() -> None:
        nonlocal worst
        while not done:
            before = time.perf_counter()
            await asyncio.sleep(0.005)
            worst = max(worst, time.perf_counter() - before - 0.005)

    task = asyncio.create_task(ticker())
    await asyncio.sleep(0.02)  # the ticker is ticking
    started = time.perf_counter()
    await run(log, "UTC", None)
    took = time.perf_counter() - started
    done = True
    await task
    return worst, took


def gil_study(log: list[memory.LogEntry]) -> dict[str, float]:
    """Whether fsrs-rs holds the GIL: a Python thread's pace and longest pause while it
    fits, and the event loop's lag with the fit in a thread and in a process."""
    items = [found.item for found in memory.build_items(log, "UTC")]
    model = rs.FSRS(list(memory.DEFAULT_PARAMETERS))

    def spin(seconds: float) -> int:
        count = 0
        stop = time.perf_counter() + seconds
        while time.perf_counter() < stop:
            count += 1
        return count

    started = time.perf_counter()
    model.compute_parameters(items)
    fit_s = time.perf_counter() - started
    alone = spin(fit_s) / fit_s
    worker = threading.Thread(target=model.compute_parameters, args=(items,))
    began = last = time.perf_counter()
    worker.start()
    count = 0
    pause = 0.0
    while worker.is_alive():
        count += 1
        step = time.perf_counter()
        pause, last = max(pause, step - last), step
    during = count / (time.perf_counter() - began)
    thread_lag, thread_s = asyncio.run(loop_lag(fit_in_thread, log))
    process_lag, process_s = asyncio.run(loop_lag(fit_in_process, log))
    return {
        "compute_parameters_s": fit_s,
        "python_pace_while_fitting": during / alone,
        "python_longest_pause_ms": pause * 1000,
        "thread_lag_ms": thread_lag * 1000,
        "thread_s": thread_s,
        "process_lag_ms": process_lag * 1000,
        "process_s": process_s,
    }


def sweep(deck: int, parameters: tuple[float, ...]) -> tuple[float, list[tuple[float, float]]]:
    """fsrs-rs ``simulate`` at each desired retention 0.75..0.97.

    Returns the seconds taken and, per retention, the mean cards memorized a day.
    """
    config = rs.default_simulator_config()
    config.deck_size = deck
    config.learn_span = 365
    config.learn_limit = max(1, deck // 100)
    retentions = [round(0.75 + 0.02 * i, 2) for i in range(12)]
    started = time.perf_counter()
    outcome = []
    for retention in retentions:
        result = rs.simulate(list(parameters), retention, config, seed=42)
        outcome.append((retention, statistics.fmean(result.memorized_cnt_per_day)))
    return time.perf_counter() - started, outcome


def main(argv: list[str] | None = None) -> dict[str, Any]:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=16, help="synthetic learners (16)")
    parser.add_argument("--spread", type=float, default=0.3, help="true parameters' spread (0.3)")
    parser.add_argument("--new-per-day", type=int, default=20, help="new cards a day (20)")
    parser.add_argument("--deck", type=int, default=2000, help="cards in the sweep's deck (2000)")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--quick", action="store_true", help="a smoke run: small and fast")
    args = parser.parse_args(argv)
    rng = random.Random(args.seed)
    if args.quick:
        args.learners, args.deck = 2, 200
    sizes = [1000, 5000] if args.quick else [1000, 5000, 50000]

    print("fitting time (bot.core.memory.fit: items, fit, 3 evaluations, memory states)")
    figures: dict[str, Any] = {}
    big = simulate_learner(true_parameters(rng, args.spread), max(sizes), rng, args.new_per_day)
    for size in sizes:
        seconds, result = timed_fit(big[:size])
        assert result is not None
        figures[f"fit_{size // 1000}k_s"] = round(seconds, 3)
        print(f"  {size:>6} reviews: {seconds:.3f} s ({result.judged} held-out items judged)")

    print(f"log loss on the latest 20 % of 5k reviews, {args.learners} learners")
    learners = []
    losses: dict[str, list[float]] = {"fitted": [], "true": [], "default": []}
    for _ in range(args.learners):
        true = true_parameters(rng, args.spread)
        log = simulate_learner(true, 5000, rng, args.new_per_day)
        learners.append((true, log))
        result = memory.fit(log, "UTC", None)
        assert result is not None
        test = [
            found.item
            for found in memory.build_items(log, "UTC")
            if found.position >= result.reviews and found.delta_t
        ]
        losses["fitted"].append(result.logloss_fitted)
        losses["default"].append(result.logloss_default)
        losses["true"].append(memory.log_loss(true, test))
    mean = {k: statistics.fmean(v) for k, v in losses.items()}
    for name, value in mean.items():
        print(f"  {name:>7}: {value:.4f}")
    print(f"  fitted is {100 * (mean['fitted'] / mean['true'] - 1):+.2f} % of true")

    print("threshold: fitted on the first N reviews, judged on the next 2,000 (of 5k)")
    study = threshold_study(THRESHOLD_SIZES, learners)
    for size, row in study.items():
        print(
            f"  N={size:>4}: beats the defaults for {row['beats_default_share']:.0%}"
            f" of learners, log loss {100 * row['mean_gain']:+.1f} % better on average;"
            f" the keep rule keeps {row['kept_share']:.0%} ({row['kept_right_share']:.0%} of"
            f" those rightly), {100 * row['rule_gain']:+.1f} % on average"
        )

    gil = gil_study(big)
    print(
        f"GIL: a Python thread keeps {gil['python_pace_while_fitting']:.0%} of its pace while"
        f" fsrs-rs fits {len(big)} reviews ({gil['compute_parameters_s']:.2f} s), its longest"
        f" pause {gil['python_longest_pause_ms']:.0f} ms"
    )
    print(
        f"  event-loop lag during a whole fit: {gil['thread_lag_ms']:.0f} ms in a thread"
        f" ({gil['thread_s']:.2f} s), {gil['process_lag_ms']:.0f} ms in a process"
        f" ({gil['process_s']:.2f} s, spawn included)"
    )

    simulate_s, curve = sweep(args.deck, memory.DEFAULT_PARAMETERS)
    print(f"retention sweep, {args.deck} cards over 365 days: {simulate_s:.2f} s")
    print("  " + ", ".join(f"{r:.2f}: {m:.0f}" for r, m in curve))

    tracemalloc.start()
    memory.fit(big[:5000], "UTC", None)
    _, peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak memory: {rss_mb:.0f} MB RSS, {peak / 2**20:.1f} MB traced by a 5k fit (Python)")

    figures.update(
        logloss_fitted=round(mean["fitted"], 4),
        logloss_true=round(mean["true"], 4),
        logloss_default=round(mean["default"], 4),
        fitted_vs_true_pct=round(100 * (mean["fitted"] / mean["true"] - 1), 2),
        threshold={str(k): {n: round(v, 3) for n, v in row.items()} for k, row in study.items()},
        gil_python_pace=round(gil["python_pace_while_fitting"], 2),
        gil_longest_pause_ms=round(gil["python_longest_pause_ms"], 1),
        thread_loop_lag_ms=round(gil["thread_lag_ms"], 1),
        process_loop_lag_ms=round(gil["process_lag_ms"], 1),
        simulate_s=round(simulate_s, 3),
        peak_rss_mb=round(rss_mb),
        peak_traced_mb=round(peak / 2**20, 1),
    )
    print(json.dumps(figures))
    return figures


if __name__ == "__main__":
    main()
