"""A learner's cards as an Anki package (``.apkg``): the adapter for
:class:`bot.core.interop.AnkiPackager`.

With the optional extra ``studybot[anki]`` (the ``anki`` package, whose Rust core is
AGPL-3) the package is a modern one (``legacy=False``) built in a throwaway
``anki.collection.Collection``: a deck per studybot deck, each card's schedule (due,
interval, reps, lapses, suspension), its FSRS memory state (stability, difficulty) and
the review log (practice and undone reviews left out), with FSRS switched on and the
learner's desired retention in the deck options. Without it, genanki (MIT, in the same
extra) writes the notes alone; with neither, :func:`packager` returns None.

Either way each note's guid and the note type's id are derived from our ids, so a
second export updates the notes in Anki instead of copying them. Formulas become
MathJax (``$x$`` → ``\\(x\\)``, ``$$x$$`` → ``\\[x\\]``). A card's images are media files
of the package (:attr:`AnkiExport.media`: imported ones as stored, shipped ones drawn),
shown by ``<img src="...">`` in its fields; an image without a file stays as its text.

A review card is due on the Anki day (:func:`bot.core.interop.anki_day`: the learner's
local date, starting at 4 am) it is due on here: the package's collection is made to
start at the learner's 4 am, in the learner's UTC offset, so its day count runs on the
learner's days, and Anki, importing it, moves each due by the days between that count
and its own.
"""

from __future__ import annotations

import hashlib
import html
import importlib.util
import itertools
import json
import re
import sqlite3
import tempfile
import zipfile
from collections.abc import Callable
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from bot.core.interop import ANKI_ROLLOVER_HOUR, AnkiExport, AnkiPackage, anki_day
from bot.core.localtime import local_instant
from bot.core.model import CardImage, CardInfo, CardState, CardStateKind
from bot.text.latex import image_alt_text

__all__ = ["FILENAME", "build_full", "build_notes_only", "note_guid", "packager", "to_html"]

FILENAME: Final = "studybot.apkg"
#: The note type's id in every package (Anki matches note types by id on import).
NOTETYPE_ID: Final = 1_733_000_000_001
NOTETYPE_NAME: Final = "Studybot"
FIELDS: Final = ("Front", "Back", "Notes", "Mnemonic", "StudybotId")
FRONT: Final = "{{Front}}"
BACK: Final = (
    '{{FrontSide}}<hr id="answer">{{Back}}'
    '{{#Notes}}<div class="notes">{{Notes}}</div>{{/Notes}}'
    '{{#Mnemonic}}<div class="mnemonic">💡 {{Mnemonic}}</div>{{/Mnemonic}}'
)
CSS: Final = (
    ".card { font-family: sans-serif; font-size: 20px; text-align: left; }\n"
    ".notes, .mnemonic { margin-top: 1em; font-size: 16px; color: #555; }\n"
)
DAY_MS: Final = 86_400_000

_MATH: Final = re.compile(
    r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(?![\s$])([^$\n]+?)(?<![\s\\])\$(?!\d)", re.S
)
_BOLD: Final = re.compile(r"\*\*(.+?)\*\*")
_CODE: Final = re.compile(r"`([^`\n]+)`")


def to_html(markdown: str) -> str:
    """Our card markdown as Anki field HTML: formulas as MathJax, ``**bold**`` and
    ``code`` kept, everything else escaped, line breaks as ``<br>``."""
    out: list[str] = []
    pos = 0
    for m in _MATH.finditer(markdown):
        out.append(_text_html(markdown[pos : m.start()]))
        if m.group(1) is not None:
            out.append(r"\[" + html.escape(m.group(1).strip(), quote=False) + r"\]")
        else:
            out.append(r"\(" + html.escape(m.group(2), quote=False) + r"\)")
        pos = m.end()
    out.append(_text_html(markdown[pos:]))
    return "".join(out).strip()


def _text_html(text: str) -> str:
    escaped = html.escape(text, quote=False)
    escaped = _BOLD.sub(r"<b>\1</b>", escaped)
    escaped = _CODE.sub(r"<code>\1</code>", escaped)
    return escaped.replace("\n", "<br>")


