"""Plots: predicted against observed recall (/stats), and what each retention costs.

Drawn in a render worker from the core's plain values
(:class:`~bot.core.calibration.Calibration`,
:class:`~bot.core.workload.RetentionCosts`); sized for a phone, like the /stats chart.
"""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from bot.core.calibration import Calibration
from bot.core.messages import Plot
from bot.core.rendering import RenderError
from bot.core.workload import RetentionCosts
from bot.render.canvas import Png, pt, to_png
from bot.render.style import DEFAULT_STYLE, Style, tint

__all__ = ["render_calibration", "render_costs", "render_plot"]

_GOOD = "#1b7837"
_LINE = "#2c5d9e"
_GRID = "#dcdad3"
_PERCENT = FuncFormatter(lambda v, _pos: f"{v:.0%}")


def _figure(style: Style, height_ratio: float) -> Figure:
    width = style.width
    fig = Figure(figsize=(width / style.dpi, width * height_ratio / style.dpi), dpi=style.dpi)
    fig.patch.set_facecolor(style.background)
    FigureCanvasAgg(fig)
    return fig


def _frame(ax: Axes, style: Style, title: str) -> None:
    ax.set_facecolor(style.background)
    ax.set_title(title, loc="left", fontsize=pt(32, style), color=style.ink, pad=22)
    ax.tick_params(labelsize=pt(24, style), colors=style.muted, length=0, pad=8)
    ax.grid(color=_GRID, lw=1.2, zorder=0)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#b8b5ad")


def render_calibration(c: Calibration, style: Style = DEFAULT_STYLE) -> Png:
    """Observed pass rate against mean prediction per bucket, the diagonal, and the
    reviews in each bucket below.

    Raises:
        RenderError: when there is no bucket to draw.
    """
    if not c.bins or c.rmse is None:
        raise RenderError("the calibration has no reviews to draw")
    fig = _figure(style, 1.25)
    grid = fig.add_gridspec(
        2, 1, height_ratios=(3.2, 1.2), hspace=0.42, left=0.13, right=0.96, top=0.86, bottom=0.08
    )
    whose = "default parameters" if c.default_parameters else "your parameters"
    fig.text(
        0.04,
        0.975,
        "Predicted vs actual recall",
        ha="left",
        va="top",
        fontsize=pt(40, style),
        color=style.ink,
    )
    fig.text(
        0.04,
        0.928,
        f"RMSE(bins) {c.rmse:.1%}  ·  {c.reviews} reviews  ·  FSRS with {whose}",
        ha="left",
        va="top",
        fontsize=pt(27, style),
        color=style.muted,
    )
    lowest = min(min(b.predicted for b in c.bins), min(b.observed for b in c.bins), 0.5)
    lo = max(0.0, lowest - 0.05)
    ax = fig.add_subplot(grid[0])
    _frame(ax, style, "Recalled, by what the model predicted")
    ax.plot([lo, 1.0], [lo, 1.0], ls="--", color=style.muted, lw=2.2, zorder=2)
    ax.text(
        0.98,
        0.04,
        "dashed: recalled as often as predicted",
        ha="right",
        va="bottom",
        fontsize=pt(22, style),
        color=style.muted,
        transform=ax.transAxes,
    )
    most = max(b.reviews for b in c.bins)
    xs = [b.predicted for b in c.bins]
    ys = [b.observed for b in c.bins]
    sizes = [140 + 900 * b.reviews / most for b in c.bins]
    ax.plot(xs, ys, color=tint(_LINE, 0.35), lw=2.5, zorder=3)
    ax.scatter(xs, ys, s=sizes, color=_LINE, edgecolor="white", lw=2, zorder=4)
    for b in c.bins:
        above = b.observed >= b.predicted
        ax.annotate(
            str(b.reviews),
            (b.predicted, b.observed),
            xytext=(0, 22 if above else -26),
            textcoords="offset pixels",
            ha="center",
            va="bottom" if above else "top",
            fontsize=pt(21, style),
            color=style.ink,
            zorder=5,
        )
    ax.set_xlim(lo, 1.0)
    ax.set_ylim(lo, 1.04)
    ax.xaxis.set_major_formatter(_PERCENT)
    ax.yaxis.set_major_formatter(_PERCENT)
    ax.set_xlabel("predicted recall", fontsize=pt(24, style), color=style.muted)
    ax.set_ylabel("actually recalled", fontsize=pt(24, style), color=style.muted)

    bars = fig.add_subplot(grid[1])
    _frame(bars, style, "Reviews in each bucket")
    for b in c.bins:
        left = max(b.low, lo)
        bars.bar(
            left,
            b.reviews,
            width=b.high - left,
            align="edge",
            color=tint(_LINE, 0.3),
            edgecolor=style.background,
            lw=2,
            zorder=3,
        )
    bars.set_xlim(lo, 1.0)
    bars.set_ylim(0, most * 1.15)
    bars.xaxis.set_major_formatter(_PERCENT)
    bars.yaxis.set_major_locator(MaxNLocator(nbins=3, integer=True))
    return to_png(fig, style)


