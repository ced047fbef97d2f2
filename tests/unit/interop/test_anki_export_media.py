"""The cards' images in ``/export anki``'s package: shipped ones drawn to PNG by the
renderer, imported ones as stored, each a media file its note's field shows with
``<img>``; opened again with ``anki`` itself (both packagers)."""

from __future__ import annotations

import io
import zipfile
from collections.abc import AsyncIterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast

import pytest
from PIL import Image

from bot.core.imagespec import ImageSpec, parse_image_spec
from bot.core.interop import AnkiExport, AnkiPackage
from bot.core.mediaimages import MediaImages
from bot.interop.anki_export import build_full, build_notes_only
from bot.render.service import MatplotlibRenderer
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase, FakeTx
from tests.fakes.decks import make_card, make_deck
from tests.services import Services, build_services, only
from tests.unit.core.test_mediaimages import SVG, picture
from tests.unit.interop.history import ALICE, START

OWNER = 1
JPEG = picture("JPEG", (33, 17))
#: Shown on the back of "i1" and "i3": one file in the package.
PNG = picture("PNG", (20, 12))
FORMULA = "formula e^{i\\pi} + 1 = 0"
SHAPE = "shape Q[n,d_k] @ K^T[?,?] -> S[?,?]; n=4, d_k=3"


@dataclass(frozen=True)
class Imported:
    """Stands in for an imported card's image in the fake catalogue (a deck file cannot
    name one)."""

    source: str
    kind: str = "media"


def imported(name: str) -> ImageSpec:
    return cast(ImageSpec, Imported(f"{OWNER}/{name}"))


def services() -> Services[FakeDatabase]:
    deck = make_deck(
        "pictures",
        [
            make_card(
                "s1",
                front_image=parse_image_spec(SHAPE),
                back_image=parse_image_spec(FORMULA),
            ),
            make_card("i1", front_image=imported("cell.jpg"), back_image=imported("a&b.png")),
            make_card("i2", front_image=imported("drawing.svg"), back_image=imported("gone.png")),
            make_card("i3", back_image=imported("a&b.png")),
            make_card("s2", back_image=parse_image_spec(FORMULA)),  # the same drawing as s1's
        ],
        title="Pictures",
    )
    db = FakeDatabase([deck], now=START)

    def store(tx: FakeTx) -> None:
        tx.media.put(OWNER, "cell.jpg", "image/jpeg", JPEG, START)
        tx.media.put(OWNER, "a&b.png", "image/png", PNG, START)
        tx.media.put(OWNER, "drawing.svg", "image/svg+xml", SVG, START)

    db.run_sync(store)
    return build_services(db, FixedClock(START), topics=("pictures",))


@pytest.fixture
async def renderer(tmp_path: Path) -> AsyncIterator[MatplotlibRenderer]:
    with ThreadPoolExecutor(1) as pool:
        drawing = MatplotlibRenderer(tmp_path / "render-cache", executor=pool)
        yield drawing
        await drawing.close()


async def export_with(
    s: Services[FakeDatabase], packager: Any, renderer: MatplotlibRenderer | None
) -> tuple[AnkiExport, AnkiPackage, str]:
    built: list[tuple[AnkiExport, AnkiPackage]] = []

    def package(export: AnkiExport) -> AnkiPackage:
        built.append((export, packager(export)))
        return built[-1][1]

    s.study.anki = package
    s.study.pictures = MediaImages(renderer, s.db) if renderer is not None else None
    reply = only(await s.study.export_anki(ALICE))
    [(export, made)] = built
    return export, made, reply.text


@dataclass(frozen=True)
class InAnki:
    """A package imported into a new collection: each note's (Front, Back) by our card id,
    the media folder's files, and what Anki's media check found missing or unused."""

    fields: dict[str, tuple[str, str]]
    files: dict[str, bytes]
    missing: list[str]
    unused: list[str]


