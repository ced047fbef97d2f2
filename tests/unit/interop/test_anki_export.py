"""The Anki package of a learner with a history: opened again with ``anki`` itself."""

from __future__ import annotations

import builtins
import tempfile
import zipfile
from datetime import UTC, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.interop import (
    ANKI_UNAVAILABLE,
    AnkiExport,
    AnkiPackage,
    anki_day,
    anki_export,
    anki_reply,
)
from bot.core.model import CardStateKind
from bot.interop import anki_export as interop
from bot.interop.anki_export import FILENAME, build_full, build_notes_only, note_guid, to_html
from tests.services import only
from tests.unit.interop.history import ALICE, counted, learner_services, study


async def history(days: int = 12, cards: int = 6) -> AnkiExport:
    services = learner_services(cards)
    await study(services, days)
    learner = await services.study.learner(ALICE)
    return services.db.run_sync(lambda tx: anki_export(tx, learner, services.clock.now()))


def test_markdown_becomes_anki_html_with_mathjax() -> None:
    assert to_html("Score $q \\cdot k$ and\n$$\\frac{a}{b < c}$$ **bold** <i> `x_1`") == (
        "Score \\(q \\cdot k\\) and<br>\\[\\frac{a}{b &lt; c}\\] <b>bold</b> &lt;i&gt; "
        "<code>x_1</code>"
    )
    assert to_html("costs $5 and $6") == "costs $5 and $6"


async def test_export_leaves_out_cram_and_undone_reviews() -> None:
    services = learner_services()
    await study(services, 5)
    learner = await services.study.learner(ALICE)
    export = services.db.run_sync(lambda tx: anki_export(tx, learner, services.clock.now()))
    kept, logged = services.db.run_sync(lambda tx: counted(tx, learner.id))
    assert logged == kept + 2  # one practice review, one undone
    assert len(export.reviews) == kept
    assert [c.id for c in export.cards] == ["a0", "a1", "a2", "t0", "t1", "t2"]


async def test_the_package_opens_in_anki_with_schedules_history_and_memory(
    tmp_path: Path,
) -> None:
    pytest.importorskip("anki")
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    export = await history()
    package = build_full(export)
    assert package.with_scheduling and package.filename == FILENAME
    (tmp_path / "p.apkg").write_bytes(package.data)
    assert "collection.anki21b" in zipfile.ZipFile(tmp_path / "p.apkg").namelist()

    col = Collection(str(tmp_path / "learner.anki2"))
    db = col.db
    assert db is not None
    try:
        col.import_anki_package(
            ImportAnkiPackageRequest(
                package_path=str(tmp_path / "p.apkg"),
                options=ImportAnkiPackageOptions(with_scheduling=True),
            )
        )
        assert col.card_count() == len(export.cards) == 6
        assert db.scalar("select count() from revlog") == len(export.reviews) > 30
        names = {d.name for d in col.decks.all_names_and_ids()}
        assert {"Studybot::Attention", "Studybot::Transformers"} <= names
        states = {s.card_id: s for s in export.states}
        shifts: set[int] = set()
        for cid in col.find_cards(""):
            card = col.get_card(cid)
            ours = states[card.note()["StudybotId"]]
            assert card.note().guid == note_guid(ours.card_id)
            assert card.reps == ours.reps and card.lapses == ours.lapses
            assert ours.due is not None and ours.stability is not None
            assert card.memory_state is not None
            assert card.memory_state.stability == pytest.approx(ours.stability, rel=1e-3)
            assert card.memory_state.difficulty == pytest.approx(ours.difficulty, rel=1e-3)
            if ours.state is CardStateKind.REVIEW:
                assert card.type == 2 and card.queue == 2
                # Each on its Anki day; the import moved them all by the same days (the
                # export's clock is in March; this collection counts from today).
                shifts.add(card.due - anki_day(ours.due, UTC).toordinal())
            else:
                assert card.queue == 1 and card.due == int(ours.due.timestamp())
            reviews = [e for e in export.reviews if e.card_id == ours.card_id]
            logged = db.list("select ease from revlog where cid = ? order by id", cid)
            assert logged == [e.rating for e in reviews]
        assert len(shifts) == 1
        assert (
            db.scalar(
                "select count() from revlog where id = ?",
                int(export.reviews[0].reviewed_at.timestamp() * 1000),
            )
            == 1
        )
        front = col.get_card(col.find_cards("StudybotId:a0")[0]).question()
        assert "\\(q_0 \\cdot k\\)" in front
    finally:
        col.close()


