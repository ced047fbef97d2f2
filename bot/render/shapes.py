"""Drawing matrix-shape diagrams: a :class:`~bot.render.layout.ShapeLayout` onto a PNG."""

from __future__ import annotations

import math

from matplotlib.axes import Axes
from matplotlib.patches import PathPatch, Rectangle
from matplotlib.path import Path as MplPath

from bot.core.imagespec import UNKNOWN, ShapeSpec
from bot.render.canvas import Png, measure_text, new_canvas, pt, to_png
from bot.render.layout import BlockBox, Paren, ShapeLayout, layout_shape
from bot.render.style import DEFAULT_STYLE, Style, shade, tint

__all__ = ["draw_layout", "layout_for", "render_shape"]


def layout_for(spec: ShapeSpec, style: Style = DEFAULT_STYLE) -> ShapeLayout:
    """The layout of a spec, with text measured by matplotlib."""
    return layout_shape(spec, style, lambda text, px: measure_text(text, px, style)[0])


def render_shape(spec: ShapeSpec, style: Style = DEFAULT_STYLE) -> Png:
    """Draw a shape spec; returns (PNG bytes, width, height)."""
    return draw_layout(layout_for(spec, style))


def draw_layout(layout: ShapeLayout) -> Png:
    """Draw a layout as a PNG."""
    style = layout.style
    fig, ax = new_canvas(layout.width, layout.height, style)
    for block in layout.blocks:
        _draw_block(ax, block, layout, style)
    for g in layout.glyphs:
        ax.text(
            g.x,
            g.y,
            g.text,
            ha="center",
            va="center",
            fontsize=pt(g.font_px, style),
            color=style.ink if g.kind != "func" else shade(style.muted, 0.25),
        )
    for p in layout.parens:
        _draw_paren(ax, p, style)
    y = layout.notes_top
    for note in layout.notes:
        ax.text(
            style.margin,
            y,
            note,
            ha="left",
            va="top",
            fontsize=pt(style.note_px, style),
            color=style.muted,
        )
        y -= style.note_px * 1.5
    return to_png(fig, style)


def _cell_colour(block: BlockBox, value: float | None, scale: float, hue: str) -> str:
    if value is None:
        return tint(hue, 0.80 if block.weight else 0.62)
    strength = min(1.0, abs(value) / scale) if scale else 0.0
    if value < 0:
        return tint("#6b6b6b", 1.0 - 0.75 * strength)
    return tint(hue, 0.95 - 0.85 * strength)


def _format_value(value: float, unit_range: bool) -> str:
    if unit_range:
        return f"{value:.2f}".replace("0.", ".", 1) if value < 1 else "1"
    return f"{value:.1f}".replace("-0.0", "0.0")


