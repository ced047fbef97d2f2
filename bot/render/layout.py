"""The layout model of a matrix-shape diagram: pure geometry, no drawing.

:func:`layout_shape` turns a parsed :class:`~bot.core.imagespec.ShapeSpec`
into blocks, operator glyphs, brackets and notes placed on a canvas, in
pixels, with the origin at the bottom left (matplotlib's data coordinates).
Blocks are drawn to scale: one cell of every block has the same size, so a
block's width and height are proportional to its numeric column and row
counts. ``bot/render/shapes.py`` draws a layout; tests check it directly.
"""

from __future__ import annotations

import math
import random
import re
import zlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Final, Literal

from bot.core.imagespec import Block, Call, Expr, Number, Op, ShapeSpec, Sqrt
from bot.render.style import DEFAULT_STYLE, Style, is_weight, role_of

__all__ = [
    "BlockBox",
    "Dim",
    "Glyph",
    "Measure",
    "Paren",
    "ShapeLayout",
    "dim_math",
    "estimate_width",
    "layout_shape",
    "math_name",
]

#: (text, font size in px) -> width in px. The drawer passes a real measure.
Measure = Callable[[str, float], float]

Matrix = tuple[tuple[float, ...], ...]

_GAP: Final = 12.0
_PAREN_W: Final = 20.0
_MAX_BLOCK_H: Final = 520.0
#: Matrices larger than this many cells are drawn scaled down (without cell lines).
_MAX_CELLS: Final = 32


# --------------------------------------------------------------------------- model


@dataclass(frozen=True, slots=True)
class Dim:
    """One dimension of a block.

    Attributes:
        symbol: as written in the spec (``d_k``, ``h*d_v``, ``1``).
        size: the number of cells drawn.
        known: True when the size comes from the spec (a literal or example
            sizes for every name in it); False for a default guess.
        drawn: cells drawn when the diagram is scaled down (0: ``size`` cells).
    """

    symbol: str
    size: int
    known: bool
    drawn: int = 0

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


@dataclass(frozen=True, slots=True)
class BlockBox:
    """A matrix drawn as a grid of cells.

    Attributes:
        name: as written (``K^T``); empty for an undeclared result.
        label: mathtext drawn above it (``$K^T$``).
        role: colour role (:func:`bot.render.style.role_of`).
        weight: a weight matrix (``W_Q``), drawn lighter.
        rows, cols: its dimensions.
        x, y, width, height: its rectangle in px (x, y = bottom left).
        highlight: ``("row", i)`` or ``("col", j)`` picked out, or None.
        masked: cells above the diagonal are masked (causal).
        heads: vertical bands, one per head (``concat_heads``), or 1.
        row_bands: horizontal bands (a ``W_O[h*d_v, ...]``), or 1.
        is_result: the block after ``=``.
        values: cell values (row by row) when the spec shows values or heat.
    """

    name: str
    label: str
    role: str
    weight: bool
    rows: Dim
    cols: Dim
    x: float
    y: float
    width: float
    height: float
    highlight: tuple[str, int] | None = None
    masked: bool = False
    heads: int = 1
    row_bands: int = 1
    is_result: bool = False
    values: Matrix | None = None

    @property
    def cell(self) -> float:
        """The side of one cell in px."""
        return self.width / self.cols.cells

    @property
    def top(self) -> float:
        return self.y + self.height

    @property
    def center_x(self) -> float:
        return self.x + self.width / 2

    def cell_rect(self, i: int, j: int) -> tuple[float, float, float, float]:
        """(x, y, w, h) of the cell in row ``i`` (0 = top) and column ``j``."""
        c = self.cell
        return (self.x + j * c, self.top - (i + 1) * c, c, c)

    def is_masked(self, i: int, j: int) -> bool:
        """True for a cell hidden by the causal mask (key after query)."""
        return self.masked and j > i


@dataclass(frozen=True, slots=True)
class Glyph:
    """Text between blocks: an operator, a scalar, ``=`` or a function name."""

    text: str
    kind: Literal["op", "scalar", "equals", "func"]
    x: float
    y: float
    width: float
    font_px: float


@dataclass(frozen=True, slots=True)
class Paren:
    """A round bracket spanning the blocks it encloses."""

    side: Literal["(", ")"]
    x: float
    bottom: float
    top: float
    width: float


