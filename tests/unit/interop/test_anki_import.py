"""Reading Anki packages and text exports (bot/interop/anki_import.py).

The packages are built at test time by the official ``anki`` library and by genanki
(tests/ankipackages.py); what Anki's own API reported when it built them is what the
reader must find. Bad files are refused with the learner's reply, naming the limit.
"""

from __future__ import annotations

import io
import json
import random
import sqlite3
import struct
import tempfile
import zipfile
import zlib
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path

import pytest
import zstandard

from bot.core.ankifile import AnkiCollection, ImportLimits, ImportRejected
from bot.core.importing import AnkiReader
from bot.interop import anki_import
from bot.interop.anki_import import read_file
from tests.ankipackages import (
    DECK,
    IMAGE,
    IMAGE_NAME,
    AnkiPackages,
    anki_packages,
    edit_collection,
    genanki_package,
    png,
    repack,
)

LIMITS = ImportLimits()
READER: AnkiReader = read_file  # the adapter fits the core's port


def packages() -> AnkiPackages:
    """The packages Anki built (once per process); the test is skipped without ``anki``."""
    pytest.importorskip("anki")
    return anki_packages()


@pytest.fixture
def built() -> AnkiPackages:
    return packages()


@pytest.fixture(autouse=True)
def own_tempdir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """Every temporary file the reader makes lands here, and none is left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    yield folder
    assert list(folder.iterdir()) == []


def read(data: bytes, filename: str = "deck.apkg", limits: ImportLimits = LIMITS) -> AnkiCollection:
    return read_file(data, filename, limits)


def refusal(data: bytes, filename: str = "deck.apkg", limits: ImportLimits = LIMITS) -> str:
    with pytest.raises(ImportRejected) as caught:
        READER(data, filename, limits)
    return str(caught.value)


# --------------------------------------------------------------------------- packages


@pytest.mark.parametrize(("kind", "fmt"), [("modern", "anki21b"), ("legacy", "anki21")])
def test_a_package_anki_built_reads_as_anki_reports_it(
    built: AnkiPackages, kind: str, fmt: str
) -> None:
    data = built.modern if kind == "modern" else built.legacy
    col = read(data, "spanish.apkg")

    assert col.format == fmt and col.filename == "spanish.apkg"
    assert col.created == datetime.fromtimestamp(built.crt, UTC)
    assert col.rollover_hour == 4
    # Anki keeps the zone it was created in (this process's), in minutes west of UTC.
    offset = datetime.fromtimestamp(built.crt).astimezone().utcoffset()
    assert offset is not None and col.creation_offset == -offset.total_seconds() // 60
    assert len(col.notes) == built.notes == 4
    assert len(col.reviews) == built.reviews == 4
    assert {r.card_id for r in col.reviews} == {c.id for c in built.cards if c.reps}
    assert {r.ease for r in col.reviews} == {1, 3, 4}

    decks = {d.id: d for d in col.decks}
    notes = {n.id: n for n in col.notes}
    notetypes = {t.id: t for t in col.notetypes}
    assert [c.id for c in col.cards] == [c.id for c in built.cards]
    for card, expected in zip(col.cards, built.cards, strict=True):
        assert decks[card.deck_id].name == DECK
        note = notes[card.note_id]
        assert note.guid == expected.note_guid
        assert notetypes[note.notetype_id].name == expected.notetype
        assert (card.ord, card.type, card.queue, card.due, card.interval) == (
            expected.ord,
            expected.type,
            expected.queue,
            expected.due,
            expected.interval,
        )
        assert (card.reps, card.lapses, card.original_deck_id) == (
            expected.reps,
            expected.lapses,
            0,
        )
        if expected.memory is None:
            assert card.memory is None
        else:
            assert card.memory == pytest.approx(expected.memory, rel=1e-4)
    # The history the scheduler made: a review card due in days, a learning card due in
    # seconds, a suspended review card and a suspended new card.
    states = {(c.type, c.queue) for c in col.cards}
    assert {(2, 2), (1, 1), (2, -1), (0, -1), (0, 0)} <= states
    review = next(c for c in col.cards if c.queue == 2)
    assert 1 <= review.due - built.today == review.interval
    learning = next(c for c in col.cards if c.queue == 1)
    assert learning.due > built.crt

    kinds = {t.name: t for t in col.notetypes}
    assert kinds["Cloze"].kind == "cloze" and kinds["Cloze"].fields == ("Text", "Back Extra")
    assert kinds["Basic"].kind == "standard"
    assert kinds["Basic"].templates[0].front == "{{Front}}"
    assert "{{Back}}" in kinds["Basic"].templates[0].back
    assert [t.front for t in kinds["Basic (and reversed card)"].templates] == [
        "{{Front}}",
        "{{Back}}",
    ]
    assert ".card" in kinds["Basic"].css
    comer = next(n for n in col.notes if "comer" in n.fields[0])
    assert f'<img src="{IMAGE_NAME}">' in comer.fields[0]
    assert comer.tags == ("food", "verbs")
    assert [(m.name, m.data) for m in col.media] == [(IMAGE_NAME, IMAGE)]
    assert col.problems == ()  # the sound: the mapping names it, for its note


def test_a_genanki_package_is_legacy_and_all_new() -> None:
    pytest.importorskip("genanki")
    col = read(genanki_package(notes=3), "genanki.apkg")
    assert col.format == "anki2"
    assert len(col.notes) == len(col.cards) == 3
    assert col.reviews == () and col.media == () and col.problems == ()
    assert {(c.type, c.queue, c.memory) for c in col.cards} == {(0, 0, None)}
    (notetype,) = col.notetypes
    assert notetype.fields == ("Question", "Answer")
    assert notetype.templates[0].front == "{{Question}}"
    assert "Genanki deck" in {d.name for d in col.decks}
    assert col.notes[0].fields == ("Question 0", "Answer 0")


@pytest.mark.parametrize("kind", ["modern", "legacy"])
def test_rollover_hour_from_the_collection(built: AnkiPackages, kind: str) -> None:
    if kind == "modern":
        edited = edit_collection(
            built.modern,
            ("insert into config values ('rollover', 0, 0, ?)", (b"2",)),
        )
    else:
        edited = edit_collection(
            built.legacy,
            "update col set conf = json_set(conf, '$.rollover', 2)",
        )
    assert read(edited).rollover_hour == 2


def test_filtered_decks_and_home_decks(built: AnkiPackages) -> None:
    card, cram_id = built.cards[1], 1_796_000_000_001
    modern = edit_collection(
        built.modern,
        # kind: a Deck.KindContainer holding field 2 (filtered)
        ("insert into decks values (?, 'Cram', 0, 0, x'', x'1200')", (cram_id,)),
        (
            "update cards set did = ?, odid = did, odue = due, due = -100000 where id = ?",
            (cram_id, card.id),
        ),
    )
    col = read(modern)
    decks = {d.id: d for d in col.decks}
    assert decks[cram_id].filtered and decks[cram_id].name == "Cram"
    moved = next(c for c in col.cards if c.id == card.id)
    assert (moved.deck_id, moved.original_due) == (cram_id, card.due)
    assert decks[moved.original_deck_id].name == DECK
    assert not decks[moved.original_deck_id].filtered

    conn = sqlite3.connect(":memory:")
    conn.deserialize(legacy_db(built))
    listed = json.loads(conn.execute("select decks from col").fetchone()[0])
    conn.close()
    listed[str(cram_id)] = {"id": cram_id, "name": "Cram", "dyn": 1}
    legacy = edit_collection(built.legacy, ("update col set decks = ?", (json.dumps(listed),)))
    assert next(d for d in read(legacy).decks if d.id == cram_id).filtered


def test_notes_without_their_note_type_and_cards_without_their_deck(built: AnkiPackages) -> None:
    orphan = built.cards[1]
    edited = edit_collection(
        built.modern,
        ("update notes set mid = 42 where id = ?", (orphan.note_id,)),
        ("update cards set did = 77 where id = ?", (built.cards[0].id,)),
    )
    col = read(edited)
    assert len(col.notes) == 3 and orphan.id not in {c.id for c in col.cards}
    assert "1 note was left out: the package does not hold its note type." in col.problems
    recovered = next(c for c in col.cards if c.id == built.cards[0].id)
    assert next(d for d in col.decks if d.id == recovered.deck_id).name == "Recovered cards"


def test_fields_are_padded_or_cut_to_the_note_type(built: AnkiPackages) -> None:
    first, second = built.cards[0].note_id, built.cards[1].note_id
    edited = edit_collection(
        built.legacy,
        ("update notes set flds = 'only' where id = ?", (first,)),
        (
            "update notes set flds = 'a' || char(31) || 'b' || char(31) || 'c' where id = ?",
            (second,),
        ),
    )
    notes = {n.id: n for n in read(edited).notes}
    assert notes[first].fields == ("only", "")
    assert notes[second].fields == ("a", "b")


def _legacy_with_media(built: AnkiPackages, files: dict[str, bytes]) -> bytes:
    listing = {str(i): name for i, name in enumerate(files)}
    members = {str(i): body for i, body in enumerate(files.values())}
    return repack(
        built.legacy,
        {"media": json.dumps(listing).encode(), **members},
        drop=("0",),
    )


def test_media_kept_are_images_by_name_and_content(built: AnkiPackages) -> None:
    files = {
        "a.png": IMAGE,
        "b.JPG": b"\xff\xd8\xff\xe0" + bytes(20),
        "c.gif": b"GIF89a" + bytes(20),
        "d.webp": b"RIFF\x10\x00\x00\x00WEBPVP8 " + bytes(8),
        "e.svg": b'<?xml version="1.0"?><svg xmlns="http://www.w3.org/2000/svg"/>',
        "fake.png": b"not a png at all",
        "song.mp3": b"ID3",
        "clip.mp4": bytes(12),
        "_font.ttf": bytes(12),
        "../evil.png": IMAGE,
    }
    data = _legacy_with_media(built, files)
    data = repack(data, drop=("9",))  # listed, but missing from the zip: ../evil is unsafe
    col = read(data)
    assert [m.name for m in col.media] == ["a.png", "b.JPG", "c.gif", "d.webp", "e.svg"]
    assert col.problems == (
        "1 file named as an image was left out: the content is not that kind of image.",
        "1 media file was left out: the name is not a plain file name.",
    )


def test_a_modern_package_with_zstd_media(built: AnkiPackages) -> None:
    def entry(name: str, size: int) -> bytes:
        body = b"\x0a" + bytes([len(name)]) + name.encode() + b"\x10" + bytes([size])
        body += b"\x1a\x14" + bytes(20)
        return b"\x0a" + bytes([len(body)]) + body

    zc = zstandard.ZstdCompressor()
    listing = entry("x.png", len(IMAGE)) + entry("y.png", 4) + entry("z.ogg", 3)
    data = repack(
        built.modern,
        {
            "media": zc.compress(listing),
            "0": zc.compress(IMAGE),
            "1": zc.compress(b"nope"),
            "2": zc.compress(b"ogg"),
        },
    )
    col = read(data)
    assert [(m.name, m.data) for m in col.media] == [("x.png", IMAGE)]
    assert col.problems == (  # the sound is not unpacked, nor mentioned
        "1 file named as an image was left out: the content is not that kind of image.",
    )


# --------------------------------------------------------------------------- refusals


def zip_of(members: dict[str, bytes]) -> bytes:
    out = io.BytesIO()
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, body in members.items():
            zf.writestr(name, body)
    return out.getvalue()


def deflate_bomb(name: str, megabytes: int) -> bytes:
    """A zip of one member: ``megabytes`` MB of zeros, deflated (about 4.6 KB a MB),
    its sizes declared truthfully. Built from one repeated deflate segment."""
    c = zlib.compressobj(1, zlib.DEFLATED, -15)
    mb = bytes(1 << 20)
    segment = c.compress(mb) + c.flush(zlib.Z_FULL_FLUSH)
    body = segment * megabytes + b"\x03\x00"
    crc = 0
    for _ in range(megabytes):
        crc = zlib.crc32(mb, crc)
    size, raw_name = megabytes << 20, name.encode()
    local = struct.pack(
        "<IHHHHHIIIHH", 0x04034B50, 20, 0, 8, 0, 0, crc, len(body), size, len(raw_name), 0
    )
    central = struct.pack(
        "<IHHHHHHIIIHHHHHII",
        0x02014B50,
        20,
        20,
        0,
        8,
        0,
        0,
        crc,
        len(body),
        size,
        len(raw_name),
        0,
        0,
        0,
        0,
        0,
        0,
    )
    start = len(local) + len(raw_name) + len(body)
    directory = central + raw_name
    end = struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 1, 1, len(directory), start, 0)
    return local + raw_name + body + directory + end


def zstd_bomb(megabytes: int) -> bytes:
    c = zstandard.ZstdCompressor().compressobj()
    parts = [c.compress(bytes(1 << 20)) for _ in range(megabytes)]
    return b"".join(parts) + c.flush()


def corrupt_pages(db: bytes) -> bytes:
    """The database with every page after the first overwritten by noise."""
    noise = random.Random(3).randbytes(len(db) - 4096)
    return db[:4096] + noise


def legacy_db(built: AnkiPackages) -> bytes:
    with zipfile.ZipFile(io.BytesIO(built.legacy)) as zf:
        return zf.read("collection.anki21")


#: A bad file: (data, filename, limits), given a way to get the packages Anki built.
Case = Callable[[Callable[[], AnkiPackages]], tuple[bytes, str, ImportLimits]]
MB = 1 << 20

REFUSALS: list[tuple[str, Case, str]] = [
    (
        "over the size limit",
        lambda b: (b"x" * (31 * MB + MB // 5), "big.apkg", LIMITS),
        "That file is 31.2 MB; I can import files of up to 20 MB.",
    ),
    (
        "one byte over the size limit",
        lambda b: (b"x" * (20 * MB + 1), "big.apkg", LIMITS),
        "That file is just over 20 MB; I can import files of up to 20 MB.",
    ),
    (
        "a smaller limit",
        lambda b: (b().modern, "p.apkg", replace(LIMITS, max_bytes=1000)),
        "I can import files of up to 1,000 bytes.",
    ),
    ("empty", lambda b: (b"", "e.apkg", LIMITS), "That file is empty."),
    (
        "random bytes",
        lambda b: (random.Random(1).randbytes(5000), "x.apkg", LIMITS),
        "That file is named .apkg but is not a package (an .apkg is a zip file)",
    ),
    (
        "an image",
        lambda b: (IMAGE, "cat.png", LIMITS),
        "That isn't an Anki package (.apkg) or an Anki text export (.txt/.csv).",
    ),
    (
        "a raw collection",
        lambda b: (legacy_db(b()), "collection.anki2", LIMITS),
        "That is an Anki collection file itself, not a package",
    ),
    (
        "a zip without a collection",
        lambda b: (zip_of({"notes.docx": b"hello"}), "x.apkg", LIMITS),
        "That zip file holds no Anki collection",
    ),
    (
        "meta naming a collection that is not there",
        lambda b: (repack(b().modern, drop=("collection.anki21b",)), "x.apkg", LIMITS),
        "That zip file holds no Anki collection",
    ),
    (
        "a damaged zip",
        lambda b: (b().modern[: len(b().modern) // 2], "x.apkg", LIMITS),
        "That file looks like a zip but is damaged",
    ),
    (
        "a zip bomb (300 MB of zeros)",
        lambda b: (deflate_bomb("collection.anki2", 300), "bomb.apkg", LIMITS),
        "That package unpacks to more than 200 MB; I can import packages up to 200 MB unpacked.",
    ),
    (
        "a zstd bomb (300 MB of zeros)",
        lambda b: (repack(b().modern, {"collection.anki21b": zstd_bomb(300)}), "b.apkg", LIMITS),
        "That package unpacks to more than 200 MB",
    ),
    (
        "more unpacked than a small limit",
        lambda b: (b().legacy, "p.apkg", replace(LIMITS, max_unpacked_bytes=100_000)),
        "That package unpacks to more than 97.7 KB",
    ),
    (
        "an unknown package version",
        lambda b: (repack(b().modern, {"meta": b"\x08\x07"}), "p.apkg", LIMITS),
        "That package was made by a newer Anki than I can read (package version 7)",
    ),
    (
        "an unknown schema",
        lambda b: (edit_collection(b().legacy, "update col set ver = 99"), "p.apkg", LIMITS),
        "That package's collection uses schema version 99; I can read versions 11",
    ),
    (
        "a missing table",
        lambda b: (edit_collection(b().modern, "drop table templates"), "p.apkg", LIMITS),
        "lacks parts every Anki collection has (tables templates)",
    ),
    (
        "a collection that is no database",
        lambda b: (repack(b().legacy, {"collection.anki21": b"hello" * 1000}), "p.apkg", LIMITS),
        "That package is damaged: its collection can't be read.",
    ),
    (
        "a corrupt database",
        lambda b: (
            repack(b().legacy, {"collection.anki21": corrupt_pages(legacy_db(b()))}),
            "p.apkg",
            LIMITS,
        ),
        "That package is damaged: its collection can't be read.",
    ),
    (
        "a collection that is not zstd",
        lambda b: (repack(b().modern, {"collection.anki21b": b"plain"}), "p.apkg", LIMITS),
        "That package is damaged: its collection can't be unpacked.",
    ),
    (
        "a damaged media list",
        lambda b: (repack(b().legacy, {"media": b"[1, 2"}), "p.apkg", LIMITS),
        "That package is damaged: its media list can't be read.",
    ),
    (
        "no notes",
        lambda b: (
            edit_collection(b().modern, "delete from notes", "delete from cards"),
            "p.apkg",
            LIMITS,
        ),
        "That package has no notes.",
    ),
    (
        "too many notes",
        lambda b: (b().modern, "p.apkg", replace(LIMITS, max_notes=3)),
        "That package has 4 notes; I can import up to 3 notes at a time.",
    ),
    (
        "too many cards",
        lambda b: (b().modern, "p.apkg", replace(LIMITS, max_cards=5)),
        "That package has 6 cards; I can import up to 5 cards at a time.",
    ),
    (
        "too many reviews",
        lambda b: (b().legacy, "p.apkg", replace(LIMITS, max_reviews=2)),
        "That package has 4 reviews in its history; I can import up to 2 reviews at a time.",
    ),
    (
        "too many images",
        lambda b: (
            _legacy_with_media(b(), {f"{i}.png": IMAGE for i in range(3)}),
            "p.apkg",
            replace(LIMITS, max_media_files=2),
        ),
        "That package has 3 images; I can import up to 2 images from one package.",
    ),
    (
        "an image too large",
        lambda b: (
            _legacy_with_media(b(), {"big.png": png(extra=bytes(4096))}),
            "p.apkg",
            replace(LIMITS, max_media_bytes=1024),
        ),
        "The image 'big.png' in that package is larger than 1 KB; "
        "I can import images up to 1 KB each.",
    ),
    (
        "text in Latin-1",
        lambda b: ("café;crème\nthé;lait\n".encode("latin-1"), "fr.csv", LIMITS),
        "'fr.csv' looks like text, but not saved as UTF-8",
    ),
    (
        "text in UTF-16",
        lambda b: ("front\tback\n".encode("utf-16"), "notes.txt", LIMITS),
        "'notes.txt' looks like text, but not saved as UTF-8",
    ),
    (
        "text with too many notes",
        lambda b: (b"a\tb\n" * 4, "n.txt", replace(LIMITS, max_notes=3)),
        "That file has more than 3 notes; I can import up to 3 notes at a time.",
    ),
    ("text with only headers", lambda b: (b"#separator:tab\n\n\n", "n.txt", LIMITS), "no notes"),
    (
        "text named as a package",
        lambda b: (b"front\tback\n", "deck.apkg", LIMITS),
        "That file is named .apkg but is not a package",
    ),
    (
        "a PDF, which is text-like at its start",
        lambda b: (b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog >>\n", "holiday.pdf", LIMITS),
        "That isn't an Anki package (.apkg) or an Anki text export (.txt/.csv).",
    ),
]


@pytest.mark.parametrize(
    ("case", "expected"), [(c, e) for _, c, e in REFUSALS], ids=[i for i, _, _ in REFUSALS]
)
def test_bad_files_are_refused_with_a_clear_reply(case: Case, expected: str) -> None:
    data, filename, limits = case(packages)
    message = refusal(data, filename, limits)
    assert expected in message
    for secret in ("comer", "hablar", "vivir", "manzanas"):
        assert secret not in message


# --------------------------------------------------------------------------- text


def test_anki_own_notes_export_reads_back(built: AnkiPackages) -> None:
    col = read(built.text, "Spanish notes.txt")
    assert col.format == "text" and col.created is None and col.reviews == ()
    assert [d.name for d in col.decks] == [DECK]
    guids = list(dict.fromkeys(c.note_guid for c in built.cards))
    assert sorted(n.guid for n in col.notes) == sorted(guids)
    kinds = {t.name: t for t in col.notetypes}
    assert set(kinds) == {"Basic", "Basic (and reversed card)", "Cloze"}
    assert kinds["Cloze"].kind == "cloze"
    assert len(kinds["Basic (and reversed card)"].templates) == 2
    comer = next(n for n in col.notes if "comer" in n.fields[0])
    assert comer.fields == (f'What is <b>comer</b>? <img src="{IMAGE_NAME}">', "to eat")
    assert comer.tags == ("food", "verbs")
    # as many cards as Anki made: a reversed note has two, the cloze note one per number
    assert len(col.cards) == len(built.cards) == 6
    assert {(c.type, c.queue) for c in col.cards} == {(0, 0)}
    cloze = next(n for n in col.notes if kinds["Cloze"].id == n.notetype_id)
    assert sorted(c.ord for c in col.cards if c.note_id == cloze.id) == [0, 1]


def text(body: str, filename: str = "notes.txt") -> AnkiCollection:
    return read(body.encode("utf-8"), filename)


def test_tab_separated_with_headers() -> None:
    col = text(
        "#separator:tab\n#html:true\n#tags column:3\n#deck:Español::Verbos\n"
        "comer\t<i>to eat</i>\tverbs food\nhablar\tto speak\t\n",
        "ignored.txt",
    )
    assert [d.name for d in col.decks] == ["Español::Verbos"]
    (basic,) = col.notetypes
    assert (basic.name, basic.kind, basic.fields) == ("Basic", "standard", ("Front", "Back"))
    assert basic.templates[0].front == "{{Front}}"
    assert basic.templates[0].back == "{{FrontSide}}<hr id=answer>{{Back}}"
    assert [(n.fields, n.tags, n.guid) for n in col.notes] == [
        (("comer", "<i>to eat</i>"), ("verbs", "food"), ""),
        (("hablar", "to speak"), (), ""),
    ]
    assert [(c.note_id, c.due, c.type, c.queue) for c in col.cards] == [(1, 1, 0, 0), (2, 2, 0, 0)]


def test_comma_separated_with_quoted_newlines_and_quotes() -> None:
    col = text(
        '#separator:Comma\n"hello, world","line one\nline two"\r\ntwo,"say ""hi"""\r\n',
        "Greetings.csv",
    )
    assert [n.fields for n in col.notes] == [
        ("hello, world", "line one<br>line two"),  # no #html and no tag: escaped
        ("two", 'say "hi"'),
    ]
    assert [d.name for d in col.decks] == ["Greetings"]


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("#html:false\n", ("&lt;b&gt;x&lt;/b&gt; &amp; y", "a<br>b")),
        ("#html:true\n", ("<b>x</b> & y", "a\nb")),
        ("", ("<b>x</b> & y", "a\nb")),  # Anki's guess: a tag in the first records
    ],
)
def test_html_flag(header: str, expected: tuple[str, str]) -> None:
    col = text(f'#separator:tab\n{header}<b>x</b> & y\t"a\nb"\n')
    assert col.notes[0].fields == expected


