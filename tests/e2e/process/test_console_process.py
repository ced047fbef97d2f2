"""The console as a user runs it: `python -m bot console` with a scripted session."""

from __future__ import annotations

import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parents[3]


def studybot(
    *args: str, stdin: str | None = None, cwd: Path | str = REPO, **env_vars: str
) -> subprocess.CompletedProcess[str]:
    """``python -m bot ARGS`` from ``cwd`` (the repository by default), the clone's ``bot`` on
    the path whatever is installed, with no STUDYBOT_* variables but ``env_vars``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUDYBOT_")}
    env["PYTHONPATH"] = str(REPO)
    env.update(env_vars)
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        input=stdin,
        capture_output=True,
        text=True,
        cwd=cwd,
        env=env,
        timeout=120,
        check=False,
    )


def run_console(data_dir: Path, script: str, *extra: str) -> subprocess.CompletedProcess[str]:
    return studybot("console", "--data-dir", str(data_dir), *extra, stdin=script)


def test_scripted_session_reviews_undoes_and_persists(tmp_path: Path) -> None:
    script = "\n".join(
        [
            "/review",
            "",  # Enter: show the answer
            "3",  # Good
            "",
            "4",  # Easy
            "the dot product",  # a typed answer, then the back
            "1",  # Again
            "",
            "3",
            "/undo",  # undo the Good just given
            "/stats",
            "/settings timezone Not/AZone",
            "/settings timezone Europe/Paris",
            "/frobnicate",
            "/quit",
        ]
    )
    result = run_console(tmp_path, script + "\n", "--user", "tester")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Show answer" in out
    assert "[1] Again 1m" in out
    assert "Your answer:\n  the dot product" in out
    assert "Undid Good" in out
    assert "Reviewed today: 3" in out
    assert "is not a time zone I know" in out
    assert "timezone: Europe/Paris" in out
    assert "I don't know /frobnicate" in out
    assert "Traceback" not in out + result.stderr

    db = sqlite3.connect(tmp_path / "studybot.sqlite3")
    try:
        rows = db.execute(
            "SELECT rating, undone_at IS NOT NULL, source, typed_answer "
            "FROM review_logs ORDER BY id"
        ).fetchall()
        assert [(r[0], r[1]) for r in rows] == [(3, 0), (4, 0), (1, 0), (3, 1)]
        assert {r[2] for r in rows} == {"console"}
        assert rows[2][3] == "the dot product"
        learner = db.execute(
            "SELECT l.platform, l.platform_user_id, s.timezone FROM learners l "
            "JOIN learner_settings s ON s.learner_id = l.id"
        ).fetchall()
        assert learner == [("console", "tester", "Europe/Paris")]
        # The undone card is back to new: three cards have a schedule, not four.
        assert db.execute("SELECT count(*) FROM card_states").fetchone() == (3,)
        (version,) = db.execute("SELECT version_num FROM alembic_version").fetchone()
        assert version
    finally:
        db.close()

    # A second session continues from the same file.
    again = run_console(tmp_path, "/stats\n/quit\n", "--user", "tester")
    assert again.returncode == 0, again.stderr
    assert "Reviewed today: 3" in again.stdout


def test_run_without_a_token_says_what_to_do(tmp_path: Path) -> None:
    result = studybot("run", STUDYBOT_DATA_DIR=str(tmp_path))
    assert result.returncode == 2
    assert "studybot console" in result.stderr
    assert "STUDYBOT_TELEGRAM_TOKEN" in result.stderr


def test_bad_config_names_the_key(tmp_path: Path) -> None:
    config = tmp_path / "bad.toml"
    config.write_text('[study]\ndesired_retention = "high"\n')
    result = studybot("run", "--config", str(config))
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert "bad.toml" in lines[0] and "desired_retention" in lines[0]


def test_run_refuses_an_old_schema(tmp_path: Path) -> None:
    env = {
        "STUDYBOT_DATA_DIR": str(tmp_path),
        "STUDYBOT_TELEGRAM_TOKEN": "123456:SECRET-TOKEN-VALUE",
    }
    result = studybot("run", **env)
    assert result.returncode == 1
    assert "studybot db upgrade" in result.stderr
    assert "SECRET-TOKEN-VALUE" not in result.stderr + result.stdout

    upgrade = studybot("db", "upgrade", **env)
    assert upgrade.returncode == 0, upgrade.stderr
    assert re.search(r"schema empty -> \d{4}$", upgrade.stdout.strip())
