"""Every shipped image renders to a valid PNG; charts and text images render too."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import pytest

from bot.core.rendering import RenderError
from bot.deckfiles import load_decks
from bot.render.charts import ChartData, render_stats
from bot.render.formula import check_formula, render_formula, split_formula
from bot.render.style import DEFAULT_STYLE
from bot.render.text import parse_markdown, render_text
from bot.render.worker import render_card_image, run_job

ROOT = Path(__file__).resolve().parents[2]
Png = tuple[bytes, int, int]


def png_info(data: bytes) -> tuple[int, int]:
    """(width, height) read from the IHDR chunk, after checking the signature and CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    body = data[16 : 16 + length]
    (crc,) = struct.unpack(">I", data[16 + length : 20 + length])
    assert zlib.crc32(kind + body) == crc
    assert data.endswith(b"IEND\xaeB`\x82")
    width, height = struct.unpack(">II", body[:8])
    return width, height


@pytest.fixture(scope="module")
def shipped() -> dict[tuple[str, str], Png]:
    """Every distinct image of the shipped decks, rendered once for the whole module."""
    deck_set = load_decks([ROOT / "decks"])
    assert deck_set.ok, deck_set.errors
    specs = {(c.image.kind, c.image.source): None for c in deck_set.cards() if c.image is not None}
    return {spec: render_card_image(*spec) for spec in specs}


def test_shipped_decks_have_both_kinds_of_image(shipped: dict[tuple[str, str], Png]) -> None:
    kinds = [kind for kind, _ in shipped]
    assert kinds.count("shape") >= 15 and kinds.count("formula") >= 25


def test_every_shipped_image_is_a_valid_png_of_the_expected_size(
    shipped: dict[tuple[str, str], Png],
) -> None:
    for (kind, spec), (data, width, height) in shipped.items():
        assert png_info(data) == (width, height), spec
        assert DEFAULT_STYLE.width <= width <= DEFAULT_STYLE.max_width, (kind, spec, width)
        assert 250 <= height <= 1200, (kind, spec, height)
        assert width / height <= 4.5, (kind, spec)  # not a thin strip on a phone


def test_distinct_specs_give_distinct_images(shipped: dict[tuple[str, str], Png]) -> None:
    images = [data for data, _, _ in shipped.values()]
    assert len(set(images)) == len(images)


def test_rendering_is_deterministic(shipped: dict[tuple[str, str], Png]) -> None:
    spec = ("shape", "Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4")
    assert render_card_image(*spec)[0] == shipped[spec][0]


def test_show_modes_change_the_picture() -> None:
    base = "softmax(mask(Q[n,d_k] @ K^T[d_k,n] / sqrt(d_k))) -> A[n,n]; n=5, d_k=4, mask=causal"
    images = {
        render_card_image("shape", f"{base}, show={m}")[0] for m in ("shape", "values", "heat")
    }
    assert len(images) == 3


def test_a_bad_spec_is_a_render_error() -> None:
    with pytest.raises(RenderError, match="inner dimensions"):
        render_card_image("shape", "Q[n,d_k] @ K[n,d_k]")
    with pytest.raises(RenderError, match=r"Unknown symbol: \\foo"):
        render_card_image("formula", r"\foo x")
    with pytest.raises(RenderError, match="starts with 'shape' or 'formula'"):
        render_card_image("chart", "x")


def test_check_formula() -> None:
    assert check_formula(r"\frac{a}{b}") is None
    assert check_formula(r"\foo") == r"Unknown symbol: \foo, found '\' (at column 1)"
    assert "frac" in (check_formula(r"\frac{a}") or "")
    message = check_formula(r"x^^2")
    assert message == "unexpected '^' (at column 2)"
    assert check_formula("  ") == "the formula is empty"


def test_long_formulas_split_at_quad() -> None:
    assert split_formula(r"a = 1, \quad b = \left(x \quad y\right), \qquad {c \quad d}") == [
        "a = 1",
        r"b = \left(x \quad y\right)",
        r"{c \quad d}",
    ]
    long = r"PE_{(pos, 2i)} = \sin(pos / 10000^{2i/d_{model}}), \quad PE_{(pos, 2i+1)} = \cos(pos)"
    data, width, height = render_formula(long)
    assert png_info(data) == (width, height) and width >= 800


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


def test_text_image_renders_tables_and_code() -> None:
    md = (
        "The shapes, with $QK^T$ and a cost of $5:\n\n"
        "| operand | shape |\n|---|:---:|\n"
        "| $Q$ | $n \\times d_k$ |\n| $K^T$ | $d_k \\times n$ |\n\n"
        "- a point\n\n"
        "```python\nscores = Q @ K.transpose(-2, -1) / math.sqrt(d_k)  # " + "x" * 80 + "\n```\n"
    )
    kinds = [b.kind for b in parse_markdown(md)]
    assert kinds == ["para", "table", "item", "code"]
    data, width, height = render_text(md)
    assert png_info(data) == (width, height)
    assert DEFAULT_STYLE.width <= width <= DEFAULT_STYLE.max_width
    with pytest.raises(ValueError):
        render_text("   ")
    with pytest.raises(RenderError):
        run_job(("text", ""))
