"""Built-in reference diagrams: the ``diagram`` image spec, the transformer's model and PNG."""

from __future__ import annotations

import re
import shutil
import struct
import zlib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from itertools import combinations
from pathlib import Path

import pytest

from bot.core.imagespec import DIAGRAMS, DiagramSpec, ImageSpecError, parse_image_spec
from bot.core.rendering import RenderError
from bot.deckfiles import SHIPPED_DECKS, load_decks
from bot.render import commands
from bot.render.commands import check_images
from bot.render.diagram import Diagram, diagram_layout, transformer_layout
from bot.render.layout import estimate_width
from bot.render.service import MatplotlibRenderer
from bot.render.style import DEFAULT_STYLE
from bot.render.worker import render_card_image

DECK = """# Diagram deck
id: diag

## The whole transformer
id: diag-transformer
image: diagram transformer

### Front
Draw the transformer.

### Back
See the picture.
"""


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


# --------------------------------------------------------------------------- the spec


def test_a_diagram_spec_parses_and_round_trips() -> None:
    spec = parse_image_spec("diagram transformer")
    assert spec == DiagramSpec("transformer", "transformer")
    assert spec.kind == "diagram" and "transformer" in DIAGRAMS
    assert parse_image_spec(f"{spec.kind} {spec.source}") == spec
    assert parse_image_spec("  diagram   transformer  ") == spec


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("diagram bert", "unknown diagram 'bert' (known: transformer)"),
        ("diagram Transformer", "unknown diagram 'Transformer' (known: transformer)"),
        ("diagram transformer pre-ln", "unknown diagram 'transformer pre-ln'"),
        ("diagram", "a diagram spec names a built-in diagram (known: transformer)"),
    ],
)
def test_unknown_diagram_names_fail_with_the_known_names(text: str, message: str) -> None:
    with pytest.raises(ImageSpecError, match=re.escape(message)):
        parse_image_spec(text)


def test_an_unknown_kind_mentions_diagrams() -> None:
    with pytest.raises(ImageSpecError, match="'diagram <name>'"):
        parse_image_spec("picture x.png")


def test_the_renderer_rejects_an_unknown_name_too() -> None:
    with pytest.raises(RenderError, match="unknown diagram 'bert'"):
        render_card_image("diagram", "bert")
    with pytest.raises(RenderError, match="known: transformer"):
        diagram_layout("bert")


# --------------------------------------------------------------------------- the model


@pytest.fixture(scope="module")
def model() -> Diagram:
    return transformer_layout()


def test_the_transformer_has_every_part(model: Diagram) -> None:
    keys = {b.key for b in model.boxes}
    for key in (
        "encoder.embed",
        "encoder.attention",
        "encoder.attention.norm",
        "encoder.ffn",
        "encoder.ffn.norm",
        "encoder.final_norm",
        "decoder.embed",
        "decoder.masked",
        "decoder.masked.norm",
        "decoder.cross",
        "decoder.cross.norm",
        "decoder.ffn",
        "decoder.ffn.norm",
        "decoder.final_norm",
        "decoder.linear",
        "decoder.softmax",
    ):
        assert key in keys, key
    words = " ".join(t.text for t in model.texts) + " ".join(" ".join(b.lines) for b in model.boxes)
    for phrase in (
        "Pre-LN",
        "Post-LN",
        "Positional",
        "shifted right",
        "Masked multi-head",
        "cross-attention",
        "causal",
        "Output probabilities",
        "Softmax",
    ):
        assert phrase in words, phrase
    assert {r.repeat for r in model.regions} == {"N×"} and len(model.regions) == 2
    assert {i.kind for i in model.icons} == {"wave", "mask"}
    assert sum(1 for n in model.nodes if n.kind == "add" and n.key.endswith(".pe")) == 2


def test_every_sublayer_is_pre_ln_with_a_residual_around_it(model: Diagram) -> None:
    sublayers = ["encoder.attention", "encoder.ffn", "decoder.masked", "decoder.cross"]
    sublayers.append("decoder.ffn")
    residuals = [a for a in model.arrows if a.role == "residual" and a.head]
    for key in sublayers:
        box, norm = model.box(key), model.box(f"{key}.norm")
        add, branch = model.node(f"{key}.add"), model.node(f"{key}.branch")
        # LayerNorm at the entrance of the branch, ⊕ after the sublayer.
        assert branch.y < norm.y < norm.top < box.y < box.top < add.y - add.r
        # The residual leaves before the LayerNorm and ends in the ⊕.
        around = [a for a in residuals if a.points[0] == (branch.x, branch.y)]
        assert len(around) == 1, key
        end = around[0].points[-1]
        assert abs(end[1] - add.y) < 1e-6 and abs(abs(end[0] - add.x) - add.r) < 1e-6
        lane = around[0].points[1][0]
        assert lane < box.x or lane > box.x + box.width  # it goes around, not through
    # Each stack ends with a final LayerNorm above its last ⊕.
    assert model.box("encoder.final_norm").y > model.node("encoder.ffn.add").y
    assert model.box("decoder.final_norm").y > model.node("decoder.ffn.add").y
    assert model.box("decoder.linear").y > model.box("decoder.final_norm").top
    assert model.box("decoder.softmax").y > model.box("decoder.linear").top


