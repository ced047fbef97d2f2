"""Card images as PNG files, for ``studybot console --images DIR``.

A terminal shows text, so the console prints each card image as its text
(:func:`~bot.core.imagetext.image_text`). With ``--images`` the side shown is also
drawn, through the same renderer and disk cache as the chat platforms, and written
to the folder: ``<card id>.front.png`` for the question's image, ``<card id>.png``
for the answer's (as ``studybot render`` names them; ``.jpg`` for an imported JPEG). The
console prints the path under the card.
"""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

from bot.core.drawing import draw_card
from bot.core.messages import CardView
from bot.core.rendering import Renderer

__all__ = ["CardImages", "image_name"]

log = logging.getLogger(__name__)


def image_name(card: CardView, extension: str = ".png") -> str:
    """The file a card's shown image goes to: ``att-qkt-shape.front.png`` for the front's,
    ``att-qkt-shape.png`` for the back's (``.jpg`` for an imported JPEG, passed on as it
    is)."""
    return (
        f"{card.card_id}{extension}"
        if card.back is not None
        else f"{card.card_id}.front{extension}"
    )


class CardImages:
    """Draws the image of the side a card shows and writes it to ``folder``.

    Args:
        renderer: draws (and caches) the images.
        folder: where the PNG files go (made if missing).
    """

    def __init__(self, renderer: Renderer, folder: Path) -> None:
        self.renderer = renderer
        self.folder = folder

    async def write(self, card: CardView) -> Path | None:
        """The file the shown side's image was written to; None when the side has no
        image, or it could not be drawn or written (logged)."""
        if card.image is None:
            return None
        image = await draw_card(self.renderer, card)
        if image is None:
            return None
        path = self.folder / image_name(card, image.extension)
        try:
            await asyncio.to_thread(_write, path, image.data)
        except OSError as exc:
            log.warning("cannot write %s: %s", path, exc.strerror or exc)
            return None
        return path


def _write(path: Path, data: bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