def _line(
    ax: Axes,
    xs: Sequence[float],
    ys: Sequence[float],
    data: RetentionCosts,
    style: Style,
    fmt: str,
) -> None:
    ax.plot(xs, ys, color=_LINE, lw=3, marker="o", ms=9, zorder=3)
    top = max(ys, default=1.0)
    ax.set_ylim(0, max(top * 1.25, 1.0))
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4))
    ax.set_xlim(min(xs) - 0.01, max(xs) + 0.01)
    ax.xaxis.set_major_formatter(_PERCENT)
    ax.axvline(data.current, color=style.ink, lw=2.5, ls=":", zorder=2)
    for x, y in zip(xs, ys, strict=True):
        if x == data.suggested:
            ax.scatter([x], [y], s=380, color=_GOOD, edgecolor="white", lw=2.5, zorder=5)
        if x in (data.current, data.suggested):
            ax.annotate(
                fmt.format(y),
                (x, y),
                xytext=(0, 18),
                textcoords="offset pixels",
                ha="center",
                va="bottom",
                fontsize=pt(23, style),
                color=_GOOD if x == data.suggested else style.ink,
                bbox={"boxstyle": "round,pad=0.2", "fc": style.background, "ec": "none"},
                zorder=6,
            )


def render_costs(data: RetentionCosts, style: Style = DEFAULT_STYLE) -> Png:
    """Reviews a day, minutes a day and minutes per remembered card against desired
    retention; the learner's retention (dotted) and the suggestion (green) marked.

    Raises:
        RenderError: when there is nothing to draw.
    """
    if not data.costs:
        raise RenderError("no retention was simulated")
    fig = _figure(style, 1.45)
    grid = fig.add_gridspec(3, 1, hspace=0.55, left=0.1, right=0.96, top=0.85, bottom=0.05)
    fig.text(
        0.04,
        0.98,
        "What each desired retention costs",
        ha="left",
        va="top",
        fontsize=pt(40, style),
        color=style.ink,
    )
    fig.text(
        0.04,
        0.945,
        f"A year simulated for {data.deck_size} cards  ·  dotted: yours ({data.current:.0%})",
        ha="left",
        va="top",
        fontsize=pt(26, style),
        color=style.muted,
    )
    fig.text(
        0.04,
        0.918,
        f"green: lowest cost per card remembered ({data.suggested:.0%}), a suggestion"
        if data.suggested is not None
        else "no card is learned: no suggestion",
        ha="left",
        va="top",
        fontsize=pt(26, style),
        color=_GOOD,
    )
    costs = data.costs
    xs = [c.retention for c in costs]
    panels = (
        ("Reviews a day", [c.reviews_per_day for c in costs], "{:.0f}"),
        ("Minutes a day", [c.minutes_per_day for c in costs], "{:.1f} min"),
        (
            "Minutes per card remembered after a year",
            [c.minutes_per_card if c.remembered > 0 else 0.0 for c in costs],
            "{:.1f} min",
        ),
    )
    for i, (title, ys, fmt) in enumerate(panels):
        ax = fig.add_subplot(grid[i])
        _frame(ax, style, title)
        _line(ax, xs, ys, data, style, fmt)
    return to_png(fig, style)


def render_plot(figure: Plot, style: Style = DEFAULT_STYLE) -> Png:
    """Draw a plot of either kind."""
    if isinstance(figure, Calibration):
        return render_calibration(figure, style)
    return render_costs(figure, style)
