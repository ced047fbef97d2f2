"""Tests for bot.render.text: markdown with tables and code drawn as an image."""

from __future__ import annotations

import pytest

from bot.core.rendering import RenderError
from bot.render.style import DEFAULT_STYLE
from bot.render.text import parse_markdown, render_text
from bot.render.worker import run_job
from tests.unit.render.support import png_info


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
