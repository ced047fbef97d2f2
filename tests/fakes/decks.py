"""Decks and cards with readable defaults, for tests."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import replace

from bot.core.choices import Choices
from bot.core.decks import CardDef, Deck, Difficulty
from bot.core.imagespec import ImageSpec


def make_card(
    card_id: str,
    deck_id: str = "deck",
    *,
    title: str | None = None,
    front: str | None = None,
    back: str | None = None,
    tags: Sequence[str] = (),
    difficulty: Difficulty = "medium",
    mnemonic: str | None = None,
    notes: str | None = None,
    front_image: ImageSpec | None = None,
    back_image: ImageSpec | None = None,
    choices: Choices | None = None,
) -> CardDef:
    """A :class:`CardDef` with readable defaults (front "Front of <id>", back "Back of <id>")."""
    return CardDef(
        id=card_id,
        deck_id=deck_id,
        title=title if title is not None else f"Title of {card_id}",
        front=front if front is not None else f"Front of {card_id}",
        back=back if back is not None else f"Back of {card_id}",
        tags=tuple(tags),
        difficulty=difficulty,
        mnemonic=mnemonic,
        notes=notes,
        front_image=front_image,
        back_image=back_image,
        choices=choices,
    )


def make_deck(
    deck_id: str,
    cards: Iterable[CardDef | str],
    *,
    title: str | None = None,
    description: str = "",
    tags: Sequence[str] = (),
) -> Deck:
    """A :class:`Deck` of these cards (a bare string is a card id), positions in order.

    Each card's ``deck_id`` is set to ``deck_id`` and its ``position`` to its index.
    """
    defs: list[CardDef] = []
    for position, item in enumerate(cards):
        card = make_card(item, deck_id) if isinstance(item, str) else item
        defs.append(replace(card, deck_id=deck_id, position=position))
    return Deck(
        id=deck_id,
        title=title if title is not None else deck_id.replace("-", " ").title(),
        path=f"decks/{deck_id}.md",
        cards=tuple(defs),
        description=description,
        tags=tuple(tags),
    )