def note_guid(card_id: str) -> str:
    """A stable note guid for one of our cards."""
    return "studybot-" + hashlib.sha256(card_id.encode("utf-8")).hexdigest()[:20]


#: Each image's file name in the package, by the image's (kind, spec).
Names = dict[tuple[str, str], str]


def _image_html(image: CardImage, names: Names) -> str:
    """An image as field HTML: ``<img>`` of its file, or its text when it has none."""
    alt = image_alt_text(image.kind, image.spec)
    name = names.get((image.kind, image.spec))
    if name is None:
        return html.escape(alt)
    return f'<img src="{html.escape(name)}" alt="{html.escape(alt)}">'


def _fields(card: CardInfo, names: Names) -> list[str]:
    front = to_html(card.front)
    back = to_html(card.back)
    if card.front_image is not None:
        front += "<br>" + _image_html(card.front_image, names)
    if card.back_image is not None:
        back += "<br>" + _image_html(card.back_image, names)
    return [front, back, to_html(card.notes or ""), to_html(card.mnemonic or ""), card.id]


def _tags(card: CardInfo) -> list[str]:
    return [re.sub(r"\s+", "_", t) for t in (*card.tags, card.deck_id)]


def _deck_name(card: CardInfo) -> str:
    return "Studybot::" + card.deck_title.replace("::", ":")


def _ms(when: datetime) -> int:
    return int(when.timestamp() * 1000)


# --------------------------------------------------------------------------- anki


def build_full(export: AnkiExport) -> AnkiPackage:
    """The modern package with schedules, memory states and the review log (needs ``anki``)."""
    # anki.collection first: importing anki.cards first is a circular import.
    from anki.collection import Collection, ExportAnkiPackageOptions

    # isort: split
    from anki.cards import FSRSMemoryState

    states = {s.card_id: s for s in export.states}
    zone = _zone(export.timezone)
    days = {
        s.card_id: anki_day(s.due or export.now, zone)
        for s in export.states
        if s.state is CardStateKind.REVIEW
    }
    first = min([anki_day(export.now, zone), *days.values()])
    with tempfile.TemporaryDirectory(prefix="studybot-anki-") as tmp:
        col: Any = Collection(str(Path(tmp) / "collection.anki2"))
        try:
            _start_on(col, first, zone)
            col.set_config("fsrs", True)
            notetype = _add_notetype(col)
            names = {(m.kind, m.spec): col.media.write_data(m.name, m.data) for m in export.media}
            anki_ids: dict[str, int] = {}
            configured: set[int] = set()
            for card in export.cards:
                did = col.decks.id(_deck_name(card))
                assert did is not None
                if did not in configured:
                    _configure_deck(col, did, export)
                    configured.add(did)
                note = col.new_note(notetype)
                for name, value in zip(FIELDS, _fields(card, names), strict=True):
                    note[name] = value
                note.guid = note_guid(card.id)
                note.tags = _tags(card)
                col.add_note(note, did)
                cid = _stable_ids(col, note.id, note.cards()[0].id, card.id)
                acard = col.get_card(cid)
                anki_ids[card.id] = cid
                state = states.get(card.id)
                if state is not None:
                    due_day = (days[card.id] - first).days if card.id in days else 0
                    _schedule(acard, state, export, due_day, FSRSMemoryState)
                    col.update_card(acard)
            _add_revlog(col, export, anki_ids)
            out = Path(tmp) / FILENAME
            col.export_anki_package(
                out_path=str(out),
                options=ExportAnkiPackageOptions(
                    with_scheduling=True, with_deck_configs=True, with_media=True, legacy=False
                ),
                limit=None,
            )
            data = out.read_bytes()
        finally:
            col.close()
    return AnkiPackage(FILENAME, data, with_scheduling=True)


def _zone(name: str) -> ZoneInfo:
    """The learner's zone; UTC for a name this machine does not know."""
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError):
        return ZoneInfo("UTC")


