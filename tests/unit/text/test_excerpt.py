"""Tests for bot.text.excerpt: quoting typed input back, short and on one line."""

from __future__ import annotations

from bot.text.excerpt import EXCERPT, excerpt


def test_short_text_is_kept_and_long_text_is_cut_with_an_ellipsis() -> None:
    assert excerpt("Atlantis/Lost_City") == "Atlantis/Lost_City"
    cut = excerpt("/x" + "y" * 4090)
    assert cut.startswith("/xyyy") and cut.endswith("…") and len(cut) == EXCERPT


def test_whitespace_collapses_and_invisible_characters_go() -> None:
    assert excerpt("  Europe/\u200bParis \n\n now\u202e ") == "Europe/Paris now"
    assert excerpt("\u200f\u200b\ufeff") == ""
    assert excerpt("مرحبا   بالعالم") == "مرحبا بالعالم"


def test_a_cut_never_separates_a_letter_from_its_combining_marks() -> None:
    text = "a" * 38 + "e\u0301\u0301" + "z" * 10
    cut = excerpt(text)
    assert cut == "a" * 38 + "…"
    assert excerpt("²³", 1) == "²"  # no room for an ellipsis
