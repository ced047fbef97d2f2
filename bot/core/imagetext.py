"""What stands in for a card's image where it is not drawn: one line of Unicode.

- a formula: :func:`~bot.text.latex.formula_fallback` (``Attention(Q,K,V) = ?``);
- a matrix-shape spec: :func:`shape_line`, its matrices with their dimensions and
  the operations between them (``Q [n×d_k] · Kᵀ [d_k×n] → S [n×n]``);
- a built-in diagram: what it shows;
- an imported image (kind ``media``): ``[image: <file name>]``.

A front image's line says no more than its picture asks: what its spec writes, with
every dimension the question asks for as ``?``. The example sizes (``n=6``) are left
out, on either side: they only size the drawing.
"""

from __future__ import annotations

from typing import Final

from bot.core.imagespec import (
    Block,
    Call,
    DiagramSpec,
    Expr,
    FormulaSpec,
    ImageSpecError,
    Number,
    Op,
    ShapeSpec,
    Sqrt,
    has_unknown,
    parse_image_spec,
)
from bot.core.mediaimages import MEDIA_KIND
from bot.text.latex import formula_fallback, image_alt_text

__all__ = ["DIAGRAM_TEXT", "image_text", "shape_line"]

#: What each built-in diagram shows, in words.
DIAGRAM_TEXT: Final = {"transformer": "the transformer architecture, encoder and decoder"}

_OPS: Final = {"@": " · ", "*": " × ", "/": " / ", "+": " + ", "|": " | "}
_BINDING: Final = {"+": 1, "|": 1, "@": 2, "*": 2, "/": 2}


def _dim(dim: str) -> str:
    """A dimension as text: ``h*d_v`` -> ``h·d_v``; ``?`` stays ``?``."""
    return dim.replace("*", "·")


def _block(block: Block) -> str:
    name = f"{block.name}ᵀ" if block.transposed else block.name
    return f"{name} [{_dim(block.rows)}×{_dim(block.cols)}]"


def _expr(e: Expr) -> str:
    if isinstance(e, Block):
        return _block(e)
    if isinstance(e, Number):
        return e.value
    if isinstance(e, Sqrt):
        simple = e.dim.replace("_", "").isalnum() or e.dim == "?"
        return f"√{_dim(e.dim)}" if simple else f"√({_dim(e.dim)})"
    if isinstance(e, Call):
        return f"{e.func}({_expr(e.arg)})"
    left, right = _expr(e.left), _expr(e.right)
    if isinstance(e.left, Op) and _BINDING[e.left.op] < _BINDING[e.op]:
        left = f"({left})"
    if isinstance(e.right, Op) and _BINDING[e.right.op] <= _BINDING[e.op]:
        right = f"({right})"
    return f"{left}{_OPS[e.op]}{right}"


def _options(spec: ShapeSpec) -> list[str]:
    """What the drawing marks beyond the shapes, in words (none for a spec that asks:
    its picture marks nothing across an unknown side)."""
    if has_unknown(spec):
        return []
    out: list[str] = []
    if spec.mask is not None:
        out.append(f"{spec.mask} mask")
    if spec.highlight is not None:
        axis, index = spec.highlight
        out.append(f"{'row' if axis == 'row' else 'column'} {index} highlighted")
    if spec.heads is not None:
        out.append(f"{spec.heads} heads")
    return out


def shape_line(spec: ShapeSpec) -> str:
    """A shape spec as one line: ``Q [n×d_k] · Kᵀ [d_k×n] → S [?×?]``.

    ``@`` is ``·``, a transpose is ``ᵀ``, ``sqrt(d_k)`` is ``√d_k`` and the declared
    result follows ``→``. A dimension the spec asks for is ``?``. A mask, a highlight
    or heads follow in brackets, for a spec that asks nothing.
    """
    text = _expr(spec.expr)
    if spec.result is not None:
        text += f" → {_block(spec.result)}"
    options = _options(spec)
    return f"{text}  ({', '.join(options)})" if options else text


def image_text(kind: str | None, spec: str | None) -> str:
    """The text shown instead of a card's image (a :class:`~bot.core.model.CardImage`'s
    kind and spec): "" without one."""
    if not kind or not spec:
        return ""
    if kind == MEDIA_KIND:
        return image_alt_text(kind, spec)
    try:
        parsed = parse_image_spec(f"{kind} {spec}")
    except ImageSpecError:
        return image_alt_text(kind, spec)
    if isinstance(parsed, FormulaSpec):
        return formula_fallback(parsed.source)
    if isinstance(parsed, DiagramSpec):
        return DIAGRAM_TEXT.get(parsed.name, f"the {parsed.name} diagram")
    return shape_line(parsed)