def _start_on(col: Any, day: date, zone: ZoneInfo) -> None:
    """Make the collection start on Anki day ``day`` of ``zone``: created at that day's
    rollover (4 am local), with the UTC offset of that moment as its creation offset.

    Anki counts a review card's due in days since the creation, in its current offset
    with the rollover; importing, it shifts each due by the days between the package's
    count and its own (both counted on the learner's computer, in the learner's offset),
    so with the creation on the learner's days a card keeps its local due day.
    """
    created = local_instant(day, time(ANKI_ROLLOVER_HOUR), zone)
    offset = created.astimezone(zone).utcoffset() or timedelta(0)
    col.crt = int(created.timestamp())
    col.set_config("creationOffset", -round(offset.total_seconds() / 60))
    col.set_config("rollover", ANKI_ROLLOVER_HOUR)


def anki_id(card_id: str, kind: str) -> int:
    """A stable Anki id (note or card) for one of our cards: a millisecond timestamp in
    2014-2017, where Anki's own ids (the moments they were made) are rare."""
    digest = hashlib.sha256(f"{kind}:{card_id}".encode()).hexdigest()
    return 1_400_000_000_000 + int(digest[:12], 16) % 100_000_000_000


def _stable_ids(col: Any, note_id: int, card_id: int, ours: str) -> int:
    """Give a new note and its card ids derived from ours, so that a second export's
    cards and review log land on the cards of the first in Anki."""
    nid, cid = anki_id(ours, "note"), anki_id(ours, "card")
    col.db.execute("update notes set id = ? where id = ?", nid, note_id)
    col.db.execute("update cards set id = ?, nid = ? where id = ?", cid, nid, card_id)
    return cid


def _add_notetype(col: Any) -> Any:
    """The Studybot note type, moved to :data:`NOTETYPE_ID` (Anki assigns ids itself)."""
    models = col.models
    m = models.new(NOTETYPE_NAME)
    for name in FIELDS:
        models.add_field(m, models.new_field(name))
    t = models.new_template("Card 1")
    t["qfmt"] = FRONT
    t["afmt"] = BACK
    models.add_template(m, t)
    m["css"] = CSS
    m["sortf"] = 0
    added = models.add_dict(m).id
    for sql in (
        "update notetypes set id = ? where id = ?",
        "update fields set ntid = ? where ntid = ?",
        "update templates set ntid = ? where ntid = ?",
    ):
        col.db.execute(sql, NOTETYPE_ID, added)
    models._clear_cache()
    return models.get(NOTETYPE_ID)


def _configure_deck(col: Any, did: int, export: AnkiExport) -> None:
    conf = col.decks.config_dict_for_deck_id(did)
    conf["desiredRetention"] = export.desired_retention
    if export.fsrs_parameters is not None and len(export.fsrs_parameters) == 21:
        conf["fsrsParams6"] = list(export.fsrs_parameters)
    col.decks.update_config(conf)


def _schedule(
    acard: Any, state: CardState, export: AnkiExport, due_day: int, memory: Callable[..., Any]
) -> None:
    """Copy our schedule onto an Anki card (type/queue: 0 new, 1 learning, 2 review,
    3 relearning; queue -1 suspended). ``due_day`` is a review card's due, in the
    collection's days (:func:`_start_on`)."""
    now = export.now
    acard.reps = state.reps
    acard.lapses = state.lapses
    if state.stability is not None and state.difficulty is not None:
        acard.memory_state = memory(stability=state.stability, difficulty=state.difficulty)
        acard.desired_retention = export.desired_retention
    if state.last_review is not None:
        acard.last_review_time = int(state.last_review.timestamp())
    due = state.due or now
    if state.state is CardStateKind.REVIEW:
        acard.type = acard.queue = 2
        acard.due = due_day
        last = state.last_review or now
        acard.ivl = max(1, round((due - last).total_seconds() / 86400))
        acard.factor = 2500
    elif state.state in (CardStateKind.LEARNING, CardStateKind.RELEARNING):
        acard.type = acard.queue = 1 if state.state is CardStateKind.LEARNING else 3
        acard.queue = 1
        acard.due = int(due.timestamp())
        acard.left = 1
        acard.factor = 2500
    if state.suspended:
        acard.queue = -1


def _revlog_type(kind: CardStateKind) -> int:
    """0 learning, 1 review, 2 relearning (from the state before the rating)."""
    if kind is CardStateKind.REVIEW:
        return 1
    if kind is CardStateKind.RELEARNING:
        return 2
    return 0


