"""The layout model of a matrix-shape diagram: pure geometry, no drawing.

:func:`layout_shape` turns a parsed :class:`~bot.core.imagespec.ShapeSpec`
into blocks, operator glyphs, brackets and notes placed on a canvas, in
pixels, with the origin at the bottom left (matplotlib's data coordinates).
Blocks are drawn to scale: one cell of every block has the same size, so a
block's width and height are proportional to its numeric column and row
counts. A dimension the learner is asked for (``?``) is drawn at a neutral
size instead (:func:`~bot.render.notation.neutral_cells`), so the picture
never answers its question. ``bot/render/shapes.py`` draws a layout; tests
check it directly.

It runs four pure passes, each giving the next what it needs:

1. :func:`~bot.render.flatten.flatten`: the expression tree as a row of items.
2. :func:`size`: cells per block, the cell size, the canvas and the bands on it.
3. :func:`~bot.render.evaluate.evaluate`: example values of each block
   (only for ``show=values`` or ``show=heat``).
4. :func:`place`: every block, glyph and bracket at its position.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import Final, Literal

from bot.core.imagespec import Block, ShapeSpec
from bot.render.evaluate import Matrix, evaluate
from bot.render.flatten import Item, Row, flatten, notes_for
from bot.render.notation import Dim, neutral_cells, resolve_dim
from bot.render.style import DEFAULT_STYLE, Style, is_weight, role_of

__all__ = [
    "BlockBox",
    "Glyph",
    "ItemDims",
    "Measure",
    "Paren",
    "ShapeLayout",
    "Sizes",
    "Widths",
    "estimate_width",
    "item_dims",
    "layout_shape",
    "place",
    "size",
]

#: (text, font size in px) -> width in px. The drawer passes a real measure.
Measure = Callable[[str, float], float]

#: (rows, columns) of each item of a row; None for an item that is not a block.
ItemDims = tuple[tuple[Dim, Dim] | None, ...]

_GAP: Final = 12.0
_PAREN_W: Final = 20.0
_MAX_BLOCK_H: Final = 520.0
#: Matrices larger than this many cells are drawn scaled down (without cell lines).
_MAX_CELLS: Final = 32


# --------------------------------------------------------------------------- model


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


def estimate_width(text: str, font_px: float) -> float:
    """A rough width of (math)text in px, for layouts made without a renderer."""
    if "$" in text:
        visible = re.sub(r"\\(cdot|sqrt|mathrm|infty|ldots|cdots)", "x", text)
        visible = re.sub(r"[${}\\]", "", visible)
        small = len(re.findall(r"[_^]\{?[^{}]*\}?", text))
        visible = visible.replace("_", "").replace("^", "")
        return (len(visible) - 0.4 * small) * 0.6 * font_px
    return len(text) * 0.6 * font_px


# --------------------------------------------------------------------------- the passes


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
    row = flatten(spec)
    sizes = size(row, spec, style, measure or estimate_width)
    if sizes.show == "shape":
        values: tuple[Matrix | None, ...] = (None,) * len(row.items)
    else:
        values = evaluate(row, spec)
    blocks, glyphs, parens = place(row, sizes, values, spec)
    return ShapeLayout(
        width=round(sizes.width),
        height=round(sizes.height),
        cell=sizes.cell,
        midline=sizes.midline,
        blocks=blocks,
        glyphs=glyphs,
        parens=parens,
        notes=sizes.notes,
        notes_top=sizes.notes_top,
        show=sizes.show,
        style=style,
    )


class Widths:
    """How much room each item of a row takes across, at a given cell size.

    Glyphs and brackets have a fixed width; a block takes room for its row
    labels plus its span: its columns of cells, or its labels when wider.

    Args:
        items: the row's items.
        dims: the (rows, columns) of each item (:func:`item_dims`).
        style: the font sizes.
        measure: text width in px for (mathtext, font px).
    """

    def __init__(
        self, items: Sequence[Item], dims: ItemDims, style: Style, measure: Measure
    ) -> None:
        self.items = items
        self.dims = dims
        self.style = style
        self.measure = measure
        #: Room left of each block for its row label.
        self.row_label = style.dim_px * 1.25 + 10
        #: The label above each item (empty for glyphs and brackets).
        self.labels = [it.label for it in items]
        #: The space after each item (0 after the last).
        self.gaps = [_gap(a, b) for a, b in itertools.pairwise(items)] + [0.0]

    def fixed(self, item: Item) -> float:
        """The width of a glyph or bracket (with a function name), or a block's row-label room."""
        style = self.style
        if item.kind == "glyph":
            font = style.op_px if item.glyph_kind in ("op", "equals") else style.func_px
            return self.measure(item.text, font) + 10
        if item.kind == "open":
            return (self.measure(item.text, style.func_px) + 2 if item.text else 0) + _PAREN_W
        if item.kind == "close":
            return _PAREN_W
        return self.row_label

    def span(self, k: int, cell: float) -> float:
        """The width of block ``k`` at this cell size, or of its labels when they are wider."""
        d = self.dims[k]
        assert d is not None
        w = d[1].cells * cell
        style, measure = self.style, self.measure
        return max(
            w, measure(d[1].label, style.dim_px) + 8, measure(self.labels[k], style.label_px) + 8
        )

    def total(self, cell: float) -> float:
        """The width of the whole row at this cell size."""
        t = sum(self.fixed(it) for it in self.items) + sum(self.gaps)
        t += sum(self.span(k, cell) for k, it in enumerate(self.items) if it.kind == "block")
        return t


