"""The heat map of a challenge summary: rubric rows by participants, one level per cell.

:func:`layout_heatmap` is the pure layout model (pixels, origin at the bottom
left, like the other diagrams; tests check it directly); :func:`render_heatmap`
draws it. Levels are 1 "need to re-study" (warm red), 2 "shaky" (amber) and
3 "confident" (green); a cell without an answer is light grey with a dash.
Every level also has a glyph, so the chart does not rely on colour alone.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from matplotlib.patches import FancyBboxPatch, Rectangle

from bot.core.messages import HeatMap
from bot.render.canvas import Png, measure_text, new_canvas, pt, to_png
from bot.render.jobs import MAX_COLUMNS, MAX_ROWS, check_heatmap
from bot.render.layout import Measure, estimate_width
from bot.render.style import DEFAULT_STYLE, Style

__all__ = [
    "LEVELS",
    "MAX_COLUMNS",
    "MAX_ROWS",
    "HeatCell",
    "HeatLayout",
    "HeatText",
    "LegendItem",
    "check_heatmap",
    "layout_heatmap",
    "render_heatmap",
    "wrap_text",
]


@dataclass(frozen=True, slots=True)
class _Level:
    fill: str
    glyph: str
    glyph_colour: str


#: Fill, glyph and glyph colour per level; None is "no answer".
LEVELS: Final[dict[int | None, _Level]] = {
    1: _Level("#d6604d", "↻", "#ffffff"),  # warm red: need to re-study
    2: _Level("#f0b03c", "?", "#3b2a05"),  # amber: shaky
    3: _Level("#3f9a55", "✓", "#ffffff"),  # green: confident
    None: _Level("#e2e0da", "–", "#7d838b"),  # light grey: no answer
}

_TITLE_PX: Final = 42.0
_LABEL_PX: Final = 31.0
_COLUMN_PX: Final = 29.0
_LEGEND_PX: Final = 29.0
_GLYPH_PX: Final = 34.0
_GAP: Final = 24.0
_MIN_CELL: Final = 72.0
_MAX_CELL: Final = 190.0
_MIN_ROW_H: Final = 86.0
_MAX_LABEL_LINES: Final = 3
_MAX_NAME_PX: Final = 320.0
_SWATCH: Final = 44.0


@dataclass(frozen=True, slots=True)
class HeatCell:
    """One cell: its rectangle (x, y = bottom left), level and what is drawn in it."""

    row: int
    column: int
    level: int | None
    x: float
    y: float
    width: float
    height: float
    fill: str
    glyph: str
    glyph_colour: str


@dataclass(frozen=True, slots=True)
class HeatText:
    """A piece of text: anchored at (x, y) with matplotlib's ``ha``/``va``."""

    text: str
    x: float
    y: float
    font_px: float
    ha: str = "left"
    va: str = "center"
    rotation: float = 0.0
    colour: str = ""
    bold: bool = False


@dataclass(frozen=True, slots=True)
class LegendItem:
    """A swatch (x, y = bottom left, ``size`` square) and its label."""

    level: int | None
    x: float
    y: float
    size: float
    label: str


@dataclass(frozen=True, slots=True)
class HeatLayout:
    """Everything :func:`render_heatmap` draws, in px.

    Attributes:
        width, height: the canvas.
        cells: one per value, row by row.
        texts: title, row labels (wrapped) and column labels.
        legend: the swatches with their labels.
        row_lines: each row label as wrapped lines.
        column_rotation: 0 (horizontal names) or 45 degrees.
        grid: (x, y, width, height) of the cells together.
        label_width: the width row labels are wrapped to.
    """

    width: int
    height: int
    cells: tuple[HeatCell, ...]
    texts: tuple[HeatText, ...]
    legend: tuple[LegendItem, ...]
    row_lines: tuple[tuple[str, ...], ...]
    column_rotation: float
    grid: tuple[float, float, float, float]
    label_width: float
    style: Style = DEFAULT_STYLE


def _clean(text: str) -> str:
    return " ".join(str(text).split())


def _fit(text: str, max_px: float, font_px: float, measure: Measure) -> str:
    """``text`` shortened with an ellipsis to at most ``max_px``."""
    if measure(text, font_px) <= max_px:
        return text
    lo, hi = 0, len(text)
    while lo < hi:
        mid = (lo + hi + 1) // 2
        if measure(text[:mid].rstrip() + "…", font_px) <= max_px:
            lo = mid
        else:
            hi = mid - 1
    return text[:lo].rstrip() + "…"


