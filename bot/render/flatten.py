"""A shape spec's expression as one row of items, left to right.

:func:`flatten` walks the expression tree and gives what a diagram shows, in
order: blocks, operator and scalar glyphs, function names with their
brackets, then ``=`` and the result block. Brackets appear only where
precedence needs them, and a highlight is passed down to the blocks it runs
through. The row also records what :func:`notes_for` explains under the diagram.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from bot.core.imagespec import Block, Call, Expr, Number, Op, ShapeSpec, Sqrt
from bot.render.notation import dim_math, math_name, resolve_dim
from bot.render.style import role_of

__all__ = ["Item", "Row", "flatten", "notes_for"]


@dataclass(frozen=True, slots=True)
class Item:
    """One thing in a row: a block, a glyph, or an opening or closing bracket.

    Attributes:
        kind: ``block``, ``glyph``, ``open`` (a bracket, after ``text`` when
            it is a function name) or ``close``.
        block: the matrix of a ``block`` item.
        text: the mathtext of a glyph or of an opening bracket's function name.
        glyph_kind: what a glyph is (an operator, a scalar, ``=`` or a function name).
        highlight: ``("row", i)`` or ``("col", j)`` picked out in this block, or None.
        heads: the heads side by side in a ``concat_heads`` block, or 1.
        is_result: the block after ``=``.
    """

    kind: Literal["block", "glyph", "open", "close"]
    block: Block | None = None
    text: str = ""
    glyph_kind: Literal["op", "scalar", "equals", "func"] = "op"
    highlight: tuple[str, int] | None = None
    heads: int = 1
    is_result: bool = False

    @property
    def label(self) -> str:
        """The mathtext drawn above a block (``$K^{T}$``); empty for an unnamed block or a glyph."""
        if self.kind != "block" or self.block is None:
            return ""
        b = self.block
        if self.heads > 1:
            base, _, sub = b.name.partition("_")
            first = f"{sub},1" if sub else "1"
            last = f"{sub},{self.heads}" if sub else str(self.heads)
            return f"${base}_{{{first}}} | \\cdots | {base}_{{{last}}}$"
        if not b.name:
            return ""
        return f"${math_name(b.label)}$"


@dataclass(frozen=True, slots=True)
class Row:
    """A shape spec flattened: what :func:`flatten` gives.

    Attributes:
        items: left to right, ending with ``=`` and the result block.
        result: the block after ``=`` (unnamed, of the spec's shape, when the
            spec declares none).
        masked: the result is drawn causally masked (``mask=causal`` or
            ``mask(...)``, and a square result whose shape is not asked for).
        funcs: the functions applied, outermost first.
        sources: each block a highlight runs through, with its highlight.
        concat: the block inside ``concat_heads`` and its head count, if any.
        col_through_softmax: a column highlight passes through softmax (which
            mixes every column of a row, so no note claims otherwise).
    """

    items: tuple[Item, ...]
    result: Block
    masked: bool
    funcs: tuple[str, ...]
    sources: tuple[tuple[Block, tuple[str, int]], ...]
    concat: tuple[Block, int] | None
    col_through_softmax: bool


def flatten(spec: ShapeSpec) -> Row:
    """The items a shape diagram shows, left to right, and what they say about the spec.

    Args:
        spec: a parsed shape spec.

    Returns:
        The :class:`Row`: the expression's items, then ``=`` and the result.
    """
    fl = _Flattener(spec)
    fl.add(spec.expr, spec.highlight)
    result = spec.result or Block("", spec.shape[0], spec.shape[1])
    rows = resolve_dim(result.rows, spec.sizes, spec.heads)
    cols = resolve_dim(result.cols, spec.sizes, spec.heads)
    # A result whose shape is asked for has no cells to mask.
    masked = (
        (spec.mask == "causal" or _has_call(spec.expr, "mask"))
        and not (rows.unknown or cols.unknown)
        and rows.size == cols.size
    )
    fl.items.append(Item("glyph", text="$=$", glyph_kind="equals"))
    fl.items.append(Item("block", block=result, highlight=spec.highlight, is_result=True))
    return Row(
        items=tuple(fl.items),
        result=result,
        masked=masked,
        funcs=tuple(fl.funcs),
        sources=tuple(fl.sources),
        concat=fl.concat,
        col_through_softmax=fl.col_through_softmax,
    )


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
    """Walks an expression tree left to right, appending items and noting what it passes."""

    def __init__(self, spec: ShapeSpec) -> None:
        self.spec = spec
        self.items: list[Item] = []
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
            self.items.append(Item("block", block=e, highlight=hl))
            if hl is not None:
                self.sources.append((e, hl))
        elif isinstance(e, Number):
            self.items.append(Item("glyph", text=f"${e.value}$", glyph_kind="scalar"))
        elif isinstance(e, Sqrt):
            self.items.append(Item("glyph", text=f"${_scalar_math(e)}$", glyph_kind="scalar"))
        elif isinstance(e, Call):
            self.funcs.append(e.func)
            if e.func == "softmax" and hl is not None and hl[0] == "col":
                self.col_through_softmax = True
            if e.func == "concat_heads" and isinstance(e.arg, Block):
                self.concat = (e.arg, self.heads)
                self.items.append(Item("block", block=e.arg, highlight=hl, heads=self.heads))
                if hl is not None:
                    self.sources.append((e.arg, hl))
                return
            name = {"softmax": r"$\mathrm{softmax}$", "mask": r"$\mathrm{mask}$"}.get(
                e.func, r"$\mathrm{concat}$"
            )
            self.items.append(Item("open", text=name, glyph_kind="func"))
            self.add(e.arg, hl)
            self.items.append(Item("close"))
        else:
            prec = _PREC[e.op]
            wrap = prec < parent or (right and prec == parent and e.op not in ("+", "|"))
            if wrap:
                self.items.append(Item("open"))
            left_hl, right_hl = self._split_highlight(e, hl)
            self.add(e.left, left_hl, prec)
            if e.op in ("/", "*") and isinstance(e.right, Number | Sqrt):
                # "/ sqrt(d_k)" is one glyph: a scalar needs no room of its own.
                op = "/" if e.op == "/" else r"\cdot"
                text = f"${op}\\,{_scalar_math(e.right)}$"
                self.items.append(Item("glyph", text=text, glyph_kind="scalar"))
                if wrap:
                    self.items.append(Item("close"))
                return
            self.items.append(Item("glyph", text=self._op_text(e), glyph_kind="op"))
            self.add(e.right, right_hl, prec, right=True)
            if wrap:
                self.items.append(Item("close"))

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


def notes_for(spec: ShapeSpec, row: Row) -> list[str]:
    """The notes under a diagram, one sentence each (not yet wrapped to a width).

    Args:
        spec: the parsed shape spec.
        row: its :func:`flatten` row.

    Returns:
        What a highlight shows, how softmax normalises, what a causal mask
        hides and how heads sit side by side, as far as the spec uses them.
    """
    out: list[str] = []
    result = row.result
    r = f"${math_name(result.label)}$" if result.name else "the result"
    if spec.highlight is not None:
        axis, idx = spec.highlight
        word = "Row" if axis == "row" else "Column"
        srcs = [b for b, h in row.sources if h[0] == axis]
        if srcs and not row.col_through_softmax:
            names = " and ".join(f"${math_name(b.label)}$" for b in srcs)
            text = f"{word} {idx} of {r} uses only {word.lower()} {idx} of {names}"
            roles = {role_of(b.name) for b in srcs}
            if axis == "row" and "q" in roles:
                text += f": query {idx} against every key"
            elif axis == "col" and "k" in roles:
                text += f": key {idx} against every query"
            out.append(text)
    if "softmax" in row.funcs:
        if isinstance(spec.expr, Call) and spec.expr.func == "softmax":
            out.append(f"softmax works along each row: every row of {r} sums to 1")
        else:
            out.append("softmax works along each row: each row of weights sums to 1")
    if row.masked:
        out.append(
            r"Causal mask: query $i$ sees keys $j \leq i$; grey cells ($j > i$) are "
            r"$-\infty$ before softmax, so their weight is 0"
        )
    if row.concat is not None:
        block, h = row.concat
        out.append(
            f"$h = {h}$ heads, each $[{dim_math(block.rows)}, {dim_math(block.cols)}]$, "
            f"side by side: $[{dim_math(block.rows)}, h \\cdot {dim_math(block.cols)}]$"
        )
    return out


def _has_call(e: Expr, func: str) -> bool:
    if isinstance(e, Call):
        return e.func == func or _has_call(e.arg, func)
    if isinstance(e, Op):
        return _has_call(e.left, func) or _has_call(e.right, func)
    return False