def _interval(state: CardState, at: datetime) -> int:
    """Anki's revlog interval: days when positive, seconds when negative (learning)."""
    if state.due is None:
        return 0
    if state.state is CardStateKind.REVIEW:
        return max(1, round((state.due - at).total_seconds() / 86400))
    return -max(1, int((state.due - at).total_seconds()))


def _add_revlog(col: Any, export: AnkiExport, anki_ids: dict[str, int]) -> None:
    used: set[int] = set()
    rows = []
    for e in export.reviews:
        cid = anki_ids.get(e.card_id)
        if cid is None:
            continue
        rid = _ms(e.reviewed_at)
        while rid in used:  # revlog ids are unique milliseconds
            rid += 1
        used.add(rid)
        last = e.before.last_review or e.reviewed_at
        rows.append(
            (
                rid,
                cid,
                -1,
                e.rating,
                _interval(e.after, e.reviewed_at),
                _interval(e.before, last) if not e.before.is_new else 0,
                2500 if e.after.state is CardStateKind.REVIEW else 0,
                min(max(e.duration_ms or 0, 0), 60_000),
                _revlog_type(e.before.state),
            )
        )
    col.db.executemany(
        "insert into revlog (id, cid, usn, ease, ivl, lastIvl, factor, time, type) "
        "values (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        rows,
    )


# --------------------------------------------------------------------------- genanki


def build_notes_only(export: AnkiExport) -> AnkiPackage:
    """The notes alone, with genanki (every card new in Anki, no review log)."""
    import genanki

    model = genanki.Model(
        NOTETYPE_ID,
        NOTETYPE_NAME,
        fields=[{"name": f} for f in FIELDS],
        templates=[{"name": "Card 1", "qfmt": FRONT, "afmt": BACK}],
        css=CSS,
    )
    decks: dict[str, Any] = {}
    names = {(m.kind, m.spec): m.name for m in export.media}
    for card in export.cards:
        name = _deck_name(card)
        if name not in decks:
            deck_id = int(hashlib.sha256(name.encode()).hexdigest()[:12], 16)
            decks[name] = genanki.Deck(deck_id, name)
        note = genanki.Note(
            model=model, fields=_fields(card, names), guid=note_guid(card.id), tags=_tags(card)
        )
        decks[name].add_note(note)
    with tempfile.TemporaryDirectory(prefix="studybot-genanki-") as tmp:
        out = Path(tmp) / FILENAME
        folder = Path(tmp) / "media"
        folder.mkdir()
        files = []
        for m in export.media:  # genanki names each file in the package by its path's name
            (folder / m.name).write_bytes(m.data)
            files.append(str(folder / m.name))
        package = genanki.Package(
            list(decks.values()) or [genanki.Deck(NOTETYPE_ID, "Studybot")], media_files=files
        )
        _write_genanki(package, Path(tmp), out, export.now.timestamp())
        data = out.read_bytes()
    return AnkiPackage(FILENAME, data, with_scheduling=False)


def _write_genanki(package: Any, tmp: Path, out: Path, timestamp: float) -> None:
    """genanki's ``Package.write_to_file``, with its database in ``tmp``: genanki's own
    makes it with ``tempfile.mkstemp`` and never deletes it (one file left per export)."""
    database = tmp / "collection.anki2"
    conn = sqlite3.connect(database)
    try:
        package.write_to_db(conn.cursor(), timestamp, itertools.count(int(timestamp * 1000)))
        conn.commit()
    finally:
        conn.close()
    with zipfile.ZipFile(out, "w") as outzip:
        outzip.write(database, "collection.anki2")
        paths = dict(enumerate(package.media_files))
        outzip.writestr("media", json.dumps({i: Path(p).name for i, p in paths.items()}))
        for i, path in paths.items():
            outzip.write(path, str(i))


def packager() -> Callable[[AnkiExport], AnkiPackage] | None:
    """The best builder installed: ``anki``, else genanki, else None (found without
    importing them: ``anki`` loads its Rust core only when a package is built)."""
    if _installed("anki"):
        return build_full
    if _installed("genanki"):
        return build_notes_only
    return None


def _installed(name: str) -> bool:
    return importlib.util.find_spec(name) is not None
