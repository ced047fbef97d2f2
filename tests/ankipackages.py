"""Anki files built at test time, with what each holds as Anki itself reports it.

:func:`anki_packages` drives the official ``anki`` library (skip the test when it is not
installed: ``pytest.importorskip("anki")``) through a small history and exports it as a
modern package (``collection.anki21b``, zstd, protobuf media list), a legacy one
(``collection.anki21``, schema 11) and Anki's own notes-as-text export; it is built once
per test process (about 0.5 s). :func:`genanki_package` builds a legacy
``collection.anki2`` with genanki (every card new, no review log). :func:`repack`,
:func:`edit_collection` and :func:`png` make damaged or unusual variants of them.

The collection ("Spanish::Verbs", FSRS on):

- Basic ``comer`` (an image ``cat.png`` in its front, tags ``verbs food``): answered Easy,
  a review card due in days.
- Basic ``hablar`` (a sound ``hablar.mp3`` on its back): new.
- Basic (and reversed card) ``vivir``: card 1 answered Again (learning, due in seconds),
  card 2 answered Easy then suspended.
- Cloze ``{{c1::Yo}} {{c2::como}} manzanas``: card 1 answered Good (learning), card 2
  new and suspended.
"""

from __future__ import annotations

import functools
import io
import itertools
import sqlite3
import struct
import tempfile
import zipfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import zstandard

DECK = "Spanish::Verbs"
IMAGE_NAME = "cat.png"
SOUND_NAME = "hablar.mp3"


def png(width: int = 2, height: int = 2, extra: bytes = b"") -> bytes:
    """A valid RGB PNG of ``width`` x ``height`` grey pixels (``extra`` bytes in a
    private ``teSt`` chunk, to make it larger)."""

    def chunk(kind: bytes, body: bytes) -> bytes:
        return (
            struct.pack(">I", len(body))
            + kind
            + body
            + struct.pack(">I", zlib.crc32(kind + body) & 0xFFFFFFFF)
        )

    rows = b"".join(b"\x00" + b"\x80\x80\x80" * width for _ in range(height))
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0))
        + (chunk(b"teSt", extra) if extra else b"")
        + chunk(b"IDAT", zlib.compress(rows))
        + chunk(b"IEND", b"")
    )


IMAGE = png()


@dataclass(frozen=True, slots=True)
class ExpectedCard:
    """One card as Anki's own API reports it after the history was made."""

    id: int
    note_id: int
    note_guid: str
    notetype: str
    ord: int
    type: int
    queue: int
    due: int
    interval: int
    reps: int
    lapses: int
    memory: tuple[float, float] | None


@dataclass(frozen=True, slots=True)
class AnkiPackages:
    """The exports of one collection and what it held.

    Attributes:
        modern, legacy: ``.apkg`` files (``legacy=False``/``True``), with scheduling
            and media, without deck options.
        text: Anki's "Notes in Plain Text" export (HTML, tags, deck, note type, guid).
        crt: ``col.crt`` (epoch seconds); today: ``col.sched.today`` (days since crt).
    """

    modern: bytes
    legacy: bytes
    text: bytes
    crt: int
    today: int
    notes: int
    cards: tuple[ExpectedCard, ...]
    reviews: int


def _answer(col: Any, cid: int, ease: int) -> None:
    card = col.get_card(cid)
    card.start_timer()
    col.sched.answerCard(card, ease)


@functools.cache
def anki_packages() -> AnkiPackages:
    """Build the collection above and export it (once per process; needs ``anki``)."""
    from anki.collection import Collection, ExportAnkiPackageOptions

    with tempfile.TemporaryDirectory(prefix="studybot-ankipackages-") as tmp:
        col: Any = Collection(str(Path(tmp) / "collection.anki2"))
        try:
            col.set_config("fsrs", True)
            did = col.decks.id(DECK)
            models = col.models
            Path(col.media.dir(), IMAGE_NAME).write_bytes(IMAGE)
            Path(col.media.dir(), SOUND_NAME).write_bytes(b"ID3\x03\x00" + b"\x00" * 64)

            def add(notetype: str, tags: tuple[str, ...] = (), **fields: str) -> Any:
                note = col.new_note(models.by_name(notetype))
                for name, value in fields.items():
                    note[name.replace("_", " ")] = value
                note.tags = list(tags)
                col.add_note(note, did)
                return note

            comer = add(
                "Basic",
                ("verbs", "food"),
                Front=f'What is <b>comer</b>? <img src="{IMAGE_NAME}">',
                Back="to eat",
            )
            add("Basic", Front="hablar", Back=f"to speak [sound:{SOUND_NAME}]")
            vivir = add("Basic (and reversed card)", Front="vivir", Back="to live")
            cloze = add("Cloze", Text="{{c1::Yo}} {{c2::como}} manzanas", Back_Extra="eat")
            v1, v2 = sorted(c.id for c in vivir.cards())
            z1, z2 = sorted(c.id for c in cloze.cards())
            _answer(col, comer.cards()[0].id, 4)
            _answer(col, v1, 1)
            _answer(col, v2, 4)
            _answer(col, z1, 3)
            col.sched.suspend_cards([v2, z2])

            cards = []
            for cid in sorted(col.find_cards("")):
                card = col.get_card(cid)
                note = card.note()
                memory = card.memory_state
                cards.append(
                    ExpectedCard(
                        id=card.id,
                        note_id=note.id,
                        note_guid=note.guid,
                        notetype=note.note_type()["name"],
                        ord=card.ord,
                        type=card.type,
                        queue=card.queue,
                        due=card.due,
                        interval=card.ivl,
                        reps=card.reps,
                        lapses=card.lapses,
                        memory=(memory.stability, memory.difficulty) if memory else None,
                    )
                )
            exported: dict[str, bytes] = {}
            for name, legacy in (("modern", False), ("legacy", True)):
                out = Path(tmp) / f"{name}.apkg"
                col.export_anki_package(
                    out_path=str(out),
                    options=ExportAnkiPackageOptions(
                        with_scheduling=True,
                        with_media=True,
                        with_deck_configs=False,
                        legacy=legacy,
                    ),
                    limit=None,
                )
                exported[name] = out.read_bytes()
            text = Path(tmp) / "notes.txt"
            col.export_note_csv(
                out_path=str(text),
                limit=None,
                with_html=True,
                with_tags=True,
                with_deck=True,
                with_notetype=True,
                with_guid=True,
            )
            return AnkiPackages(
                modern=exported["modern"],
                legacy=exported["legacy"],
                text=text.read_bytes(),
                crt=col.db.scalar("select crt from col"),
                today=col.sched.today,
                notes=col.note_count(),
                cards=tuple(cards),
                reviews=col.db.scalar("select count() from revlog"),
            )
        finally:
            col.close()