def test_q_k_v_arrows_and_cross_attention_inputs(model: Diagram) -> None:
    def into(key: str) -> list[str]:
        box = model.box(key)
        return sorted(
            a.role
            for a in model.arrows
            if a.head
            and abs(a.points[-1][1] - box.y) < 1e-6
            and box.x < a.points[-1][0] < box.x + box.width
        )

    assert into("encoder.attention") == ["k", "q", "v"]
    assert into("decoder.masked") == ["k", "q", "v"]
    assert into("decoder.cross") == ["k", "q", "v"]
    out = model.node("encoder.output")
    for role in ("k", "v"):
        (arrow,) = [a for a in model.arrows if a.role == role and a.points[0] == (out.x, out.y)]
        assert arrow.points[-1][1] == model.box("decoder.cross").y
    (q,) = [
        a for a in model.arrows if a.role == "q" and a.points[-1][1] == model.box("decoder.cross").y
    ]
    assert q.points[0][1] == model.box("decoder.cross.norm").top  # Q from the decoder
    # The encoder output rises to the decoder without turning back down.
    for role in ("k", "v"):
        (arrow,) = [a for a in model.arrows if a.role == role and a.points[0] == (out.x, out.y)]
        ys = [p[1] for p in arrow.points]
        assert ys == sorted(ys)


def test_nothing_overlaps_and_everything_is_on_the_page(model: Diagram) -> None:
    assert model.width >= 1200
    rects = [(b.x, b.y, b.width, b.height) for b in model.boxes]
    for (ax, ay, aw, ah), (bx, by, bw, bh) in combinations(rects, 2):
        assert not (ax < bx + bw and bx < ax + aw and ay < by + bh and by < ay + ah)
    margin = DEFAULT_STYLE.margin / 2
    for x, y, w, h in rects + [(r.x, r.y, r.width, r.height) for r in model.regions]:
        assert margin <= x and x + w <= model.width - margin
        assert margin <= y and y + h <= model.height - margin
    for box in model.boxes:
        for line in box.lines:
            assert estimate_width(line, 30) < box.width - 16, line
    for t in model.texts:
        w = estimate_width(t.text, t.font_px)
        left = {"left": t.x, "center": t.x - w / 2, "right": t.x - w}[t.ha]
        assert left >= 0 and left + w <= model.width, t.text
        assert 0 <= t.y <= model.height, t.text


# --------------------------------------------------------------------------- the PNG and decks


@pytest.fixture(scope="module")
def drawn() -> tuple[bytes, int, int]:
    return render_card_image("diagram", "transformer")


def test_the_diagram_is_a_valid_png_at_least_1200_px_wide(drawn: tuple[bytes, int, int]) -> None:
    data, width, height = drawn
    assert png_info(data) == (width, height)
    assert width >= 1200 and 1200 <= height <= 3000
    assert render_card_image("diagram", "transformer")[0] == data  # deterministic


async def test_the_renderer_serves_it_as_a_card_image(drawn: tuple[bytes, int, int]) -> None:
    pool = ThreadPoolExecutor(max_workers=1)
    try:
        r = MatplotlibRenderer(executor=pool)
        image = await r.card_image("diagram", "transformer")
        assert image is not None and image.data == drawn[0] and image.width >= 1200
        await r.close()
    finally:
        pool.shutdown(wait=True)


@pytest.fixture
def deck_dir(tmp_path: Path) -> Iterator[Path]:
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "diagram.md").write_text(DECK, encoding="utf-8")
    yield folder


def test_a_deck_card_with_a_diagram_passes_check_images(deck_dir: Path) -> None:
    deck_set = load_decks([deck_dir])
    assert deck_set.ok, deck_set.errors
    card = deck_set.card("diag-transformer")
    assert card is not None and card.back_image == DiagramSpec("transformer", "transformer")
    assert check_images(deck_set) == []


def test_check_images_reports_a_diagram_that_cannot_be_laid_out(
    deck_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> object:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(commands, "diagram_layout", broken)
    (error,) = check_images(load_decks([deck_dir]))
    assert error.line == 6  # the image: line
    assert error.message.startswith(
        "card 'diag-transformer': the diagram cannot be laid out: ZeroDivisionError"
    )


def test_a_challenge_with_a_diagram_is_accepted(tmp_path: Path) -> None:
    decks = tmp_path / "decks"
    shutil.copytree(SHIPPED_DECKS, decks)
    path = decks / "reflection" / "attention-reflection.md"
    text = path.read_text(encoding="utf-8")
    head, sep, rest = text.partition("id: refl-draw-transformer\n")
    assert sep
    section, _, tail = rest.partition("### Prompt")
    section = re.sub(r"(?m)^image: .*\n", "", section) + "image: diagram transformer\n"
    path.write_text(head + sep + section + "### Prompt" + tail, encoding="utf-8")
    deck_set = load_decks([decks])
    assert deck_set.ok, deck_set.errors
    (challenge,) = [
        c for s in deck_set.challenge_sets for c in s.challenges if c.id == "refl-draw-transformer"
    ]
    assert challenge.image == DiagramSpec("transformer", "transformer")
    assert check_images(deck_set) == []
