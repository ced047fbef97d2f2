"""Tests for bot.render.worker: every shipped card image renders to a valid PNG, once."""

from __future__ import annotations

import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from bot.core.rendering import RenderError
from bot.deckfiles import SHIPPED_DECKS, load_decks
from bot.render.style import DEFAULT_STYLE
from bot.render.worker import init_worker, render_card_image
from tests.unit.render.support import png_info

Png = tuple[bytes, int, int]


@pytest.fixture(scope="module")
def shipped() -> dict[tuple[str, str], Png]:
    """Every distinct image of the shipped decks, rendered once for the whole module."""
    deck_set = load_decks([SHIPPED_DECKS])
    assert deck_set.ok, deck_set.errors
    specs = {(i.kind, i.source): None for c in deck_set.cards() for _, i in c.images()}
    return {spec: render_card_image(*spec) for spec in specs}


def test_shipped_decks_have_both_kinds_of_image(shipped: dict[tuple[str, str], Png]) -> None:
    kinds = [kind for kind, _ in shipped]
    assert kinds.count("shape") >= 15 and kinds.count("formula") >= 25


def test_every_shipped_image_is_a_valid_png_of_the_expected_size(
    shipped: dict[tuple[str, str], Png],
) -> None:
    for (kind, spec), (data, width, height) in shipped.items():
        assert png_info(data) == (width, height), spec
        assert DEFAULT_STYLE.width <= width <= DEFAULT_STYLE.max_width, (kind, spec, width)
        assert 250 <= height <= 1200, (kind, spec, height)
        assert width / height <= 4.5, (kind, spec)  # not a thin strip on a phone


def test_distinct_specs_give_distinct_images(shipped: dict[tuple[str, str], Png]) -> None:
    images = [data for data, _, _ in shipped.values()]
    assert len(set(images)) == len(images)


def test_rendering_is_deterministic(shipped: dict[tuple[str, str], Png]) -> None:
    spec = ("shape", "Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4")
    assert render_card_image(*spec)[0] == shipped[spec][0]


def test_show_modes_change_the_picture() -> None:
    base = "softmax(mask(Q[n,d_k] @ K^T[d_k,n] / sqrt(d_k))) -> A[n,n]; n=5, d_k=4, mask=causal"
    images = {
        render_card_image("shape", f"{base}, show={m}")[0] for m in ("shape", "values", "heat")
    }
    assert len(images) == 3


def test_a_bad_spec_is_a_render_error() -> None:
    with pytest.raises(RenderError, match="inner dimensions"):
        render_card_image("shape", "Q[n,d_k] @ K[n,d_k]")
    with pytest.raises(RenderError, match=r"Unknown symbol: \\foo"):
        render_card_image("formula", r"\foo x")
    with pytest.raises(RenderError, match="starts with 'shape' or 'formula'"):
        render_card_image("chart", "x")


def test_a_worker_ignores_sigint() -> None:
    """Ctrl-C in a terminal signals the workers too: they leave stopping to their owner
    (no worker dies mid-job with a traceback on the terminal)."""
    before = signal.getsignal(signal.SIGINT)
    try:
        init_worker(niceness=0)
        assert signal.getsignal(signal.SIGINT) is signal.SIG_IGN
    finally:
        signal.signal(signal.SIGINT, before)


#: A parent that starts an orphan-to-be (a worker calling ``end_with_parent``), waits
#: until it is ready, prints its pid and exits, as a bot killed with SIGKILL does.
_PARENT = """
import os, subprocess, sys
child = subprocess.Popen(
    [sys.executable, "-c", sys.argv[1], str(os.getpid())], stdout=subprocess.PIPE, text=True
)
print(child.pid, child.stdout.readline().strip(), flush=True)
"""
_WORKER = """
import sys, time
from bot.render import worker
if {fallback}:
    worker._ask_kernel = lambda handler: False
    worker.PARENT_POLL = 0.05
worker.end_with_parent(int(sys.argv[1]))
print("ready", flush=True)
time.sleep(60)
"""


def _alive(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0]
    except OSError:
        return False
    return state not in ("Z", "X")


@pytest.mark.skipif(not Path("/proc/self/stat").exists(), reason="reads /proc")
@pytest.mark.parametrize("fallback", [False, True], ids=["kernel", "watching"])
def test_a_worker_ends_when_its_parent_does(fallback: bool) -> None:
    """Linux signals the worker when its parent ends (``PR_SET_PDEATHSIG``); elsewhere a
    thread notices it has a new parent. Either way the worker exits."""
    code = _WORKER.format(fallback=fallback)
    parent = subprocess.run(
        [sys.executable, "-c", _PARENT, code], capture_output=True, text=True, timeout=30
    )
    pid, ready = parent.stdout.split()
    assert ready == "ready", parent.stderr
    orphan = int(pid)
    deadline = time.monotonic() + 20
    while _alive(orphan):
        assert time.monotonic() < deadline, "the worker outlived its parent"
        time.sleep(0.02)
