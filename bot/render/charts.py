"""The /stats chart: due forecast, reviews per day, retention against the target."""

from __future__ import annotations

from collections.abc import Sequence

from matplotlib.axes import Axes
from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from bot.render.canvas import Png, pt, to_png
from bot.render.jobs import ChartData
from bot.render.style import DEFAULT_STYLE, Style, tint

__all__ = ["ChartData", "render_stats"]

_GOOD = "#1b7837"
_SHORT = "#c2571a"


def _bars(
    ax: Axes,
    values: Sequence[int],
    colour: str,
    labels: dict[int, str],
    title: str,
    style: Style,
    today: int,
) -> None:
    xs = list(range(len(values)))
    colours = [colour if i != today else "#1d3f6e" for i in xs]
    ax.bar(xs, list(values), color=colours, width=0.78, zorder=3)
    ax.set_title(title, loc="left", fontsize=pt(34, style), color=style.ink, pad=30)
    ax.set_xticks(list(labels), [labels[k] for k in labels])
    ax.set_xlim(-0.7, max(len(values), 1) - 0.3)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
    top = max(values, default=0)
    ax.set_ylim(0, max(top * 1.18, 4))
    ax.tick_params(labelsize=pt(25, style), colors=style.muted, length=0, pad=8)
    ax.grid(axis="y", color="#dcdad3", lw=1.2, zorder=0)
    for side in ("top", "right", "left"):
        ax.spines[side].set_visible(False)
    ax.spines["bottom"].set_color("#b8b5ad")
    ax.set_facecolor(style.background)
    total = sum(values)
    ax.text(
        1.0,
        1.04,
        f"total {total}",
        transform=ax.transAxes,
        ha="right",
        va="bottom",
        fontsize=pt(26, style),
        color=style.muted,
    )


def _retention(ax: Axes, data: ChartData, style: Style) -> None:
    target = data.desired_retention
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_axis_off()
    ax.set_title(
        "True retention of mature cards, last 30 days",
        loc="left",
        fontsize=pt(34, style),
        color=style.ink,
        pad=30,
    )
    lo = 0.5  # the bar shows 50 % .. 100 %: below that everything is "far too low"

    def pos(v: float) -> float:
        return min(1.0, max(0.0, (v - lo) / (1 - lo)))

    ax.barh([0.5], [1.0], height=0.42, color="#e4e2dc", zorder=1)
    if data.retention is None:
        ax.text(
            0.5,
            0.5,
            "no mature reviews yet",
            ha="center",
            va="center",
            fontsize=pt(30, style),
            color=style.muted,
            zorder=3,
        )
    else:
        ok = data.retention >= target - 1e-9
        colour = _GOOD if ok else _SHORT
        ax.barh([0.5], [pos(data.retention)], height=0.42, color=tint(colour, 0.15), zorder=2)
        word = "on target" if ok else "below target"
        ax.text(
            1.0,
            1.02,
            f"{data.retention:.0%} of {data.reviews} recalled: {word}",
            transform=ax.transAxes,
            ha="right",
            va="bottom",
            fontsize=pt(28, style),
            color=colour,
        )
    ax.plot([pos(target)] * 2, [0.22, 0.78], color=style.ink, lw=4, zorder=4)
    ax.text(
        pos(target),
        0.2,
        f"target {target:.0%}",
        ha="center",
        va="top",
        fontsize=pt(25, style),
        color=style.ink,
    )
    for v in (0.5, 0.75, 1.0):
        if abs(pos(v) - pos(target)) > 0.16:
            ax.text(
                pos(v),
                0.2,
                f"{v:.0%}",
                ha="center",
                va="top",
                fontsize=pt(22, style),
                color=style.muted,
            )


def render_stats(data: ChartData, style: Style = DEFAULT_STYLE) -> Png:
    """Draw the /stats chart: three panels stacked for a phone screen."""
    width, height = style.width, int(style.width * 1.3)
    fig = Figure(figsize=(width / style.dpi, height / style.dpi), dpi=style.dpi)
    fig.patch.set_facecolor(style.background)
    FigureCanvasAgg(fig)
    grid = fig.add_gridspec(
        3,
        1,
        height_ratios=(3.0, 3.0, 1.6),
        hspace=0.55,
        left=0.08,
        right=0.96,
        top=0.88,
        bottom=0.05,
    )
    streak = f"{data.streak_days}-day streak" if data.streak_days else "no streak yet"
    fig.text(
        0.04,
        0.975,
        f"Due today: {data.due_today}   ·   {streak}",
        ha="left",
        va="top",
        fontsize=pt(38, style),
        color=style.ink,
    )

    forecast = list(data.forecast[:30])
    f_labels = {0: "today"}
    f_labels.update({k: f"+{k}" for k in (7, 14, 21, 28) if k < len(forecast)})
    _bars(
        fig.add_subplot(grid[0]),
        forecast,
        style.colour("q"),
        f_labels,
        "Due in the next 30 days",
        style,
        today=0,
    )
    per_day = list(data.per_day[-30:])
    n = len(per_day)
    p_labels = {n - 1: "today"} if n else {}
    p_labels.update({n - 1 - k: f"-{k}" for k in (7, 14, 21, 28) if n - 1 - k >= 0})
    _bars(
        fig.add_subplot(grid[1]),
        per_day,
        style.colour("v"),
        p_labels,
        "Reviews per day, last 30 days",
        style,
        today=n - 1,
    )
    _retention(fig.add_subplot(grid[2]), data, style)
    return to_png(fig, style)
