"""Every benchmark script still loads against the bot as it is.

The benchmarks are run by hand, not by the suite, so a change to an API they use
would otherwise go unnoticed until the next measurement (``review_path.py`` once
imported a class that had been removed). ``--help`` imports the whole script and
its imports from ``bot`` and ``tests``, and runs nothing.
"""

from __future__ import annotations

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