def test_meta_columns_and_note_types_per_row() -> None:
    col = text(
        "#separator:;\n#guid column:1\n#notetype column:2\n#deck column:3\n#tags column:6\n"
        "g1;Basic;French;bonjour;hello;greet\n"
        "g2;Cloze;French::Grammar;{{c1::Je}} {{c3::suis}};to be;\n"
        "g3;Basic (and reversed card);;oui;yes;x y\n",
        "French.txt",
    )
    assert [n.guid for n in col.notes] == ["g1", "g2", "g3"]
    decks = {d.id: d.name for d in col.decks}
    assert [decks[c.deck_id] for c in col.cards] == [
        "French",
        "French::Grammar",
        "French::Grammar",
        "French",  # no deck in the row: the file's name
        "French",
    ]
    kinds = {t.id: t for t in col.notetypes}
    cloze = kinds[col.notes[1].notetype_id]
    assert (cloze.kind, cloze.fields) == ("cloze", ("Text", "Back Extra"))
    assert cloze.templates[0].front == "{{cloze:Text}}"
    assert cloze.templates[0].back == "{{cloze:Text}}<br>{{Back Extra}}"
    assert [c.ord for c in col.cards if c.note_id == 2] == [0, 2]
    reversed_ = kinds[col.notes[2].notetype_id]
    assert [t.front for t in reversed_.templates] == ["{{Front}}", "{{Back}}"]
    assert [c.ord for c in col.cards if c.note_id == 3] == [0, 1]
    assert [n.tags for n in col.notes] == [("greet",), (), ("x", "y")]
    assert col.notes[1].fields == ("{{c1::Je}} {{c3::suis}}", "to be")


