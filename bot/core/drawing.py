"""Drawing what a reply shows, or falling back to its text: one rule for every platform.

A reply's figure (a /stats chart, a plot, a challenge summary's heat map) and a card's
image are drawn by the :class:`~bot.core.rendering.Renderer` when there is one.
When there is none, or drawing fails (logged here), the adapter shows the text
alone: the reply's text already says what the figure shows, and a card's image
has its alt text (:func:`bot.core.rendering.image_alt_text`).
"""

from __future__ import annotations

import asyncio
import logging

from bot.core.messages import CardView, Figure, HeatMap, StatsChart
from bot.core.rendering import RenderedImage, Renderer

log = logging.getLogger(__name__)


async def draw_figure(renderer: Renderer | None, figure: Figure | None) -> RenderedImage | None:
    """The figure drawn, or None: no figure, no renderer, or it could not be drawn."""
    if renderer is None or figure is None:
        return None
    try:
        if isinstance(figure, HeatMap):
            return await renderer.heatmap(figure)
        if isinstance(figure, StatsChart):
            return await renderer.stats_chart(figure.stats, figure.forecast)
        return await renderer.plot(figure)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.warning("could not draw a %s", type(figure).__name__, exc_info=True)
        return None


async def draw_card(renderer: Renderer | None, card: CardView | None) -> RenderedImage | None:
    """The image of the side a card shows (:attr:`CardView.image`) drawn, or None: no image,
    no renderer, or it could not be drawn."""
    image = card.image if card is not None else None
    if renderer is None or card is None or image is None:
        return None
    try:
        return await renderer.card_image(image.kind, image.spec)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.warning("could not draw the image of card %s", card.card_id, exc_info=True)
        return None


async def draw_text(renderer: Renderer | None, markdown: str) -> RenderedImage | None:
    """Markdown with tables or wide code drawn as an image, or None (no renderer, or it
    could not be drawn: the adapter shows the text as monospace instead)."""
    if renderer is None:
        return None
    try:
        return await renderer.text_image(markdown)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.warning("could not draw text as an image", exc_info=True)
        return None
