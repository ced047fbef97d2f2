"""Imported cards' images (kind ``media``), shown through the :class:`Renderer` port.

A card imported from Anki shows an image of its package: ``CardImage("media",
"<owner_id>/<name>")``, its bytes in the ``media`` table (``tx.media``). Deck files cannot
name one (:func:`bot.core.imagespec.parse_image_spec` refuses the kind).

:class:`MediaImages` is the renderer the platforms draw with (:func:`bot.app.build_app`
wraps the real one in it): it answers ``card_image("media", spec)`` from the database and
hands everything else to the renderer it wraps, so no platform knows of the database.
What a stored image becomes is decided by its bytes' signature, not by its stored type:

- PNG, and JPEG in grey or colour, go to the platform as they are;
- GIF (its first frame), WebP and four-channel (CMYK) JPEG are converted to PNG by the
  render worker (:meth:`Renderer.convert`, cached by content like other drawings);
- SVG, unreadable bytes and images beyond what a platform shows as a photo
  (:func:`photo_problem`: Telegram's limits) give None: the platform shows the image's
  text, ``[image: name]`` (:func:`bot.text.latex.image_alt_text`).
"""

from __future__ import annotations

import hashlib
import logging
import struct
from collections.abc import Sequence
from typing import Final, Literal

from bot.core.messages import HeatMap, Plot
from bot.core.ports import Database, StoredMedia
from bot.core.rendering import RenderedImage, Renderer, RenderError
from bot.core.stats import StudyStats

__all__ = [
    "MAX_PHOTO_BYTES",
    "MAX_PHOTO_RATIO",
    "MAX_PHOTO_SIDES",
    "MEDIA_KIND",
    "MediaImages",
    "image_size",
    "media_source",
    "photo_problem",
    "sniff",
]

log = logging.getLogger(__name__)

#: A card image's kind for an imported image; its spec is ``"<owner_id>/<name>"``.
MEDIA_KIND: Final = "media"

#: The largest image a platform is sent, in bytes (Telegram: a photo is at most 10 MB;
#: Discord: 10 MiB an upload).
MAX_PHOTO_BYTES: Final = 10_000_000
#: Telegram: a photo's width and height add up to at most 10,000 pixels.
MAX_PHOTO_SIDES: Final = 10_000
#: Telegram: a photo's longer side is at most 20 times its shorter one.
MAX_PHOTO_RATIO: Final = 20

Format = Literal["png", "jpeg", "gif", "webp", "svg"]

_PNG: Final = b"\x89PNG\r\n\x1a\n"
#: JPEG start-of-frame markers (baseline, progressive, lossless, arithmetic ...): they
#: carry the size. C4 (huffman tables), C8 (reserved) and CC (arithmetic conditioning)
#: are not frames.
_SOF: Final = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
#: JPEG markers without a length: TEM, RST0-7, SOI.
_STANDALONE: Final = frozenset({0x01, *range(0xD0, 0xD8), 0xD8})


def media_source(spec: str | None) -> tuple[int, str] | None:
    """The owner and file name a media spec (``"12/cat.jpg"``) names; None when it is not
    one (no owner number, no name)."""
    owner, slash, name = (spec or "").partition("/")
    if not slash or not name or not owner.isascii() or not owner.isdigit():
        return None
    return int(owner), name


def sniff(data: bytes) -> Format | None:
    """What the bytes are by their signature (never by a stored type or name): None for
    anything else."""
    if data.startswith(_PNG):
        return "png"
    if data.startswith(b"\xff\xd8\xff"):
        return "jpeg"
    if data[:6] in (b"GIF87a", b"GIF89a"):
        return "gif"
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "webp"
    head = data[:4096].lstrip(b"\xef\xbb\xbf \t\r\n").lower()
    if head.startswith((b"<?xml", b"<svg", b"<!--", b"<!doctype svg")) and b"<svg" in head:
        return "svg"
    return None


def _jpeg_frame(data: bytes) -> tuple[int, int, int] | None:
    """(width, height, colour components) from a JPEG's start-of-frame segment."""
    i, end = 2, len(data)
    while i + 4 <= end:
        if data[i] != 0xFF:
            return None
        marker = data[i + 1]
        if marker == 0xFF:  # fill byte
            i += 1
            continue
        if marker in _STANDALONE:
            i += 2
            continue
        if marker in (0xD9, 0xDA):  # end of image, or the scan, before any frame
            return None
        (length,) = struct.unpack(">H", data[i + 2 : i + 4])
        if length < 2:
            return None
        if marker in _SOF:
            if i + 10 > end:
                return None
            height, width = struct.unpack(">HH", data[i + 5 : i + 9])
            return int(width), int(height), data[i + 9]
        i += 2 + length
    return None


