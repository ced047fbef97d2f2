"""``studybot import``: a file into one learner's own decks, from the command line.

The reader is a fake and the mapping (:func:`bot.core.importing.plan_import`, NOT real in
this branch) is monkeypatched to return a hand-made plan; the database is a real SQLite
file.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.cli import main
from bot.core import importing
from bot.core.ankifile import AnkiCollection, ImportRejected
from bot.core.importing import ImportPlan
from bot.core.model import Learner, LearnerSettings
from bot.interop import anki_import
from bot.storage.database import SqlDatabase
from tests.fakes.imports import FakeReader, history, plan, planned_card, planned_deck

T0 = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


def seeded(tmp_path: Path) -> tuple[Path, str]:
    """A SQLite database with learner 1; its config file and URL."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"

    async def seed() -> None:
        db = SqlDatabase(url)
        await db.upgrade()
        await db.run(lambda tx: tx.learners.create("tg", "1", "Ann", LearnerSettings(), (), T0))
        await db.dispose()

    asyncio.run(seed())
    config = tmp_path / "config.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    return config, url


def german(learner: Learner) -> ImportPlan:
    log, state = history(learner.id, "g1", [datetime(2026, 1, 1, tzinfo=UTC)])
    return plan(
        planned_deck("German", [planned_card("g1", state=state, reviews=log), "g2"], source_ref="7")
    )


@pytest.fixture
def reader(monkeypatch: pytest.MonkeyPatch) -> FakeReader:
    fake = FakeReader()
    monkeypatch.setattr(anki_import, "read_file", fake)

    def plan_import(collection: AnkiCollection, learner: Learner, now: datetime) -> ImportPlan:
        return german(learner)  # monkeypatched: a hand-made plan

    monkeypatch.setattr(importing, "plan_import", plan_import)
    return fake


def test_import_prints_the_summary_and_writes_the_deck(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reader: FakeReader
) -> None:
    config, url = seeded(tmp_path)
    package = tmp_path / "german.apkg"
    package.write_bytes(b"PK\x03\x04 German")
    args = ["import", "--config", str(config), "--learner", "1", str(package)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.startswith(
        "learner 1: Imported 'German' (u1-german): 2 cards (1 new, 1 with history), 1 review; "
        "1 due today.\n"
    )
    assert [(data, name) for data, name, _ in reader.calls] == [
        (b"PK\x03\x04 German", "german.apkg")
    ]

    async def look() -> tuple[int, int]:
        db = SqlDatabase(url)
        try:
            decks = await db.run(lambda tx: tx.personal.list(1))
            return decks[0].card_count, decks[0].reviews
        finally:
            await db.dispose()

    assert asyncio.run(look()) == (2, 1)
    assert main(args) == 0
    assert capsys.readouterr().out.startswith(
        "learner 1: Already imported: 'German' has no changes (2 cards, 1 review)."
    )


def test_import_names_what_stopped_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], reader: FakeReader
) -> None:
    config, _ = seeded(tmp_path)
    base = ["import", "--config", str(config), "--learner"]
    assert main([*base, "1", str(tmp_path / "missing.apkg")]) == 1
    assert capsys.readouterr().err.startswith(
        f"studybot: cannot read {tmp_path / 'missing.apkg'}: No such file or directory"
    )
    big = tmp_path / "big.apkg"
    with big.open("wb") as f:
        f.truncate(21 * 2**20)
    assert main([*base, "1", str(big)]) == 1
    assert capsys.readouterr().err.startswith(
        "studybot: That file is 21 MB; I can import files of up to 20 MB."
    )
    assert reader.calls == []
    package = tmp_path / "bad.apkg"
    package.write_bytes(b"not a zip")
    assert main([*base, "9", str(package)]) == 1
    assert capsys.readouterr().err.endswith("studybot: no learner 9\n")
    reader.result = ImportRejected("That file is not an Anki package: it is not a zip file.")
    assert main([*base, "1", str(package)]) == 1
    captured = capsys.readouterr()
    assert captured.err.endswith(
        "studybot: That file is not an Anki package: it is not a zip file.\n"
    )
    assert captured.out == ""
