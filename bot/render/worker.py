"""What a render worker runs: one job in, PNG bytes out.

Jobs are plain picklable tuples so they can cross into a process pool:
``("card", kind, spec)``, ``("stats", ChartData)``, ``("text", markdown)``,
``("heatmap", HeatMap)``, ``("plot", Plot)``, ``("picture", bytes)`` (an imported image
converted to PNG with Pillow, :mod:`bot.render.pictures`).
Every failure comes back as :class:`~bot.core.rendering.RenderError` with a
one-line message.

Importing this module does not import matplotlib (the bot's process imports it to
hand jobs to the pool): the drawing modules are imported by the first job that
draws, in the worker.
"""

from __future__ import annotations

import contextlib
import ctypes
import os
import signal
import sys
import threading
import time
from collections.abc import Callable
from types import FrameType
from typing import Final

from bot.core.imagespec import DiagramSpec, FormulaSpec, ImageSpecError, parse_image_spec
from bot.core.rendering import RenderError
from bot.render.jobs import Job, Png
from bot.render.style import DEFAULT_STYLE, Style

__all__ = [
    "WORKER_NICENESS",
    "Job",
    "end_with_parent",
    "init_worker",
    "render_card_image",
    "run_job",
    "warm_up",
]

#: How much lower a render process's CPU priority is than the bot's: when the
#: machine is busy, the event loop wins and renders wait.
WORKER_NICENESS = 10


def render_card_image(kind: str, spec: str, style: Style = DEFAULT_STYLE) -> Png:
    """Draw a card's image from its ``image:`` kind and spec.

    Raises:
        RenderError: when the spec is invalid or cannot be drawn.
    """
    from bot.render.diagram import render_diagram
    from bot.render.formula import check_formula, render_formula
    from bot.render.shapes import render_shape

    try:
        parsed = parse_image_spec(f"{kind} {spec}")
    except ImageSpecError as exc:
        raise RenderError(f"bad image spec: {exc}") from None
    if isinstance(parsed, FormulaSpec):
        problem = check_formula(parsed.source)
        if problem is not None:
            raise RenderError(f"mathtext cannot draw the formula: {problem}")
        return render_formula(parsed.source, style)
    if isinstance(parsed, DiagramSpec):
        return render_diagram(parsed.name, style)
    return render_shape(parsed, style)


def run_job(job: Job, style: Style = DEFAULT_STYLE) -> Png:
    """Run one job (in a worker thread or process).

    Raises:
        RenderError: for any failure, with the reason in one line.
    """
    try:
        if job[0] == "card":
            return render_card_image(job[1], job[2], style)
        if job[0] == "stats":
            from bot.render.charts import render_stats

            return render_stats(job[1], style)
        if job[0] == "heatmap":
            from bot.render.heatmap import render_heatmap

            return render_heatmap(job[1], style)
        if job[0] == "plot":
            from bot.render.plots import render_plot

            return render_plot(job[1], style)
        if job[0] == "picture":
            from bot.render.pictures import convert_picture

            return convert_picture(job[1])
        from bot.render.text import render_text

        return render_text(job[1], style)
    except RenderError:
        raise
    except Exception as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else ""
        raise RenderError(
            f"{type(exc).__name__}: {first}" if first else type(exc).__name__
        ) from None


def init_worker(niceness: int = WORKER_NICENESS, parent: int | None = None) -> None:
    """Run once in each worker process: ignore SIGINT, lower its CPU priority (where the
    OS allows), and end with the process ``parent`` (see :func:`end_with_parent`).

    Ctrl-C in a terminal signals the whole process group, the workers too; the process
    that owns the pool stops them when it stops, so a worker must not die on its own in
    the middle of a job, with a traceback on the terminal.
    """
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if niceness and hasattr(os, "nice"):
        with contextlib.suppress(OSError):
            os.nice(niceness)
    if parent is not None:
        end_with_parent(parent)


#: ``prctl(2)``'s option that asks for a signal when the parent ends (linux/prctl.h).
_PR_SET_PDEATHSIG: Final = 1
#: How often the fallback looks whether the parent is still there, in seconds.
PARENT_POLL: Final = 1.0


def end_with_parent(parent: int) -> None:
    """Exit when the process ``parent`` ends, even by ``kill -9``: a worker that outlived
    the bot would hold its memory forever, and keep multiprocessing's resource tracker
    alive (it reads until every worker has closed its pipe).

    On Linux the kernel signals at once (``PR_SET_PDEATHSIG``, with SIGUSR1: its handler
    exits only if the parent really is gone, since the kernel also signals when the
    *thread* that started the worker ends). Elsewhere, or if that fails, a daemon thread
    looks every :data:`PARENT_POLL` seconds whether the worker has been handed to
    another parent. Call it in the worker's main thread.
    """

    def parent_gone(_signum: int, _frame: FrameType | None) -> None:
        if os.getppid() != parent:
            os._exit(0)

    if not _ask_kernel(parent_gone):
        threading.Thread(
            target=_watch_parent, args=(parent,), name="watch-parent", daemon=True
        ).start()
    if os.getppid() != parent:  # it ended before we asked
        os._exit(0)


def _ask_kernel(handler: Callable[[int, FrameType | None], None]) -> bool:
    """Ask Linux for SIGUSR1 when the parent ends; whether it agreed."""
    if not sys.platform.startswith("linux"):
        return False
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        signal.signal(signal.SIGUSR1, handler)
        return bool(libc.prctl(_PR_SET_PDEATHSIG, signal.SIGUSR1, 0, 0, 0) == 0)
    except (OSError, AttributeError, ValueError):
        return False


def _watch_parent(parent: int) -> None:
    while os.getppid() == parent:
        time.sleep(PARENT_POLL)
    os._exit(0)


def warm_up() -> int:
    """Load fonts and mathtext in this worker; returns its process id."""
    from bot.render.formula import render_formula

    render_formula("x", DEFAULT_STYLE)
    return os.getpid()
