"""``studybot export``: one learner's history as CSV, or their cards as an Anki package."""

from __future__ import annotations

import asyncio
import zipfile
from collections.abc import Sequence
from datetime import timedelta
from pathlib import Path

import pytest

from bot.cli import main
from bot.core.decks import Deck
from bot.core.imagespec import parse_image_spec
from bot.core.interop import AnkiPackage
from bot.interop import anki_export as interop
from bot.storage.database import SqlDatabase
from tests.fakes.clock import FixedClock
from tests.fakes.decks import make_card, make_deck
from tests.services import build_services
from tests.unit.interop.history import START, decks, study
from tests.unit.interop.test_anki_export_media import in_anki


def seeded(tmp_path: Path, cards: Sequence[Deck] | None = None) -> Path:
    """A SQLite database where Alice studied ``cards`` (the history's decks by default)
    for a week; its config file (with the data folder in ``tmp_path``)."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'bot.sqlite3'}"

    async def seed() -> None:
        db = SqlDatabase(url)
        await db.upgrade()
        studied = list(cards) if cards is not None else decks()
        await db.run(lambda tx: tx.catalogue.sync(studied, START - timedelta(days=1)))
        services = build_services(db, FixedClock(START), topics=("attention", "transformers"))
        await study(services, 7)
        await db.dispose()

    asyncio.run(seed())
    config = tmp_path / "config.toml"
    config.write_text(
        f'[bot]\ndata_dir = "{tmp_path / "data"}"\n[database]\nurl = "{url}"\n',
        encoding="utf-8",
    )
    return config


def test_export_writes_csv_and_apkg(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = seeded(tmp_path)
    csv_path = tmp_path / "h.csv"
    args = ["export", "--config", str(config), "--learner", "1"]
    assert main([*args, "--format", "csv", "--out", str(csv_path)]) == 0
    lines = csv_path.read_text(encoding="utf-8").splitlines()
    assert lines[0].startswith("reviewed_at,card_id,rating") and len(lines) > 20
    assert capsys.readouterr().out == (
        f"learner 1: review history (CSV, times in UTC) written to {csv_path} "
        f"({csv_path.stat().st_size:,} bytes)\n"
    )

    pytest.importorskip("anki")
    apkg = tmp_path / "a.apkg"
    assert main([*args, "--out", str(apkg)]) == 0
    assert "collection.anki21b" in zipfile.ZipFile(apkg).namelist()
    assert capsys.readouterr().out.startswith(f"learner 1: Anki package written to {apkg} (")


def test_export_names_a_missing_learner_and_a_missing_library(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    config = seeded(tmp_path)
    args = ["export", "--config", str(config), "--format", "csv", "--learner"]
    assert main([*args, "9"]) == 1
    assert capsys.readouterr().err.endswith("studybot: no learner 9\n")
    monkeypatch.setattr(interop, "_installed", lambda name: False)
    assert main(["export", "--config", str(config), "--learner", "1"]) == 1
    assert "pip install 'studybot[anki]'" in capsys.readouterr().err


def test_export_draws_the_cards_images_into_the_package(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    pytest.importorskip("anki")
    formula = parse_image_spec("formula a^2 + b^2 = c^2")
    pictured = make_deck(
        "attention",
        [make_card(f"a{i}", back_image=formula if i == 0 else None) for i in range(3)],
    )
    config = seeded(tmp_path, [pictured, *decks()[1:]])
    apkg = tmp_path / "a.apkg"
    assert main(["export", "--config", str(config), "--learner", "1", "--out", str(apkg)]) == 0
    assert capsys.readouterr().out.startswith(
        f"learner 1: Anki package with 1 image written to {apkg} ("
    )
    anki = in_anki(tmp_path / "anki", AnkiPackage("a.apkg", apkg.read_bytes(), True))
    [(name, data)] = anki.files.items()
    assert data.startswith(b"\x89PNG") and f'<img src="{name}"' in anki.fields["a0"][1]
    # Drawn through the bot's disk cache: the bot shows it without drawing it again.
    [cached] = (tmp_path / "data" / "render-cache").glob("**/*.png")
    assert cached.read_bytes() == data
