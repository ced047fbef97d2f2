"""A smoke run of benchmarks/discord_load.py: the Discord adapter under a tiny crowd.

The figures of so small a run mean nothing; what is checked is that the script runs
against the adapter as it is (seeding, the fake Discord, the learners' presses, the slow
channel) and ends with its JSON line, every interaction answered.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "discord_load.py"
KEYS = {
    "reviews_per_s",
    "ack_p50_ms",
    "ack_p99_ms",
    "others_ack_p99_ms",
    "e2e_p50_ms",
    "e2e_p99_ms",
    "messages_per_review",
    "cpu_ms_per_review",
    "unanswered",
    "targets_met",
}


def test_a_tiny_run_ends_with_the_figures_as_json() -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(SCRIPT),
            *("--learners", "20", "--simulated", "4", "--pace", "0.1"),
            *("--seconds", "1.5", "--warmup", "0.2", "--slow-ms", "300"),
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
    assert figures["violations"] == 0
    assert figures["messages_per_review"] > 0
    assert figures["cpu_ms_per_review"] > 0
    # The slow channel's presses were answered too, only later.
    assert figures["slow_e2e_p50_ms"] >= 300
