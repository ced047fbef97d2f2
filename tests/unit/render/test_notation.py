"""bot.render.notation: names and dimensions as mathtext, dimensions as example sizes."""

from __future__ import annotations

import pytest

from bot.render.notation import Dim, dim_math, math_name, neutral_cells, resolve_dim


def test_dimension_arithmetic() -> None:
    assert resolve_dim("d_model/h", {"d_model": 8, "h": 2}).size == 4
    assert resolve_dim("h*d_v", {"h": 8, "d_v": 2}) == resolve_dim("h*d_v", {"h": 8, "d_v": 2})
    assert resolve_dim("h*d_v", {"h": 8, "d_v": 2}).size == 16
    assert resolve_dim("d_k+d_v", {"d_k": 4, "d_v": 3}).size == 7
    assert resolve_dim("1", {}).known and resolve_dim("1", {}).label == "$1$"
    assert dim_math("h*d_v") == r"h \cdot d_{v}"
    assert math_name("d_model") == "d_{model}"
    assert math_name("K_j^T") == "K_{j}^{T}"


def test_unknown_names_get_a_default_guess() -> None:
    assert resolve_dim("n", {}) == Dim("n", 6, known=False)
    assert resolve_dim("B", {}).size == 3
    assert resolve_dim("d_k", {}).size == 4
    assert resolve_dim("h", {}).size == 2 and resolve_dim("h", {}, heads=8).size == 8
    # A size that is not a whole number is rounded, and no longer counts as known.
    assert resolve_dim("d/3", {"d": 8}) == Dim("d/3", 3, known=False)


def test_an_unknown_dimension_has_no_size_of_its_own() -> None:
    assert resolve_dim("?", {"n": 6}) == Dim("?", 1, known=False, unknown=True)
    assert resolve_dim("h*?", {"h": 3}).unknown
    assert resolve_dim("?", {}).label == "$?$"
    assert dim_math("h*?") == r"h \cdot ?"
    assert not resolve_dim("d_k", {}).unknown


def test_dim_labels_and_drawn_cells() -> None:
    assert Dim("d_k", 4, known=True).label == "$d_{k} = 4$"
    assert Dim("d_k", 4, known=False).label == "$d_{k}$"
    assert Dim("d_model", 512, known=True).cells == 512
    assert Dim("d_model", 512, known=True, drawn=32).cells == 32


def test_names_in_mathtext() -> None:
    assert math_name("Q") == "Q"
    assert math_name("K^T") == "K^{T}"
    assert math_name("W_Q") == "W_{Q}"
    assert math_name("softmax") == r"\mathrm{softmax}"
    assert dim_math("d_model/h") == "d_{model}/h"
    assert dim_math("d_k+d_v") == "d_{k} + d_{v}"


@pytest.mark.parametrize(
    ("known", "cells"), [(set(), 3), ({4, 6}, 5), ({4, 5, 6}, 7), ({6, 8, 4}, 7), ({1}, 2)]
)
def test_neutral_cells_never_equal_a_known_dimension(known: set[int], cells: int) -> None:
    assert neutral_cells(known) == cells
    assert cells not in known
