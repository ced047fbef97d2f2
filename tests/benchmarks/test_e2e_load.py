"""A smoke run of benchmarks/e2e_load.py: the real bot process under a tiny crowd.

The figures of so small a run mean nothing; what is checked is that the script runs
against the bot as it is (seeding, the fake Bot API over HTTP, the learners' taps, the
/proc readings) and ends with its JSON line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "e2e_load.py"
KEYS = {
    "reviews_per_s",
    "answer_p99_ms",
    "e2e_p99_ms",
    "messages_per_review",
    "requests_per_review",
    "cpu_ms_per_review",
    "rss_mb",
    "startup_s",
}


def test_a_tiny_run_ends_with_the_figures_as_json() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            *("--learners", "500", "--simulated", "5", "--pace", "0.2"),
            *("--seconds", "2", "--warmup", "0.5"),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(figures) >= KEYS
    assert figures["reviews"] > 0
    assert figures["unanswered"] == 0
    assert figures["api_errors"] == 0
    assert figures["exit_code"] == 0
    assert figures["messages_per_review"] > 0
    assert figures["cpu_ms_per_review"] > 0
    assert figures["rss_mb"] > 0
