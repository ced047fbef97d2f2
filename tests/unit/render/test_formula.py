"""Tests for bot.render.formula: checking formulas and splitting long ones."""

from __future__ import annotations

from bot.render.formula import check_formula, render_formula, split_formula
from tests.unit.render.support import png_info


def test_check_formula() -> None:
    assert check_formula(r"\frac{a}{b}") is None
    assert check_formula(r"\foo") == r"Unknown symbol: \foo, found '\' (at column 1)"
    assert "frac" in (check_formula(r"\frac{a}") or "")
    message = check_formula(r"x^^2")
    assert message == "unexpected '^' (at column 2)"
    assert check_formula("  ") == "the formula is empty"


def test_long_formulas_split_at_quad() -> None:
    assert split_formula(r"a = 1, \quad b = \left(x \quad y\right), \qquad {c \quad d}") == [
        "a = 1",
        r"b = \left(x \quad y\right)",
        r"{c \quad d}",
    ]
    long = r"PE_{(pos, 2i)} = \sin(pos / 10000^{2i/d_{model}}), \quad PE_{(pos, 2i+1)} = \cos(pos)"
    data, width, height = render_formula(long)
    assert png_info(data) == (width, height) and width >= 800
