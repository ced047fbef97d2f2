"""The CLI helpers: check_images, render_card, prerender and gallery."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from PIL import features

from bot.deckfiles import SHIPPED_DECKS, load_decks
from bot.render import commands
from bot.render.cache import DiskCache, cache_key
from bot.render.commands import check_images, gallery, prerender, render_card
from bot.render.style import DEFAULT_STYLE
from bot.render.worker import render_card_image

DECK = """# Test deck
id: test

## A formula mathtext cannot draw
id: bad-formula

image: formula \\notacommand{x} + 1

### Front
Front <b>one</b> & more

### Back
Back.

## A good shape
id: good-shape
image: shape Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=3, d_k=2

### Front
What is the shape of <script>alert(1)</script>?

### Back
n by n.

## No image
id: plain

### Front
Plain.

### Back
Plain.
"""


@pytest.fixture
def deck_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "decks"
    folder.mkdir()
    (folder / "test.md").write_text(DECK, encoding="utf-8")
    return folder


def run(fn: object, *args: object) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    assert callable(fn)
    code = fn(*args, stdout=out, stderr=err)
    return code, out.getvalue(), err.getvalue()


def test_shipped_decks_have_no_image_problems() -> None:
    assert check_images(load_decks([SHIPPED_DECKS])) == []


def test_check_images_names_the_card_and_the_image_line(deck_dir: Path) -> None:
    deck_set = load_decks([deck_dir])
    assert deck_set.ok  # the spec parses; only mathtext can tell it is wrong
    errors = check_images(deck_set)
    assert len(errors) == 1
    error = errors[0]
    assert error.path == str(deck_dir / "test.md")
    assert error.line == 7  # the "image:" line
    assert "card 'bad-formula'" in error.message
    assert r"Unknown symbol: \notacommand" in error.message
    assert str(error).startswith(f"{deck_dir / 'test.md'}:7: card 'bad-formula'")


def test_check_images_reports_a_shape_that_cannot_be_drawn(
    deck_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def broken(*_: object) -> object:
        raise ZeroDivisionError("division by zero")

    monkeypatch.setattr(commands, "layout_for", broken)
    errors = check_images(load_decks([deck_dir]))
    messages = [e.message for e in errors]
    assert any(
        m.startswith("card 'good-shape': the shape cannot be laid out: ZeroDivisionError")
        for m in messages
    )


def test_render_card_writes_one_png(deck_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "card.png"
    code, stdout, stderr = run(render_card, "good-shape", out, [deck_dir])
    assert code == 0, stderr
    assert out.read_bytes().startswith(b"\x89PNG\r\n\x1a\n")
    assert "card.png: 1200x" in stdout


def test_render_card_explains_missing_cards_and_images(deck_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "x.png"
    code, _, stderr = run(render_card, "good-shap", out, [deck_dir])
    assert code == 1 and "no card or challenge 'good-shap'" in stderr
    assert "did you mean good-shape" in stderr
    code, _, stderr = run(render_card, "plain", out, [deck_dir])
    assert code == 1 and "card 'plain' has no image" in stderr
    code, _, stderr = run(render_card, "bad-formula", out, [deck_dir])
    assert code == 1 and "card 'bad-formula'" in stderr and "notacommand" in stderr
    assert not out.exists()


def test_prerender_fills_the_disk_cache_once(deck_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "render-cache"
    code, stdout, stderr = run(prerender, [deck_dir], cache)
    assert code == 1  # the bad formula
    assert "1 rendered, 0 already cached, 1 failed" in stdout
    assert "card 'bad-formula'" in stderr
    key = cache_key("shape", "Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=3, d_k=2", DEFAULT_STYLE)
    assert DiskCache(cache).get(key) is not None
    _, stdout, _ = run(prerender, [deck_dir], cache)
    assert "0 rendered, 1 already cached" in stdout


def test_gallery_writes_images_and_an_escaped_index(deck_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "gallery"
    code, stdout, stderr = run(gallery, [deck_dir], out)
    assert code == 1 and "card 'bad-formula'" in stderr
    assert (out / "good-shape.png").read_bytes().startswith(b"\x89PNG")
    page = (out / "index.html").read_text(encoding="utf-8")
    assert '<img src="good-shape.png"' in page
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page and "<script>" not in page
    assert "Front &lt;b&gt;one&lt;/b&gt; &amp; more" in page
    assert "cannot draw it" in page
    assert "1 images, 1 failed" in stdout


SIDES = """# Sides
id: sides

## Both sides
id: both
front-image: shape Q[n,d_k] @ K^T[?,?] -> S[?,?]; n=3, d_k=2
image: formula QK^T

### Front
Fill in the shapes.

### Back
There.

## A front mathtext cannot draw
id: bad-front
front-image: formula \\notacommand{x} = ?

### Front
Q.

