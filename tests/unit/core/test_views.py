"""Tests for bot.core.views: when a card's back is long enough that its front offers the
review page of the browser workspace."""

from __future__ import annotations

import pytest

from bot.core.model import CardInfo
from bot.core.views import LONG_BACK, front_workspace, long_back


def card(back: str) -> CardInfo:
    return CardInfo("c1", "deck", "Deck", "Title", "Front", back)


@pytest.mark.parametrize(
    ("back", "long"),
    [
        ("", False),
        ("Short.", False),
        ("x" * (LONG_BACK - 1), False),
        ("x" * LONG_BACK, True),
        ("x" * (LONG_BACK * 10), True),
        ("Inline math $a^2$ only.", False),
        ("A display formula: $$\\sum_i x_i$$", True),
    ],
)
def test_a_long_back_is_long_by_length_or_display_math(back: str, long: bool) -> None:
    assert long_back(card(back)) is long
    assert front_workspace(card(back)) == ("review" if long else None)