@dataclass(frozen=True, slots=True)
class Sizes:
    """What :func:`size` gives: how big everything of a row is drawn.

    Attributes:
        dims: (rows, columns) of each item; None for glyphs and brackets.
        unit: spec cells per drawn cell: 1.0, or more when a huge matrix is
            drawn scaled down.
        show: ``shape``, ``values`` or ``heat`` (always ``shape`` when scaled down).
        widths: the room each item takes across.
        cell: the side of one cell in px.
        width: the canvas width in px.
        height: the canvas height in px.
        midline: the height in px the blocks are centred on.
        notes: the note lines, wrapped to the canvas width.
        notes_top: the height in px of the top of the notes.
    """

    dims: ItemDims
    unit: float
    show: str
    widths: Widths
    cell: float
    width: float
    height: float
    midline: float
    notes: tuple[str, ...]
    notes_top: float


def item_dims(row: Row, spec: ShapeSpec) -> tuple[ItemDims, float]:
    """The rows and columns of each block of a row, and the scale-down unit.

    Args:
        row: the spec's :func:`~bot.render.flatten.flatten` row.
        spec: the parsed shape spec (its sizes and heads).

    Returns:
        (rows, columns) for each item (None for glyphs and brackets), and the
        unit: 1.0, or spec cells per drawn cell when the biggest dimension has
        more than 32 cells (each :class:`~bot.render.notation.Dim` then has its
        ``drawn`` cells, in proportion). Unknown dimensions take no part in the
        scale and get :func:`~bot.render.notation.neutral_cells`.
    """
    dims: list[tuple[Dim, Dim] | None] = []
    for item in row.items:
        if item.kind == "block" and item.block is not None:
            rows = resolve_dim(item.block.rows, spec.sizes, spec.heads)
            cols = resolve_dim(item.block.cols, spec.sizes, spec.heads)
            if item.heads > 1:
                cols = resolve_dim(f"h*{item.block.cols}", {**spec.sizes, "h": item.heads})
            dims.append((rows, cols))
        else:
            dims.append(None)

    # Huge matrices (d_model = 512) are drawn scaled down, keeping proportions.
    sides = [x for d in dims if d is not None for x in d]
    biggest = max((x.size for x in sides if not x.unknown), default=1)
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
    if any(x.unknown for x in sides):
        known = {x.cells for d in dims if d is not None for x in d if not x.unknown}
        neutral = neutral_cells(known)

        def fill(x: Dim) -> Dim:
            return replace(x, size=neutral, drawn=0) if x.unknown else x

        dims = [None if d is None else (fill(d[0]), fill(d[1])) for d in dims]
    return tuple(dims), unit


def size(row: Row, spec: ShapeSpec, style: Style, measure: Measure) -> Sizes:
    """How big the items of a row are drawn, and the canvas around them.

    The cell starts as large as the style allows (a block at most 520 px
    high) and shrinks until the row fits the style's width; when even the
    smallest cell does not fit, the canvas grows up to ``style.max_width``
    and the cell shrinks further. From the bottom, the canvas holds a margin,
    the notes, the column labels, the blocks (with room for nested
    brackets), the block labels and a margin.

    Args:
        row: the spec's :func:`~bot.render.flatten.flatten` row.
        spec: the parsed shape spec.
        style: sizes of the canvas, cells and fonts.
        measure: text width in px for (mathtext, font px).

    Returns:
        The :class:`Sizes`.
    """
    dims, unit = item_dims(row, spec)
    show = spec.show if unit == 1 else "shape"
    widths = Widths(row.items, dims, style, measure)

    max_rows = max(d[0].cells for d in dims if d is not None)
    cell = min(float(style.max_cell_px), _MAX_BLOCK_H / max_rows)
    width = float(style.width)
    avail = width - 2 * style.margin
    # Numbers in cells need room: let such a diagram grow wider instead.
    min_cell = float(style.min_cell_px if show != "values" else max(style.min_cell_px, 36))
    if unit > 1:
        min_cell = 6.0  # no cell lines are drawn: only the proportions matter
    cell = max(cell, min_cell)
    while widths.total(cell) > avail and cell > min_cell:
        cell = max(min_cell, cell * 0.95)
    if widths.total(cell) > avail:
        width = min(float(style.max_width), widths.total(cell) + 2 * style.margin)
        avail = width - 2 * style.margin
        while widths.total(cell) > avail and cell > 2:
            cell *= 0.95

    # Vertical bands, from the bottom: margin, notes, column labels, blocks, labels, margin.
    max_chars = int(avail / (0.5 * style.note_px))
    notes = [line for n in notes_for(spec, row) for line in _wrap_note(n, max_chars)]
    note_h = len(notes) * style.note_px * 1.5 + (12 if notes else 0)
    col_label_h = style.dim_px * 1.7
    label_h = style.label_px * 1.5
    max_h = max_rows * cell
    depth = _max_paren_depth(row.items)
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
    return Sizes(
        dims=dims,
        unit=unit,
        show=show,
        widths=widths,
        cell=cell,
        width=width,
        height=height,
        midline=midline,
        notes=tuple(notes),
        notes_top=style.margin + note_h - 6,
    )


