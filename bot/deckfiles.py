"""Reading deck files from disk (the core parses text; this module finds and reads files)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from pathlib import Path

from bot.core.decks import Deck, DeckError, DeckSet, check_deck_set, parse_deck

log = logging.getLogger(__name__)


def deck_files(paths: Iterable[Path]) -> tuple[list[Path], list[DeckError]]:
    """Expand files and folders into deck files (``*.md`` except README.md), sorted."""
    files: list[Path] = []
    errors: list[DeckError] = []
    for path in paths:
        if path.is_dir():
            files.extend(
                p
                for p in sorted(path.rglob("*.md"))
                if p.name.lower() != "readme.md" and p.is_file()
            )
        elif path.is_file():
            files.append(path)
        else:
            errors.append(DeckError(str(path), 0, "no such file or folder"))
    return list(dict.fromkeys(files)), errors


def load_decks(paths: Iterable[Path]) -> DeckSet:
    """Read and check every deck under ``paths``; problems are collected, never raised."""
    files, errors = deck_files(paths)
    decks: list[Deck] = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(DeckError(str(file), 0, f"cannot read the file: {exc}"))
            continue
        deck, errs = parse_deck(text, str(file))
        errors.extend(errs)
        if deck is not None:
            decks.append(deck)
    result = check_deck_set(decks, errors)
    log.debug("loaded %d decks, %d problems", len(result.decks), len(result.errors))
    return result