def genanki_package(notes: int = 3) -> bytes:
    """A legacy ``collection.anki2`` package from genanki: ``notes`` Basic-like notes
    (fields Question/Answer) in deck "Genanki deck", every card new (needs genanki)."""
    import genanki

    model = genanki.Model(
        1_607_392_319,
        "Simple Model",
        fields=[{"name": "Question"}, {"name": "Answer"}],
        templates=[
            {
                "name": "Card 1",
                "qfmt": "{{Question}}",
                "afmt": '{{FrontSide}}<hr id="answer">{{Answer}}',
            }
        ],
    )
    deck = genanki.Deck(2_059_400_110, "Genanki deck")
    for i in range(notes):
        deck.add_note(genanki.Note(model=model, fields=[f"Question {i}", f"Answer {i}"]))
    # genanki's own write_to_file leaves its database in the temporary folder: write the
    # database here and zip it as write_to_file does.
    timestamp = 1_700_000_000.0
    with tempfile.TemporaryDirectory(prefix="studybot-genanki-") as tmp:
        path = Path(tmp) / "collection.anki2"
        conn = sqlite3.connect(path)
        try:
            package = genanki.Package(deck)
            package.write_to_db(conn.cursor(), timestamp, itertools.count(int(timestamp * 1000)))
            conn.commit()
        finally:
            conn.close()
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as zf:
            zf.write(path, "collection.anki2")
            zf.writestr("media", "{}")
        return out.getvalue()


def repack(
    data: bytes,
    replace: dict[str, bytes] | None = None,
    drop: tuple[str, ...] = (),
    compression: int = zipfile.ZIP_DEFLATED,
) -> bytes:
    """The zip ``data`` with members replaced or added (``replace``) and removed (``drop``)."""
    replace = dict(replace or {})
    out = io.BytesIO()
    with zipfile.ZipFile(io.BytesIO(data)) as src, zipfile.ZipFile(out, "w", compression) as dst:
        for info in src.infolist():
            if info.filename in drop:
                continue
            body = replace.pop(info.filename, None)
            dst.writestr(info.filename, src.read(info) if body is None else body)
        for name, body in replace.items():
            dst.writestr(name, body)
    return out.getvalue()


def _collection_member(names: list[str]) -> str:
    for name in ("collection.anki21b", "collection.anki21", "collection.anki2"):
        if name in names:
            return name
    raise ValueError("no collection in the package")


def edit_collection(data: bytes, *statements: str | tuple[str, tuple[Any, ...]]) -> bytes:
    """The package ``data`` with SQL run on its collection (modern or legacy), e.g.
    ``edit_collection(p, "update col set ver = 99")`` or ``(sql, parameters)``."""
    with zipfile.ZipFile(io.BytesIO(data)) as zf:
        member = _collection_member(zf.namelist())
        raw = zf.read(member)
    modern = member.endswith("21b")
    if modern:
        raw = zstandard.ZstdDecompressor().stream_reader(raw, read_across_frames=True).read()
    with tempfile.TemporaryDirectory(prefix="studybot-edit-") as tmp:
        path = Path(tmp) / "c.db"
        path.write_bytes(raw)
        conn = sqlite3.connect(path)
        try:
            conn.create_collation(
                "unicase", lambda a, b: (a.lower() > b.lower()) - (a.lower() < b.lower())
            )
            for statement in statements:
                if isinstance(statement, str):
                    conn.execute(statement)
                else:
                    conn.execute(*statement)
            conn.commit()
            conn.execute("pragma journal_mode = delete")
        finally:
            conn.close()
        raw = path.read_bytes()
    if modern:
        raw = zstandard.ZstdCompressor().compress(raw)
    return repack(data, {member: raw})
