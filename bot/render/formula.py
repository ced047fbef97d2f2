"""Formulas: checking and drawing LaTeX with matplotlib's mathtext."""

from __future__ import annotations

import re
import threading
from typing import Final

from matplotlib.mathtext import MathTextParser, VectorParse

from bot.render.canvas import Png, measure_text, new_canvas, pt, to_png
from bot.render.style import DEFAULT_STYLE, Style

__all__ = ["check_formula", "render_formula", "split_formula"]

#: mathtext's font set for formulas: Computer Modern, as in LaTeX.
MATH_FONTSET: Final = "cm"

_parser_lock = threading.Lock()
_parser: MathTextParser[VectorParse] | None = None


def _get_parser() -> MathTextParser[VectorParse]:
    global _parser
    if _parser is None:
        _parser = MathTextParser("path")
    return _parser


def _clean_error(raw: str) -> str:
    """mathtext's multi-line parse error as one readable line."""
    lines = [line for line in raw.splitlines() if line.strip()]
    last = lines[-1] if lines else raw
    last = re.sub(r"^\w*(Exception|Error): ", "", last.strip())
    col = re.search(r"\(at char (\d+)\), \(line:\d+, col:\d+\)", last)
    found = re.search(r", found ('.*?'|end of text)", last)
    message = re.sub(r"\s*\(at char \d+\), \(line:\d+, col:\d+\)", "", last).strip()
    if message.startswith("Expected {") or len(message) > 120:
        message = f"unexpected {found.group(1)}" if found else "cannot parse it"
    if col is not None:
        # The parsed text is "$" + formula + "$": column 1 is the formula's first character.
        message += f" (at column {max(1, int(col.group(1)))})"
    return message


def check_formula(latex: str) -> str | None:
    """Why mathtext cannot draw this formula, or None when it can.

    Args:
        latex: the formula without surrounding ``$``.

    Returns:
        A one-line message such as ``Unknown symbol: \\foo (at column 1)``, or None.
    """
    if not latex.strip():
        return "the formula is empty"
    try:
        with _parser_lock:
            _get_parser().parse(f"${latex}$", dpi=72)
    except ValueError as exc:
        return _clean_error(str(exc))
    except Exception as exc:  # mathtext raises assorted errors on odd input
        return f"mathtext cannot draw it: {type(exc).__name__}: {exc}".splitlines()[0]
    return None


def split_formula(latex: str) -> list[str]:
    """Split a formula at its top-level ``\\quad`` / ``\\qquad`` spaces (one line each).

    Trailing commas before a split are dropped. Brace groups and
    ``\\left ... \\right`` pairs are never split.
    """
    parts: list[str] = []
    depth = 0
    start = 0
    i = 0
    while i < len(latex):
        ch = latex[i]
        if ch == "\\":
            m = re.compile(r"\\(qquad|quad|left|right)(?![A-Za-z])").match(latex, i)
            if m is None:
                i += 2
                continue
            word = m.group(1)
            if word == "left":
                depth += 1
            elif word == "right":
                depth -= 1
            elif depth == 0:
                parts.append(latex[start:i])
                start = m.end()
            i = m.end()
            continue
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        i += 1
    parts.append(latex[start:])
    cleaned = [re.sub(r"(\\,|\\;|\\ |,|\s)+$", "", p.strip()) for p in parts]
    return [p for p in cleaned if p]


def render_formula(latex: str, style: Style = DEFAULT_STYLE) -> Png:
    """Draw a formula centred on a page at least ``style.width`` px wide.

    A formula too wide for the page is split at its top-level ``\\quad``
    spaces, then drawn smaller, then on a wider page.

    Raises:
        ValueError: when mathtext cannot draw it (see :func:`check_formula`).
    """
    problem = check_formula(latex)
    if problem is not None:
        raise ValueError(problem)
    avail = style.width - 2 * style.margin - 40

    def widest(lines: list[str], px: float) -> float:
        return max(_measure(line, px, style)[0] for line in lines)

    lines = [latex]
    font = float(style.formula_px)
    if widest(lines, font) > avail:
        pieces = split_formula(latex)
        if len(pieces) > 1:
            lines = pieces
    w = widest(lines, font)
    if w > avail:
        font = max(float(style.formula_min_px), font * avail / w)
        w = widest(lines, font)
    width = style.width
    if w > avail:
        width = min(style.max_width, int(w + 2 * style.margin + 40))
        if w > width - 2 * style.margin:
            font *= (width - 2 * style.margin) / w
    sizes = [_measure(line, font, style) for line in lines]
    gap = font * 0.7
    content_h = sum(h for _, h, _ in sizes) + gap * (len(lines) - 1)
    pad = max(70.0, font * 1.6)
    height = int(max(content_h + 2 * pad, 0.3 * width))

    fig, ax = new_canvas(width, height, style)
    y = height / 2 + content_h / 2
    for line, (_, h, d) in zip(lines, sizes, strict=True):
        # Place by the baseline so lines with and without descenders sit evenly.
        ax.text(
            width / 2,
            y - (h - d),
            f"${line}$",
            ha="center",
            va="baseline",
            fontsize=pt(font, style),
            color=style.ink,
            math_fontfamily=MATH_FONTSET,
        )
        y -= h + gap
    return to_png(fig, style)


def _measure(latex: str, px: float, style: Style) -> tuple[float, float, float]:
    return measure_text(f"${latex}$", px, style, math_family=MATH_FONTSET)