def _draw_block(ax: Axes, b: BlockBox, layout: ShapeLayout, style: Style) -> None:
    hue = style.colour(b.role)
    rows, cols = b.rows.cells, b.cols.cells
    c = b.cell
    show = layout.show
    values = b.values if show != "shape" else None
    finite = [v for row in values for v in row if math.isfinite(v)] if values else []
    scale = max((abs(v) for v in finite), default=1.0) or 1.0
    unit_range = bool(finite) and all(0.0 <= v <= 1.0 for v in finite)
    draw_numbers = show == "values" and c >= 30

    # Background fill (heads alternate tints).
    band_w = b.width / b.heads
    if b.heads > 1 and values is None and band_w >= 4:
        for k in range(b.heads):
            fill = tint(hue, 0.55 if k % 2 == 0 else 0.74)
            ax.add_patch(Rectangle((b.x + k * band_w, b.y), band_w, b.height, color=fill, lw=0))
    elif values is None:
        ax.add_patch(
            Rectangle((b.x, b.y), b.width, b.height, color=_cell_colour(b, None, 1, hue), lw=0)
        )
    else:
        for i in range(rows):
            for j in range(cols):
                v = values[i][j]
                ax.add_patch(
                    Rectangle(
                        b.cell_rect(i, j)[:2],
                        c,
                        c,
                        color=_cell_colour(b, v if math.isfinite(v) else None, scale, hue),
                        lw=0,
                    )
                )

    # Highlighted row or column.
    if b.highlight is not None:
        axis, idx = b.highlight
        if axis == "row" and idx < rows:
            x, y, w, h = b.x, b.top - (idx + 1) * c, b.width, c
        elif axis == "col" and idx < cols:
            x, y, w, h = b.x + idx * c, b.y, c, b.height
        else:
            x = y = w = h = 0.0
        if w:
            if values is None:
                ax.add_patch(Rectangle((x, y), w, h, color=hue, lw=0, zorder=2))
            ax.add_patch(Rectangle((x, y), w, h, fill=False, ec=shade(hue, 0.45), lw=3.5, zorder=5))

    # Masked cells.
    if b.masked:
        for i in range(rows):
            for j in range(i + 1, cols):
                rx, ry, _, _ = b.cell_rect(i, j)
                ax.add_patch(
                    Rectangle(
                        (rx, ry), c, c, fc=style.masked, ec="#9a9a9a", lw=0, hatch="//", zorder=3
                    )
                )
        if c >= 30 and values is None:
            for i in range(rows):
                for j in range(i + 1, cols):
                    rx, ry, _, _ = b.cell_rect(i, j)
                    ax.text(
                        rx + c / 2,
                        ry + c / 2,
                        r"$-\infty$",
                        ha="center",
                        va="center",
                        fontsize=pt(min(style.value_px, c * 0.38), style),
                        color="#6d6d6d",
                        zorder=4,
                    )

    # Cell values.
    if draw_numbers and values is not None:
        font = pt(min(style.value_px, c * 0.36), style)
        for i in range(rows):
            for j in range(cols):
                v = values[i][j]
                if not math.isfinite(v) or b.is_masked(i, j):
                    continue
                strength = abs(v) / scale
                on_dark = strength > 0.6 or (b.highlight is not None and values is None)
                rx, ry, _, _ = b.cell_rect(i, j)
                ax.text(
                    rx + c / 2,
                    ry + c / 2,
                    _format_value(v, unit_range),
                    ha="center",
                    va="center",
                    fontsize=font,
                    color="white" if on_dark else style.ink,
                    zorder=6,
                )

    # Grid lines between cells (not when a huge matrix is drawn scaled down), and none
    # across a side whose length is asked for: its cells would count out the answer.
    if c >= 6 and b.rows.cells == b.rows.size and b.cols.cells == b.cols.size:
        lw = 1.4 if c >= 16 else 0.8
        for j in range(1, cols if not b.cols.unknown else 0):
            ax.plot([b.x + j * c] * 2, [b.y, b.top], color=style.grid, lw=lw, zorder=4)
        for i in range(1, rows if not b.rows.unknown else 0):
            ax.plot([b.x, b.x + b.width], [b.y + i * c] * 2, color=style.grid, lw=lw, zorder=4)

    # Head bands and row bands.
    edge = shade(hue, 0.2)
    if b.heads > 1 and band_w >= 4:
        for k in range(1, b.heads):
            xk = b.x + k * band_w
            ax.plot([xk, xk], [b.y, b.top], color=edge, lw=2.5, zorder=5)
        if band_w >= 22:
            for k in range(b.heads):
                ax.text(
                    b.x + (k + 0.5) * band_w,
                    b.y + b.height / 2,
                    str(k + 1),
                    ha="center",
                    va="center",
                    fontsize=pt(min(style.value_px + 4, band_w * 0.55), style),
                    color=shade(hue, 0.45),
                    zorder=6,
                )
    band_h = b.height / b.row_bands
    if b.row_bands > 1 and band_h >= 4:
        for k in range(1, b.row_bands):
            yk = b.top - k * band_h
            ax.plot([b.x, b.x + b.width], [yk, yk], color=edge, lw=2.5, zorder=5)

    # Outline and labels.
    asked = b.rows.unknown or b.cols.unknown
    ax.add_patch(
        Rectangle(
            (b.x, b.y),
            b.width,
            b.height,
            fill=False,
            ec=edge if not asked else style.unknown,
            lw=3.0 if b.is_result or asked else 2.4,
            ls=(0, (5, 3)) if b.weight or asked else "-",
            zorder=7,
        )
    )
    if b.rows.unknown and b.cols.unknown:
        ax.text(
            b.center_x,
            b.y + b.height / 2,
            "?",
            ha="center",
            va="center",
            fontsize=pt(min(style.op_px * 1.3, b.height * 0.6, b.width * 0.8), style),
            color=style.unknown,
            fontweight="bold",
            zorder=8,
        )
    if b.label:
        ax.text(
            b.center_x,
            b.top + 10,
            b.label,
            ha="center",
            va="bottom",
            fontsize=pt(style.label_px, style),
            color=shade(hue, 0.15),
        )
    if b.cols.symbol == UNKNOWN:
        _unknown_label(ax, b.center_x, b.y - 8, "center", "top", style)
    else:
        ax.text(
            b.center_x,
            b.y - 10,
            b.cols.label,
            ha="center",
            va="top",
            fontsize=pt(style.dim_px, style),
            color=style.muted if not b.cols.unknown else style.unknown,
        )
    if b.rows.symbol == UNKNOWN:
        _unknown_label(ax, b.x - 8, b.y + b.height / 2, "right", "center", style)
    else:
        ax.text(
            b.x - 10,
            b.y + b.height / 2,
            b.rows.label,
            ha="center",
            va="bottom",
            rotation=90,
            rotation_mode="anchor",
            fontsize=pt(style.dim_px, style),
            color=style.muted if not b.rows.unknown else style.unknown,
        )


def _unknown_label(ax: Axes, x: float, y: float, ha: str, va: str, style: Style) -> None:
    """The ``?`` of a side whose length is asked for: upright, bold, in the unknown's colour."""
    ax.text(
        x,
        y,
        UNKNOWN,
        ha=ha,
        va=va,
        fontsize=pt(style.dim_px * 1.3, style),
        fontweight="bold",
        color=style.unknown,
    )


def _draw_paren(ax: Axes, p: Paren, style: Style) -> None:
    mid = (p.top + p.bottom) / 2
    bulge = p.width * 0.35
    if p.side == "(":
        tip, ctrl = p.x + bulge, p.x - 2.2 * bulge
    else:
        tip, ctrl = p.x - bulge, p.x + 2.2 * bulge
    path = MplPath(
        [(tip, p.top), (ctrl, mid), (tip, p.bottom)],
        [MplPath.MOVETO, MplPath.CURVE3, MplPath.CURVE3],
    )
    ax.add_patch(PathPatch(path, fill=False, ec=style.ink, lw=3.2, capstyle="round"))