def image_size(data: bytes) -> tuple[int, int] | None:
    """(width, height) of a PNG or JPEG from its header; None for other bytes or a
    header cut short."""
    kind = sniff(data)
    if kind == "png":
        if len(data) < 24 or data[12:16] != b"IHDR":
            return None
        width, height = struct.unpack(">II", data[16:24])
        return int(width), int(height)
    if kind == "jpeg":
        frame = _jpeg_frame(data)
        return None if frame is None else frame[:2]
    return None


def photo_problem(size: int, width: int, height: int) -> str | None:
    """Why a platform cannot show an image of ``size`` bytes and ``width`` × ``height``
    pixels as a photo (one line), or None: at most :data:`MAX_PHOTO_BYTES`, both sides at
    least one pixel and together at most :data:`MAX_PHOTO_SIDES`, the longer at most
    :data:`MAX_PHOTO_RATIO` times the shorter."""
    if width < 1 or height < 1:
        return f"it is {width}×{height} pixels"
    if width + height > MAX_PHOTO_SIDES:
        return f"it is {width}×{height} pixels; a photo's sides add up to {MAX_PHOTO_SIDES:,}"
    if max(width, height) > MAX_PHOTO_RATIO * min(width, height):
        return f"it is {width}×{height} pixels, longer than {MAX_PHOTO_RATIO} times its width"
    if size > MAX_PHOTO_BYTES:
        return f"it is {size:,} bytes; a photo is at most {MAX_PHOTO_BYTES:,}"
    return None


class MediaImages:
    """The :class:`Renderer` the platforms draw with: a card's imported image (kind
    :data:`MEDIA_KIND`) read from ``tx.media``, everything else drawn by ``renderer``.

    Args:
        renderer: draws the shipped cards' images and the figures, converts GIF and WebP.
        db: where the imported images are (one short unit of work per image shown).
    """

    def __init__(self, renderer: Renderer, db: Database) -> None:
        self.renderer = renderer
        self.db = db

    async def card_image(self, kind: str | None, spec: str | None) -> RenderedImage | None:
        """A card's image: an imported one from the database (None when it is missing or
        cannot be shown: the platform shows its text), any other from the renderer."""
        if kind != MEDIA_KIND:
            return await self.renderer.card_image(kind, spec)
        source = media_source(spec)
        if source is None:
            log.warning("cannot show the imported image %r: not <owner>/<name>", spec)
            return None
        owner, name = source
        stored = await self.db.run(lambda tx: tx.media.get(owner, name))
        if stored is None:
            log.warning("the imported image %r is not stored: shown as its text", spec)
            return None
        return await self.stored_image(stored)

    async def stored_image(self, stored: StoredMedia) -> RenderedImage | None:
        """A stored image as a platform can show it (as it is, or converted to PNG), or
        None (logged): SVG, unreadable, or beyond :func:`photo_problem`'s limits."""
        data = stored.data
        label = f"{stored.owner_id}/{stored.name}"
        kind = sniff(data)
        frame = _jpeg_frame(data) if kind == "jpeg" else None
        size = image_size(data)
        if size is not None and (kind == "png" or (frame is not None and frame[2] in (1, 3))):
            problem = photo_problem(len(data), *size)
            if problem is not None:
                log.info("the imported image %r is shown as its text: %s", label, problem)
                return None
            media_type = "image/png" if kind == "png" else "image/jpeg"
            key = hashlib.sha256(data).hexdigest()
            return RenderedImage(data, size[0], size[1], key, media_type)
        if kind in ("gif", "webp", "jpeg"):
            try:
                image = await self.renderer.convert(data)
            except RenderError as exc:
                log.warning("the imported image %r is shown as its text: %s", label, exc)
                return None
            problem = photo_problem(len(image.data), image.width, image.height)
            if problem is not None:
                log.info("the imported image %r is shown as its text: %s", label, problem)
                return None
            return image
        what = "an SVG drawing" if kind == "svg" else f"not an image we read ({stored.mime})"
        log.info("the imported image %r is shown as its text: it is %s", label, what)
        return None

    async def stats_chart(self, stats: StudyStats, forecast: Sequence[int]) -> RenderedImage:
        return await self.renderer.stats_chart(stats, forecast)

    async def text_image(self, markdown: str) -> RenderedImage:
        return await self.renderer.text_image(markdown)

    async def heatmap(self, chart: HeatMap) -> RenderedImage:
        return await self.renderer.heatmap(chart)

    async def plot(self, figure: Plot) -> RenderedImage:
        return await self.renderer.plot(figure)

    async def convert(self, data: bytes) -> RenderedImage:
        return await self.renderer.convert(data)

    async def close(self) -> None:
        """Close the renderer it wraps."""
        await self.renderer.close()
