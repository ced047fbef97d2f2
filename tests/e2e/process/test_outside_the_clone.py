"""``python -m bot`` started outside the clone, with a config file kept in a folder of its own.

Nothing is installed here (the clone's ``bot`` is on ``PYTHONPATH``): what is checked is that
the bot finds its shipped decks and migrations in its package, whatever the working
directory, and takes the config's relative paths from the config's folder. ``.ci/run``
checks the same from a wheel installed in a fresh virtual environment.
"""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from bot.core.study import NO_DECKS_TEXT
from tests.e2e.process.test_console_process import studybot

MY_DECK = """# My own deck
description: The operator's deck, beside the shipped ones.

## The softmax temperature
id: mine-temperature

### Front
What does dividing the logits by a temperature above 1 do to the softmax?

### Back
It flattens it: the weights move towards uniform.
"""


@pytest.fixture
def srv(tmp_path: Path) -> Path:
    """The operator's folder: a config, their own decks, and (once used) the state."""
    folder = tmp_path / "srv"
    (folder / "my-decks").mkdir(parents=True)
    (folder / "my-decks" / "mine.md").write_text(MY_DECK, encoding="utf-8")
    return folder


@pytest.fixture
def elsewhere(tmp_path: Path) -> Path:
    """Where the commands are started: neither the clone nor the config's folder."""
    folder = tmp_path / "elsewhere"
    folder.mkdir()
    return folder


def write_config(srv: Path, decks: str) -> Path:
    path = srv / "config.toml"
    path.write_text(
        f'[bot]\ndata_dir = "state"\n\n'
        f'[telegram]\nbase_url = "http://127.0.0.1:9/bot"\n'
        f'base_file_url = "http://127.0.0.1:9/file/bot"\n\n'
        f"[decks]\n{decks}\n",
        encoding="utf-8",
    )
    return path


def one_line(result: subprocess.CompletedProcess[str]) -> str:
    """The one line a failed start-up printed, besides any INFO log lines of its start."""
    assert result.returncode == 2, result.stderr
    assert "Traceback" not in result.stderr
    [line] = [line for line in result.stderr.splitlines() if " INFO " not in line]
    return line


def test_upgrade_then_study_the_shipped_and_the_operators_decks(srv: Path, elsewhere: Path) -> None:
    config = str(write_config(srv, 'paths = ["my-decks"]'))
    upgrade = studybot("db", "upgrade", "--config", config, cwd=elsewhere)
    assert upgrade.returncode == 0, upgrade.stderr
    assert (srv / "state" / "studybot.sqlite3").is_file()

    script = "/decks\n/decks mine\n/review\n\n3\n/quit\n"
    console = studybot("console", "--config", config, "--user", "op", stdin=script, cwd=elsewhere)
    assert console.returncode == 0, console.stderr
    out = console.stdout
    for title in ("Attention, one step at a time", "My own deck"):
        assert title in out
    assert "What does dividing the logits by a temperature" in out
    assert "It flattens it" in out
    assert "Good: " in out
    assert console.stderr == ""
    assert list(elsewhere.iterdir()) == [], "nothing is written where it was started"


def test_studybot_config_names_the_config_file(srv: Path, elsewhere: Path) -> None:
    """Without --config, STUDYBOT_CONFIG is read, a relative name from the current folder."""
    write_config(srv, 'paths = ["my-decks"]')
    upgrade = studybot("db", "upgrade", cwd=elsewhere, STUDYBOT_CONFIG="../srv/config.toml")
    assert upgrade.returncode == 0, upgrade.stderr
    assert str(srv / "state" / "studybot.sqlite3") in upgrade.stdout


def test_a_deck_path_that_does_not_exist_stops_start_up_in_one_line(
    srv: Path, elsewhere: Path
) -> None:
    config = write_config(srv, 'paths = ["decks"]')
    line = one_line(studybot("run", "--config", str(config), cwd=elsewhere))
    assert line == (
        f'studybot: config error: {config}: [decks] paths: "decks" does not exist '
        f"(looked for {(srv / 'decks').resolve()})"
    )


def test_an_unknown_default_deck_stops_start_up_in_one_line(srv: Path, elsewhere: Path) -> None:
    config = write_config(srv, 'paths = ["my-decks"]\ndefault = ["nope"]')
    token = {"STUDYBOT_TELEGRAM_TOKEN": "123456:AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"}
    assert studybot("db", "upgrade", "--config", str(config), cwd=elsewhere).returncode == 0
    line = one_line(studybot("run", "--config", str(config), cwd=elsewhere, **token))
    assert line == (
        f'studybot: config error: {config.resolve()}: [decks] default: "nope" is no deck or tag '
        "(decks loaded: attention, transformers, mine)"
    )


def test_review_without_any_deck_says_so(srv: Path, elsewhere: Path) -> None:
    config = str(write_config(srv, "shipped = false"))
    console = studybot("console", "--config", config, stdin="/review\n/quit\n", cwd=elsewhere)
    assert console.returncode == 0, console.stderr
    assert NO_DECKS_TEXT in console.stdout
    assert "learned" not in console.stdout