async def test_a_second_export_updates_the_notes_instead_of_copying_them(tmp_path: Path) -> None:
    pytest.importorskip("anki")
    from anki.collection import Collection, ImportAnkiPackageOptions, ImportAnkiPackageRequest

    services = learner_services()
    await study(services, 4)
    learner = await services.study.learner(ALICE)
    first = services.db.run_sync(lambda tx: anki_export(tx, learner, services.clock.now()))
    await study(services, 4)
    second = services.db.run_sync(lambda tx: anki_export(tx, learner, services.clock.now()))
    col = Collection(str(tmp_path / "learner.anki2"))
    db = col.db
    assert db is not None
    try:
        for n, export in enumerate((first, second)):
            path = tmp_path / f"{n}.apkg"
            path.write_bytes(build_full(export).data)
            col.import_anki_package(
                ImportAnkiPackageRequest(
                    package_path=str(path), options=ImportAnkiPackageOptions(with_scheduling=True)
                )
            )
        assert col.note_count() == col.card_count() == 6
        assert len([m for m in col.models.all_names_and_ids() if m.name == "Studybot"]) == 1
        # Anki keeps the schedule and history of cards it already holds: the second
        # package's newer reviews are not merged into them.
        assert db.scalar("select count() from revlog") == len(first.reviews)
    finally:
        col.close()


async def test_without_anki_genanki_writes_the_notes_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    pytest.importorskip("genanki")
    export = await history(days=3)
    scratch = tmp_path / "tmp"
    scratch.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(scratch))
    package = build_notes_only(export)
    assert list(scratch.iterdir()) == []  # genanki's own writer left its database behind
    assert not package.with_scheduling
    path = tmp_path / "notes.apkg"
    path.write_bytes(package.data)
    assert "collection.anki2" in zipfile.ZipFile(path).namelist()
    assert "notes only" in anki_reply(package, export).text


def test_the_builder_is_the_best_library_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    found: set[str] = {"anki", "genanki"}
    monkeypatch.setattr(interop, "_installed", lambda name: name in found)
    assert interop.packager() is build_full
    found.discard("anki")
    assert interop.packager() is build_notes_only
    found.clear()
    assert interop.packager() is None


async def test_with_no_library_export_anki_says_how_to_add_it(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    real_import = builtins.__import__

    def no_anki(name: str, *args: Any, **kwargs: Any) -> Any:
        if name.split(".")[0] in ("anki", "genanki"):
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(interop, "_installed", lambda name: False)
    monkeypatch.setattr(builtins, "__import__", no_anki)
    services = learner_services()
    services.study.anki = interop.packager()
    reply = only(await services.study.export_anki(ALICE))
    assert reply.text == ANKI_UNAVAILABLE and reply.attachment is None


async def test_export_anki_runs_the_packager_on_what_the_learner_holds() -> None:
    services = learner_services()
    await study(services, 3)
    built: list[AnkiExport] = []

    def packager(export: AnkiExport) -> AnkiPackage:
        built.append(export)
        return AnkiPackage("x.apkg", b"PK", with_scheduling=True)

    services.study.anki = packager
    reply = only(await services.study.export_anki(ALICE))
    assert reply.attachment is not None and reply.attachment.filename == "x.apkg"
    [export] = built
    assert f"{len(export.reviews)} reviews" in reply.text
    assert reply.text.startswith("Your Anki package: 6 cards with their schedules")
    assert export.now - services.clock.now() == timedelta(0)
