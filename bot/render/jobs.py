"""What the bot hands a render worker, and the checks made before: plain values, no matplotlib.

The process that runs the bot imports this module (through ``service``) and never
matplotlib: the drawing modules are imported by the render worker only.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from bot.core.messages import HeatMap, Plot
from bot.core.rendering import RenderError

__all__ = ["MAX_COLUMNS", "MAX_ROWS", "ChartData", "Job", "Png", "check_heatmap"]

#: A drawing: PNG bytes, width and height in pixels.
Png = tuple[bytes, int, int]

MAX_ROWS: Final = 30
MAX_COLUMNS: Final = 50


@dataclass(frozen=True, slots=True)
class ChartData:
    """The numbers a stats chart shows (plain values, cheap to send to a worker).

    Attributes:
        forecast: cards due on each of the next days, today first.
        per_day: reviews on each of the last days, oldest first (today last).
        retention: share of mature reviews recalled, or None when there are none.
        reviews: how many mature reviews the retention is based on.
        desired_retention: the learner's target.
        due_today, streak_days: shown in the title.
    """

    forecast: tuple[int, ...]
    per_day: tuple[int, ...]
    retention: float | None
    reviews: int
    desired_retention: float
    due_today: int = 0
    streak_days: int = 0


Job = (
    tuple[Literal["card"], str, str]
    | tuple[Literal["stats"], ChartData]
    | tuple[Literal["text"], str]
    | tuple[Literal["heatmap"], HeatMap]
    | tuple[Literal["plot"], Plot]
    | tuple[Literal["picture"], bytes]
)


def check_heatmap(chart: HeatMap) -> None:
    """Raise :class:`RenderError` (one line) when the chart cannot be drawn."""
    if not chart.rows:
        raise RenderError("the heat map has no rows")
    if not chart.columns:
        raise RenderError("the heat map has no columns")
    if len(chart.rows) > MAX_ROWS:
        raise RenderError(f"the heat map has {len(chart.rows)} rows; at most {MAX_ROWS} fit")
    if len(chart.columns) > MAX_COLUMNS:
        raise RenderError(
            f"the heat map has {len(chart.columns)} columns; at most {MAX_COLUMNS} fit"
        )
    if len(chart.values) != len(chart.rows):
        raise RenderError(
            f"the heat map has {len(chart.rows)} rows but {len(chart.values)} rows of values"
        )
    for i, row in enumerate(chart.values):
        if len(row) != len(chart.columns):
            raise RenderError(
                f"row {i + 1} of the heat map has {len(row)} values, "
                f"not one per column ({len(chart.columns)})"
            )
        for value in row:
            if value is not None and (type(value) is not int or value not in (1, 2, 3)):
                raise RenderError(f"a heat map level is 1, 2, 3 or None, not {value!r}")
    if len(chart.legend) != 3:
        raise RenderError(
            f"the heat map legend names levels 1, 2 and 3, so it has 3 entries, "
            f"not {len(chart.legend)}"
        )
