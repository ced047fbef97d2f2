"""Tests for bot.core.interop: the images an Anki package carries (drawn, named, within
the package's limit) and what the reply says of them."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime

import pytest

from bot.core import interop
from bot.core.interop import AnkiExport, AnkiPackage, PackageMedia, anki_reply, draw_images
from bot.core.model import CardImage, CardInfo
from bot.core.rendering import RenderedImage
from tests.unit.core.test_drawing import Renderer as RecordingRenderer

NOW = datetime(2026, 3, 2, 14, 0, tzinfo=UTC)


def card(card_id: str, front: CardImage | None = None, back: CardImage | None = None) -> CardInfo:
    return CardInfo(card_id, "d", "D", card_id, "Q", "A", front_image=front, back_image=back)


def export(*cards: CardInfo, media: tuple[PackageMedia, ...] = ()) -> AnkiExport:
    return AnkiExport(1, cards, (), (), 0.9, None, NOW, media=media)


class Drawing(RecordingRenderer):
    """Draws each image as ``size`` bytes keyed by its spec; a spec with "bad" fails."""

    def __init__(self, size: int = 10) -> None:
        super().__init__()
        self.size = size

    async def card_image(self, kind: str | None, spec: str | None) -> RenderedImage | None:
        self.calls.append(("card", kind, spec))
        if spec and "broken" in spec:
            return None
        if spec and "raises" in spec:
            raise RuntimeError("the renderer is on fire")
        return RenderedImage(b"x" * self.size, 4, 4, f"{spec}".ljust(64, "0"))


def test_names_are_safe_and_unique_without_case() -> None:
    taken: set[str] = set()
    made = [
        interop._unique_name(name, taken)
        for name in ("cat.png", "Cat.PNG", "cat.png", "../etc/passwd", "a:b*c?.jpg", "", "...")
    ]
    assert made == [
        "cat.png",
        "Cat-2.PNG",
        "cat-3.png",
        "_etc_passwd",
        "a_b_c_.jpg",
        "image",
        "image-2",
    ]
    long = interop._unique_name("x" * 300 + ".jpeg", taken)
    assert len(long) == 100 and long.endswith("x.jpeg")
    assert interop._unique_name("x" * 300 + ".jpeg", taken) == "x" * 93 + "-2.jpeg"


async def test_shipped_images_are_drawn_once_each_and_failures_stay_text(
    caplog: pytest.LogCaptureFixture,
) -> None:
    formula, shape = CardImage("formula", "a^2"), CardImage("shape", "Q[n,d]")
    stored = PackageMedia("media", "1/a2.png", "studybot-a^20000000000000.png", b"s")
    cards = (
        card("c1", formula, shape),
        card("c2", back=formula),
        card("c3", CardImage("formula", "broken"), CardImage("formula", "raises")),
        card("c4", CardImage("media", "1/a2.png")),  # imported: never drawn
    )
    renderer = Drawing()
    drawn = await draw_images(export(*cards, media=(stored,)), renderer)
    assert renderer.calls == [
        ("card", "formula", "a^2"),
        ("card", "shape", "Q[n,d]"),
        ("card", "formula", "broken"),
        ("card", "formula", "raises"),
    ]
    assert [(m.kind, m.spec, m.name) for m in drawn.media] == [
        ("media", "1/a2.png", "studybot-a^20000000000000.png"),
        ("formula", "a^2", "studybot-a^20000000000000-2.png"),  # the name is taken: -2
        ("shape", "Q[n,d]", "studybot-Q[n,d]0000000000.png"),
    ]
    assert drawn.images_left == 0
    assert "could not draw the formula image 'raises'" in caplog.text
    assert await draw_images(export(card("c5")), renderer) == export(card("c5"))


async def test_what_would_pass_the_packages_limit_stays_text(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(interop, "MAX_PACKAGE_MEDIA_BYTES", 25)
    cards = tuple(card(f"c{n}", CardImage("formula", f"x_{n}")) for n in range(4))
    drawn = await draw_images(export(*cards), Drawing(size=10))
    assert [m.spec for m in drawn.media] == ["x_0", "x_1"] and drawn.images_left == 2


def test_the_reply_counts_the_images_and_says_why_some_stay_text() -> None:
    package = AnkiPackage("studybot.apkg", b"PK", with_scheduling=True)
    one = PackageMedia("media", "1/a.png", "a.png", b"a")
    text = anki_reply(package, replace(export(card("c1")), media=(one,))).text
    assert "memory states. It carries 1 image. Open it with Anki" in text
    text = anki_reply(package, replace(export(card("c1")), media=(one, one), images_left=1)).text
    assert (
        "It carries 2 images. 1 more image stays as text: a package carries at most 8 MB of "
        "images. Open it"
    ) in text
    assert "image" not in anki_reply(package, export(card("c1"))).text
