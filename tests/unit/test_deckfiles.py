"""Tests for bot.deckfiles: the shipped decks' folder, and a deck file reached twice."""

from __future__ import annotations

import shutil
from pathlib import Path

import bot
from bot.deckfiles import SHIPPED_DECKS, deck_files, load_decks


def test_the_shipped_decks_are_in_the_package() -> None:
    assert Path(bot.__file__).parent / "decks" == SHIPPED_DECKS
    assert (SHIPPED_DECKS / "README.md").is_file()
    assert [d.id for d in load_decks([SHIPPED_DECKS]).decks] == ["attention", "transformers"]


def test_a_file_reached_twice_is_read_once(tmp_path: Path) -> None:
    link = tmp_path / "linked"
    link.symlink_to(SHIPPED_DECKS, target_is_directory=True)
    once, _ = deck_files([SHIPPED_DECKS])
    files, errors = deck_files(
        [
            SHIPPED_DECKS,
            SHIPPED_DECKS,
            SHIPPED_DECKS / "attention.md",
            SHIPPED_DECKS / "reflection" / ".." / "transformers.md",
            link,
        ]
    )
    assert errors == []
    assert files == once, "each file once, as first reached"

    twice = load_decks([SHIPPED_DECKS, link])
    assert twice.errors == ()
    assert twice.decks == load_decks([SHIPPED_DECKS]).decks


def test_a_copy_of_a_deck_is_another_file_and_clashes(tmp_path: Path) -> None:
    shutil.copy(SHIPPED_DECKS / "attention.md", tmp_path / "attention.md")
    result = load_decks([SHIPPED_DECKS, tmp_path])
    [error] = result.errors
    assert error.path == str(tmp_path / "attention.md")
    assert error.message.startswith("duplicate deck id 'attention'")
