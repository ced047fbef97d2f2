"""Example values of a shape diagram's matrices (``show=values`` and ``show=heat``).

Every named matrix gets deterministic values in [-1, 1] (the same name and size
give the same values in every diagram, and ``K^T`` is the transpose of ``K``).
:class:`Evaluator` computes an expression from them: ``@`` multiplies, ``|``
puts side by side, ``+``, ``*`` and ``/`` work cell by cell (a scalar with every
cell), ``softmax`` normalises each row, ``mask`` hides the cells above the
diagonal and ``concat_heads`` puts the heads side by side. :func:`evaluate`
gives the values of every block of a flattened row.
"""

from __future__ import annotations

import math
import random
import zlib
from collections.abc import Callable

from bot.core.imagespec import Block, Call, Expr, Number, ShapeSpec, Sqrt
from bot.render.flatten import Row
from bot.render.notation import resolve_dim

__all__ = ["Evaluator", "Matrix", "evaluate"]

Matrix = tuple[tuple[float, ...], ...]


def evaluate(row: Row, spec: ShapeSpec) -> tuple[Matrix | None, ...]:
    """The example values of each block of a row, for ``show=values`` or ``show=heat``.

    Args:
        row: the spec's :func:`~bot.render.flatten.flatten` row.
        spec: the parsed shape spec (its sizes and heads).

    Returns:
        One entry per item of the row: a block's values (the result's are
        computed from the expression), None for glyphs and brackets.
    """
    ev = Evaluator(spec.sizes, spec.heads)
    values: list[Matrix | None] = []
    for item in row.items:
        if item.kind != "block" or item.block is None:
            values.append(None)
        elif item.is_result:
            value = ev.value(spec.expr)
            values.append(value if isinstance(value, tuple) else None)
        elif item.heads > 1:
            values.append(ev.concat(item.block, item.heads))
        else:
            values.append(ev.leaf(item.block))
    return tuple(values)


def _leaf_values(name: str, rows: int, cols: int) -> Matrix:
    """Deterministic example values in [-1, 1] for a named matrix."""
    base = name[:-2] if name.endswith("^T") else name
    r, c = (cols, rows) if name.endswith("^T") else (rows, cols)
    rng = random.Random(zlib.crc32(f"{base}:{r}x{c}".encode()))
    m = tuple(tuple(round(rng.uniform(-1, 1), 1) for _ in range(c)) for _ in range(r))
    if name.endswith("^T"):
        m = tuple(zip(*m, strict=True))
    return m


def _matmul(a: Matrix, b: Matrix) -> Matrix:
    cols = list(zip(*b, strict=True))
    return tuple(
        tuple(sum(x * y for x, y in zip(row, col, strict=True)) for col in cols) for row in a
    )


def _softmax(m: Matrix) -> Matrix:
    out = []
    for row in m:
        finite = [v for v in row if v != -math.inf]
        top = max(finite) if finite else 0.0
        ex = [0.0 if v == -math.inf else math.exp(v - top) for v in row]
        s = sum(ex) or 1.0
        out.append(tuple(e / s for e in ex))
    return tuple(out)


def _elementwise(
    a: Matrix | float, b: Matrix | float, f: Callable[[float, float], float]
) -> Matrix | float:
    if isinstance(a, tuple) and isinstance(b, tuple):
        return tuple(
            tuple(f(x, y) for x, y in zip(ra, rb, strict=True)) for ra, rb in zip(a, b, strict=True)
        )
    if isinstance(a, tuple):
        assert not isinstance(b, tuple)
        return tuple(tuple(f(x, b) for x in row) for row in a)
    if isinstance(b, tuple):
        return tuple(tuple(f(a, y) for y in row) for row in b)
    return f(a, b)


class Evaluator:
    """Example values of matrices and of expressions over them, for one spec's sizes.

    Args:
        sizes: the spec's example sizes (``n=6, d_k=4``).
        heads: the spec's ``heads=`` option, if any.
    """

    def __init__(self, sizes: dict[str, int], heads: int | None) -> None:
        self.sizes = sizes
        self.heads = heads

    def dims(self, b: Block) -> tuple[int, int]:
        """The numeric (rows, columns) of a block."""
        return (
            resolve_dim(b.rows, self.sizes, self.heads).size,
            resolve_dim(b.cols, self.sizes, self.heads).size,
        )

    def leaf(self, b: Block) -> Matrix:
        """A named block's values: deterministic, in [-1, 1]; ``K^T`` is ``K`` transposed."""
        rows, cols = self.dims(b)
        return _leaf_values(b.label, rows, cols)

    def concat(self, b: Block, h: int) -> Matrix:
        """``h`` heads of a block side by side, each with values of its own."""
        rows, cols = self.dims(b)
        heads = [_leaf_values(f"{b.name}#{k}", rows, cols) for k in range(h)]
        return tuple(tuple(v for m in heads for v in m[i]) for i in range(rows))

    def value(self, e: Expr) -> Matrix | float:
        """The value of an expression: a matrix, or a number for a scalar expression."""
        if isinstance(e, Block):
            return self.leaf(e)
        if isinstance(e, Number):
            return float(e.value)
        if isinstance(e, Sqrt):
            return math.sqrt(resolve_dim(e.dim, self.sizes, self.heads).size)
        if isinstance(e, Call):
            if e.func == "concat_heads" and isinstance(e.arg, Block):
                return self.concat(e.arg, self.heads or self.sizes.get("h", 2))
            inner = self.value(e.arg)
            if not isinstance(inner, tuple):
                return inner
            if e.func == "softmax":
                return _softmax(inner)
            if e.func == "mask":
                return tuple(
                    tuple(-math.inf if j > i else v for j, v in enumerate(row))
                    for i, row in enumerate(inner)
                )
            h = self.heads or self.sizes.get("h", 2)
            return tuple(tuple(v for _ in range(h) for v in row) for row in inner)
        left, right = self.value(e.left), self.value(e.right)
        if e.op == "@" and isinstance(left, tuple) and isinstance(right, tuple):
            return _matmul(left, right)
        if e.op == "|" and isinstance(left, tuple) and isinstance(right, tuple):
            return tuple(ra + rb for ra, rb in zip(left, right, strict=True))
        if e.op == "+":
            return _elementwise(left, right, lambda x, y: x + y)
        if e.op == "*":
            return _elementwise(left, right, lambda x, y: x * y)
        return _elementwise(left, right, lambda x, y: x / y if y else 0.0)
