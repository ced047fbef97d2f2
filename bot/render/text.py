"""Markdown that chat apps cannot show (tables, wide code) drawn as an image.

Paragraphs keep their ``$...$`` math (drawn by mathtext when it can, as
Unicode otherwise), tables become a real grid, and code keeps its columns in
a monospace font. The page is at least ``style.width`` px wide and grows (up
to ``style.max_width``) for wide tables and code before the text shrinks.
"""

from __future__ import annotations

import math
import re
import textwrap
from dataclasses import dataclass
from typing import Final, Literal

from matplotlib.axes import Axes
from matplotlib.patches import FancyBboxPatch, Rectangle

from bot.render.canvas import Png, measure_text, new_canvas, pt, to_png
from bot.render.formula import check_formula
from bot.render.style import DEFAULT_STYLE, Style, tint
from bot.text.latex import formula_fallback
from bot.text.markdown import FENCE, MarkdownTable, fence_flags, parse_table, table_blocks

__all__ = ["TextBlock", "parse_markdown", "render_text"]

MONO: Final = "DejaVu Sans Mono"
SANS: Final = "DejaVu Sans"
_MIN_TEXT_PX: Final = 18.0


@dataclass(frozen=True, slots=True)
class TextBlock:
    """A piece of markdown: a paragraph, heading, list item, table or code block."""

    kind: Literal["para", "heading", "item", "table", "code"]
    text: str = ""
    lines: tuple[str, ...] = ()
    table: MarkdownTable | None = None


def parse_markdown(markdown: str) -> list[TextBlock]:
    """Split markdown into the blocks :func:`render_text` draws."""
    lines = markdown.splitlines()
    in_code = fence_flags(lines)
    tables = {start: end for start, end in table_blocks(markdown)}
    blocks: list[TextBlock] = []
    para: list[str] = []

    def flush() -> None:
        if para:
            blocks.append(TextBlock("para", " ".join(p.strip() for p in para)))
            para.clear()

    i = 0
    while i < len(lines):
        line = lines[i]
        opening = FENCE.match(line) if in_code[i] else None
        if opening is not None:
            flush()
            marker = opening.group(1)[:3]
            code: list[str] = []
            i += 1
            while i < len(lines):
                close = FENCE.match(lines[i])
                if (
                    close
                    and close.group(1).startswith(marker)
                    and not lines[i].strip().strip(marker[0])
                ):
                    break
                code.append(lines[i].rstrip().expandtabs(4))
                i += 1
            blocks.append(TextBlock("code", lines=tuple(code)))
            i += 1  # the closing fence
            continue
        if i in tables:
            flush()
            end = tables[i]
            blocks.append(TextBlock("table", table=parse_table(lines[i:end])))
            i = end
            continue
        stripped = line.strip()
        if not stripped:
            flush()
        elif stripped.startswith("#"):
            flush()
            blocks.append(TextBlock("heading", stripped.lstrip("#").strip()))
        elif re.match(r"^([-*+]|\d+[.)])\s+", stripped):
            flush()
            blocks.append(TextBlock("item", stripped))
        else:
            para.append(stripped)
        i += 1
    flush()
    return blocks


# --------------------------------------------------------------------------- inline text

_MATH: Final = re.compile(r"(?<!\\)\$(?![\s$])([^$\n]+?)(?<![\s\\])\$(?!\d)")


def _inline(text: str) -> tuple[str, bool]:
    """Markdown inline text as matplotlib text; True when it contains mathtext."""
    text = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), text)
    text = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", text)
    text = re.sub(r"`([^`]*)`", r"\1", text)
    text = re.sub(r"\[([^\]]+)\]\([^)]+\)", r"\1", text)
    text = re.sub(r"(?<!\\)\$\$(.+?)(?<!\\)\$\$", r"$\1$", text)
    parts: list[str] = []
    pos = 0
    has_math = False
    for m in _MATH.finditer(text):
        parts.append(text[pos : m.start()].replace("$", r"\$"))
        latex = m.group(1)
        if check_formula(latex) is None:
            parts.append(f"${latex}$")
            has_math = True
        else:
            parts.append(formula_fallback(latex).replace("$", r"\$"))
        pos = m.end()
    parts.append(text[pos:].replace("$", r"\$"))
    return "".join(parts), has_math