def in_anki(tmp_path: Path, package: AnkiPackage) -> InAnki:
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    (tmp_path / "learner").mkdir(parents=True)
    path = tmp_path / "p.apkg"
    path.write_bytes(package.data)
    col = Collection(str(tmp_path / "learner" / "collection.anki2"))
    try:
        col.import_anki_package(
            ImportAnkiPackageRequest(
                package_path=str(path), options=ImportAnkiPackageOptions(with_scheduling=True)
            )
        )
        fields = {}
        for nid in col.find_notes(""):
            note = col.get_note(nid)
            fields[note["StudybotId"]] = (note["Front"], note["Back"])
        files = {p.name: p.read_bytes() for p in Path(col.media.dir()).iterdir()}
        check = col.media.check()
        return InAnki(fields, files, list(check.missing), list(check.unused))
    finally:
        col.close()


@pytest.mark.parametrize("packager", [build_full, build_notes_only], ids=["anki", "genanki"])
async def test_each_image_travels_as_a_file_its_field_shows(
    packager: Any, renderer: MatplotlibRenderer, tmp_path: Path
) -> None:
    pytest.importorskip("anki")
    pytest.importorskip("genanki")
    export, package, text = await export_with(services(), packager, renderer)
    drawn = {}
    for spec in (SHAPE, FORMULA):
        image = await renderer.card_image(*spec.split(" ", 1))
        assert image is not None
        drawn[spec] = f"studybot-{image.key[:16]}.png"
    names = ["cell.jpg", "a&b.png", "drawing.svg", drawn[SHAPE], drawn[FORMULA]]
    assert [m.name for m in export.media] == names
    assert "It carries 5 images." in text and "stay as text" not in text

    anki = in_anki(tmp_path / packager.__name__, package)
    front, back = anki.fields["i1"]
    assert front.endswith('<br><img src="cell.jpg" alt="[image: cell.jpg]">')
    assert back.endswith('<br><img src="a&amp;b.png" alt="[image: a&amp;b.png]">')
    assert anki.fields["i3"][1] == anki.fields["i1"][1].replace("Back of i1", "Back of i3")
    assert anki.files["cell.jpg"] == JPEG and anki.files["a&b.png"] == PNG
    assert anki.files["drawing.svg"] == SVG, "an SVG as stored: Anki shows it"
    assert anki.fields["i2"][1].endswith("<br>[image: gone.png]"), "a missing file: its text"
    # The shipped cards' images, drawn by the renderer: PNGs of the drawings.
    front, back = anki.fields["s1"]
    for field, spec in ((front, SHAPE), (back, FORMULA)):
        assert f'<img src="{drawn[spec]}" alt="' in field
        seen = Image.open(io.BytesIO(anki.files[drawn[spec]]))
        assert seen.format == "PNG" and seen.width > 50 and seen.height > 20
        seen.save(tmp_path / f"seen-{drawn[spec]}")
    assert anki.fields["s2"][1].count("<img") == 1 and drawn[FORMULA] in anki.fields["s2"][1]
    assert sorted(anki.files) == sorted(names)
    # Anki's media check finds every file referenced, none missing, none unused.
    assert anki.missing == [] and anki.unused == []


async def test_without_a_renderer_the_shipped_images_stay_as_text(tmp_path: Path) -> None:
    pytest.importorskip("anki")
    export, package, text = await export_with(services(), build_full, None)
    assert [m.name for m in export.media] == ["cell.jpg", "a&b.png", "drawing.svg"]
    front, back = in_anki(tmp_path, package).fields["s1"]
    assert "<img" not in front + back
    assert front.endswith("<br>Q[n,d_k] · Kᵀ[?,?] → S[?,?]  (n=4, d_k=3)")
    assert back.endswith("<br>e^(iπ) + 1 = 0")
    assert "It carries 3 images." in text


async def test_images_beyond_the_packages_limit_stay_as_text(
    monkeypatch: pytest.MonkeyPatch, renderer: MatplotlibRenderer
) -> None:
    pytest.importorskip("anki")
    monkeypatch.setattr("bot.core.interop.MAX_PACKAGE_MEDIA_BYTES", len(JPEG) + len(PNG))
    export, package, text = await export_with(services(), build_full, renderer)
    assert [m.name for m in export.media] == ["cell.jpg", "a&b.png"]
    assert export.images_left == 3
    assert "3 more images stay as text: a package carries at most" in text
    with zipfile.ZipFile(io.BytesIO(package.data)) as z:
        files = [name for name in z.namelist() if name.isdigit()]  # media files: 0, 1, ...
    assert len(files) == 2
