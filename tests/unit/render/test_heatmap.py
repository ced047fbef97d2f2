"""The challenge-summary heat map: its layout model, the PNG, bad input, the renderer port."""

from __future__ import annotations

import struct
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations
from pathlib import Path

import pytest

from bot.core.messages import HeatMap
from bot.core.rendering import RenderError
from bot.render.heatmap import LEVELS, layout_heatmap, render_heatmap, wrap_text
from bot.render.layout import estimate_width
from bot.render.service import MatplotlibRenderer
from bot.render.style import DEFAULT_STYLE
from bot.render.worker import run_job

ROWS = (
    "Multi-head attention split and concat",
    "Causal mask placement in the decoder",
    "Pre-LN residual placement",
)
CHART = HeatMap(
    "Draw the whole transformer: self-assessment",
    ROWS,
    ("Alice", "Bob", "Member 1"),
    ((3, 2, 1), (2, None, 3), (1, 3, 3)),
)


def png_info(data: bytes) -> tuple[int, int]:
    """(width, height) from the IHDR chunk, after checking the signature and CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    body = data[16:29]
    (crc,) = struct.unpack(">I", data[29:33])
    assert zlib.crc32(kind + body) == crc
    assert data.endswith(b"IEND\xaeB`\x82")
    width, height = struct.unpack(">II", body[:8])
    return width, height


def files_in(folder: Path) -> list[Path]:
    return sorted(folder.rglob("*"))


def overlaps(a: tuple[float, float, float, float], b: tuple[float, float, float, float]) -> bool:
    ax, ay, aw, ah = a
    bx, by, bw, bh = b
    eps = 0.01
    return ax + aw - eps > bx and bx + bw - eps > ax and ay + ah - eps > by and by + bh - eps > ay


# --------------------------------------------------------------------------- the layout model


def test_every_value_is_one_cell_in_a_grid_inside_the_canvas() -> None:
    layout = layout_heatmap(CHART)
    assert DEFAULT_STYLE.width <= layout.width <= DEFAULT_STYLE.max_width
    assert len(layout.cells) == 9
    for cell in layout.cells:
        assert cell.level == CHART.values[cell.row][cell.column]
        assert cell.x >= 0 and cell.x + cell.width <= layout.width
        assert cell.y >= 0 and cell.y + cell.height <= layout.height
        assert cell.width >= 40 and cell.height >= 80
    boxes = [(c.x, c.y, c.width, c.height) for c in layout.cells]
    assert not any(overlaps(a, b) for a, b in combinations(boxes, 2))
    # Rows go down the page, columns across it.
    first, right, below = layout.cells[0], layout.cells[1], layout.cells[3]
    assert right.x > first.x and right.y == first.y
    assert below.y < first.y and below.x == first.x


def test_levels_have_colours_and_glyphs_and_none_is_a_grey_dash() -> None:
    layout = layout_heatmap(CHART)
    by_level = {c.level: c for c in layout.cells}
    assert by_level[None].glyph == "–" and by_level[None].fill == LEVELS[None].fill
    fills = {by_level[level].fill for level in (1, 2, 3, None)}
    glyphs = {by_level[level].glyph for level in (1, 2, 3, None)}
    assert len(fills) == 4 and len(glyphs) == 4  # not by colour alone
    red, amber, green = (int(by_level[v].fill[1:3], 16) for v in (1, 2, 3))
    assert red > green and amber > green


def test_legend_uses_the_chart_legend_and_adds_no_answer_only_when_needed() -> None:
    layout = layout_heatmap(CHART)
    assert [i.label for i in layout.legend] == [*CHART.legend, "No answer"]
    full = HeatMap("t", ("a",), ("x", "y"), ((1, 3),), legend=("Again", "So-so", "Solid"))
    assert [i.label for i in layout_heatmap(full).legend] == ["Again", "So-so", "Solid"]
    assert " ".join(t.text for t in layout.texts if t.bold) == CHART.title
    assert {"Alice", "Bob", "Member 1"} <= {t.text for t in layout.texts}


def test_long_row_labels_are_wrapped_to_the_label_column() -> None:
    long_row = "Cross-attention takes K and V from the final encoder output, Q from the decoder"
    chart = HeatMap("t", (long_row, "short"), ("A", "B"), ((1, 2), (3, None)))
    layout = layout_heatmap(chart)
    lines = layout.row_lines[0]
    assert 2 <= len(lines) <= 3
    assert all(estimate_width(line, 31) <= layout.label_width + 0.5 for line in lines)
    assert layout.row_lines[1] == ("short",)
    gx = layout.grid[0]
    assert gx >= DEFAULT_STYLE.margin + layout.label_width  # labels never run into the grid


def test_names_are_turned_only_when_they_do_not_fit_their_cells() -> None:
    assert layout_heatmap(CHART).column_rotation == 0
    many = tuple(f"Participant number {i}" for i in range(20))
    chart = HeatMap("t", ("a", "b"), many, ((1,) * 20, (None,) * 20))
    layout = layout_heatmap(chart)
    assert layout.column_rotation == 45
    assert DEFAULT_STYLE.width < layout.width <= DEFAULT_STYLE.max_width  # grown for many
    assert layout.grid[0] + layout.grid[2] <= layout.width - DEFAULT_STYLE.margin + 0.5


def test_wrap_text_breaks_words_longer_than_a_line() -> None:
    lines = wrap_text("a" * 50, 200, 20, estimate_width, max_lines=5)
    assert len(lines) > 1 and all(estimate_width(line, 20) <= 200 for line in lines)
    clipped = wrap_text("word " * 40, 200, 20, estimate_width, max_lines=2)
    assert len(clipped) == 2 and clipped[-1].endswith("…")


@pytest.mark.parametrize(
    ("chart", "message"),
    [
        (HeatMap("t", (), ("a",), ()), "no rows"),
        (HeatMap("t", ("r",), (), ((),)), "no columns"),
        (HeatMap("t", ("r", "s"), ("a", "b"), ((1, 2), (3,))), "row 2 of the heat map has 1"),
        (HeatMap("t", ("r", "s"), ("a",), ((1,),)), "2 rows but 1 rows of values"),
        (HeatMap("t", ("r",), ("a",), ((4,),)), "1, 2, 3 or None, not 4"),
        (HeatMap("t", ("r",), ("a",), ((True,),)), "not True"),
        (HeatMap("t", ("r",), ("a",), ((1,),), legend=("x",)), "3 entries"),
        (HeatMap("t", tuple("r" * 31), ("a",), ((1,),) * 31), "at most 30"),
    ],
)
def test_bad_input_is_a_one_line_render_error(chart: HeatMap, message: str) -> None:
    with pytest.raises(RenderError, match=message) as info:
        layout_heatmap(chart)
    assert "\n" not in str(info.value)
    with pytest.raises(RenderError, match=message):
        run_job(("heatmap", chart))


# --------------------------------------------------------------------------- the PNG


@pytest.fixture(scope="module")
def drawn() -> tuple[bytes, int, int]:
    return render_heatmap(CHART)


def test_the_heat_map_is_a_valid_phone_sized_png(drawn: tuple[bytes, int, int]) -> None:
    data, width, height = drawn
    assert png_info(data) == (width, height)
    assert 1000 <= width <= DEFAULT_STYLE.max_width
    assert 300 <= height <= 1600


def test_distinct_charts_give_distinct_images(drawn: tuple[bytes, int, int]) -> None:
    changed = HeatMap(CHART.title, CHART.rows, CHART.columns, ((3, 2, 1), (2, 1, 3), (1, 3, 3)))
    renamed = HeatMap("Another challenge", CHART.rows, CHART.columns, CHART.values)
    images = {drawn[0], render_heatmap(changed)[0], render_heatmap(renamed)[0]}
    assert len(images) == 3


def test_names_with_dollars_are_drawn_as_text() -> None:
    chart = HeatMap("$x$ costs $5", ("a $b$ row",), ("$alice$", "bob_1^2"), ((1, None),))
    data, width, _ = render_heatmap(chart)
    assert png_info(data)[0] == width


# --------------------------------------------------------------------------- the renderer port


@pytest.fixture
def executor() -> Iterator[ThreadPoolExecutor]:
    pool = ThreadPoolExecutor(max_workers=1)
    yield pool
    pool.shutdown(wait=True)


async def test_the_renderer_caches_heat_maps_in_memory_only(
    executor: ThreadPoolExecutor, tmp_path: Path
) -> None:
    r = MatplotlibRenderer(cache_dir=tmp_path, executor=executor)
    first = await r.heatmap(CHART)
    again = await r.heatmap(CHART)
    assert again is first and r.counters.renders == 1 and r.counters.memory_hits == 1
    assert png_info(first.data) == (first.width, first.height)
    assert first.width >= 1000
    assert files_in(tmp_path) == []  # not written to the disk cache
    other = await r.heatmap(HeatMap("other", CHART.rows, CHART.columns, CHART.values))
    assert other.key != first.key and r.counters.renders == 2
    await r.close()


async def test_the_renderer_rejects_a_bad_chart_without_rendering(
    executor: ThreadPoolExecutor,
) -> None:
    r = MatplotlibRenderer(executor=executor)
    with pytest.raises(RenderError, match="row 1 of the heat map has 2 values"):
        await r.heatmap(HeatMap("t", ("r",), ("a",), ((1, 2),)))
    assert r.counters.renders == 0
    await r.close()
