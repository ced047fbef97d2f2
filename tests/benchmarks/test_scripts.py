"""Every benchmark script still loads against the bot as it is.

The benchmarks are run by hand, not by the suite, so a change to an API they use
would otherwise go unnoticed until the next measurement (``review_path.py`` once
imported a class that had been removed). ``--help`` imports the whole script and
its imports from ``bot`` and ``tests``, and runs nothing.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

BENCHMARKS = Path(__file__).resolve().parents[2] / "benchmarks"


@pytest.mark.parametrize("script", sorted(p.name for p in BENCHMARKS.glob("*.py")))
def test_the_script_loads(script: str) -> None:
    done = subprocess.run(
        [sys.executable, str(BENCHMARKS / script), "--help"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    assert "usage:" in done.stdout


def test_a_tiny_web_load_run_ends_with_the_figures_as_json() -> None:
    """``web_load.py`` with five learners for two seconds: the real ``studybot run`` with
    ``[web]`` on, sign-in, the challenge page, drafts and reviews over HTTP. The figures
    of so small a run mean nothing; what is checked is that every step ran and was
    answered, and that the script ends with its JSON line."""
    done = subprocess.run(
        [
            sys.executable,
            str(BENCHMARKS / "web_load.py"),
            *("--learners", "5", "--pace", "0.05", "--seconds", "2", "--warmup", "0.5"),
            "--no-prerender",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert figures["signin"]["count"] == 5
    for kind in ("challenge", "draft", "review", "reveal", "rate"):
        assert figures["by_kind"][kind]["per_s"] > 0, kind
    assert figures["failures"] == {}
    assert figures["status_429"] == 0
    assert figures["server_errors"] == 0
    assert figures["exit_code"] == 0
    assert figures["cpu_ms_per_request"] > 0
    assert figures["rss_main_mb"] > 0
    assert figures["page_bytes"] > figures["page_bytes_by_file"]["/app?open=review"] > 0
    assert figures["vendor_bytes"] > 0