def wrap_text(
    text: str, max_px: float, font_px: float, measure: Measure, max_lines: int = 3
) -> list[str]:
    """Word-wrap ``text`` to lines of at most ``max_px``; the last kept line gets an ellipsis."""
    words = _clean(text).split(" ")
    lines: list[str] = []
    current = ""
    for word in words:
        trial = f"{current} {word}" if current else word
        if measure(trial, font_px) <= max_px:
            current = trial
            continue
        if current:
            lines.append(current)
        current = word
        while measure(current, font_px) > max_px and len(current) > 1:
            # a word longer than a line: break it
            cut = len(current) - 1
            while cut > 1 and measure(current[:cut] + "-", font_px) > max_px:
                cut -= 1
            lines.append(current[:cut] + "-")
            current = current[cut:]
    if current or not lines:
        lines.append(current)
    if len(lines) > max_lines:
        rest = " ".join(lines[max_lines - 1 :])
        lines = [*lines[: max_lines - 1], _fit(rest, max_px, font_px, measure)]
    return lines


def _legend_rows(
    items: Sequence[tuple[int | None, str]], max_w: float, measure: Measure
) -> list[list[tuple[int | None, str, float]]]:
    """Legend entries flowed into rows that fit ``max_w``: (level, label, item width)."""
    rows: list[list[tuple[int | None, str, float]]] = [[]]
    used = 0.0
    for level, label in items:
        label = _fit(label, max_w - _SWATCH - 14, _LEGEND_PX, measure)
        w = _SWATCH + 14 + measure(label, _LEGEND_PX)
        step = w + (40 if rows[-1] else 0)
        if rows[-1] and used + step > max_w:
            rows.append([])
            used, step = 0.0, w
        rows[-1].append((level, label, w))
        used += step
    return rows


def layout_heatmap(
    chart: HeatMap, style: Style = DEFAULT_STYLE, measure: Measure | None = None
) -> HeatLayout:
    """Place every cell, label and legend swatch of a heat map.

    The canvas is ``style.width`` px wide and grows up to ``style.max_width``
    for many participants. Row labels are wrapped (at most three lines) into
    a column at the left; participants' names go under the grid, turned 45
    degrees when they do not fit their cells.

    Raises:
        RenderError: when the chart is malformed (see :func:`check_heatmap`).
    """
    check_heatmap(chart)
    m = measure or estimate_width
    margin = float(style.margin)
    n_rows, n_cols = len(chart.rows), len(chart.columns)
    rows = [_clean(r) or "–" for r in chart.rows]
    names = [_clean(c) or "–" for c in chart.columns]
    longest = max(m(r, _LABEL_PX) for r in rows)

    # Width: enough for comfortable cells, within the style's bounds.
    min_label = min(longest, 300.0)
    wanted = 2 * margin + _GAP + min_label + n_cols * _MIN_CELL
    width = int(min(max(style.width, wanted), style.max_width))
    avail = width - 2 * margin - _GAP
    label_w = min(longest, max(avail * 0.45, avail - n_cols * _MAX_CELL))
    if (avail - label_w) / n_cols < _MIN_CELL:
        label_w = min(longest, max(avail * 0.3, avail - n_cols * _MIN_CELL))
    cell_w = min(_MAX_CELL, (avail - label_w) / n_cols)

    row_lines = [wrap_text(r, label_w, _LABEL_PX, m, _MAX_LABEL_LINES) for r in rows]
    label_w = max(m(line, _LABEL_PX) for lines in row_lines for line in lines)
    most_lines = max(len(lines) for lines in row_lines)
    row_h = max(_MIN_ROW_H, most_lines * _LABEL_PX * 1.22 + 26)

    # Column names: horizontal when every name fits its cell, else turned 45 degrees.
    col_px = _COLUMN_PX if cell_w >= 44 else max(16.0, cell_w * 0.7)
    fitted = [_fit(n, _MAX_NAME_PX, col_px, m) for n in names]
    name_w = max(m(n, col_px) for n in fitted)
    rotation = 0.0 if name_w <= cell_w - 12 else 45.0
    if rotation:
        diag = 0.7071
        names_h = (name_w + col_px * 0.5) * diag + col_px * diag + 18
        reach_left = name_w * diag + col_px * 0.5
    else:
        names_h = col_px * 1.3 + 18
        reach_left = name_w / 2
    grid_x = margin + label_w + _GAP
    grid_x = max(grid_x, margin + reach_left - cell_w / 2)
    grid_w = n_cols * cell_w
    width = max(width, int(grid_x + grid_w + margin + 0.5))

    # Title and legend, wrapped to the width.
    title_w = (width - 2 * margin) * 0.9  # measured in the regular weight, drawn bold
    title_lines = wrap_text(chart.title or "Self-assessment", title_w, _TITLE_PX, m)
    entries: list[tuple[int | None, str]] = [(lv, chart.legend[lv - 1]) for lv in (1, 2, 3)]
    if any(v is None for row in chart.values for v in row):
        entries.append((None, "No answer"))
    legend_rows = _legend_rows(entries, width - 2 * margin, m)
    legend_line_h = _SWATCH + 16

    title_h = len(title_lines) * _TITLE_PX * 1.25
    legend_h = len(legend_rows) * legend_line_h
    grid_h = n_rows * row_h
    height = int(margin + title_h + 22 + legend_h + 26 + grid_h + names_h + margin + 0.5)

    texts: list[HeatText] = []
    y = height - margin
    for line in title_lines:
        texts.append(
            HeatText(line, margin, y - _TITLE_PX * 0.55, _TITLE_PX, "left", "center", bold=True)
        )
        y -= _TITLE_PX * 1.25
    y -= 22
    legend: list[LegendItem] = []
    for legend_row in legend_rows:
        x = margin
        for level, label, w in legend_row:
            sy = y - _SWATCH - 4
            legend.append(LegendItem(level, x, sy, _SWATCH, label))
            texts.append(
                HeatText(label, x + _SWATCH + 14, sy + _SWATCH / 2, _LEGEND_PX, "left", "center")
            )
            x += w + 40
        y -= legend_line_h
    y -= 26
    grid_top = y
    grid_y = grid_top - grid_h

    cells: list[HeatCell] = []
    for r, lines in enumerate(row_lines):
        top = grid_top - r * row_h
        mid = top - row_h / 2
        n = len(lines)
        for k, line in enumerate(lines):
            ly = mid + ((n - 1) / 2 - k) * _LABEL_PX * 1.22
            texts.append(HeatText(line, margin, ly, _LABEL_PX, "left", "center"))
        for c in range(n_cols):
            level = chart.values[r][c]
            look = LEVELS[level]
            cells.append(
                HeatCell(
                    r,
                    c,
                    level,
                    grid_x + c * cell_w,
                    top - row_h,
                    cell_w,
                    row_h,
                    look.fill,
                    look.glyph,
                    look.glyph_colour,
                )
            )
    for c, name in enumerate(fitted):
        cx = grid_x + (c + 0.5) * cell_w
        if rotation:
            texts.append(HeatText(name, cx + col_px * 0.3, grid_y - 14, col_px, "right", "top", 45))
        else:
            texts.append(HeatText(name, cx, grid_y - 12, col_px, "center", "top"))

    return HeatLayout(
        width=width,
        height=height,
        cells=tuple(cells),
        texts=tuple(texts),
        legend=tuple(legend),
        row_lines=tuple(tuple(lines) for lines in row_lines),
        column_rotation=rotation,
        grid=(grid_x, grid_y, grid_w, grid_h),
        label_width=label_w,
        style=style,
    )