def place(
    row: Row, sizes: Sizes, values: Sequence[Matrix | None], spec: ShapeSpec
) -> tuple[tuple[BlockBox, ...], tuple[Glyph, ...], tuple[Paren, ...]]:
    """Put the items of a row side by side, centred on the canvas and on its midline.

    Args:
        row: the spec's :func:`~bot.render.flatten.flatten` row.
        sizes: the row's :func:`size`.
        values: each item's example values (:func:`~bot.render.evaluate.evaluate`),
            or None for each.
        spec: the parsed shape spec (for head bands in a block's rows).

    Returns:
        The blocks, the glyphs (operators, scalars, ``=`` and function names)
        and the brackets (an opening and a closing one per pair), left to right.
    """
    widths, style, measure = sizes.widths, sizes.widths.style, sizes.widths.measure
    cell, midline, unit = sizes.cell, sizes.midline, sizes.unit
    x = (sizes.width - widths.total(cell)) / 2
    blocks: list[BlockBox] = []
    glyphs: list[Glyph] = []
    parens: list[Paren] = []
    open_stack: list[tuple[float, int]] = []  # x of the open paren, index in blocks
    for k, item in enumerate(row.items):
        if item.kind == "block" and item.block is not None:
            d = sizes.dims[k]
            assert d is not None
            rows, cols = d
            span = widths.span(k, cell)
            bw, bh = cols.cells * cell, rows.cells * cell
            bx = x + widths.row_label + (span - bw) / 2
            name = item.block.label
            highlight = item.highlight
            if highlight is not None and (rows if highlight[0] == "row" else cols).unknown:
                highlight = None  # no row or column of a side whose length is asked for
            if highlight is not None and unit > 1:
                highlight = (highlight[0], int(highlight[1] / unit))
            blocks.append(
                BlockBox(
                    name=name,
                    label=widths.labels[k],
                    role=role_of(name) if name else "score" if row.masked else "input",
                    weight=is_weight(name),
                    rows=rows,
                    cols=cols,
                    x=bx,
                    y=midline - bh / 2,
                    width=bw,
                    height=bh,
                    highlight=highlight,
                    masked=row.masked and item.is_result,
                    heads=item.heads,
                    row_bands=_row_bands(item.block, spec),
                    is_result=item.is_result,
                    values=values[k],
                )
            )
            x += widths.row_label + span
        elif item.kind == "glyph":
            w = widths.fixed(item)
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
            inner_depth = _depth_between(row.items, k)
            half = inner_h / 2 + 9 + 12 * inner_depth
            parens.append(Paren("(", px, midline - half, midline + half, _PAREN_W))
            parens.append(Paren(")", x + _PAREN_W / 2, midline - half, midline + half, _PAREN_W))
            x += _PAREN_W
        x += widths.gaps[k]
    return tuple(blocks), tuple(glyphs), tuple(parens)


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


def _gap(a: Item, b: Item) -> float:
    """Space between two neighbouring items: brackets hug what they enclose."""
    if a.kind == "open" or b.kind == "close":
        return 4.0
    return _GAP


def _row_bands(block: Block, spec: ShapeSpec) -> int:
    """Head bands of a block whose rows are ``h*...`` (like ``W_O[h*d_v, d_model]``)."""
    if block.rows.startswith("h*") and ("h" in spec.sizes or spec.heads):
        return spec.heads or spec.sizes["h"]
    return 1


def _max_paren_depth(items: Sequence[Item]) -> int:
    depth = best = 0
    for it in items:
        if it.kind == "open":
            depth += 1
            best = max(best, depth)
        elif it.kind == "close":
            depth -= 1
    return best


def _depth_between(items: Sequence[Item], close_index: int) -> int:
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