### Back
A.
"""


@pytest.fixture
def sides_dir(tmp_path: Path) -> Path:
    folder = tmp_path / "sides"
    folder.mkdir()
    (folder / "sides.md").write_text(SIDES, encoding="utf-8")
    return folder


def test_check_images_points_at_the_front_image_line(sides_dir: Path) -> None:
    deck_set = load_decks([sides_dir])
    assert deck_set.ok, deck_set.errors
    [error] = check_images(deck_set)
    assert error.line == 17  # the "front-image:" line of bad-front
    assert error.message.startswith("card 'bad-front' (front): mathtext cannot draw")


def test_render_card_writes_each_sides_image(sides_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out" / "both.png"
    code, stdout, stderr = run(render_card, "both", out, [sides_dir])
    assert code == 0, stderr
    front = tmp_path / "out" / "both.front.png"
    assert out.read_bytes() != front.read_bytes()
    assert out.read_bytes().startswith(b"\x89PNG") and front.read_bytes().startswith(b"\x89PNG")
    assert f"{front}: 1200x" in stdout and stdout.rstrip().endswith("bytes")
    assert f"{front}: " in stdout.splitlines()[0] and "(front image)" in stdout.splitlines()[0]
    code, _, stderr = run(render_card, "bad-front", tmp_path / "bad.png", [sides_dir])
    assert code == 1 and "card 'bad-front' (front): " in stderr
    assert not (tmp_path / "bad.png").exists()


def test_prerender_draws_both_sides(sides_dir: Path, tmp_path: Path) -> None:
    cache = tmp_path / "render-cache"
    code, stdout, stderr = run(prerender, [sides_dir], cache)
    assert code == 1 and "card 'bad-front' (front)" in stderr
    assert "2 rendered, 0 already cached, 1 failed" in stdout
    key = cache_key("shape", "Q[n,d_k] @ K^T[?,?] -> S[?,?]; n=3, d_k=2", DEFAULT_STYLE)
    assert DiskCache(cache).get(key) is not None


def test_gallery_labels_each_image_with_its_side(sides_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "gallery"
    code, stdout, _ = run(gallery, [sides_dir], out)
    assert code == 1 and "2 images, 1 failed" in stdout
    assert (out / "front" / "both.png").read_bytes().startswith(b"\x89PNG")
    assert (out / "both.png").read_bytes().startswith(b"\x89PNG")
    page = (out / "index.html").read_text(encoding="utf-8")
    both = page[page.index('<figure id="both">') : page.index('<figure id="bad-front">')]
    assert both.index("Front image, shown with the question") < both.index(
        '<img src="front/both.png"'
    )
    assert both.index('<img src="front/both.png"') < both.index("Back image, shown with the answer")
    assert both.index("Back image, shown with the answer") < both.index('<img src="both.png"')
    assert "front-image: shape Q[n,d_k] @ K^T[?,?] -&gt; S[?,?]; n=3, d_k=2" in both
    assert "image: formula QK^T" in both


# --------------------------------------------------------------------------- challenges, JPEG

JPEG_MAGIC = b"\xff\xd8\xff"


def test_render_writes_a_challenges_image(tmp_path: Path) -> None:
    out = tmp_path / "mask.png"
    code, stdout, stderr = run(render_card, "refl-causal-mask", out, [SHIPPED_DECKS])
    assert code == 0, stderr
    assert out.read_bytes().startswith(b"\x89PNG")
    assert stdout.strip().startswith(f"{out}: 1200x") and "(challenge image)" in stdout


def test_render_says_when_a_challenge_has_no_image(tmp_path: Path) -> None:
    out = tmp_path / "x.png"
    code, _, stderr = run(render_card, "refl-self-vs-cross", out, [SHIPPED_DECKS])
    assert code == 1 and not out.exists()
    assert stderr.strip() == (
        "studybot: challenge 'refl-self-vs-cross' has no image "
        "(add an 'image:' line, shown with the reference)"
    )


def test_render_suggests_challenge_ids_too(tmp_path: Path) -> None:
    code, _, stderr = run(render_card, "refl-causal-msk", tmp_path / "x.png", [SHIPPED_DECKS])
    assert code == 1 and "did you mean refl-causal-mask" in stderr


@pytest.mark.parametrize("name", ["card.jpg", "card.JPEG"])
def test_render_writes_jpeg_by_the_extension(deck_dir: Path, tmp_path: Path, name: str) -> None:
    out = tmp_path / name
    code, stdout, stderr = run(render_card, "good-shape", out, [deck_dir])
    assert code == 0, stderr
    data = out.read_bytes()
    assert data.startswith(JPEG_MAGIC)
    assert f"{out}: 1200x" in stdout and f"{len(data)} bytes" in stdout


def test_a_jpeg_card_has_its_front_image_in_jpeg_too(sides_dir: Path, tmp_path: Path) -> None:
    code, _, stderr = run(render_card, "both", tmp_path / "both.jpg", [sides_dir])
    assert code == 0, stderr
    assert (tmp_path / "both.front.jpg").read_bytes().startswith(JPEG_MAGIC)
    assert (tmp_path / "both.jpg").read_bytes().startswith(JPEG_MAGIC)


def test_a_jpeg_challenge_image(tmp_path: Path) -> None:
    out = tmp_path / "mask.jpeg"
    code, _, stderr = run(render_card, "refl-causal-mask", out, [SHIPPED_DECKS])
    assert code == 0, stderr
    assert out.read_bytes().startswith(JPEG_MAGIC)


def test_to_jpeg_keeps_the_size_and_the_background() -> None:
    from PIL import Image

    png, width, height = render_card_image("formula", "x^2", DEFAULT_STYLE)
    jpeg = commands.to_jpeg(png)
    with Image.open(io.BytesIO(jpeg)) as image:
        assert image.format == "JPEG" and image.size == (width, height)
        corner = image.convert("RGB").getpixel((0, 0))
    assert isinstance(corner, tuple)
    expected = tuple(int(DEFAULT_STYLE.background[i : i + 2], 16) for i in (1, 3, 5))
    assert all(abs(a - b) <= 3 for a, b in zip(corner, expected, strict=True))


@pytest.mark.parametrize("name", ["card.gif", "card.svg", "card.png.bak"])
def test_an_extension_studybot_cannot_write_is_refused_in_one_line(
    deck_dir: Path, tmp_path: Path, name: str
) -> None:
    out = tmp_path / name
    code, stdout, stderr = run(render_card, "good-shape", out, [deck_dir])
    assert code == 2 and not out.exists() and stdout == ""
    suffix = out.suffix
    assert stderr == (
        f"studybot: cannot write {name}: {suffix} is not a format studybot writes "
        "(use .png, .jpg, .jpeg)\n"
    )


def test_jpeg_is_refused_in_one_line_without_jpeg_support(
    deck_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(features, "check", lambda feature: False)
    code, _, stderr = run(render_card, "good-shape", tmp_path / "x.jpg", [deck_dir])
    assert code == 2
    assert stderr == "studybot: cannot write x.jpg: this Pillow has no JPEG support (use .png)\n"


def test_an_output_without_an_extension_is_png(deck_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "card"
    code, _, stderr = run(render_card, "good-shape", out, [deck_dir])
    assert code == 0, stderr
    assert out.read_bytes().startswith(b"\x89PNG")


CHALLENGES = """# Challenge set: Tiny
id: tiny

