"""The console as a user runs it: `python -m bot console` with a scripted session on a
pipe, SIGINT, and sessions in a pseudo-terminal (styled, wrapped, edited, Ctrl-C, Ctrl-D)."""

from __future__ import annotations

import asyncio
import os
import re
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

from tests.e2e.process.terminal import PtyConsole, screen_text

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


# --------------------------------------------------------------------------- a pipe, a terminal

ESC = "\x1b"
GOODBYE = "Bye. Your progress is saved."


def test_piped_output_is_plain_text_with_the_goodbye(tmp_path: Path) -> None:
    images = tmp_path / "images"
    script = "/decks shapes\n/review\n\n/quit\n"
    result = run_console(tmp_path / "data", script, "--user", "pipe", "--images", str(images))
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert ESC not in out  # no colour, no cursor movement: plain text
    assert "**" not in out and "$" not in out  # markdown and LaTeX rendered
    assert out.rstrip().endswith(GOODBYE)
    # Not wrapped when piped: a paragraph of the card is one line.
    assert (
        "  K = X W_K: every token's embedding is multiplied by the same learned matrix W_K, "
        "so row j of K is token j's key.\n"
    ) in out
    # The card's answer image as text, its file written, and the card id as a footer.
    assert "  Shapes: X [n×d_model] · W_K [d_model×d_k] → K [n×d_k]" in out
    png = images / "att-keys-from-x.png"
    assert f"  Image file: {png}" in out
    assert png.read_bytes().startswith(b"\x89PNG")
    assert any(line.strip() == "att-keys-from-x" for line in out.splitlines())
    assert "Traceback" not in out + result.stderr


async def test_sigint_on_a_pipe_leaves_at_once_with_the_goodbye(tmp_path: Path) -> None:
    """Waiting for the next line on a pipe, SIGINT ends the session: goodbye, exit 0."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUDYBOT_")}
    env["PYTHONPATH"] = str(REPO)
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        "console",
        "--data-dir",
        str(tmp_path / "data"),
        "--user",
        "sig",
        stdin=asyncio.subprocess.PIPE,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
        cwd=tmp_path,
        env=env,
    )
    assert proc.stdin is not None and proc.stdout is not None and proc.stderr is not None
    try:
        proc.stdin.write(b"/review\n")
        await proc.stdin.drain()
        shown = await asyncio.wait_for(proc.stdout.readuntil(b"[Enter] Show answer"), 30)
        assert b"att-purpose" in shown
        proc.send_signal(signal.SIGINT)  # the console now waits for the next line
        began = time.monotonic()
        code = await asyncio.wait_for(proc.wait(), 5)
        took = time.monotonic() - began
        rest = (await proc.stdout.read()).decode()
        errors = (await proc.stderr.read()).decode()
    finally:
        if proc.returncode is None:
            proc.kill()
            await proc.wait()
    assert code == 0, errors
    assert rest.rstrip().endswith(GOODBYE)
    assert "Traceback" not in errors and "KeyboardInterrupt" not in errors
    assert took < 3, f"SIGINT took {took:.1f}s to end the console"


def test_a_terminal_session_styles_wraps_edits_and_leaves_on_ctrl_c(tmp_path: Path) -> None:
    data = tmp_path / "data"
    with PtyConsole(["--data-dir", str(data), "--user", "tty"], tmp_path, columns=50) as tty:
        tty.expect("/quit to leave.")
        tty.expect("> ")
        # /reviw, left arrow, e: the arrow moves the cursor (readline), the line is /review.
        tty.send("/reviw\x1b[De\r")
        card = tty.expect("[Enter] Show answer")
        assert "I don't know" not in card
        assert "Attention, one step at a time · What attention" in card
        tty.expect("> ")
        tty.send("\r")  # Enter: the answer
        back = tty.expect("[4] Easy")
        lines = [line for line in back.splitlines() if line.strip()]
        assert "  It lets the token gather information from the" in lines
        assert all(len(line) <= 50 for line in lines), lines  # wrapped to the pty's width
        assert any(line.strip() == "att-purpose" for line in lines)  # the footer
        styled = tty.output
        assert f"{ESC}[1mAnswer:{ESC}[0m" in styled  # bold on a terminal
        assert f"{ESC}[2matt-purpose{ESC}[0m" in styled  # the footer, dim
        tty.expect("> ")
        tty.send("/rev")  # typed, not sent: Ctrl-C leaves from the middle of a line
        tty.send("\x03")
        began = time.monotonic()
        tty.expect(GOODBYE, seconds=5)
        assert tty.wait() == 0
        assert time.monotonic() - began < 3
        assert "Traceback" not in screen_text(tty.output)
    # What was typed is kept for the next session's history (the Up arrow).
    assert (data / "console-history").read_text().splitlines() == ["/review"]


def test_ctrl_d_at_the_prompt_says_goodbye(tmp_path: Path) -> None:
    with PtyConsole(["--data-dir", str(tmp_path / "data"), "--user", "eof"], tmp_path) as tty:
        tty.expect("> ")
        tty.send("\x04")
        tty.expect(GOODBYE)
        assert tty.wait() == 0