def _words(text: str) -> list[str]:
    """Words, keeping each ``$...$`` group whole."""
    words: list[str] = []
    current = ""
    in_math = False
    prev = ""
    for ch in text:
        if ch == "$" and prev != "\\":
            in_math = not in_math
        if ch == " " and not in_math:
            if current:
                words.append(current)
            current = ""
        else:
            current += ch
        prev = ch
    if current:
        words.append(current)
    return words


def _wrap(text: str, font_px: float, width: float, style: Style) -> list[str]:
    lines: list[str] = []
    current = ""
    for word in _words(text):
        trial = f"{current} {word}" if current else word
        if current and measure_text(trial, font_px, style)[0] > width:
            lines.append(current)
            current = word
        else:
            current = trial
    if current:
        lines.append(current)
    return lines or [""]


# --------------------------------------------------------------------------- drawing


@dataclass(slots=True)
class _Placed:
    kind: str
    height: float
    lines: list[str]
    font_px: float
    col_widths: list[float] | None = None
    cells: list[list[str]] | None = None
    indent: float = 0.0
    align: tuple[str, ...] = ()


def _table_cells(table: MarkdownTable) -> list[list[str]]:
    return [[_inline(c)[0] for c in table.header]] + [
        [_inline(c)[0] for c in row] for row in table.rows
    ]


def _table_widths(cells: list[list[str]], font_px: float, style: Style) -> list[float]:
    pad = font_px * 0.9
    cols = len(cells[0])
    return [
        max(measure_text(row[k], font_px, style)[0] for row in cells) + 2 * pad for k in range(cols)
    ]


def _code_width(lines: tuple[str, ...], font_px: float, style: Style) -> float:
    longest = max(lines, key=len, default="")
    return measure_text(longest, font_px, style, MONO, math=False)[0] + font_px * 1.6


def render_text(markdown: str, style: Style = DEFAULT_STYLE) -> Png:
    """Draw markdown (paragraphs, lists, tables, code) as a PNG.

    Raises:
        ValueError: when there is nothing to draw.
    """
    blocks = parse_markdown(markdown)
    if not blocks:
        raise ValueError("there is no text to draw")
    margin = float(style.margin)

    # Width: grow the page for the widest table or code block, then shrink its font.
    need = 0.0
    for b in blocks:
        if b.kind == "table" and b.table is not None:
            need = max(need, sum(_table_widths(_table_cells(b.table), style.text_px, style)))
        elif b.kind == "code":
            need = max(need, _code_width(b.lines, style.code_px, style))
    width = math.ceil(min(style.max_width, max(style.width, need + 2 * margin)))
    avail = width - 2 * margin

    placed: list[_Placed] = []
    for b in blocks:
        if b.kind == "table" and b.table is not None:
            cells = _table_cells(b.table)
            font = float(style.text_px)
            widths = _table_widths(cells, font, style)
            if sum(widths) > avail:
                font = max(_MIN_TEXT_PX, font * avail / sum(widths) * 0.98)
                widths = _table_widths(cells, font, style)
            row_h = font * 2.0
            placed.append(
                _Placed("table", row_h * len(cells), [], font, widths, cells, align=b.table.align)
            )
        elif b.kind == "code":
            font = float(style.code_px)
            w = _code_width(b.lines, font, style)
            lines = list(b.lines) or [""]
            if w > avail:
                font = max(_MIN_TEXT_PX, font * avail / w * 0.98)
                w = _code_width(b.lines, font, style)
            if w > avail + 1:
                chars = max(10, int(len(max(lines, key=len)) * avail / w) - 1)
                lines = [
                    piece
                    for line in lines
                    for piece in (
                        textwrap.wrap(line, chars, subsequent_indent="↪ ", drop_whitespace=False)
                        or [""]
                    )
                ]
            placed.append(_Placed("code", font * 1.45 * len(lines) + font * 1.2, lines, font))
        else:
            text, _ = _inline(b.text)
            font = style.text_px * (1.2 if b.kind == "heading" else 1.0)
            indent = font * 1.2 if b.kind == "item" else 0.0
            if b.kind == "item":
                text = re.sub(r"^[-*+]\s+", "• ", text)
            lines = _wrap(text, font, avail - indent, style)
            placed.append(_Placed(b.kind, font * 1.5 * len(lines), lines, font, indent=indent))

    gap = style.text_px * 0.8
    content = sum(p.height for p in placed) + gap * (len(placed) - 1)
    height = int(max(content + 2 * margin, 160))
    fig, ax = new_canvas(width, height, style)
    y = height - margin
    for p in placed:
        if p.kind == "table":
            _draw_table(ax, p, margin, y, style)
        elif p.kind == "code":
            _draw_code(ax, p, margin, y, avail, style)
        else:
            for k, line in enumerate(p.lines):
                ax.text(
                    margin + p.indent,
                    y - p.font_px * (1.5 * k + 1.05),
                    line,
                    ha="left",
                    va="baseline",
                    fontsize=pt(p.font_px, style),
                    color=style.ink,
                    fontweight="bold" if p.kind == "heading" else "normal",
                )
        y -= p.height + gap
    return to_png(fig, style)


