"""How cards and choices become what learners see: card views, buttons, the rating row."""

from __future__ import annotations

from datetime import timedelta
from typing import Final

from bot.core import srs
from bot.core.actions import Action, DeckChoice, Setup
from bot.core.messages import REVIEW_WORKSPACE, Button, ButtonStyle, CardView
from bot.core.model import RATING_NAMES, CardInfo


def card_view(card: CardInfo, *, back: bool, typed: str | None = None) -> CardView:
    """The card as shown: front only, or front and back (with mnemonic, notes, typed answer).

    The front comes with the front's image only, the back with the back's image only:
    an image never shows the answer beside the question, and a back never passes off
    the question's image as its own.
    """
    return CardView(
        card_id=card.id,
        deck_title=card.deck_title,
        title=card.title,
        front=card.front,
        back=card.back if back else None,
        mnemonic=card.mnemonic if back else None,
        notes=card.notes if back else None,
        typed_answer=typed if back else None,
        front_image=None if back else card.front_image,
        back_image=card.back_image if back else None,
    )


LONG_BACK: Final = 400
"""A card's back this many characters long or longer is a long back: its front offers the
review page of the browser workspace (:func:`front_workspace`), where it is typeset with
room to read. A back holding display math (``$$``) counts as long whatever its length."""


def long_back(card: CardInfo) -> bool:
    """Whether the card's back is long (:data:`LONG_BACK`): at least that many characters,
    or display math (``$$``) anywhere in it."""
    return len(card.back) >= LONG_BACK or "$$" in card.back


def front_workspace(card: CardInfo) -> str | None:
    """The workspace a card's front offers: the review page when its back is long
    (:func:`long_back`), else none."""
    return REVIEW_WORKSPACE if long_back(card) else None


def button(
    label: str, action: Action | Setup | DeckChoice, style: ButtonStyle = "secondary"
) -> Button:
    """A button that sends ``action`` back when pressed (a choice in a menu: ``setup``)."""
    kind = action.kind if isinstance(action, Action) else "setup"
    return Button(label, action.encode(), kind, style)


def rating_buttons(token: str, intervals: dict[int, timedelta]) -> tuple[Button, ...]:
    """ "Again 1m", "Hard 6m", "Good 10m", "Easy 4d", each carrying its rating."""
    return tuple(
        button(
            f"{RATING_NAMES[r]} {srs.format_interval(intervals[r])}",
            Action("rate", token, r),
            "danger" if r == 1 else "primary",
        )
        for r in (1, 2, 3, 4)
    )


def practice_buttons(token: str) -> tuple[Button, ...]:
    """The rating row of a practice card (/cram): the ratings without intervals, since
    practice schedules nothing."""
    return tuple(
        button(RATING_NAMES[r], Action("rate", token, r), "danger" if r == 1 else "primary")
        for r in (1, 2, 3, 4)
    )
