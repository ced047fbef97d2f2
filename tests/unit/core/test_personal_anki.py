"""Whole imports of files Anki and genanki built: the real reader, mapping and use case
(over the fakes), checked against what Anki itself reported for each card.

The collection is built with the official ``anki`` library at test time
(:mod:`tests.ankipackages`), in real time: its reviews happened moments ago, so the clock
here is the real one too.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from functools import partial
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest

from bot.core.importing import imported_card_id
from bot.core.learners import Who
from bot.core.model import CardStateKind, LearnerSettings
from bot.interop.anki_import import read_file
from tests.ankipackages import AnkiPackages, anki_packages, genanki_package, png
from tests.fakes.clock import FixedClock
from tests.fakes.database import FakeDatabase
from tests.services import Services, build_services, only

ANN = Who("test", "1", "Ann")


@dataclass(frozen=True, slots=True)
class Fetch:
    data: bytes

    async def __call__(self) -> bytes:
        return self.data


@pytest.fixture(scope="module")
def built() -> AnkiPackages:
    pytest.importorskip("anki")
    return anki_packages()


def services(zone: str, now: datetime) -> Services[FakeDatabase]:
    s = build_services(
        FakeDatabase([], now),
        FixedClock(now),
        settings=LearnerSettings(timezone=zone, enable_fuzzing=False),
    )
    s.study.reader = read_file
    return s


async def send(s: Services[FakeDatabase], data: bytes, name: str) -> str:
    return only(await s.study.import_file(ANN, name, len(data), Fetch(data))).text


def anki_date(crt: int, due: int) -> date:
    """The calendar date Anki shows for a review card due on day ``due``, wherever it runs:
    Anki counts days from the collection's creation date in the zone it was created in
    (``crt`` is 4 am there, and Anki keeps that zone's offset: rslib's
    ``sched_timing_today``). This process's zone built it (:mod:`tests.ankipackages`)."""
    created = datetime.fromtimestamp(crt).astimezone() - timedelta(hours=4)
    return created.date() + timedelta(days=due)


@pytest.mark.parametrize("kind", ["modern", "legacy"])
@pytest.mark.parametrize("zone", ["UTC", "America/Los_Angeles", "Asia/Tokyo"])
async def test_a_package_anki_built_keeps_its_due_days_and_history(
    built: AnkiPackages, kind: str, zone: str
) -> None:
    now = datetime.now(UTC)
    s = services(zone, now)
    data = built.modern if kind == "modern" else built.legacy
    text = await send(s, data, "Spanish.apkg")
    assert text.startswith(
        f"Imported 'Spanish::Verbs' (u1-spanish-verbs): {len(built.cards)} cards"
    ), text
    assert f"{built.reviews} reviews" in text
    learner = await s.study.learner(ANN)
    reviews = s.db.reviews(learner.id)
    assert len(reviews) == built.reviews and {r.source for r in reviews} == {"anki"}
    checked = 0
    for card in built.cards:
        card_id = imported_card_id(learner.id, card.note_guid, card.ord)
        state = s.db.state(learner.id, card_id)
        assert state.suspended == (card.queue == -1), card
        assert state.reps == card.reps and state.lapses == card.lapses, card
        if card.type == 2:  # a review card: due on Anki's day, local midnight here
            assert state.state is CardStateKind.REVIEW and state.due is not None
            local = state.due.astimezone(ZoneInfo(zone))
            assert local.date() == anki_date(built.crt, card.due), card
            assert (local.hour, local.minute) == (0, 0)
            if card.memory is not None:  # replayed from the same history: Anki's memory
                assert state.stability == pytest.approx(card.memory[0], rel=0.02)
                assert state.difficulty == pytest.approx(card.memory[1], rel=0.02)
            checked += 1
        elif card.queue == 1:  # learning: due at Anki's instant
            assert state.state is CardStateKind.LEARNING
            assert state.due == datetime.fromtimestamp(card.due, UTC)
            checked += 1
        elif card.type == 0 and card.queue == 0:
            assert state.is_new
    assert checked >= 3
    # The same file again changes nothing, and says so.
    again = await send(s, data, "Spanish.apkg")
    assert again.startswith("Already imported: 'Spanish::Verbs' has no changes"), again
    assert len(s.db.reviews(learner.id)) == built.reviews


