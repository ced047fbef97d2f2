"""How the names and dimensions of a shape spec read, and how many cells they get.

Matrix names and dimensions become mathtext (:func:`math_name`,
:func:`dim_math`), and a dimension such as ``d_model/h`` gets its number of
cells from the spec's example sizes, or a default guess (:func:`resolve_dim`,
which gives a :class:`Dim`). A dimension the learner is asked for (``?``) has no
size of its own: the layout gives it a neutral one (:func:`neutral_cells`).
"""

from __future__ import annotations

import math
import re
from collections.abc import Collection
from dataclasses import dataclass

from bot.core.imagespec import is_unknown

__all__ = ["Dim", "dim_math", "math_name", "neutral_cells", "resolve_dim"]


@dataclass(frozen=True, slots=True)
class Dim:
    """One dimension of a block.

    Attributes:
        symbol: as written in the spec (``d_k``, ``h*d_v``, ``1``).
        size: the number of cells drawn.
        known: True when the size comes from the spec (a literal or example
            sizes for every name in it); False for a default guess.
        drawn: cells drawn when the diagram is scaled down (0: ``size`` cells).
        unknown: the learner is asked for it (``?``): its size is a neutral one, not
            the real one, and it is labelled ``?``.
    """

    symbol: str
    size: int
    known: bool
    drawn: int = 0
    unknown: bool = False

    @property
    def cells(self) -> int:
        """Cells drawn: the size, or fewer when a huge matrix is drawn scaled down."""
        return self.drawn or self.size

    @property
    def label(self) -> str:
        """The label drawn next to the block, in mathtext (``$d_k = 4$``)."""
        if self.symbol.isdigit():
            return f"${self.symbol}$"
        if self.known:
            return f"${dim_math(self.symbol)} = {self.size}$"
        return f"${dim_math(self.symbol)}$"


def math_name(name: str) -> str:
    """A matrix or dimension name in mathtext, without dollars.

    ``d_model`` -> ``d_{model}``, ``K^T`` -> ``K^{T}``, ``K_j^T`` -> ``K_{j}^{T}``.
    """
    transposed = name.endswith("^T")
    if transposed:
        name = name[:-2]
    base, _, sub = name.partition("_")
    out = base if len(base) == 1 else rf"\mathrm{{{base}}}"
    if sub:
        out += f"_{{{sub}}}"
    if transposed:
        out += "^{T}"
    return out


def dim_math(symbol: str) -> str:
    """A dimension in mathtext, without dollars: ``h*d_v`` -> ``h \\cdot d_{v}``."""
    parts = re.split(r"([*/+])", symbol)
    out: list[str] = []
    for p in parts:
        if p == "*":
            out.append(r" \cdot ")
        elif p in ("/", "+"):
            out.append(f" {p} " if p == "+" else p)
        elif p.isdigit():
            out.append(p)
        elif p:
            base, _, sub = p.partition("_")
            out.append(base + (f"_{{{sub}}}" if sub else ""))
    return "".join(out)


def _default_size(name: str, heads: int | None) -> int:
    if name == "h":
        return heads or 2
    if name in ("n", "m", "t", "T", "L", "N", "s"):
        return 6
    if name.startswith("B"):
        return 3
    return 4


def resolve_dim(symbol: str, sizes: dict[str, int], heads: int | None = None) -> Dim:
    """The numeric size of a dimension, from the spec's example sizes or a default.

    An unknown dimension (``?``, ``h*?``) gets size 1 and ``unknown`` set: the layout
    gives it its neutral size.
    """
    if is_unknown(symbol):
        return Dim(symbol, 1, known=False, unknown=True)
    known = True

    def value(name: str) -> float:
        nonlocal known
        if name.isdigit():
            return int(name)
        if name in sizes:
            return sizes[name]
        known = False
        return _default_size(name, heads)

    total = 0.0
    for term in symbol.split("+"):
        parts = re.split(r"([*/])", term)
        acc = value(parts[0])
        for op, operand in zip(parts[1::2], parts[2::2], strict=True):
            acc = acc * value(operand) if op == "*" else acc / value(operand)
        total += acc
    size = max(1, round(total))
    return Dim(symbol, size, known and math.isclose(total, size))


def neutral_cells(known: Collection[int]) -> int:
    """The cells drawn for a dimension the learner is asked for (``?``).

    Every unknown dimension of a diagram gets the same size, about halfway between
    the smallest and the largest known one and equal to none of them, so its size
    says nothing about the answer.

    Args:
        known: the cells drawn for the diagram's known dimensions.
    """
    if not known:
        return 3
    cells = max(2, round((min(known) + max(known)) / 2))
    while cells in known:
        cells += 1
    return cells