@dataclass(frozen=True, slots=True)
class ShapeLayout:
    """Everything a shape diagram draws, placed on a ``width`` x ``height`` canvas."""

    width: int
    height: int
    cell: float
    midline: float
    blocks: tuple[BlockBox, ...]
    glyphs: tuple[Glyph, ...]
    parens: tuple[Paren, ...]
    notes: tuple[str, ...]
    notes_top: float
    show: str = "shape"
    style: Style = field(default=DEFAULT_STYLE, repr=False)

    def block(self, name: str) -> BlockBox:
        """The first block with this name (as written, e.g. ``K^T``)."""
        for b in self.blocks:
            if b.name == name:
                return b
        raise KeyError(name)

    @property
    def result(self) -> BlockBox:
        """The block after ``=``."""
        return next(b for b in self.blocks if b.is_result)

    def labels(self) -> list[str]:
        """Every mathtext string drawn (for checking that mathtext can draw them)."""
        out: list[str] = []
        for b in self.blocks:
            out.extend((b.label, b.rows.label, b.cols.label))
        out.extend(g.text for g in self.glyphs)
        out.extend(self.notes)
        return [t for t in out if t]


# --------------------------------------------------------------------------- text


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


def estimate_width(text: str, font_px: float) -> float:
    """A rough width of (math)text in px, for layouts made without a renderer."""
    if "$" in text:
        visible = re.sub(r"\\(cdot|sqrt|mathrm|infty|ldots|cdots)", "x", text)
        visible = re.sub(r"[${}\\]", "", visible)
        small = len(re.findall(r"[_^]\{?[^{}]*\}?", text))
        visible = visible.replace("_", "").replace("^", "")
        return (len(visible) - 0.4 * small) * 0.6 * font_px
    return len(text) * 0.6 * font_px


# --------------------------------------------------------------------------- sizes


def _default_size(name: str, heads: int | None) -> int:
    if name == "h":
        return heads or 2
    if name in ("n", "m", "t", "T", "L", "N", "s"):
        return 6
    if name.startswith("B"):
        return 3
    return 4


def resolve_dim(symbol: str, sizes: dict[str, int], heads: int | None = None) -> Dim:
    """The numeric size of a dimension, from the spec's example sizes or a default."""
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


# --------------------------------------------------------------------------- values


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


class _Evaluator:
    """Computes example values for every drawn block and the result."""

    def __init__(self, sizes: dict[str, int], heads: int | None) -> None:
        self.sizes = sizes
        self.heads = heads

    def dims(self, b: Block) -> tuple[int, int]:
        return (
            resolve_dim(b.rows, self.sizes, self.heads).size,
            resolve_dim(b.cols, self.sizes, self.heads).size,
        )

    def leaf(self, b: Block) -> Matrix:
        rows, cols = self.dims(b)
        return _leaf_values(b.label, rows, cols)

    def concat(self, b: Block, h: int) -> Matrix:
        rows, cols = self.dims(b)
        heads = [_leaf_values(f"{b.name}#{k}", rows, cols) for k in range(h)]
        return tuple(tuple(v for m in heads for v in m[i]) for i in range(rows))

    def eval(self, e: Expr) -> Matrix | float:
        if isinstance(e, Block):
            return self.leaf(e)
        if isinstance(e, Number):
            return float(e.value)
        if isinstance(e, Sqrt):
            return math.sqrt(resolve_dim(e.dim, self.sizes, self.heads).size)
        if isinstance(e, Call):
            if e.func == "concat_heads" and isinstance(e.arg, Block):
                return self.concat(e.arg, self.heads or self.sizes.get("h", 2))
            inner = self.eval(e.arg)
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
        left, right = self.eval(e.left), self.eval(e.right)
        if e.op == "@" and isinstance(left, tuple) and isinstance(right, tuple):
            return _matmul(left, right)
        if e.op == "|" and isinstance(left, tuple) and isinstance(right, tuple):
            return tuple(ra + rb for ra, rb in zip(left, right, strict=True))
        if e.op == "+":
            return _elementwise(left, right, lambda x, y: x + y)
        if e.op == "*":
            return _elementwise(left, right, lambda x, y: x * y)
        return _elementwise(left, right, lambda x, y: x / y if y else 0.0)


# --------------------------------------------------------------------------- flattening


