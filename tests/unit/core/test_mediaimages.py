"""Tests for bot.core.mediaimages: an imported card's image (kind ``media``) shown through
the renderer port, read from ``tx.media``: PNG and JPEG as they are, GIF and WebP converted
to PNG in the render worker, SVG, unreadable and oversized images left to their text."""

from __future__ import annotations

import hashlib
import io
import logging
import struct
import zlib
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime
from pathlib import Path

import pytest
from PIL import Image

from bot.core.mediaimages import (
    MAX_PHOTO_BYTES,
    MediaImages,
    image_size,
    media_source,
    photo_problem,
    sniff,
)
from bot.core.rendering import RenderedImage, RenderError
from bot.render.service import MatplotlibRenderer
from tests.fakes.database import FakeDatabase
from tests.unit.core.test_drawing import Renderer as RecordingRenderer

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)
OWNER = 7
RED = (220, 30, 30)
BLUE = (30, 30, 220)


def picture(fmt: str, size: tuple[int, int] = (40, 24), **save: object) -> bytes:
    """A red image with a blue square in its top-left corner, saved as ``fmt``."""
    image = Image.new("RGB", size, RED)
    image.paste(BLUE, (0, 0, size[0] // 2, size[1] // 2))
    if fmt == "CMYK":
        image, fmt = image.convert("CMYK"), "JPEG"
    out = io.BytesIO()
    image.save(out, format=fmt, **save)
    return out.getvalue()


def animated_gif() -> bytes:
    """Two frames, 30×20: the first red, the second blue."""
    frames = [Image.new("RGB", (30, 20), RED), Image.new("RGB", (30, 20), BLUE)]
    out = io.BytesIO()
    frames[0].save(out, format="GIF", save_all=True, append_images=frames[1:], duration=100)
    return out.getvalue()


def gif_claiming(width: int, height: int) -> bytes:
    """A 2×2 GIF whose header claims ``width`` × ``height``."""
    data = bytearray(picture("GIF", (2, 2)))
    data[6:10] = struct.pack("<HH", width, height)
    return bytes(data)


def png_header(width: int, height: int) -> bytes:
    """A PNG that claims ``width`` × ``height`` (its pixels are one row: never read)."""
    head = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    body = b"IHDR" + head
    return b"\x89PNG\r\n\x1a\n" + struct.pack(">I", len(head)) + body + zlib.crc32(body).to_bytes(4)


SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"/>'


@pytest.fixture
async def renderer(tmp_path: Path) -> AsyncIterator[MatplotlibRenderer]:
    with ThreadPoolExecutor(1) as pool:
        drawing = MatplotlibRenderer(tmp_path / "render-cache", executor=pool)
        yield drawing
        await drawing.close()


def stored(db: FakeDatabase, name: str, mime: str, data: bytes) -> None:
    db.run_sync(lambda tx: tx.media.put(OWNER, name, mime, data, NOW))


def pixels(image: RenderedImage) -> Image.Image:
    assert image.media_type == "image/png" and image.data.startswith(b"\x89PNG")
    return Image.open(io.BytesIO(image.data))


def test_a_media_spec_names_its_owner_and_file() -> None:
    assert media_source("7/cat.jpg") == (7, "cat.jpg")
    assert media_source("7/sub/dog 1.png") == (7, "sub/dog 1.png")
    for bad in ("cat.jpg", "x/cat.jpg", "7/", "/cat.jpg", "", None, "٣/cat.jpg"):
        assert media_source(bad) is None, bad


def test_the_bytes_say_what_an_image_is_and_how_large() -> None:
    assert sniff(picture("PNG")) == "png" and image_size(picture("PNG")) == (40, 24)
    progressive = picture("JPEG", (33, 17), progressive=True)
    assert sniff(progressive) == "jpeg" and image_size(progressive) == (33, 17)
    assert sniff(picture("CMYK")) == "jpeg" and image_size(picture("CMYK")) == (40, 24)
    assert sniff(animated_gif()) == "gif" and image_size(animated_gif()) is None
    assert sniff(picture("WEBP")) == "webp"
    assert sniff(SVG) == "svg" and sniff(b"\xef\xbb\xbf  <svg width='1'/>") == "svg"
    assert sniff(b"<html><body>no</body></html>") is None
    assert sniff(b"") is None and image_size(b"\x89PNG\r\n\x1a\n") is None
    assert image_size(b"\xff\xd8\xff\xe0\x00") is None  # a JPEG cut short


def test_what_a_platform_cannot_show_as_a_photo() -> None:
    assert photo_problem(1000, 5000, 5000) is None
    assert photo_problem(1000, 5001, 5000) == (
        "it is 5001×5000 pixels; a photo's sides add up to 10,000"
    )
    assert photo_problem(1000, 400, 20) is None
    assert photo_problem(1000, 20, 401) is not None  # taller than 20 times its width
    assert photo_problem(MAX_PHOTO_BYTES, 10, 10) is None
    assert photo_problem(MAX_PHOTO_BYTES + 1, 10, 10) is not None
    assert photo_problem(10, 0, 10) is not None


async def test_png_and_jpeg_go_as_they_are(renderer: MatplotlibRenderer) -> None:
    db = FakeDatabase()
    png, jpeg = picture("PNG"), picture("JPEG", (33, 17), quality=90)
    stored(db, "a.png", "image/png", png)
    stored(db, "photo.jpg", "image/png", jpeg)  # a wrong type stored: the bytes decide
    images = MediaImages(renderer, db)

    shown = await images.card_image("media", f"{OWNER}/a.png")
    assert shown == RenderedImage(png, 40, 24, hashlib.sha256(png).hexdigest(), "image/png")
    photo = await images.card_image("media", f"{OWNER}/photo.jpg")
    assert photo is not None and photo.data == jpeg and photo.media_type == "image/jpeg"
    assert (photo.width, photo.height) == (33, 17) and photo.filename.endswith(".jpg")
    assert renderer.counters.renders == 0, "nothing goes to the worker"


async def test_gif_webp_and_cmyk_jpeg_become_png_in_the_worker(
    renderer: MatplotlibRenderer, tmp_path: Path
) -> None:
    db = FakeDatabase()
    stored(db, "moving.gif", "image/gif", animated_gif())
    stored(db, "w.webp", "image/webp", picture("WEBP", lossless=True))
    stored(db, "print.jpg", "image/jpeg", picture("CMYK", quality=95))
    images = MediaImages(renderer, db)

    gif = await images.card_image("media", f"{OWNER}/moving.gif")
    assert gif is not None and (gif.width, gif.height) == (30, 20)
    first = pixels(gif).convert("RGB")
    assert first.size == (30, 20) and first.getpixel((15, 10)) == RED, "the first frame"

    webp = await images.card_image("media", f"{OWNER}/w.webp")
    assert webp is not None and (webp.width, webp.height) == (40, 24)
    drawn = pixels(webp).convert("RGB")
    assert drawn.getpixel((2, 2)) == BLUE and drawn.getpixel((39, 23)) == RED

    cmyk = await images.card_image("media", f"{OWNER}/print.jpg")
    assert cmyk is not None and pixels(cmyk).mode == "RGB" and (cmyk.width, cmyk.height) == (40, 24)
    r, g, b = pixels(cmyk).getpixel((35, 20))  # type: ignore[misc]
    assert r > 180 and g < 80 and b < 80

    for image in (gif, webp, cmyk):
        (tmp_path / f"{image.key[:8]}.png").write_bytes(image.data)
    assert renderer.counters.renders == 3
    again = await images.card_image("media", f"{OWNER}/moving.gif")
    assert again == gif and renderer.counters.renders == 3, "converted once, then cached"


async def test_svg_unreadable_missing_and_oversized_images_are_left_to_their_text(
    renderer: MatplotlibRenderer, caplog: pytest.LogCaptureFixture
) -> None:
    db = FakeDatabase()
    stored(db, "d.svg", "image/svg+xml", SVG)
    stored(db, "junk.png", "image/png", b"\x89PNG\r\n\x1a\n but nothing after")
    stored(db, "fake.gif", "image/gif", b"GIF89a" + b"\x00" * 40)
    stored(db, "wide.png", "image/png", png_header(9000, 2000))
    stored(db, "strip.png", "image/png", picture("PNG", (420, 20)))
    # A small file that claims 9000×9000: refused from its header, never decoded.
    stored(db, "bomb.gif", "image/gif", gif_claiming(9000, 9000))
    images = MediaImages(renderer, db)

    caplog.set_level(logging.INFO, logger="bot.core.mediaimages")
    for name in ("d.svg", "junk.png", "fake.gif", "wide.png", "strip.png", "bomb.gif", "gone.png"):
        assert await images.card_image("media", f"{OWNER}/{name}") is None, name
    assert await images.card_image("media", "cat.png") is None
    logged = caplog.text
    assert "7/d.svg' is shown as its text: it is an SVG drawing" in logged
    assert "7/junk.png' is shown as its text: it is not an image we read (image/png)" in logged
    assert "7/wide.png' is shown as its text: it is 9000×2000 pixels" in logged
    assert "7/strip.png' is shown as its text: it is 420×20 pixels, longer than 20" in logged
    assert "7/bomb.gif' is shown as its text: it is 9000×9000 pixels" in logged
    assert "'7/gone.png' is not stored" in logged
    assert renderer.counters.failures == 2  # fake.gif and bomb.gif reached the worker


async def test_every_other_image_and_figure_goes_to_the_renderer() -> None:
    inner = RecordingRenderer()
    images = MediaImages(inner, FakeDatabase())
    await images.card_image("formula", "x^2")
    await images.card_image(None, None)
    await images.text_image("| a |")
    await images.convert(b"GIF89a")
    await images.close()
    assert inner.calls == [
        ("card", "formula", "x^2"),
        ("card", None, None),
        ("text", "| a |"),
        ("convert", b"GIF89a"),
    ]


async def test_a_failed_conversion_is_remembered(renderer: MatplotlibRenderer) -> None:
    with pytest.raises(RenderError, match="cannot read"):
        await renderer.convert(b"GIF89a not really")
    with pytest.raises(RenderError, match="cannot read"):
        await renderer.convert(b"GIF89a not really")
    assert renderer.counters.renders == 1