def test_columns_name_the_fields() -> None:
    col = text(
        "#separator:Pipe\n#columns:Question|Answer|Extra|Tags\n#tags column:4\n"
        "#notetype:Vocab\n#tags:imported\n"
        "q1|a1|e1|t1\nq2|a2\n"
    )
    (notetype,) = col.notetypes
    assert notetype.name == "Vocab"
    assert notetype.fields == ("Question", "Answer", "Extra")
    assert notetype.templates[0].front == "{{Question}}"
    assert notetype.templates[0].back == "{{FrontSide}}<hr id=answer>{{Answer}}"
    assert [n.fields for n in col.notes] == [("q1", "a1", "e1"), ("q2", "a2", "")]
    assert [n.tags for n in col.notes] == [("imported", "t1"), ("imported",)]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ("front\tback, with comma; and semicolon\n", ("front", "back, with comma; and semicolon")),
        ("front;back, with comma\n", ("front", "back, with comma")),
        ("front,back\n", ("front", "back")),
        ("one field only\n", ("one field only", "")),
    ],
    ids=["tab", "semicolon", "comma", "one column"],
)
def test_without_headers_the_separator_is_sniffed(body: str, fields: tuple[str, ...]) -> None:
    col = text(body, "My Deck.csv")
    assert col.notes[0].fields == fields
    assert [d.name for d in col.decks] == ["My Deck"]
    assert col.notetypes[0].fields == ("Front", "Back")