@dataclass(slots=True)
class _Item:
    kind: Literal["block", "glyph", "open", "close"]
    block: Block | None = None
    text: str = ""
    glyph_kind: Literal["op", "scalar", "equals", "func"] = "op"
    highlight: tuple[str, int] | None = None
    heads: int = 1
    is_result: bool = False
    values: Matrix | None = None


_PREC: Final = {"+": 1, "|": 1, "@": 2, "*": 2, "/": 2}


def _scalar_math(e: Number | Sqrt) -> str:
    if isinstance(e, Number):
        return e.value
    return rf"\sqrt{{{dim_math(e.dim)}}}"


def _is_scalar(e: Expr) -> bool:
    if isinstance(e, Number | Sqrt):
        return True
    if isinstance(e, Op):
        return _is_scalar(e.left) and _is_scalar(e.right)
    return False


def _cols_of(e: Expr, sizes: dict[str, int], heads: int | None) -> int:
    """Numeric column count of an expression (for splitting a column highlight)."""
    if isinstance(e, Block):
        return resolve_dim(e.cols, sizes, heads).size
    if isinstance(e, Call):
        inner = _cols_of(e.arg, sizes, heads)
        return inner * (heads or sizes.get("h", 2)) if e.func == "concat_heads" else inner
    if isinstance(e, Op):
        if e.op == "@":
            return _cols_of(e.right, sizes, heads)
        if e.op == "|":
            return _cols_of(e.left, sizes, heads) + _cols_of(e.right, sizes, heads)
        return _cols_of(e.right if _is_scalar(e.left) else e.left, sizes, heads)
    return 0


class _Flattener:
    def __init__(self, spec: ShapeSpec) -> None:
        self.spec = spec
        self.items: list[_Item] = []
        self.funcs: list[str] = []
        self.sources: list[tuple[Block, tuple[str, int]]] = []
        self.concat: tuple[Block, int] | None = None
        self.col_through_softmax = False

    @property
    def heads(self) -> int:
        return self.spec.heads or self.spec.sizes.get("h", 2)

    def add(
        self, e: Expr, hl: tuple[str, int] | None, parent: int = 0, right: bool = False
    ) -> None:
        if isinstance(e, Block):
            self.items.append(_Item("block", block=e, highlight=hl))
            if hl is not None:
                self.sources.append((e, hl))
        elif isinstance(e, Number):
            self.items.append(_Item("glyph", text=f"${e.value}$", glyph_kind="scalar"))
        elif isinstance(e, Sqrt):
            self.items.append(_Item("glyph", text=f"${_scalar_math(e)}$", glyph_kind="scalar"))
        elif isinstance(e, Call):
            self.funcs.append(e.func)
            if e.func == "softmax" and hl is not None and hl[0] == "col":
                self.col_through_softmax = True
            if e.func == "concat_heads" and isinstance(e.arg, Block):
                self.concat = (e.arg, self.heads)
                self.items.append(_Item("block", block=e.arg, highlight=hl, heads=self.heads))
                if hl is not None:
                    self.sources.append((e.arg, hl))
                return
            name = {"softmax": r"$\mathrm{softmax}$", "mask": r"$\mathrm{mask}$"}.get(
                e.func, r"$\mathrm{concat}$"
            )
            self.items.append(_Item("open", text=name, glyph_kind="func"))
            self.add(e.arg, hl)
            self.items.append(_Item("close"))
        else:
            prec = _PREC[e.op]
            wrap = prec < parent or (right and prec == parent and e.op not in ("+", "|"))
            if wrap:
                self.items.append(_Item("open"))
            left_hl, right_hl = self._split_highlight(e, hl)
            self.add(e.left, left_hl, prec)
            if e.op in ("/", "*") and isinstance(e.right, Number | Sqrt):
                # "/ sqrt(d_k)" is one glyph: a scalar needs no room of its own.
                op = "/" if e.op == "/" else r"\cdot"
                text = f"${op}\\,{_scalar_math(e.right)}$"
                self.items.append(_Item("glyph", text=text, glyph_kind="scalar"))
                if wrap:
                    self.items.append(_Item("close"))
                return
            self.items.append(_Item("glyph", text=self._op_text(e), glyph_kind="op"))
            self.add(e.right, right_hl, prec, right=True)
            if wrap:
                self.items.append(_Item("close"))

    def _op_text(self, e: Op) -> str:
        if e.op == "@":
            return r"$\times$"
        if e.op == "*":
            both = not _is_scalar(e.left) and not _is_scalar(e.right)
            return r"$\odot$" if both else r"$\cdot$"
        if e.op == "|":
            return r"$|$"
        return f"${e.op}$"

    def _split_highlight(
        self, e: Op, hl: tuple[str, int] | None
    ) -> tuple[tuple[str, int] | None, tuple[str, int] | None]:
        if hl is None:
            return None, None
        axis, idx = hl
        if e.op == "@":
            return (hl, None) if axis == "row" else (None, hl)
        if e.op == "|" and axis == "col":
            left_cols = _cols_of(e.left, self.spec.sizes, self.spec.heads)
            return (hl, None) if idx < left_cols else (None, (axis, idx - left_cols))
        return (
            None if _is_scalar(e.left) else hl,
            None if _is_scalar(e.right) else hl,
        )


