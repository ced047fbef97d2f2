"""The renderer port.

The core and the platform adapters talk to the image renderer only through
:class:`Renderer`; the matplotlib implementation lives in ``bot/render``.
The text that stands in for an image (formulas as Unicode, tables as
monospace) comes from :mod:`bot.text`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Protocol

from bot.core.messages import HeatMap, Plot
from bot.core.stats import StudyStats

__all__ = ["EXTENSIONS", "RenderError", "RenderedImage", "Renderer"]

#: A file name's extension for each type a :class:`RenderedImage` may have.
EXTENSIONS = {"image/png": ".png", "image/jpeg": ".jpg"}


class RenderError(Exception):
    """An image could not be drawn; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class RenderedImage:
    """A rendered PNG, or an imported JPEG passed on as it is.

    Attributes:
        data: the image's bytes.
        width: width in pixels.
        height: height in pixels.
        key: the content hash it is cached under (same input, same key).
        media_type: ``image/png`` or ``image/jpeg`` (:data:`EXTENSIONS`).
    """

    data: bytes
    width: int
    height: int
    key: str
    media_type: str = "image/png"

    @property
    def filename(self) -> str:
        """A file name for uploads, stable for the same content."""
        return f"{self.key[:16]}{self.extension}"

    @property
    def extension(self) -> str:
        """``.png`` or ``.jpg``, by :attr:`media_type`."""
        return EXTENSIONS.get(self.media_type, ".png")


class Renderer(Protocol):
    """Draws images for cards and /stats (implemented in ``bot/render``).

    Every method is safe to await from the event loop: cold renders run in a
    worker, cached ones return at once.
    """

    async def card_image(self, kind: str | None, spec: str | None) -> RenderedImage | None:
        """The image of one side of a card (a :class:`~bot.core.model.CardImage`'s kind and spec).

        Returns None when the card has no image, or when it cannot be drawn (the
        failure is logged; ``studybot decks check`` reports such specs). Show
        :func:`bot.text.latex.image_alt_text` instead.
        """
        ...

    async def stats_chart(self, stats: StudyStats, forecast: Sequence[int]) -> RenderedImage:
        """The /stats chart: ``forecast`` is cards due on each of the next days (today first).

        Raises:
            RenderError: when the chart cannot be drawn.
        """
        ...

    async def text_image(self, markdown: str) -> RenderedImage:
        """Markdown with tables or wide code drawn as an image.

        Raises:
            RenderError: when the text cannot be drawn.
        """
        ...

    async def heatmap(self, chart: HeatMap) -> RenderedImage:
        """A heat map of levels (a challenge summary: rubric rows by participants).

        Raises:
            RenderError: when the chart cannot be drawn.
        """
        ...

    async def plot(self, figure: Plot) -> RenderedImage:
        """A plot: predicted against observed recall (/stats), or what each desired
        retention costs (/settings retention).

        Raises:
            RenderError: when the plot cannot be drawn.
        """
        ...

    async def convert(self, data: bytes) -> RenderedImage:
        """An image file (GIF, WebP, PNG, JPEG) as a PNG of its first frame, the same
        size: an imported card's image a platform cannot show as it is.

        Raises:
            RenderError: when the bytes are no image it can read, or the image is larger
                than a platform shows (:mod:`bot.core.mediaimages`'s limits).
        """
        ...

    async def close(self) -> None:
        """Stop the workers; further calls are not allowed."""
        ...
