"""Tests for bot.core.drawing: a reply's figure or card image drawn, or the text alone."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence

import pytest

from bot.core.drawing import draw_card, draw_figure, draw_text
from bot.core.messages import CardView, HeatMap, Plot, StatsChart
from bot.core.model import CardImage
from bot.core.rendering import RenderedImage, RenderError
from bot.core.stats import StudyStats

IMAGE = RenderedImage(b"png", 10, 10, "k" * 64)
HEAT = HeatMap("Quad", ("Row",), ("Ann",), ((3,),))
STATS = StudyStats(1, 2, 3, 0.9, 4, 0.9, (0,) * 30)
CHART = StatsChart(STATS, (1, 2, 3))
CARD = CardView("c1", "Deck", "Title", "Front", front_image=CardImage("shape", "Q[n,?]"))


class Renderer:
    """Records what it was asked to draw; ``fail`` makes every call raise it."""

    def __init__(self, fail: BaseException | None = None) -> None:
        self.fail = fail
        self.calls: list[tuple[object, ...]] = []

    def _draw(self, *call: object) -> RenderedImage:
        self.calls.append(call)
        if self.fail is not None:
            raise self.fail
        return IMAGE

    async def card_image(self, kind: str | None, spec: str | None) -> RenderedImage | None:
        return self._draw("card", kind, spec)

    async def stats_chart(self, stats: StudyStats, forecast: Sequence[int]) -> RenderedImage:
        return self._draw("stats", stats, tuple(forecast))

    async def text_image(self, markdown: str) -> RenderedImage:
        return self._draw("text", markdown)

    async def heatmap(self, chart: HeatMap) -> RenderedImage:
        return self._draw("heatmap", chart)

    async def plot(self, figure: Plot) -> RenderedImage:
        return self._draw("plot", figure)

    async def convert(self, data: bytes) -> RenderedImage:
        return self._draw("convert", data)

    async def close(self) -> None:
        pass


async def test_each_figure_goes_to_its_drawing() -> None:
    renderer = Renderer()
    assert await draw_figure(renderer, HEAT) is IMAGE
    assert await draw_figure(renderer, CHART) is IMAGE
    assert await draw_card(renderer, CARD) is IMAGE
    assert await draw_text(renderer, "| a |\n|---|\n| 1 |") is IMAGE
    assert renderer.calls == [
        ("heatmap", HEAT),
        ("stats", STATS, (1, 2, 3)),
        ("card", "shape", "Q[n,?]"),
        ("text", "| a |\n|---|\n| 1 |"),
    ]


async def test_nothing_to_draw_or_no_renderer_is_text_alone() -> None:
    renderer = Renderer()
    assert await draw_figure(renderer, None) is None
    assert await draw_card(renderer, None) is None
    assert await draw_card(renderer, CardView("c1", "Deck", "Title", "Front")) is None
    assert renderer.calls == []
    assert await draw_figure(None, HEAT) is None
    assert await draw_card(None, CARD) is None
    assert await draw_text(None, "text") is None


@pytest.mark.parametrize("error", [RenderError("too wide"), RuntimeError("worker died")])
async def test_a_failed_drawing_is_logged_and_falls_back_to_text(
    error: Exception, caplog: pytest.LogCaptureFixture
) -> None:
    renderer = Renderer(fail=error)
    with caplog.at_level(logging.WARNING, logger="bot.core.drawing"):
        assert await draw_figure(renderer, HEAT) is None
        assert await draw_figure(renderer, CHART) is None
        assert await draw_card(renderer, CARD) is None
        assert await draw_text(renderer, "text") is None
    messages = [r.getMessage() for r in caplog.records]
    assert messages == [
        "could not draw a HeatMap",
        "could not draw a StatsChart",
        "could not draw the image of card c1",
        "could not draw text as an image",
    ]
    assert all(r.exc_info for r in caplog.records)


async def test_cancelling_a_drawing_is_not_swallowed() -> None:
    renderer = Renderer(fail=asyncio.CancelledError())
    for draw in (
        draw_figure(renderer, HEAT),
        draw_card(renderer, CARD),
        draw_text(renderer, "text"),
    ):
        with pytest.raises(asyncio.CancelledError):
            await draw