# --------------------------------------------------------------------------- notes


def _notes(spec: ShapeSpec, fl: _Flattener, result: Block, masked: bool) -> list[str]:
    notes: list[str] = []
    r = f"${math_name(result.label)}$" if result.name else "the result"
    if spec.highlight is not None:
        axis, idx = spec.highlight
        word = "Row" if axis == "row" else "Column"
        srcs = [b for b, h in fl.sources if h[0] == axis]
        if srcs and not fl.col_through_softmax:
            names = " and ".join(f"${math_name(b.label)}$" for b in srcs)
            text = f"{word} {idx} of {r} uses only {word.lower()} {idx} of {names}"
            roles = {role_of(b.name) for b in srcs}
            if axis == "row" and "q" in roles:
                text += f": query {idx} against every key"
            elif axis == "col" and "k" in roles:
                text += f": key {idx} against every query"
            notes.append(text)
    if "softmax" in fl.funcs:
        if isinstance(spec.expr, Call) and spec.expr.func == "softmax":
            notes.append(f"softmax works along each row: every row of {r} sums to 1")
        else:
            notes.append("softmax works along each row: each row of weights sums to 1")
    if masked:
        notes.append(
            r"Causal mask: query $i$ sees keys $j \leq i$; grey cells ($j > i$) are "
            r"$-\infty$ before softmax, so their weight is 0"
        )
    if fl.concat is not None:
        block, h = fl.concat
        notes.append(
            f"$h = {h}$ heads, each $[{dim_math(block.rows)}, {dim_math(block.cols)}]$, "
            f"side by side: $[{dim_math(block.rows)}, h \\cdot {dim_math(block.cols)}]$"
        )
    return notes


# --------------------------------------------------------------------------- layout


def _has_call(e: Expr, func: str) -> bool:
    if isinstance(e, Call):
        return e.func == func or _has_call(e.arg, func)
    if isinstance(e, Op):
        return _has_call(e.left, func) or _has_call(e.right, func)
    return False


def _wrap_note(text: str, max_chars: int) -> list[str]:
    """Split a long note at a space outside ``$...$`` into lines."""
    if len(text) <= max_chars:
        return [text]
    lines: list[str] = []
    current = ""
    in_math = False
    word = ""
    for ch in text + " ":
        if ch == "$":
            in_math = not in_math
        if ch == " " and not in_math:
            if current and len(current) + 1 + len(word) > max_chars:
                lines.append(current)
                current = word
            else:
                current = f"{current} {word}" if current else word
            word = ""
        else:
            word += ch
    if current:
        lines.append(current)
    return lines


