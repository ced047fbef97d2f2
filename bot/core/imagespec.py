"""Image specs carried by cards: matrix-shape diagrams, formulas and built-in diagrams.

This module parses and checks specs; drawing them is the renderer's job
(``bot/render``). The grammar is documented in ``bot/decks/README.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Literal

__all__ = [
    "DIAGRAMS",
    "UNKNOWN",
    "Block",
    "Call",
    "DiagramSpec",
    "Expr",
    "FormulaSpec",
    "ImageSpec",
    "ImageSpecError",
    "Number",
    "Op",
    "ShapeSpec",
    "Sqrt",
    "has_unknown",
    "is_unknown",
    "parse_diagram_spec",
    "parse_image_spec",
    "parse_shape_spec",
]

FUNCS = ("softmax", "mask", "concat_heads")
#: The built-in reference diagrams (``image: diagram <name>``).
DIAGRAMS = ("transformer",)
SHOW_VALUES = ("shape", "values", "heat")
#: What a front image writes for what the learner must recall: a dimension
#: (``K^T[?,?]``) or a part of a formula (``\mathrm{Attention}(Q,K,V) = ?``).
UNKNOWN = "?"


class ImageSpecError(ValueError):
    """A spec that cannot be parsed or whose shapes do not fit together.

    Attributes:
        message: what is wrong, in one line.
        column: 0-based column in the spec text, when known.
    """

    def __init__(self, message: str, column: int | None = None) -> None:
        super().__init__(message if column is None else f"{message} (at column {column + 1})")
        self.message = message
        self.column = column


@dataclass(frozen=True, slots=True)
class Block:
    """One matrix, with its dimensions as written (after any transpose)."""

    name: str
    rows: str
    cols: str
    transposed: bool = False

    @property
    def label(self) -> str:
        return f"{self.name}^T" if self.transposed else self.name


@dataclass(frozen=True, slots=True)
class Number:
    value: str


@dataclass(frozen=True, slots=True)
class Sqrt:
    dim: str


@dataclass(frozen=True, slots=True)
class Call:
    func: Literal["softmax", "mask", "concat_heads"]
    arg: Expr


@dataclass(frozen=True, slots=True)
class Op:
    op: Literal["@", "+", "*", "/", "|"]
    left: Expr
    right: Expr


Expr = Block | Number | Sqrt | Call | Op


@dataclass(frozen=True, slots=True)
class ShapeSpec:
    """A parsed matrix-shape spec.

    Attributes:
        source: the spec as written.
        expr: the expression tree.
        result: the declared result block, if any.
        shape: the inferred (rows, cols) of the expression.
        sizes: example sizes for dimension names (``n=6``).
        mask: ``"causal"`` or None.
        highlight: ``("row", i)`` or ``("col", j)`` or None.
        heads: number of heads to draw for ``concat_heads``.
        show: what to draw in the cells.
    """

    source: str
    expr: Expr
    result: Block | None
    shape: tuple[str, str]
    sizes: dict[str, int] = field(default_factory=dict)
    mask: str | None = None
    highlight: tuple[str, int] | None = None
    heads: int | None = None
    show: str = "shape"

    @property
    def kind(self) -> Literal["shape"]:
        return "shape"

    def blocks(self) -> list[Block]:
        """Every block of the expression, left to right, then the result."""
        out: list[Block] = []

        def walk(e: Expr) -> None:
            if isinstance(e, Block):
                out.append(e)
            elif isinstance(e, Call):
                walk(e.arg)
            elif isinstance(e, Op):
                walk(e.left)
                walk(e.right)

        walk(self.expr)
        if self.result is not None:
            out.append(self.result)
        return out


@dataclass(frozen=True, slots=True)
class FormulaSpec:
    """A LaTeX formula (mathtext syntax, without surrounding dollars)."""

    source: str

    @property
    def kind(self) -> Literal["formula"]:
        return "formula"


@dataclass(frozen=True, slots=True)
class DiagramSpec:
    """A built-in reference diagram, by name (one of :data:`DIAGRAMS`).

    ``transformer`` is the full encoder-decoder transformer (Pre-LN), for
    "draw it from memory" challenges.
    """

    source: str
    name: str

    @property
    def kind(self) -> Literal["diagram"]:
        return "diagram"


ImageSpec = ShapeSpec | FormulaSpec | DiagramSpec

_TOKEN = re.compile(
    r"\s*(?:(?P<arrow>->)|(?P<num>\d+(?:\.\d+)?)|(?P<name>[A-Za-z][A-Za-z0-9_]*'?)"
    r"|(?P<T>\^T)|(?P<sym>[\[\],()@+*/|;=:?]))"
)


@dataclass(frozen=True, slots=True)
class _Tok:
    kind: str
    text: str
    col: int


def _tokenize(text: str) -> list[_Tok]:
    toks: list[_Tok] = []
    pos = 0
    while pos < len(text):
        if text[pos:].strip() == "":
            break
        m = _TOKEN.match(text, pos)
        if m is None or m.end() == pos:
            col = pos + (len(text[pos:]) - len(text[pos:].lstrip()))
            raise ImageSpecError(f"unexpected character {text[col]!r}", col)
        kind = m.lastgroup or "sym"
        tok = m.group(kind)
        toks.append(_Tok(kind, tok, m.start(kind)))
        pos = m.end()
    toks.append(_Tok("end", "", len(text)))
    return toks


class _Parser:
    def __init__(self, text: str) -> None:
        self.text = text
        self.toks = _tokenize(text)
        self.i = 0

    @property
    def tok(self) -> _Tok:
        return self.toks[self.i]

    def take(self, text: str | None = None, kind: str | None = None) -> _Tok:
        t = self.tok
        if (text is not None and t.text != text) or (kind is not None and t.kind != kind):
            want = repr(text) if text is not None else f"a {kind}"
            got = repr(t.text) if t.kind != "end" else "the end of the spec"
            raise ImageSpecError(f"expected {want}, found {got}", t.col)
        self.i += 1
        return t

    def at(self, text: str) -> bool:
        return self.tok.text == text and self.tok.kind != "end"

    # dim := "?" | atom { ("*"|"/") atom }
    def dim(self) -> str:
        if self.at(UNKNOWN):
            self.i += 1
            if self.at("*") or self.at("/"):
                raise ImageSpecError(
                    f"{UNKNOWN} stands for a whole dimension: write [{UNKNOWN},d] or [n,{UNKNOWN}]",
                    self.tok.col,
                )
            return UNKNOWN
        parts = [self._dim_atom()]
        while self.at("*") or self.at("/"):
            parts.append(self.take().text)
            parts.append(self._dim_atom())
        return "".join(parts)

    def _dim_atom(self) -> str:
        t = self.tok
        if t.kind in ("name", "num"):
            self.i += 1
            if t.kind == "num" and not t.text.isdigit():
                raise ImageSpecError(f"a dimension must be a whole number, not {t.text}", t.col)
            return t.text
        if t.text == UNKNOWN:
            raise ImageSpecError(
                f"{UNKNOWN} stands for a whole dimension: write [{UNKNOWN},d] or [n,{UNKNOWN}]",
                t.col,
            )
        raise ImageSpecError(
            f"expected a dimension name or number, found {t.text or 'the end of the spec'!r}",
            t.col,
        )

    def block(self) -> Block:
        name = self.take(kind="name")
        transposed = False
        if self.tok.kind == "T":
            self.i += 1
            transposed = True
        if not self.at("["):
            raise ImageSpecError(
                f"matrix {name.text} needs its shape, like {name.text}[n,d_k]", self.tok.col
            )
        self.take("[")
        rows = self.dim()
        self.take(",")
        cols = self.dim()
        self.take("]")
        return Block(name.text, rows, cols, transposed)

    def term(self) -> Expr:
        t = self.tok
        if t.kind == "num":
            self.i += 1
            return Number(t.text)
        if t.text == "(":
            self.i += 1
            e = self.expr()
            self.take(")")
            return e
        if t.kind == "name":
            nxt = self.toks[self.i + 1]
            if nxt.text == "(":
                if t.text == "sqrt":
                    self.i += 2
                    d = self.dim()
                    self.take(")")
                    return Sqrt(d)
                if t.text not in FUNCS:
                    raise ImageSpecError(
                        f"unknown function {t.text!r} (known: sqrt, {', '.join(FUNCS)})", t.col
                    )
                self.i += 2
                arg = self.expr()
                self.take(")")
                func: Literal["softmax", "mask", "concat_heads"] = t.text  # type: ignore[assignment]
                return Call(func, arg)
            return self.block()
        got = repr(t.text) if t.kind != "end" else "the end of the spec"
        raise ImageSpecError(f"expected a matrix like Q[n,d_k], found {got}", t.col)

    def expr(self) -> Expr:
        """A sum: products joined by ``+`` or ``|`` (the loosest binding)."""
        left = self.product()
        while self.tok.kind == "sym" and self.tok.text in ("+", "|"):
            op: Literal["+", "|"] = self.take().text  # type: ignore[assignment]
            left = Op(op, left, self.product())
        return left

    def product(self) -> Expr:
        """Terms joined by ``@``, ``*`` or ``/``, left to right."""
        left = self.term()
        while self.tok.kind == "sym" and self.tok.text in ("@", "*", "/"):
            op: Literal["@", "*", "/"] = self.take().text  # type: ignore[assignment]
            left = Op(op, left, self.term())
        return left


def _eval_dim(dim: str, sizes: dict[str, int]) -> int | None:
    if "+" in dim:
        terms = [_eval_dim(t, sizes) for t in dim.split("+")]
        return None if any(t is None for t in terms) else sum(t or 0 for t in terms)
    parts = re.split(r"([*/])", dim)
    value: float | None = None
    op = "*"
    for part in parts:
        if part in ("*", "/"):
            op = part
            continue
        if part.isdigit():
            n: float = int(part)
        elif part in sizes:
            n = sizes[part]
        else:
            return None
        if value is None:
            value = n
        elif op == "*":
            value *= n
        else:
            value /= n
    if value is None or value != int(value):
        return None
    return int(value)


def is_unknown(dim: str) -> bool:
    """True for a dimension the learner is asked for (``?``, or one made from it: ``h*?``)."""
    return UNKNOWN in dim


def _same(a: str, b: str, sizes: dict[str, int]) -> bool:
    """Whether two dimensions agree; an unknown one fits anything."""
    if a == b or is_unknown(a) or is_unknown(b):
        return True
    va, vb = _eval_dim(a, sizes), _eval_dim(b, sizes)
    return va is not None and va == vb


def _dim_names(dim: str) -> list[str]:
    return [p for p in re.split(r"[*/+]", dim) if p and not p.isdigit() and p != UNKNOWN]


def _shape_of(e: Expr, sizes: dict[str, int]) -> tuple[str, str] | None:
    """Infer (rows, cols) of an expression; None means a scalar."""
    if isinstance(e, Block):
        return (e.rows, e.cols)
    if isinstance(e, Number | Sqrt):
        return None
    if isinstance(e, Call):
        inner = _shape_of(e.arg, sizes)
        if inner is None:
            raise ImageSpecError(f"{e.func}() needs a matrix, not a number")
        if e.func == "concat_heads":
            return (inner[0], f"h*{inner[1]}")
        if e.func == "mask" and not _same(inner[0], inner[1], sizes):
            raise ImageSpecError(
                f"a causal mask needs a square matrix, got [{inner[0]},{inner[1]}]"
            )
        return inner
    left = _shape_of(e.left, sizes)
    right = _shape_of(e.right, sizes)
    if e.op == "@":
        if left is None or right is None:
            raise ImageSpecError("@ multiplies two matrices; use * or / for a number")
        if not _same(left[1], right[0], sizes):
            raise ImageSpecError(
                f"cannot multiply [{left[0]},{left[1]}] @ [{right[0]},{right[1]}]: "
                f"inner dimensions {left[1]} and {right[0]} differ"
            )
        return (left[0], right[1])
    if e.op == "|":
        if left is None or right is None:
            raise ImageSpecError("| concatenates two matrices")
        if not _same(left[0], right[0], sizes):
            raise ImageSpecError(
                f"cannot concatenate [{left[0]},{left[1]}] | [{right[0]},{right[1]}]: "
                "row counts differ"
            )
        return (left[0], f"{left[1]}+{right[1]}")
    if e.op == "/" and right is not None:
        raise ImageSpecError("/ divides by a number such as sqrt(d_k), not by a matrix")
    if left is None:
        return right
    if right is None:
        return left
    if not (_same(left[0], right[0], sizes) and _same(left[1], right[1], sizes)):
        raise ImageSpecError(
            f"{e.op} needs equal shapes, got [{left[0]},{left[1]}] and [{right[0]},{right[1]}]"
        )
    return left


def _parse_options(p: _Parser) -> dict[str, tuple[str, int]]:
    """Parse ``key=value`` options into {key: (value, column)}."""
    opts: dict[str, tuple[str, int]] = {}
    while True:
        key = p.take(kind="name")
        p.take("=")
        val = p.tok
        if val.kind not in ("name", "num"):
            raise ImageSpecError(f"option {key.text} needs a value", val.col)
        p.i += 1
        text = val.text
        if p.at(":"):
            p.i += 1
            idx = p.take(kind="num")
            text = f"{text}:{idx.text}"
        if key.text in opts:
            raise ImageSpecError(f"option {key.text} is given twice", key.col)
        opts[key.text] = (text, key.col)
        if p.tok.kind == "end":
            return opts
        p.take(",")


def parse_shape_spec(text: str) -> ShapeSpec:
    """Parse and check a matrix-shape spec.

    Args:
        text: the spec, e.g. ``Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4``.

    Returns:
        The parsed spec with its inferred shape.

    Raises:
        ImageSpecError: on a syntax error or shapes that do not fit together.
    """
    source = text.strip()
    if not source:
        raise ImageSpecError("the shape spec is empty")
    p = _Parser(source)
    expr = p.expr()
    result: Block | None = None
    if p.tok.kind == "arrow":
        p.i += 1
        result = p.block()
    raw: dict[str, tuple[str, int]] = {}
    if p.at(";"):
        p.i += 1
        raw = _parse_options(p)
    if p.tok.kind != "end":
        raise ImageSpecError(f"unexpected {p.tok.text!r}", p.tok.col)

    used: set[str] = set()
    for e in _walk_dims(expr, result):
        used.update(_dim_names(e))
    sizes: dict[str, int] = {}
    mask: str | None = None
    highlight: tuple[str, int] | None = None
    heads: int | None = None
    show = "shape"
    for key, (val, col) in raw.items():
        if key == "mask":
            if val != "causal":
                raise ImageSpecError(f"mask must be 'causal', not {val!r}", col)
            mask = val
        elif key == "highlight":
            m = re.fullmatch(r"(row|col):(\d+)", val)
            if m is None:
                raise ImageSpecError(f"highlight must be row:I or col:J, not {val!r}", col)
            highlight = (m.group(1), int(m.group(2)))
        elif key == "heads":
            if not val.isdigit() or int(val) < 1:
                raise ImageSpecError(f"heads must be a positive whole number, not {val!r}", col)
            heads = int(val)
        elif key == "show":
            if val not in SHOW_VALUES:
                raise ImageSpecError(f"show must be one of {', '.join(SHOW_VALUES)}", col)
            show = val
        elif key in used or key == "h":
            if not val.isdigit() or int(val) < 1:
                raise ImageSpecError(
                    f"size {key} must be a positive whole number, not {val!r}", col
                )
            sizes[key] = int(val)
        else:
            raise ImageSpecError(
                f"unknown option {key!r}: not a dimension of this spec "
                "nor one of mask, highlight, heads, show",
                col,
            )
    if heads is not None and "h" not in sizes:
        sizes["h"] = heads
    if show != "shape" and any(is_unknown(d) for d in _walk_dims(expr, result)):
        raise ImageSpecError(
            f"show={show} would give the unknown {UNKNOWN} away: "
            "a spec with an unknown shows shapes only",
            raw["show"][1],
        )
    shape = _shape_of(expr, sizes)
    if shape is None:
        raise ImageSpecError("the spec has no matrix in it")
    if result is not None and not (
        _same(result.rows, shape[0], sizes) and _same(result.cols, shape[1], sizes)
    ):
        raise ImageSpecError(
            f"declared result {result.label}[{result.rows},{result.cols}] "
            f"but the expression gives [{shape[0]},{shape[1]}]"
        )
    if highlight is not None:
        axis, idx = highlight
        limit = _eval_dim(shape[0] if axis == "row" else shape[1], sizes)
        if limit is not None and idx >= limit:
            raise ImageSpecError(f"highlight {axis}:{idx} is outside a result of {limit} {axis}s")
    return ShapeSpec(source, expr, result, shape, sizes, mask, highlight, heads, show)


def _walk_dims(expr: Expr, result: Block | None) -> list[str]:
    dims: list[str] = []

    def walk(e: Expr) -> None:
        if isinstance(e, Block):
            dims.extend((e.rows, e.cols))
        elif isinstance(e, Sqrt):
            dims.append(e.dim)
        elif isinstance(e, Call):
            walk(e.arg)
        elif isinstance(e, Op):
            walk(e.left)
            walk(e.right)

    walk(expr)
    if result is not None:
        dims.extend((result.rows, result.cols))
    return dims


def has_unknown(spec: ImageSpec) -> bool:
    """Whether an image asks for something: a ``?`` dimension of a shape, a ``?`` in a
    formula. A built-in diagram never does."""
    if isinstance(spec, ShapeSpec):
        return any(is_unknown(d) for d in _walk_dims(spec.expr, spec.result))
    if isinstance(spec, FormulaSpec):
        return UNKNOWN in spec.source
    return False


def check_latex(source: str) -> None:
    """Cheap structural checks of a LaTeX formula (balanced braces, not empty).

    The renderer checks that mathtext can draw it.
    """
    if not source.strip():
        raise ImageSpecError("the formula is empty")
    depth = 0
    for col, ch in enumerate(source):
        if ch == "{" and (col == 0 or source[col - 1] != "\\"):
            depth += 1
        elif ch == "}" and (col == 0 or source[col - 1] != "\\"):
            depth -= 1
            if depth < 0:
                raise ImageSpecError("unbalanced '}' in the formula", col)
    if depth != 0:
        raise ImageSpecError("unbalanced '{' in the formula: a '}' is missing")
    if source.strip().startswith("$") or source.strip().endswith("$"):
        raise ImageSpecError("write the formula without the surrounding $ signs")


def parse_diagram_spec(text: str) -> DiagramSpec:
    """Parse a built-in diagram's name (``transformer``).

    Raises:
        ImageSpecError: when the name is missing or not one of :data:`DIAGRAMS`.
    """
    name = text.strip()
    known = ", ".join(DIAGRAMS)
    if not name:
        raise ImageSpecError(f"a diagram spec names a built-in diagram (known: {known})")
    if name not in DIAGRAMS:
        raise ImageSpecError(f"unknown diagram {name!r} (known: {known})")
    return DiagramSpec(name, name)


def parse_image_spec(text: str) -> ImageSpec:
    """Parse an ``image:`` value: ``shape <spec>``, ``formula <LaTeX>`` or ``diagram <name>``.

    Raises:
        ImageSpecError: when the kind is unknown or the spec is invalid.
    """
    kind, _, rest = text.strip().partition(" ")
    if kind == "shape":
        return parse_shape_spec(rest)
    if kind == "formula":
        check_latex(rest)
        return FormulaSpec(rest.strip())
    if kind == "diagram":
        return parse_diagram_spec(rest)
    raise ImageSpecError(
        f"an image spec starts with 'shape' or 'formula', not {kind!r}"
        " (or is 'diagram <name>' for a built-in diagram)"
    )