def render_heatmap(chart: HeatMap, style: Style = DEFAULT_STYLE) -> Png:
    """Draw a heat map; returns (PNG bytes, width, height).

    Raises:
        RenderError: when the chart is malformed.
    """
    layout = layout_heatmap(
        chart, style, lambda text, px: measure_text(text, px, style, math=False)[0]
    )
    fig, ax = new_canvas(layout.width, layout.height, style)
    gx, gy, gw, gh = layout.grid
    ax.add_patch(Rectangle((gx, gy), gw, gh, facecolor=style.grid, edgecolor="none", zorder=1))
    glyph_px = min(_GLYPH_PX, min(layout.cells[0].width, layout.cells[0].height) * 0.55)
    for cell in layout.cells:
        ax.add_patch(
            Rectangle(
                (cell.x, cell.y),
                cell.width,
                cell.height,
                facecolor=cell.fill,
                edgecolor=style.grid,
                linewidth=3.0,
                zorder=2,
            )
        )
        ax.text(
            cell.x + cell.width / 2,
            cell.y + cell.height / 2,
            cell.glyph,
            ha="center",
            va="center",
            fontsize=pt(glyph_px, style),
            color=cell.glyph_colour,
            fontweight="bold",
            parse_math=False,
            zorder=3,
        )
    for item in layout.legend:
        look = LEVELS[item.level]
        ax.add_patch(
            FancyBboxPatch(
                (item.x, item.y),
                item.size,
                item.size,
                boxstyle="round,pad=0,rounding_size=6",
                facecolor=look.fill,
                edgecolor="none",
                zorder=2,
            )
        )
        ax.text(
            item.x + item.size / 2,
            item.y + item.size / 2,
            look.glyph,
            ha="center",
            va="center",
            fontsize=pt(item.size * 0.6, style),
            color=look.glyph_colour,
            fontweight="bold",
            parse_math=False,
            zorder=3,
        )
    for t in layout.texts:
        ax.text(
            t.x,
            t.y,
            t.text,
            ha=t.ha,
            va=t.va,
            rotation=t.rotation,
            rotation_mode="anchor",
            fontsize=pt(t.font_px, style),
            color=t.colour or style.ink,
            fontweight="bold" if t.bold else "normal",
            parse_math=False,
            zorder=4,
        )
    return to_png(fig, style)