def layout_shape(
    spec: ShapeSpec, style: Style = DEFAULT_STYLE, measure: Measure | None = None
) -> ShapeLayout:
    """Place the blocks, operators and notes of a shape spec on a canvas.

    Args:
        spec: a parsed shape spec.
        style: sizes and colours.
        measure: text width in px for (mathtext, font px); a rough estimate
            when None (the drawer passes matplotlib's own measurement).

    Returns:
        The layout, in px with the origin at the bottom left.
    """
    measure = measure or estimate_width
    fl = _Flattener(spec)
    fl.add(spec.expr, spec.highlight)
    heads_opt = spec.heads

    result = spec.result or Block("", spec.shape[0], spec.shape[1])
    masked = (spec.mask == "causal" or _has_call(spec.expr, "mask")) and resolve_dim(
        result.rows, spec.sizes, heads_opt
    ).size == resolve_dim(result.cols, spec.sizes, heads_opt).size
    fl.items.append(_Item("glyph", text="$=$", glyph_kind="equals"))
    fl.items.append(_Item("block", block=result, highlight=spec.highlight, is_result=True))

    # Dimensions of each block.
    dims: list[tuple[Dim, Dim] | None] = []
    for item in fl.items:
        if item.kind == "block" and item.block is not None:
            rows = resolve_dim(item.block.rows, spec.sizes, heads_opt)
            cols = resolve_dim(item.block.cols, spec.sizes, heads_opt)
            if item.heads > 1:
                cols = resolve_dim(f"h*{item.block.cols}", {**spec.sizes, "h": item.heads})
            dims.append((rows, cols))
        else:
            dims.append(None)

    # Huge matrices (d_model = 512) are drawn scaled down, keeping proportions.
    biggest = max(max(d[0].size, d[1].size) for d in dims if d is not None)
    unit = biggest / _MAX_CELLS if biggest > _MAX_CELLS else 1.0
    if unit > 1:
        dims = [
            None
            if d is None
            else (
                replace(d[0], drawn=max(1, round(d[0].size / unit))),
                replace(d[1], drawn=max(1, round(d[1].size / unit))),
            )
            for d in dims
        ]
        for item in fl.items:
            if item.highlight is not None:
                item.highlight = (item.highlight[0], int(item.highlight[1] / unit))

    show = spec.show if unit == 1 else "shape"
    if show != "shape":
        ev = _Evaluator(spec.sizes, heads_opt)
        for item in fl.items:
            if item.kind != "block" or item.block is None:
                continue
            if item.is_result:
                value = ev.eval(spec.expr)
                item.values = value if isinstance(value, tuple) else None
            elif item.heads > 1:
                item.values = ev.concat(item.block, item.heads)
            else:
                item.values = ev.leaf(item.block)

    row_label_w = style.dim_px * 1.25 + 10
    labels = [_block_label(it) for it in fl.items]

    def fixed_width(item: _Item) -> float:
        if item.kind == "glyph":
            font = style.op_px if item.glyph_kind in ("op", "equals") else style.func_px
            return measure(item.text, font) + 10
        if item.kind == "open":
            return (measure(item.text, style.func_px) + 2 if item.text else 0) + _PAREN_W
        if item.kind == "close":
            return _PAREN_W
        return row_label_w

    def block_span(k: int, cell: float) -> float:
        d = dims[k]
        assert d is not None
        w = d[1].cells * cell
        return max(w, measure(d[1].label, style.dim_px) + 8, measure(labels[k], style.label_px) + 8)

    gaps = [_gap(a, b) for a, b in zip(fl.items, fl.items[1:], strict=False)] + [0.0]

    def total(cell: float) -> float:
        t = sum(fixed_width(it) for it in fl.items) + sum(gaps)
        t += sum(block_span(k, cell) for k, it in enumerate(fl.items) if it.kind == "block")
        return t

    max_rows = max(d[0].cells for d in dims if d is not None)
    cell = min(float(style.max_cell_px), _MAX_BLOCK_H / max_rows)
    width = float(style.width)
    avail = width - 2 * style.margin
    # Numbers in cells need room: let such a diagram grow wider instead.
    min_cell = float(style.min_cell_px if show != "values" else max(style.min_cell_px, 36))
    if unit > 1:
        min_cell = 6.0  # no cell lines are drawn: only the proportions matter
    cell = max(cell, min_cell)
    while total(cell) > avail and cell > min_cell:
        cell = max(min_cell, cell * 0.95)
    if total(cell) > avail:
        width = min(float(style.max_width), total(cell) + 2 * style.margin)
        avail = width - 2 * style.margin
        while total(cell) > avail and cell > 2:
            cell *= 0.95

    # Vertical bands, from the bottom: margin, notes, column labels, blocks, labels, margin.
    max_chars = int(avail / (0.5 * style.note_px))
    notes = [line for n in _notes(spec, fl, result, masked) for line in _wrap_note(n, max_chars)]
    note_h = len(notes) * style.note_px * 1.5 + (12 if notes else 0)
    col_label_h = style.dim_px * 1.7
    label_h = style.label_px * 1.5
    max_h = max_rows * cell
    depth = _max_paren_depth(fl.items)
    paren_extra = 18 + 12 * depth if depth else 0
    block_band = max(max_h + paren_extra, style.op_px * 1.4)
    height = style.margin * 2 + note_h + col_label_h + block_band + label_h
    height = max(height, 0.3 * width)
    midline = (
        style.margin
        + note_h
        + col_label_h
        + (height - style.margin * 2 - note_h - col_label_h - label_h) / 2
    )
    notes_top = style.margin + note_h - 6

    # Horizontal placement.
    x = (width - total(cell)) / 2
    blocks: list[BlockBox] = []
    glyphs: list[Glyph] = []
    parens: list[Paren] = []
    open_stack: list[tuple[float, int]] = []  # x of the open paren, index in blocks
    for k, item in enumerate(fl.items):
        if item.kind == "block" and item.block is not None:
            d = dims[k]
            assert d is not None
            rows, cols = d
            span = block_span(k, cell)
            bw, bh = cols.cells * cell, rows.cells * cell
            bx = x + row_label_w + (span - bw) / 2
            name = item.block.label
            blocks.append(
                BlockBox(
                    name=name,
                    label=labels[k],
                    role=role_of(name) if name else "score" if masked else "input",
                    weight=is_weight(name),
                    rows=rows,
                    cols=cols,
                    x=bx,
                    y=midline - bh / 2,
                    width=bw,
                    height=bh,
                    highlight=item.highlight,
                    masked=masked and item.is_result,
                    heads=item.heads,
                    row_bands=_row_bands(item.block, spec),
                    is_result=item.is_result,
                    values=item.values,
                )
            )
            x += row_label_w + span
        elif item.kind == "glyph":
            w = fixed_width(item)
            font = style.op_px if item.glyph_kind in ("op", "equals") else style.func_px
            glyphs.append(Glyph(item.text, item.glyph_kind, x + w / 2, midline, w, font))
            x += w
        elif item.kind == "open":
            if item.text:
                tw = measure(item.text, style.func_px) + 2
                glyphs.append(Glyph(item.text, "func", x + tw / 2, midline, tw, style.func_px))
                x += tw
            open_stack.append((x + _PAREN_W / 2, len(blocks)))
            x += _PAREN_W
        else:
            px, first = open_stack.pop()
            inner = blocks[first:]
            inner_h = max((b.height for b in inner), default=style.op_px)
            inner_depth = _depth_between(fl.items, k)
            half = inner_h / 2 + 9 + 12 * inner_depth
            parens.append(Paren("(", px, midline - half, midline + half, _PAREN_W))
            parens.append(Paren(")", x + _PAREN_W / 2, midline - half, midline + half, _PAREN_W))
            x += _PAREN_W
        x += gaps[k]

    return ShapeLayout(
        width=round(width),
        height=round(height),
        cell=cell,
        midline=midline,
        blocks=tuple(blocks),
        glyphs=tuple(glyphs),
        parens=tuple(parens),
        notes=tuple(notes),
        notes_top=notes_top,
        show=show,
        style=style,
    )


