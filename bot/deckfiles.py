"""Reading deck files from disk (the core parses text; this module finds and reads files)."""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import replace
from importlib import resources
from pathlib import Path
from typing import Final

from bot.core.challenges.definitions import (
    ChallengeSet,
    check_challenge_links,
    is_challenge_file,
    parse_challenge_set,
)
from bot.core.decks import Deck, DeckError, DeckSet, check_deck_set, parse_deck

log = logging.getLogger(__name__)

#: The decks that ship with the bot, inside the package (``bot/decks/``; the format is
#: documented in its README.md). pip installs a package as files, so this is a real folder.
SHIPPED_DECKS: Final = Path(str(resources.files("bot") / "decks"))


def deck_files(paths: Iterable[Path]) -> tuple[list[Path], list[DeckError]]:
    """Expand files and folders into deck files (``*.md`` except README.md), sorted.

    A file reached twice (a folder named twice, or a folder and a file in it) is
    listed once, as first reached.
    """
    files: dict[Path, Path] = {}  # the file's real path -> the path it was reached by
    errors: list[DeckError] = []
    for path in paths:
        if path.is_dir():
            found = [
                p
                for p in sorted(path.rglob("*.md"))
                if p.name.lower() != "readme.md" and p.is_file()
            ]
        elif path.is_file():
            found = [path]
        else:
            errors.append(DeckError(str(path), 0, "no such file or folder"))
            continue
        for file in found:
            files.setdefault(file.resolve(), file)
    return list(files.values()), errors


def load_decks(paths: Iterable[Path]) -> DeckSet:
    """Read and check every deck and challenge set under ``paths``.

    Problems are collected (file and line), never raised. Challenge files
    (``# Challenge set: ...``) are checked against the cards of every deck read.
    """
    files, errors = deck_files(paths)
    decks: list[Deck] = []
    sets: list[ChallengeSet] = []
    for file in files:
        try:
            text = file.read_text(encoding="utf-8-sig")
        except (OSError, UnicodeDecodeError) as exc:
            errors.append(DeckError(str(file), 0, f"cannot read the file: {exc}"))
            continue
        if is_challenge_file(text):
            challenge_set, errs = parse_challenge_set(text, str(file))
            errors.extend(errs)
            if challenge_set is not None:
                sets.append(challenge_set)
            continue
        deck, errs = parse_deck(text, str(file))
        errors.extend(errs)
        if deck is not None:
            decks.append(deck)
    result = check_deck_set(decks, errors)
    if sets:
        card_ids = {card.id for card in result.cards()}
        link_errors = check_challenge_links(sets, card_ids)
        result = replace(
            result,
            errors=tuple(sorted((*result.errors, *link_errors), key=lambda e: (e.path, e.line))),
            challenge_sets=tuple(sets),
        )
    log.debug(
        "loaded %d decks, %d challenge sets, %d problems",
        len(result.decks),
        len(result.challenge_sets),
        len(result.errors),
    )
    return result