## Draw it
id: tiny-draw
kind: drawing
image: shape Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=3, d_k=2

### Prompt
Draw <the> scores.

### Reference
Like this.

### Checkpoints
- one
- two
- three

### Rubric
- The scores -> good-shape

## Say it
id: tiny-say
kind: conceptual

### Prompt
Why?

### Reference
Because.

### Rubric
- The scores -> good-shape
"""


@pytest.fixture
def with_challenges(deck_dir: Path) -> Path:
    (deck_dir / "challenges.md").write_text(CHALLENGES, encoding="utf-8")
    return deck_dir


def test_the_gallery_shows_challenge_images_with_their_prompts(
    with_challenges: Path, tmp_path: Path
) -> None:
    deck_set = load_decks([with_challenges])
    assert [c.id for cs in deck_set.challenge_sets for c in cs.challenges] == [
        "tiny-draw",
        "tiny-say",
    ]
    out = tmp_path / "gallery"
    code, stdout, stderr = run(gallery, [with_challenges], out)
    assert code == 1 and "card 'bad-formula'" in stderr  # the deck's bad formula, still
    assert "2 images, 1 failed" in stdout
    assert (out / "challenges" / "tiny-draw.png").read_bytes().startswith(b"\x89PNG")
    assert not (out / "challenges" / "tiny-say.png").exists()
    page = (out / "index.html").read_text(encoding="utf-8")
    assert "(2 cards, 1 challenges)" in page
    figure = page[page.index('<figure id="challenge-tiny-draw">') :]
    assert "Challenges: Tiny <small>(tiny)</small>" in page
    assert "Draw &lt;the&gt; scores." in figure
    assert "Challenge image, shown with the reference answer" in figure
    assert '<img src="challenges/tiny-draw.png"' in figure
    assert 'alt="Q [n×d_k] · Kᵀ [d_k×n] → S [n×n]"' in figure
    assert "tiny-say" not in page


def test_prerender_draws_challenge_images_too(with_challenges: Path, tmp_path: Path) -> None:
    cache = tmp_path / "render-cache"
    code, stdout, _ = run(prerender, [with_challenges], cache)
    # The challenge's image is the good card's: drawn once, then found in the cache.
    assert code == 1 and "1 rendered, 1 already cached, 1 failed" in stdout
