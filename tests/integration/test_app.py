"""build_app on a real SQLite file: the decks a config names, checked before they are synced."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select

from bot.app import build_app
from bot.config import ConfigError, load_settings
from bot.deckfiles import SHIPPED_DECKS, load_decks
from bot.interop.anki_import import read_file
from bot.storage.database import SqlDatabase
from bot.storage.tables import decks


def config(folder: Path, decks_section: str) -> Path:
    path = folder / "config.toml"
    path.write_text(f'[bot]\ndata_dir = "state"\n\n[decks]\n{decks_section}\n', encoding="utf-8")
    return path


async def test_naming_the_shipped_folder_again_loads_each_deck_once(tmp_path: Path) -> None:
    settings = load_settings(config(tmp_path, f'paths = ["{SHIPPED_DECKS.as_posix()}"]'), env={})
    assert settings.decks.paths == (SHIPPED_DECKS, SHIPPED_DECKS)
    app = await build_app(settings, auto_upgrade=True)
    try:
        assert app.decks.errors == ()
        shipped = load_decks([SHIPPED_DECKS])
        assert [d.id for d in app.decks.decks] == [d.id for d in shipped.decks]
        assert len(app.decks.challenge_sets) == len(shipped.challenge_sets)
        assert app.study.reader is read_file  # files learners send are read
    finally:
        await app.close()


async def test_default_may_name_a_deck_or_a_tag(tmp_path: Path) -> None:
    settings = load_settings(config(tmp_path, 'default = ["attention", "similarity"]'), env={})
    app = await build_app(settings, auto_upgrade=True)
    await app.close()
    assert "similarity" not in [d.id for d in app.decks.decks]  # a tag of attention's cards


async def test_an_unknown_default_deck_stops_start_up_before_the_sync(tmp_path: Path) -> None:
    path = config(tmp_path, 'default = ["attention", "nope"]')
    settings = load_settings(path, env={})
    with pytest.raises(ConfigError) as info:
        await build_app(settings, auto_upgrade=True)
    assert str(info.value) == (
        f'{path.resolve()}: [decks] default: "nope" is no deck or tag '
        "(decks loaded: attention, transformers)"
    )
    assert info.value.key == "default"

    db = SqlDatabase(settings.database.url)
    try:

        def count(conn: Connection) -> int:
            return int(conn.execute(select(func.count()).select_from(decks)).scalar_one())

        assert await db.run_connection(count) == 0, "nothing was synced"
    finally:
        await db.dispose()
