"""Tests for bot.render.plots: the calibration and retention-cost plots render, directly,
through the worker, and through the renderer's memory cache."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from bot.core.calibration import Calibration, CalibrationBin
from bot.core.rendering import RenderError
from bot.core.workload import RetentionCost, RetentionCosts
from bot.render.cache import DiskCache
from bot.render.plots import render_calibration, render_costs
from bot.render.service import MatplotlibRenderer
from bot.render.worker import run_job
from tests.unit.render.support import png_info

CALIBRATION = Calibration(
    bins=(
        CalibrationBin(0.0, 0.5, 3, 0.41, 0.33),
        CalibrationBin(0.75, 0.8, 30, 0.78, 0.8),
        CalibrationBin(0.85, 0.9, 120, 0.88, 0.82),
        CalibrationBin(0.9, 0.95, 260, 0.925, 0.9),
        CalibrationBin(0.95, 1.0, 400, 0.975, 0.99),
    ),
    reviews=813,
    rmse=0.031,
    default_parameters=False,
)
COSTS = RetentionCosts(
    costs=tuple(
        RetentionCost(r, 20 + 300 * (r - 0.75) ** 2, 8 + 90 * (r - 0.75) ** 2, 900 + 400 * r, 3.0)
        for r in (0.75, 0.79, 0.83, 0.87, 0.9, 0.91, 0.95, 0.97)
    ),
    current=0.9,
    suggested=0.83,
    deck_size=1200,
)


def test_the_calibration_plot_renders() -> None:
    png, width, height = render_calibration(CALIBRATION)
    assert png_info(png) == (width, height) and width >= 800 and height > width
    default = Calibration(CALIBRATION.bins[3:], 660, 0.02, default_parameters=True)
    png2, _, _ = run_job(("plot", default))
    assert png_info(png2) == (width, height) and png2 != png


def test_the_retention_cost_plot_renders() -> None:
    png, width, height = render_costs(COSTS)
    assert png_info(png) == (width, height) and width >= 800 and height > width
    png2, _, _ = run_job(("plot", RetentionCosts(COSTS.costs, 0.9, 0.9, 1200)))
    assert png2 != png


def test_an_empty_plot_is_a_render_error() -> None:
    with pytest.raises(RenderError, match="no reviews"):
        run_job(("plot", Calibration((), 0, None, True)))
    with pytest.raises(RenderError, match="no retention"):
        run_job(("plot", RetentionCosts((), 0.9, 0.9, 0)))


async def test_plots_are_cached_in_memory_by_content(tmp_path: Path) -> None:
    with ThreadPoolExecutor(max_workers=1) as pool:
        r = MatplotlibRenderer(tmp_path, executor=pool)
        first = await r.plot(COSTS)
        assert await r.plot(COSTS) is first
        other = await r.plot(CALIBRATION)
        assert other.key != first.key and r.counters.renders == 2
        assert not DiskCache(tmp_path).path(first.key).exists()
        await r.close()
