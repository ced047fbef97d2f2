"""Matplotlib plumbing shared by every drawing: figures, text measurement, PNG output.

Only the object API is used (``Figure`` + Agg canvas); pyplot's global state
is never touched, so drawings in different workers cannot interfere.
"""

from __future__ import annotations

import io
import threading
from functools import lru_cache

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg, RendererAgg
from matplotlib.figure import Figure
from matplotlib.font_manager import FontProperties

from bot.render.cache import png_size
from bot.render.style import Style

__all__ = ["Png", "measure_text", "new_canvas", "png_size", "pt", "to_png"]

Png = tuple[bytes, int, int]

_local = threading.local()


def pt(px: float, style: Style) -> float:
    """A font size in points that is ``px`` pixels tall at the style's dpi."""
    return px * 72.0 / style.dpi


def _renderer(dpi: int) -> RendererAgg:
    cached: dict[int, RendererAgg] | None = getattr(_local, "renderers", None)
    if cached is None:
        cached = {}
        _local.renderers = cached
    if dpi not in cached:
        cached[dpi] = RendererAgg(16, 16, dpi)  # type: ignore[no-untyped-call]
    return cached[dpi]


@lru_cache(maxsize=4096)
def _measure(
    text: str, size_pt: float, family: str, math_family: str, dpi: int, math: bool
) -> tuple[float, float, float]:
    prop = FontProperties(family=family, size=size_pt, math_fontfamily=math_family)
    ismath = math and text.count("$") >= 2
    w, h, d = _renderer(dpi).get_text_width_height_descent(  # type: ignore[no-untyped-call]
        text, prop, ismath=ismath
    )
    return float(w), float(h), float(d)


def measure_text(
    text: str,
    font_px: float,
    style: Style,
    family: str = "DejaVu Sans",
    math_family: str = "dejavusans",
    *,
    math: bool = True,
) -> tuple[float, float, float]:
    """(width, height, descent) in px of text at ``font_px``.

    With ``math`` (the default) ``$...$`` parts are measured as mathtext, as
    ``Axes.text`` draws them; pass False for text drawn with ``parse_math=False``.
    """
    return _measure(text, round(pt(font_px, style), 2), family, math_family, style.dpi, math)


def new_canvas(width: int, height: int, style: Style) -> tuple[Figure, Axes]:
    """A figure of exactly ``width`` x ``height`` px and one axes in pixel coordinates."""
    fig = Figure(figsize=(width / style.dpi, height / style.dpi), dpi=style.dpi)
    fig.patch.set_facecolor(style.background)
    FigureCanvasAgg(fig)
    ax = fig.add_axes((0.0, 0.0, 1.0, 1.0))
    ax.set_xlim(0, width)
    ax.set_ylim(0, height)
    ax.set_axis_off()
    ax.set_facecolor(style.background)
    return fig, ax


def to_png(fig: Figure, style: Style) -> Png:
    """Encode a figure as PNG; returns (bytes, width, height)."""
    buf = io.BytesIO()
    fig.savefig(
        buf,
        format="png",
        dpi=style.dpi,
        facecolor=fig.get_facecolor(),
        metadata={"Software": None},
    )
    data = buf.getvalue()
    w, h = png_size(data)
    return data, w, h
