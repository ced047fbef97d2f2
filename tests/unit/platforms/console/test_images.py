"""Tests for bot.platforms.console.images: ``--images DIR`` draws the side a card shows
through the platforms' renderer and cache, writes it to DIR and names it under the card."""

from __future__ import annotations

from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.mediaimages import MediaImages
from bot.core.messages import CardView
from bot.core.model import CardImage
from bot.deckfiles import load_decks
from bot.platforms.console.chat import ConsoleChat
from bot.platforms.console.images import CardImages
from bot.render.cache import DiskCache
from bot.render.service import MatplotlibRenderer
from bot.text.terminal import Terminal
from tests.fakes.database import FakeDatabase
from tests.unit.core.test_mediaimages import picture
from tests.unit.platforms.console.test_chat import DATA, ME, START, Harness

PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
async def renderer(tmp_path: Path) -> AsyncIterator[MatplotlibRenderer]:
    # One thread: mathtext is not thread-safe (the bot uses a process pool).
    with ThreadPoolExecutor(1) as pool:
        drawing = MatplotlibRenderer(tmp_path / "render-cache", executor=pool)
        yield drawing
        await drawing.close()


def files(folder: Path) -> list[Path]:
    return list(folder.iterdir())


def harness(images: CardImages) -> Harness:
    sides = load_decks([DATA / "image_sides"])
    assert sides.ok, sides.errors
    h = Harness(FakeDatabase(list(sides.decks), now=START - timedelta(days=1)))
    h.chat = ConsoleChat(
        h.services.study,
        h.services.inputs,
        ME,
        write=h.out.append,
        terminal=lambda: Terminal(width=None),
        images=images,
    )
    return h


async def test_each_side_shown_is_written_and_named_under_its_text(
    renderer: MatplotlibRenderer, tmp_path: Path
) -> None:
    folder = tmp_path / "images"
    h = harness(CardImages(renderer, folder))

    front = await h.say("/review")
    path = folder / "sides-both.front.png"
    assert f"  Shapes: Q [n×d_k] · Kᵀ [?×?] → S [?×?]\n  Image file: {path}\n" in front
    assert path.read_bytes().startswith(PNG)

    back = await h.say("")
    answer = folder / "sides-both.png"
    assert f"Answer:\n  Shapes: Q [n×d_k] · Kᵀ [d_k×n] → S [n×n]\n  Image file: {answer}" in back
    assert answer.read_bytes().startswith(PNG) and answer.read_bytes() != path.read_bytes()
    # Drawn through the platforms' renderer: both are in its disk cache now.
    assert len(list(DiskCache(tmp_path / "render-cache").directory.glob("**/*.png"))) == 2

    await h.say("3")  # the formula card: a front image, no back image
    back = await h.say("")
    assert "Image file" not in back
    assert not (folder / "sides-front.png").exists()
    assert (folder / "sides-front.front.png").read_bytes().startswith(PNG)


async def test_an_image_that_cannot_be_drawn_leaves_its_text(tmp_path: Path) -> None:
    class Broken:
        async def card_image(self, kind: str | None, spec: str | None) -> None:
            raise RuntimeError("the renderer is on fire")

    h = harness(CardImages(Broken(), tmp_path))  # type: ignore[arg-type]
    front = await h.say("/review")
    assert "  Shapes: Q [n×d_k] · Kᵀ [?×?] → S [?×?]\n  Fill in" in front
    assert "Image file" not in front and not files(tmp_path)


async def test_an_image_that_cannot_be_written_leaves_its_text(
    renderer: MatplotlibRenderer, tmp_path: Path
) -> None:
    blocked = tmp_path / "a-file"
    blocked.write_text("not a folder")
    h = harness(CardImages(renderer, blocked))
    front = await h.say("/review")
    assert "Shapes: Q [n×d_k]" in front and "Image file" not in front


async def test_an_imported_jpeg_is_written_as_it_is_stored(
    renderer: MatplotlibRenderer, tmp_path: Path
) -> None:
    db = FakeDatabase()
    jpeg = picture("JPEG", (33, 17))
    db.run_sync(lambda tx: tx.media.put(4, "cell.jpg", "image/jpeg", jpeg, START))
    drawn = CardImages(MediaImages(renderer, db), tmp_path)
    card = CardView("u4-c1", "Deck", "Title", "Front", front_image=CardImage("media", "4/cell.jpg"))
    path = await drawn.write(card)
    assert path == tmp_path / "u4-c1.front.jpg" and path.read_bytes() == jpeg
