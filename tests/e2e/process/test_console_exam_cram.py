"""/exam and /cram in the console, as a user runs it: ``python -m bot console`` on a pipe."""

from __future__ import annotations

import sqlite3
from pathlib import Path

from tests.e2e.process.test_console_process import run_console


def test_exam_and_cram_in_a_scripted_session(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "/review",
            "",  # Enter: show the answer
            "3",  # Good: one card studied
            "/exam",
            "/exam 2000-01-01",
            "/exam soonish",
            "/exam in 3 weeks nosuchtopic",
            "/exam in 3 weeks attention",
            "/exam target 150",
            "/exam target 0.95",
            "/cram attention",
            "",  # show the answer
            "1",  # Again, as practice
            "/review",
            "/exam off",
            "/help",
            "/quit",
        ]
    )
    result = run_console(tmp_path, script + "\n", "--user", "tester")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    assert "No exam set. Set one and, until that day," in out
    assert "has passed. Give a date after today" in out
    assert "I couldn't read “soonish” as a date." in out
    assert "I don't know the topic “nosuchtopic”." in out
    assert "Exam set: " in out and "(in 21 days), covering attention, target recall 90%." in out
    assert "A target is the recall you want on the day, from 70% to 99%" in out
    assert "target recall 95%" in out
    assert "Cram: 67 cards of attention, lowest recall first." in out
    assert "[1] Again   [2] Hard   [3] Good   [4] Easy" in out
    assert "Again (practice: the schedule is unchanged)." in out
    assert "Cram · attention · card 2 of 67." in out
    assert "Exam cleared: every card is back on its usual schedule." in out
    assert "/cram [TOPIC]" in out

    db = sqlite3.connect(tmp_path / "studybot.sqlite3")
    try:
        rows = db.execute("SELECT rating, source FROM review_logs ORDER BY id").fetchall()
        assert rows == [(3, "console"), (1, "cram")]
        (state,) = db.execute("SELECT card_id, reps, stability FROM card_states").fetchall()
        assert state[1] == 1  # the practice rating left the studied card as it was
    finally:
        db.close()