def _gap(a: _Item, b: _Item) -> float:
    """Space between two neighbouring items: brackets hug what they enclose."""
    if a.kind == "open" or b.kind == "close":
        return 4.0
    return _GAP


def _block_label(item: _Item) -> str:
    if item.kind != "block" or item.block is None:
        return ""
    b = item.block
    if item.heads > 1:
        base, _, sub = b.name.partition("_")
        first = f"{sub},1" if sub else "1"
        last = f"{sub},{item.heads}" if sub else str(item.heads)
        return f"${base}_{{{first}}} | \\cdots | {base}_{{{last}}}$"
    if not b.name:
        return ""
    return f"${math_name(b.label)}$"


def _row_bands(block: Block, spec: ShapeSpec) -> int:
    """Head bands of a block whose rows are ``h*...`` (like ``W_O[h*d_v, d_model]``)."""
    if block.rows.startswith("h*") and ("h" in spec.sizes or spec.heads):
        return spec.heads or spec.sizes["h"]
    return 1


def _max_paren_depth(items: Sequence[_Item]) -> int:
    depth = best = 0
    for it in items:
        if it.kind == "open":
            depth += 1
            best = max(best, depth)
        elif it.kind == "close":
            depth -= 1
    return best


def _depth_between(items: Sequence[_Item], close_index: int) -> int:
    """How many bracket levels sit inside the bracket closed at ``close_index``."""
    depth = best = 0
    for it in reversed(items[:close_index]):
        if it.kind == "close":
            depth += 1
            best = max(best, depth)
        elif it.kind == "open":
            if depth == 0:
                return best
            depth -= 1
    return best