def _draw_table(ax: Axes, p: _Placed, x0: float, top: float, style: Style) -> None:
    assert p.cells is not None and p.col_widths is not None
    row_h = p.font_px * 2.0
    total_w = sum(p.col_widths)
    head = tint(style.colour("q"), 0.85)
    for r, row in enumerate(p.cells):
        y = top - (r + 1) * row_h
        fill = head if r == 0 else (style.background if r % 2 else "#ecebe6")
        ax.add_patch(Rectangle((x0, y), total_w, row_h, color=fill, lw=0))
        x = x0
        for k, cell in enumerate(row):
            pad = p.font_px * 0.9
            align = p.align[k] if k < len(p.align) else "l"
            if align == "r":
                tx, ha = x + p.col_widths[k] - pad, "right"
            elif align == "c":
                tx, ha = x + p.col_widths[k] / 2, "center"
            else:
                tx, ha = x + pad, "left"
            ax.text(
                tx,
                y + row_h / 2,
                cell,
                ha=ha,
                va="center_baseline",
                fontsize=pt(p.font_px, style),
                color=style.ink,
                fontweight="bold" if r == 0 else "normal",
            )
            x += p.col_widths[k]
    bottom = top - row_h * len(p.cells)
    ax.add_patch(Rectangle((x0, bottom), total_w, top - bottom, fill=False, ec="#b8b5ad", lw=1.5))
    ax.plot([x0, x0 + total_w], [top - row_h] * 2, color="#8d8a82", lw=1.5)
    x = x0
    for w in p.col_widths[:-1]:
        x += w
        ax.plot([x, x], [bottom, top], color="#d3d0c8", lw=1.2)


def _draw_code(ax: Axes, p: _Placed, x0: float, top: float, avail: float, style: Style) -> None:
    ax.add_patch(
        FancyBboxPatch(
            (x0, top - p.height),
            avail,
            p.height,
            boxstyle="round,pad=0,rounding_size=10",
            fc="#ebe9e3",
            ec="#d3d0c8",
            lw=1.2,
        )
    )
    for k, line in enumerate(p.lines):
        ax.text(
            x0 + p.font_px * 0.8,
            top - p.font_px * (0.6 + 1.45 * k + 1.05),
            line,
            ha="left",
            va="baseline",
            fontsize=pt(p.font_px, style),
            family=MONO,
            color=style.ink,
            parse_math=False,
        )