async def test_the_modern_and_legacy_exports_are_one_deck(built: AnkiPackages) -> None:
    """Both packages hold the same notes (guids): the second import finds the first's
    cards instead of copying them."""
    s = services("UTC", datetime.now(UTC))
    await send(s, built.modern, "modern.apkg")
    text = await send(s, built.legacy, "legacy.apkg")
    assert text.startswith("Already imported: 'Spanish::Verbs' has no changes"), text


async def test_a_genanki_package_is_new_cards() -> None:
    pytest.importorskip("genanki")
    s = services("UTC", datetime(2026, 12, 7, 9, tzinfo=UTC))
    text = await send(s, genanki_package(3), "genanki.apkg")
    assert text.startswith("Imported 'Genanki deck' (u1-genanki-deck): 3 cards (3 new"), text
    learner = await s.study.learner(ANN)
    assert s.db.reviews(learner.id) == []
    front = only(await s.study.next(ANN))
    assert front.card is not None and front.card.card_id.startswith("a")


def _genanki_with_image(tmp: Path, deck: str, image: bytes) -> bytes:
    """A genanki package: deck ``deck``, one note showing ``img.png`` (``image``)."""
    import genanki

    folder = tmp / deck
    folder.mkdir()
    (folder / "img.png").write_bytes(image)
    model = genanki.Model(
        1_600_000_000_001,
        "Basic",
        fields=[{"name": "Front"}, {"name": "Back"}],
        templates=[
            {"name": "Card 1", "qfmt": "{{Front}}", "afmt": "{{FrontSide}}<hr id=answer>{{Back}}"}
        ],
    )
    d = genanki.Deck(1_600_000_000_000 + len(deck), deck)
    d.add_note(genanki.Note(model, ['What is this? <img src="img.png">', deck], guid=deck))
    out = tmp / f"{deck}.apkg"
    genanki.Package(d, media_files=[str(folder / "img.png")]).write_to_file(str(out))
    return out.read_bytes()


async def test_two_packages_images_of_one_name_stay_apart(tmp_path: Path) -> None:
    """Birds and Cars each show their own ``img.png``: stored by content, neither deck's
    card shows the other's picture."""
    pytest.importorskip("genanki")
    s = services("UTC", datetime(2026, 12, 7, 9, tzinfo=UTC))
    bird, car = png(3, 2), png(5, 4)
    await send(s, _genanki_with_image(tmp_path, "Birds", bird), "birds.apkg")
    await send(s, _genanki_with_image(tmp_path, "Cars", car), "cars.apkg")
    learner = await s.study.learner(ANN)
    shown: dict[str, bytes] = {}
    for deck in ("Birds", "Cars"):
        card_id = imported_card_id(learner.id, deck, 0)
        info = s.db.run_sync(partial(lambda c, tx: tx.catalogue.card(c), card_id))
        assert info is not None and info.front_image is not None
        name = info.front_image.spec.partition("/")[2]
        stored = s.db.run_sync(partial(lambda n, tx: tx.media.get(learner.id, n), name))
        assert stored is not None
        shown[deck] = stored.data
    assert shown == {"Birds": bird, "Cars": car}


async def test_a_deck_title_shows_its_markdown_characters_as_themselves() -> None:
    """An Anki deck called "C++ *basics*" is listed so, never as emphasis."""
    s = services("UTC", datetime(2026, 12, 7, 9, tzinfo=UTC))
    data = b"#separator:tab\n#deck:C++ *basics* __init__\nWhat is RAII?\tScope-bound resources.\n"
    text = await send(s, data, "cpp.txt")
    assert text.startswith(r"Imported 'C++ \*basics\* \_\_init\_\_' (u1-c-basics-init): 1 card")
    listing = only(await s.study.decks(ANN)).text
    assert r"• C++ \*basics\* \_\_init\_\_ (u1-c-basics-init): 1 card" in listing
