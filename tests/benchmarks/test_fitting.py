"""A smoke run of benchmarks/fitting.py: synthetic learners, fits, the sweep, in seconds.

The figures of so small a run mean little; what is checked is that the script runs
against the fitting code as it is and ends with its JSON line.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SCRIPT = Path(__file__).resolve().parents[2] / "benchmarks" / "fitting.py"
KEYS = {"fit_5k_s", "logloss_fitted", "logloss_true", "logloss_default", "simulate_s"}


def test_a_quick_run_ends_with_the_figures_as_json() -> None:
    done = subprocess.run(
        [sys.executable, str(SCRIPT), "--quick"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    figures = json.loads(done.stdout.strip().splitlines()[-1])
    assert set(figures) >= KEYS
    assert 0 < figures["logloss_fitted"] < 1 and figures["simulate_s"] > 0
