"""Tests for bot.render.charts: the /stats chart renders, directly and through the worker."""

from __future__ import annotations

from bot.render.charts import ChartData, render_stats
from bot.render.worker import run_job
from tests.unit.render.support import png_info


def test_stats_chart_renders() -> None:
    data = ChartData(
        forecast=tuple(range(30)),
        per_day=tuple((i * 7) % 23 for i in range(30)),
        retention=0.87,
        reviews=120,
        desired_retention=0.9,
        due_today=12,
        streak_days=4,
    )
    png, width, height = render_stats(data)
    assert png_info(png) == (width, height) and width >= 800 and height > width
    empty = ChartData(
        forecast=(), per_day=(0,) * 30, retention=None, reviews=0, desired_retention=0.9
    )
    png2, _, _ = run_job(("stats", empty))
    assert png_info(png2) == (width, height) and png2 != png