def test_comments_blank_lines_bom_and_empty_first_fields() -> None:
    col = text(
        "\ufefftags:old style\n#separator:tab\nfirst\tone\n\n# a comment\n\tno front\nsecond\ttwo\n"
    )
    assert [n.fields[0] for n in col.notes] == ["first", "second"]
    assert col.notes[0].tags == ("old", "style")
    assert col.problems == ("1 line was left out: the first field is empty.",)


def test_an_unreadable_table_is_refused() -> None:
    message = refusal(("a\t" + "x" * 200_000 + "\n").encode(), "huge.txt")
    assert message.startswith("That text file can't be read as a table (near line 1")


def test_a_line_with_too_many_columns_is_refused() -> None:
    message = refusal(("a," * 1500 + "b\n").encode(), "wide.csv")
    assert message == "That text file has a line with 1,501 columns; I can read up to 1,000."


def test_sql_past_its_time_is_refused(built: AnkiPackages, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(anki_import, "SQL_SECONDS", -1.0)
    monkeypatch.setattr(anki_import, "_PROGRESS_STEPS", 1)
    message = refusal(built.modern)
    assert message.startswith("That package took longer than -1 seconds to read")


def test_a_view_in_place_of_a_table_is_refused(built: AnkiPackages) -> None:
    edited = edit_collection(
        built.legacy,
        "alter table revlog rename to old_revlog",
        "create view revlog as select * from old_revlog",
    )
    assert "(tables revlog)" in refusal(edited)
