"""Reading a file a learner sends: an Anki package or an Anki text export (the adapter
for :class:`bot.core.importing.AnkiReader`).

Packages (``.apkg``, ``.colpkg``) are zip files. The ``meta`` member (protobuf
``PackageMetadata``; absent before Anki 2.1.50) names the collection inside:
version 1 ``collection.anki2``, 2 ``collection.anki21`` (both schema 11, plain SQLite,
media list JSON ``{"0": "name.png"}``, media stored as they are), 3
``collection.anki21b`` (schema 18, SQLite compressed with zstd, media list a
zstd-compressed protobuf ``MediaEntries`` whose entry *i* is member ``"i"``, each
zstd-compressed). A modern package also carries a dummy ``collection.anki2``, never read.
The collection is unpacked into a temporary directory (removed before returning) and
opened read-only (``immutable``); nothing here needs the optional ``anki`` library:
zipfile, sqlite3, json, zstandard and a few lines of protobuf wire format suffice.

Text exports (``.txt``/``.csv``/``.tsv``, or any UTF-8 text) are read as Anki reads
them (rslib ``import_export/text/csv``): header lines at the top (``#separator:``,
``#html:``, ``#tags:``, ``#columns:``, ``#deck:``, ``#notetype:``, ``#deck column:``,
``#notetype column:``, ``#tags column:``, ``#guid column:``; column numbers count from
1), then records in CSV (quoted fields may hold the separator and line breaks; later
lines starting with ``#`` are comments). Each note type name gets a synthetic note type
(a name containing "cloze" is a cloze type), each deck name an :class:`AnkiDeck`, and
each note new cards (one per template, or per cloze number), due in the file's order.
Without ``#separator`` the first line decides (tab, else semicolon, else comma, else one
column); without ``#html`` the fields are HTML when a tag shows in the first five
records (Anki's own guess), else they are escaped (``#html:false`` likewise). Lines
whose first field is empty are left out (one problem line), as Anki does; a line of more
than :data:`MAX_COLUMNS` columns refuses the file.

A package's notes whose note type it lacks are left out (one problem line); cards in a
deck it lacks get a deck named "Recovered cards". Every deck is returned, empty or not.

Bounds (:class:`~bot.core.ankifile.ImportLimits`): the file as sent (``max_bytes``);
bytes unpacked, counted as they are read, by zip inflation and by zstd alike, each
total capped at ``max_unpacked_bytes`` (declared sizes are only used to refuse early);
zip entries at most :data:`MAX_ZIP_ENTRIES`; notes and review-log rows counted in SQL
before they are read; images kept at most ``max_media_files``, each at most
``max_media_bytes`` (sound, video and other media are never unpacked, only counted in
:attr:`~bot.core.ankifile.AnkiCollection.problems`); SQL at most
:data:`SQL_SECONDS` of work; zstd windows at most 32 MB (Anki writes 2 MB ones).
"""

from __future__ import annotations

import contextlib
import csv
import html
import io
import json
import re
import sqlite3
import tempfile
import time
import zipfile
import zlib
from collections.abc import Generator, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path, PurePosixPath
from typing import IO, Any, Final, Literal, cast

import zstandard

from bot.core.ankifile import (
    AnkiCard,
    AnkiCollection,
    AnkiDeck,
    AnkiNote,
    AnkiReview,
    ImportLimits,
    ImportRejected,
    MediaFile,
    NoteType,
    Template,
    format_bytes,
    too_large,
)

__all__ = ["MAX_COLUMNS", "MAX_ZIP_ENTRIES", "SQL_SECONDS", "read_file"]

#: The most entries a package's zip may list (its directory is parsed before anything).
MAX_ZIP_ENTRIES: Final = 100_000
#: The most columns one line of a text export may have (Anki's note types have a few).
MAX_COLUMNS: Final = 1_000
#: The longest the SQL reading one collection may run before the file is refused.
SQL_SECONDS: Final = 60.0
#: The largest zstd window accepted (zstd's own default limit is 128 MB).
ZSTD_MAX_WINDOW: Final = 1 << 25

_CHUNK: Final = 64 * 1024
#: SQLite virtual-machine steps between two looks at the clock.
_PROGRESS_STEPS = 1_000
_MB: Final = 1024 * 1024
_NOT_ANKI: Final = "That isn't an Anki package (.apkg) or an Anki text export (.txt/.csv)."
_DAMAGED: Final = (
    "That package is damaged: {what}. Export it from Anki again and send the new file."
)
_NO_COLLECTION: Final = (
    "That zip file holds no Anki collection (no collection.anki21b, collection.anki21 or "
    "collection.anki2). In Anki, use File > Export > Anki Deck Package (.apkg) and send me "
    "that file."
)
_COLLECTIONS: Final = {1: "collection.anki2", 2: "collection.anki21", 3: "collection.anki21b"}
_SCHEMA11_TABLES: Final = frozenset({"col", "notes", "cards", "revlog"})
_SCHEMA18_TABLES: Final = _SCHEMA11_TABLES | {"notetypes", "fields", "templates", "decks", "config"}
_IMAGE_EXTENSIONS: Final = frozenset({"png", "jpg", "jpeg", "gif", "webp", "svg"})


def read_file(data: bytes, filename: str, limits: ImportLimits) -> AnkiCollection:
    """What ``data`` holds, or :class:`~bot.core.ankifile.ImportRejected` saying why not
    (its message is the learner's reply: the limit with its units, or the problem; never
    the file's content)."""
    if len(data) > limits.max_bytes:
        raise ImportRejected(too_large(len(data), limits.max_bytes))
    if not data:
        raise ImportRejected("That file is empty.")
    if data.startswith(b"PK\x03\x04") or data.startswith(b"PK\x05\x06"):
        return _read_package(data, filename, limits)
    if data.startswith(b"SQLite format 3\x00"):
        raise ImportRejected(
            "That is an Anki collection file itself, not a package: in Anki, use "
            "File > Export > Anki Deck Package (.apkg) and send me that file."
        )
    suffix = PurePosixPath(filename.replace("\\", "/")).suffix.lower()
    if suffix in _PACKAGE_SUFFIXES:
        raise ImportRejected(
            f"That file is named {suffix} but is not a package (an .apkg is a zip file): "
            "export it from Anki again (File > Export, Anki Deck Package) and send the new file."
        )
    if suffix not in _TEXT_SUFFIXES:
        raise ImportRejected(_NOT_ANKI)
    return _read_text(_decode_text(data, filename), filename, limits)


#: What a package is called; such a file must be a zip.
_PACKAGE_SUFFIXES: Final = frozenset({".apkg", ".colpkg", ".zip"})
#: What a text export may be called (Anki writes .txt; people rename to .csv or .tsv); a
#: file that is neither a zip nor named so is refused, however text-like it looks.
_TEXT_SUFFIXES: Final = frozenset({"", ".txt", ".csv", ".tsv", ".tab", ".text"})


# --------------------------------------------------------------------------- sizes


def _count(n: int, one: str, many: str) -> str:
    return f"{n:,} {one if n == 1 else many}"


# --------------------------------------------------------------------------- protobuf


class _Corrupt(Exception):
    """Bytes that are not what they should be (reported as a damaged package)."""


def _varint(buf: bytes, pos: int) -> tuple[int, int]:
    result = shift = 0
    while True:
        if pos >= len(buf) or shift > 63:
            raise _Corrupt("truncated varint")
        byte = buf[pos]
        pos += 1
        result |= (byte & 0x7F) << shift
        if not byte & 0x80:
            return result, pos
        shift += 7


def _proto(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """The (field number, value) pairs of one protobuf message: varints as ints,
    length-delimited fields as bytes; fixed-width fields are skipped."""
    pos = 0
    while pos < len(buf):
        key, pos = _varint(buf, pos)
        number, wire = key >> 3, key & 7
        if wire == 0:
            value, pos = _varint(buf, pos)
            yield number, value
        elif wire == 2:
            length, pos = _varint(buf, pos)
            if pos + length > len(buf):
                raise _Corrupt("truncated field")
            yield number, buf[pos : pos + length]
            pos += length
        elif wire == 1:
            pos += 8
        elif wire == 5:
            pos += 4
        else:
            raise _Corrupt(f"wire type {wire}")
    if pos != len(buf):
        raise _Corrupt("truncated message")


def _proto_int(buf: bytes, number: int) -> int:
    value = 0
    for n, v in _proto(buf):
        if n == number and isinstance(v, int):
            value = v
    return value


def _proto_str(buf: bytes, number: int) -> str:
    value = b""
    for n, v in _proto(buf):
        if n == number and isinstance(v, bytes):
            value = v
    return value.decode("utf-8", "replace")


# --------------------------------------------------------------------------- unpacking


@dataclass(slots=True)
class _Budget:
    """Bytes unpacked so far: zip-inflated bytes and final (zstd-decoded) bytes, each
    capped at ``limit``."""

    limit: int
    inflated: int = 0
    unpacked: int = 0

    def refuse(self) -> ImportRejected:
        return ImportRejected(
            f"That package unpacks to more than {format_bytes(self.limit)}; "
            f"I can import packages up to {format_bytes(self.limit)} unpacked."
        )

    def add_inflated(self, n: int) -> None:
        self.inflated += n
        if self.inflated > self.limit:
            raise self.refuse()

    def add_unpacked(self, n: int) -> None:
        self.unpacked += n
        if self.unpacked > self.limit:
            raise self.refuse()


class _Counted(io.RawIOBase):
    """A zip member's stream whose inflated bytes count against the budget (at most
    :data:`_CHUNK` bytes a read)."""

    def __init__(self, raw: IO[bytes], budget: _Budget) -> None:
        super().__init__()
        self._raw = raw
        self._budget = budget

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Any) -> int:
        chunk = self._raw.read(min(len(buffer), _CHUNK))
        self._budget.add_inflated(len(chunk))
        buffer[: len(chunk)] = chunk
        return len(chunk)


_ZIP_ERRORS: Final = (
    zipfile.BadZipFile,
    zlib.error,
    EOFError,
    OSError,
    RuntimeError,
    NotImplementedError,
    ValueError,
    zstandard.ZstdError,
)


def _chunks(
    zf: zipfile.ZipFile, name: str, budget: _Budget, zstd: bool, what: str
) -> Generator[bytes]:
    """The member's content in chunks, zstd-decoded when ``zstd``; every byte counted."""
    info = zf.getinfo(name)
    if info.file_size > budget.limit - budget.inflated:
        raise budget.refuse()
    try:
        with zf.open(info) as raw:
            source = cast(IO[bytes], _Counted(raw, budget))
            if zstd:
                dctx = zstandard.ZstdDecompressor(max_window_size=ZSTD_MAX_WINDOW)
                source = dctx.stream_reader(source, read_size=_CHUNK, read_across_frames=True)
            while chunk := source.read(_CHUNK):
                budget.add_unpacked(len(chunk))
                yield chunk
    except _ZIP_ERRORS as error:
        raise ImportRejected(_DAMAGED.format(what=f"its {what} can't be unpacked")) from error


def _member(
    zf: zipfile.ZipFile,
    name: str,
    budget: _Budget,
    zstd: bool,
    what: str,
    cap: int | None = None,
) -> bytes | None:
    """The member's content, or None when it holds more than ``cap`` bytes."""
    out = bytearray()
    with contextlib.closing(_chunks(zf, name, budget, zstd, what)) as chunks:
        for chunk in chunks:
            out += chunk
            if cap is not None and len(out) > cap:
                return None
    return bytes(out)


# --------------------------------------------------------------------------- packages


def _read_package(data: bytes, filename: str, limits: ImportLimits) -> AnkiCollection:
    if data.count(b"PK\x01\x02") > MAX_ZIP_ENTRIES:
        raise ImportRejected(
            f"That package lists more than {MAX_ZIP_ENTRIES:,} files; "
            f"I can open packages of up to {MAX_ZIP_ENTRIES:,}."
        )
    try:
        zf = zipfile.ZipFile(io.BytesIO(data))
    except _ZIP_ERRORS as error:
        raise ImportRejected(
            "That file looks like a zip but is damaged; export it from Anki again."
        ) from error
    with zf:
        names = set(zf.namelist())
        budget = _Budget(limits.max_unpacked_bytes)
        version = _package_version(zf, names, budget)
        member = _COLLECTIONS[version]
        if member not in names:
            raise ImportRejected(_NO_COLLECTION)
        fmt: Literal["anki2", "anki21", "anki21b"] = (
            "anki21b" if version == 3 else "anki21" if version == 2 else "anki2"
        )
        zstd = version == 3
        with tempfile.TemporaryDirectory(prefix="studybot-import-") as tmp:
            path = Path(tmp) / "collection.sqlite"
            with path.open("wb") as out:
                for chunk in _chunks(zf, member, budget, zstd, "collection"):
                    out.write(chunk)
            parts = _read_collection(path, limits)
        if not parts.notes:
            raise ImportRejected("That package has no notes.")
        media, problems = _read_media(zf, names, budget, zstd, limits)
    return AnkiCollection(
        format=fmt,
        filename=filename,
        created=parts.created,
        decks=parts.decks,
        notetypes=parts.notetypes,
        notes=parts.notes,
        cards=parts.cards,
        reviews=parts.reviews,
        media=media,
        rollover_hour=parts.rollover_hour,
        creation_offset=parts.creation_offset,
        problems=(*parts.problems, *problems),
    )


def _package_version(zf: zipfile.ZipFile, names: set[str], budget: _Budget) -> int:
    """1, 2 or 3 (see the module docs), from ``meta`` or, without it, from the members."""
    if "meta" not in names:
        for version in (3, 2, 1):
            if _COLLECTIONS[version] in names:
                return version
        raise ImportRejected(_NO_COLLECTION)
    meta = _member(zf, "meta", budget, zstd=False, what="description", cap=4096)
    try:
        version = _proto_int(meta, 1) if meta is not None else 0
    except _Corrupt as error:
        raise ImportRejected(_DAMAGED.format(what="its description can't be read")) from error
    if version not in _COLLECTIONS:
        raise ImportRejected(
            f"That package was made by a newer Anki than I can read (package version "
            f"{version}). In Anki's export window, tick 'Support older Anki versions' "
            "and send the new file."
        )
    return version


# --------------------------------------------------------------------------- media


def _extension(name: str) -> str:
    return PurePosixPath(name).suffix.lower().removeprefix(".")


def _safe_name(name: str) -> bool:
    """A plain file name (Anki's own rule: no folders, no reserved characters)."""
    return (
        bool(name)
        and name not in (".", "..")
        and len(name) <= 255
        and not any(c in name for c in '/\\:*?"<>|\x00')
        and name == name.strip()
    )


def _is_image(data: bytes, ext: str) -> bool:
    """The bytes are the image the name says (by magic number; SVG by its root tag)."""
    if ext == "png":
        return data.startswith(b"\x89PNG\r\n\x1a\n")
    if ext in ("jpg", "jpeg"):
        return data.startswith(b"\xff\xd8\xff")
    if ext == "gif":
        return data.startswith((b"GIF87a", b"GIF89a"))
    if ext == "webp":
        return data[:4] == b"RIFF" and data[8:12] == b"WEBP"
    if ext == "svg":
        return b"<svg" in data[:4096].lower()
    return False


def _media_list(
    zf: zipfile.ZipFile, names: set[str], budget: _Budget, zstd: bool
) -> list[tuple[str, str]]:
    """(member, file name) for each media file the package lists."""
    if "media" not in names:
        return []
    raw = _member(zf, "media", budget, zstd, what="media list")
    assert raw is not None
    try:
        if zstd:
            entries = [e for n, e in _proto(raw) if n == 1 and isinstance(e, bytes)]
            return [(str(i), _proto_str(entry, 1)) for i, entry in enumerate(entries)]
        listed = json.loads(raw.decode("utf-8")) if raw.strip() else {}
        if not isinstance(listed, dict):
            raise _Corrupt("media list is not an object")
        return [(str(k), str(v)) for k, v in listed.items()]
    except (_Corrupt, ValueError) as error:
        raise ImportRejected(_DAMAGED.format(what="its media list can't be read")) from error


def _read_media(
    zf: zipfile.ZipFile, names: set[str], budget: _Budget, zstd: bool, limits: ImportLimits
) -> tuple[tuple[MediaFile, ...], tuple[str, ...]]:
    """The images (checked by name and content); one problem line per kind left out."""
    listed = _media_list(zf, names, budget, zstd)
    images: list[tuple[str, str]] = []
    unsafe = missing = fake = 0
    for member, name in listed:
        if not _safe_name(name):
            unsafe += 1
        elif _extension(name) in _IMAGE_EXTENSIONS:
            images.append((member, name))
    if len(images) > limits.max_media_files:
        raise ImportRejected(
            f"That package has {_count(len(images), 'image', 'images')}; I can import up "
            f"to {_count(limits.max_media_files, 'image', 'images')} from one package."
        )
    kept: list[MediaFile] = []
    seen: set[str] = set()
    for member, name in images:
        if member not in names or name in seen:
            missing += member not in names
            continue
        content = _member(
            zf, member, budget, zstd, what=f"image '{name}'", cap=limits.max_media_bytes
        )
        if content is None:
            raise ImportRejected(
                f"The image '{name}' in that package is larger than "
                f"{format_bytes(limits.max_media_bytes)}; I can import images up to "
                f"{format_bytes(limits.max_media_bytes)} each."
            )
        if not _is_image(content, _extension(name)):
            fake += 1
            continue
        seen.add(name)
        kept.append(MediaFile(name, content))
    # Sounds, videos and other files (fonts) are not unpacked and not mentioned here:
    # the mapping names the sounds the notes play (bot.core.ankihtml), and nothing else
    # of them shows on a card.
    problems = []
    if fake:
        problems.append(
            f"{_count(fake, 'file named as an image was', 'files named as images were')} left "
            "out: the content is not that kind of image."
        )
    if missing:
        problems.append(
            _count(missing, "image listed in the package is", "images listed in it are")
            + " missing from it."
        )
    if unsafe:
        problems.append(
            f"{_count(unsafe, 'media file was', 'media files were')} left out: "
            "the name is not a plain file name."
        )
    return tuple(kept), tuple(problems)


# --------------------------------------------------------------------------- collection


@dataclass(slots=True)
class _Parts:
    created: datetime
    rollover_hour: int
    creation_offset: int | None
    decks: tuple[AnkiDeck, ...]
    notetypes: tuple[NoteType, ...]
    notes: tuple[AnkiNote, ...]
    cards: tuple[AnkiCard, ...]
    reviews: tuple[AnkiReview, ...]
    problems: tuple[str, ...] = field(default=())


def _unicase(a: str, b: str) -> int:
    """Anki's ``unicase`` collation (case-insensitive), for its schema 18 indexes."""
    x, y = a.casefold(), b.casefold()
    return (x > y) - (x < y)


def _read_collection(path: Path, limits: ImportLimits) -> _Parts:
    """Everything but the media from the SQLite collection at ``path``."""
    uri = path.resolve().as_uri() + "?mode=ro&immutable=1"
    deadline = time.monotonic() + SQL_SECONDS
    timed_out = False

    def progress() -> int:
        nonlocal timed_out
        timed_out = time.monotonic() > deadline
        return 1 if timed_out else 0

    try:
        conn = sqlite3.connect(uri, uri=True)
    except sqlite3.Error as error:
        raise ImportRejected(_DAMAGED.format(what="its collection can't be opened")) from error
    try:
        conn.text_factory = lambda b: b.decode("utf-8", "replace")
        conn.create_collation("unicase", _unicase)
        conn.set_progress_handler(progress, _PROGRESS_STEPS)
        conn.execute("pragma trusted_schema = off")
        return _collection_parts(conn, limits)
    except sqlite3.Error as error:
        if timed_out:
            raise ImportRejected(
                f"That package took longer than {SQL_SECONDS:.0f} seconds to read; "
                "it may be damaged."
            ) from error
        raise ImportRejected(_DAMAGED.format(what="its collection can't be read")) from error
    except (_Corrupt, ValueError, TypeError, KeyError, AttributeError) as error:
        raise ImportRejected(_DAMAGED.format(what="its collection can't be read")) from error
    finally:
        conn.close()


def _collection_parts(conn: sqlite3.Connection, limits: ImportLimits) -> _Parts:
    tables = {
        name for (name,) in conn.execute("select name from sqlite_master where type = 'table'")
    }
    _require(_SCHEMA11_TABLES - tables)
    row = conn.execute("select ver, crt, conf from col").fetchone()
    if row is None:
        raise _Corrupt("no col row")
    ver, crt, conf = int(row[0]), int(row[1]), row[2]
    if ver not in (11, 18):
        raise ImportRejected(
            f"That package's collection uses schema version {ver}; I can read versions 11 "
            "(legacy packages) and 18 (Anki 2.1.50 and later). Export it from Anki again."
        )
    if ver == 18:
        _require(_SCHEMA18_TABLES - tables)
    if not 0 <= crt < 1 << 36:
        raise _Corrupt("creation time")
    notes_count = conn.execute("select count() from notes").fetchone()[0]
    if notes_count > limits.max_notes:
        raise ImportRejected(
            f"That package has {notes_count:,} notes; I can import up to "
            f"{limits.max_notes:,} notes at a time."
        )
    cards_count = conn.execute("select count() from cards").fetchone()[0]
    if cards_count > limits.max_cards:
        raise ImportRejected(
            f"That package has {cards_count:,} cards; I can import up to "
            f"{limits.max_cards:,} cards at a time."
        )
    reviews_count = conn.execute("select count() from revlog").fetchone()[0]
    if reviews_count > limits.max_reviews:
        raise ImportRejected(
            f"That package has {reviews_count:,} reviews in its history; I can import up "
            f"to {limits.max_reviews:,} reviews at a time."
        )
    if ver == 18:
        rollover = _config18(conn, "rollover")
        offset = _config18(conn, "creationOffset")
        decks = _decks18(conn)
        notetypes = _notetypes18(conn)
    else:
        settings = _json_object(conf)
        rollover = settings.get("rollover")
        offset = settings.get("creationOffset")
        decks = _decks11(conn)
        notetypes = _notetypes11(conn)
    problems: list[str] = []
    notes = _notes(conn, {t.id: t for t in notetypes}, problems)
    cards = _cards(conn, {n.id for n in notes}, decks)
    reviews = tuple(
        AnkiReview(int(a), int(b), int(c), int(d), int(e), int(f), int(g), int(h))
        for a, b, c, d, e, f, g, h in conn.execute(
            "select id, cid, ease, ivl, lastIvl, factor, time, type from revlog order by id"
        )
    )
    hour = rollover if isinstance(rollover, int) and 0 <= rollover <= 23 else 4
    # Minutes west of UTC, as JavaScript's getTimezoneOffset gives them (-840 to 720).
    west = offset if isinstance(offset, int) and -16 * 60 <= offset <= 16 * 60 else None
    return _Parts(
        created=datetime.fromtimestamp(crt, UTC),
        rollover_hour=hour,
        creation_offset=west,
        decks=tuple(decks.values()),
        notetypes=notetypes,
        notes=notes,
        cards=cards,
        reviews=reviews,
        problems=tuple(problems),
    )


def _require(missing: set[str] | frozenset[str]) -> None:
    if missing:
        raise ImportRejected(
            "That package's collection lacks parts every Anki collection has (tables "
            f"{', '.join(sorted(missing))}); it is not one I can read."
        )


def _json_object(text: Any) -> dict[str, Any]:
    if isinstance(text, bytes):
        text = text.decode("utf-8", "replace")
    if not text:
        return {}
    value = json.loads(text)
    if not isinstance(value, dict):
        raise _Corrupt("not a JSON object")
    return value


def _config18(conn: sqlite3.Connection, key: str) -> Any:
    row = conn.execute("select val from config where KEY = ?", (key,)).fetchone()
    if row is None:
        return None
    raw = row[0]
    try:
        return json.loads(raw.decode("utf-8") if isinstance(raw, bytes) else raw)
    except ValueError:
        return None


def _decks18(conn: sqlite3.Connection) -> dict[int, AnkiDeck]:
    decks: dict[int, AnkiDeck] = {}
    for did, name, kind in conn.execute("select id, name, kind from decks order by id"):
        fields = {n for n, _ in _proto(bytes(kind or b""))}
        decks[int(did)] = AnkiDeck(int(did), str(name).replace("\x1f", "::"), 2 in fields)
    return decks


def _decks11(conn: sqlite3.Connection) -> dict[int, AnkiDeck]:
    (raw,) = conn.execute("select decks from col").fetchone()
    decks: dict[int, AnkiDeck] = {}
    for key, deck in _json_object(raw).items():
        did = int(deck.get("id", key))
        decks[did] = AnkiDeck(did, str(deck["name"]), bool(deck.get("dyn", 0)))
    return dict(sorted(decks.items()))


def _notetypes18(conn: sqlite3.Connection) -> tuple[NoteType, ...]:
    fields: dict[int, list[str]] = {}
    for ntid, name in conn.execute("select ntid, name from fields order by ntid, ord"):
        fields.setdefault(int(ntid), []).append(str(name))
    templates: dict[int, list[Template]] = {}
    for ntid, ord_, name, config in conn.execute(
        "select ntid, ord, name, config from templates order by ntid, ord"
    ):
        blob = bytes(config or b"")
        templates.setdefault(int(ntid), []).append(
            Template(str(name), int(ord_), _proto_str(blob, 1), _proto_str(blob, 2))
        )
    out = []
    for ntid, name, config in conn.execute("select id, name, config from notetypes order by id"):
        blob = bytes(config or b"")
        out.append(
            NoteType(
                id=int(ntid),
                name=str(name),
                kind="cloze" if _proto_int(blob, 1) == 1 else "standard",
                fields=tuple(fields.get(int(ntid), ())),
                templates=tuple(templates.get(int(ntid), ())),
                css=_proto_str(blob, 3),
            )
        )
    return tuple(out)


def _notetypes11(conn: sqlite3.Connection) -> tuple[NoteType, ...]:
    (raw,) = conn.execute("select models from col").fetchone()
    out = []
    for key, model in _json_object(raw).items():
        flds = sorted(model.get("flds", ()), key=lambda f: int(f.get("ord", 0)))
        tmpls = sorted(model.get("tmpls", ()), key=lambda t: int(t.get("ord", 0)))
        out.append(
            NoteType(
                id=int(model.get("id", key)),
                name=str(model.get("name", "")),
                kind="cloze" if int(model.get("type", 0)) == 1 else "standard",
                fields=tuple(str(f["name"]) for f in flds),
                templates=tuple(
                    Template(
                        str(t.get("name", "")),
                        int(t.get("ord", i)),
                        str(t.get("qfmt", "")),
                        str(t.get("afmt", "")),
                    )
                    for i, t in enumerate(tmpls)
                ),
                css=str(model.get("css", "")),
            )
        )
    return tuple(sorted(out, key=lambda t: t.id))


def _notes(
    conn: sqlite3.Connection, notetypes: dict[int, NoteType], problems: list[str]
) -> tuple[AnkiNote, ...]:
    """Notes of a note type the package holds (fields padded or cut to its fields)."""
    notes = []
    orphans = 0
    for nid, guid, mid, flds, tags in conn.execute(
        "select id, guid, mid, flds, tags from notes order by id"
    ):
        notetype = notetypes.get(int(mid))
        if notetype is None:
            orphans += 1
            continue
        values = str(flds).split("\x1f")
        width = len(notetype.fields)
        values = (values + [""] * width)[:width]
        notes.append(
            AnkiNote(int(nid), str(guid), int(mid), tuple(values), tuple(str(tags).split()))
        )
    if orphans:
        problems.append(
            f"{_count(orphans, 'note was', 'notes were')} left out: "
            "the package does not hold its note type."
        )
    return tuple(notes)


def _memory(data: Any) -> tuple[float, float] | None:
    """FSRS stability and difficulty from a card's ``data`` JSON, when both are there."""
    if not data:
        return None
    try:
        value = json.loads(data)
    except ValueError:
        return None
    if not isinstance(value, dict):
        return None
    s, d = value.get("s"), value.get("d")
    if isinstance(s, int | float) and isinstance(d, int | float) and s > 0:
        return float(s), float(d)
    return None


def _cards(
    conn: sqlite3.Connection, note_ids: set[int], decks: dict[int, AnkiDeck]
) -> tuple[AnkiCard, ...]:
    """Cards of the notes kept; a deck the package lacks is added as 'Recovered cards'."""
    cards = []
    for row in conn.execute(
        "select id, nid, did, ord, type, queue, due, ivl, reps, lapses, odid, odue, data "
        "from cards order by id"
    ):
        cid, nid, did, ord_, type_, queue, due, ivl, reps, lapses, odid, odue, data = row
        if int(nid) not in note_ids:
            continue
        for deck_id in (int(did), int(odid)):
            if deck_id and deck_id not in decks:
                decks[deck_id] = AnkiDeck(deck_id, "Recovered cards")
        cards.append(
            AnkiCard(
                id=int(cid),
                note_id=int(nid),
                deck_id=int(did),
                ord=int(ord_),
                type=int(type_),
                queue=int(queue),
                due=int(due),
                interval=int(ivl),
                reps=int(reps),
                lapses=int(lapses),
                original_deck_id=int(odid),
                original_due=int(odue),
                memory=_memory(data),
            )
        )
    return tuple(cards)


# --------------------------------------------------------------------------- text


def _decode_text(data: bytes, filename: str) -> str:
    """The file as UTF-8 text (a byte-order mark dropped), else a refusal: one asking for
    UTF-8 when it looks like text in another encoding, the plain one otherwise."""
    if b"\x00" not in data:
        try:
            return data.decode("utf-8").removeprefix("\ufeff")
        except UnicodeDecodeError:
            pass
    head = data[:4096]
    half = len(head) // 4
    utf16 = head.startswith((b"\xff\xfe", b"\xfe\xff")) or (
        len(head) >= 8 and (head[1::2].count(0) > half or head[0::2].count(0) > half)
    )
    controls = sum(1 for b in head if (b < 32 and b not in (9, 10, 12, 13)) or b == 127)
    if utf16 or controls <= len(head) // 100:
        raise ImportRejected(
            f"'{filename}' looks like text, but not saved as UTF-8, the encoding Anki text "
            "exports use. Save it as UTF-8 (in LibreOffice: File > Save As, Text CSV, "
            "character set Unicode (UTF-8)) and send it again."
        )
    raise ImportRejected(_NOT_ANKI)


_SEPARATORS: Final = {
    "tab": "\t",
    "pipe": "|",
    "semicolon": ";",
    "colon": ":",
    "comma": ",",
    "space": " ",
}
_HTML_TAG: Final = re.compile(r"<.*?>", re.S)
_CLOZE: Final = re.compile(r"\{\{c(\d+)::", re.I)
_REVERSED: Final = re.compile(r"\band reversed card\b", re.I)
_FIELD_NAME_BAD: Final = re.compile(r'[:{}"#^/]')


@dataclass(slots=True)
class _Headers:
    separator: str | None = None
    html: bool | None = None
    tags: tuple[str, ...] = ()
    columns: str | None = None
    deck: str | None = None
    notetype: str | None = None
    deck_column: int = 0
    notetype_column: int = 0
    tags_column: int = 0
    guid_column: int = 0

    def meta_columns(self) -> set[int]:
        return {
            c
            for c in (self.deck_column, self.notetype_column, self.tags_column, self.guid_column)
            if c > 0
        }


def _column_number(value: str) -> int:
    try:
        number = int(value.strip())
    except ValueError:
        return 0
    return number if 0 < number <= 1000 else 0


def _header(line: str, headers: _Headers) -> None:
    """Apply one ``#key:value`` line (unknown keys are ignored, as Anki does)."""
    key, sep, value = line[1:].partition(":")
    if not sep:
        return
    key = key.strip().lower()
    if key == "separator":
        name = value.strip().lower()
        if name in _SEPARATORS:
            headers.separator = _SEPARATORS[name]
        elif value[:1] in _SEPARATORS.values():
            headers.separator = value[0]
    elif key == "html":
        flag = value.strip().lower()
        if flag in ("true", "false"):
            headers.html = flag == "true"
    elif key == "tags":
        headers.tags = tuple(value.split())
    elif key == "columns":
        headers.columns = value
    elif key == "deck":
        headers.deck = value.strip() or None
    elif key == "notetype":
        headers.notetype = value.strip() or None
    elif key == "deck column":
        headers.deck_column = _column_number(value)
    elif key == "notetype column":
        headers.notetype_column = _column_number(value)
    elif key == "tags column":
        headers.tags_column = _column_number(value)
    elif key == "guid column":
        headers.guid_column = _column_number(value)


def _split_headers(text: str) -> tuple[_Headers, str]:
    """The header lines at the top (and a legacy first line ``tags:...``), and the rest."""
    headers = _Headers()
    pos = 0
    first = True
    while pos < len(text):
        end = text.find("\n", pos)
        end = len(text) if end < 0 else end + 1
        line = text[pos:end].rstrip("\r\n")
        if first and line.startswith("tags:"):
            headers.tags = tuple(line[5:].split())
        elif line.startswith("#"):
            _header(line, headers)
        else:
            break
        first = False
        pos = end
    return headers, text[pos:]


def _sniff(body: str) -> str:
    """Tab, else semicolon, else comma, by the first line with any text; else one column."""
    for line in body.splitlines():
        if line.strip():
            for sep in ("\t", ";", ","):
                if sep in line:
                    return sep
            break
    return "\t"


def _records(body: str, separator: str) -> Iterator[list[str]]:
    """The CSV records, blank lines and ``#`` comment lines skipped."""
    lines = body.splitlines(keepends=True)
    consumed = 0

    def feed() -> Iterator[str]:
        nonlocal consumed
        while consumed < len(lines):
            consumed += 1
            yield lines[consumed - 1]

    reader = csv.reader(feed(), delimiter=separator)
    while True:
        start = consumed  # the reader takes lines only as a record needs them
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise ImportRejected(
                f"That text file can't be read as a table (near line {reader.line_num:,}); "
                "check its quotes and separators."
            ) from error
        if not record or all(not v.strip() for v in record):
            continue
        if lines[start].startswith("#"):
            continue
        yield record


def _field_names(labels: Iterable[str], count: int, cloze: bool) -> tuple[str, ...]:
    """Field names: the labels given (cleaned, made unique), then defaults; at least 2."""
    defaults = ("Text", "Back Extra") if cloze else ("Front", "Back")
    names: list[str] = []
    taken: set[str] = set()

    def add(name: str) -> None:
        base, n = name, 2
        while name.casefold() in taken:
            name, n = f"{base} {n}", n + 1
        taken.add(name.casefold())
        names.append(name)

    for i, label in enumerate(labels):
        add(_FIELD_NAME_BAD.sub("", label).strip() or (defaults[i] if i < 2 else f"Field {i + 1}"))
    for i in range(len(names), max(count, 2)):
        add(defaults[i] if i < 2 else f"Field {i + 1}")
    return tuple(names)


def _synthetic_notetype(ntid: int, name: str, field_names: tuple[str, ...]) -> NoteType:
    """A note type for a text export's note type name: cloze (``{{cloze:}}`` of the
    first field, the second as extra) when the name says "cloze", else the first field
    on the front and the second on the back, and the reverse card too when the name says
    "and reversed card" (Anki's stock "Basic (and reversed card)")."""
    first, second = field_names[0], field_names[1]
    if "cloze" in name.casefold():
        return NoteType(
            id=ntid,
            name=name,
            kind="cloze",
            fields=field_names,
            templates=(
                Template(
                    "Cloze",
                    0,
                    "{{cloze:" + first + "}}",
                    "{{cloze:" + first + "}}<br>{{" + second + "}}",
                ),
            ),
        )
    templates = [
        Template("Card 1", 0, "{{" + first + "}}", "{{FrontSide}}<hr id=answer>{{" + second + "}}")
    ]
    if _REVERSED.search(name):
        templates.append(
            Template(
                "Card 2", 1, "{{" + second + "}}", "{{FrontSide}}<hr id=answer>{{" + first + "}}"
            )
        )
    return NoteType(
        id=ntid, name=name, kind="standard", fields=field_names, templates=tuple(templates)
    )


@dataclass(slots=True)
class _Row:
    notetype: str
    deck: str
    guid: str
    tags: tuple[str, ...]
    fields: list[str]


def _read_text(text: str, filename: str, limits: ImportLimits) -> AnkiCollection:
    headers, body = _split_headers(text)
    separator = headers.separator or _sniff(body)
    meta = headers.meta_columns()
    labels: list[str] | None = None
    if headers.columns is not None:
        parsed = next(csv.reader([headers.columns], delimiter=separator), [])
        labels = [label for i, label in enumerate(parsed[:MAX_COLUMNS], 1) if i not in meta]
    stem = PurePosixPath(filename.replace("\\", "/")).stem.strip()
    default_deck = headers.deck or stem or "Imported"
    default_notetype = headers.notetype or "Basic"

    def cell(record: list[str], column: int) -> str:
        return record[column - 1].strip() if 0 < column <= len(record) else ""

    rows: list[_Row] = []
    first_records: list[list[str]] = []
    empty_first = 0
    for record in _records(body, separator):
        if len(record) > MAX_COLUMNS:
            raise ImportRejected(
                f"That text file has a line with {len(record):,} columns; "
                f"I can read up to {MAX_COLUMNS:,}."
            )
        if len(first_records) < 5:
            first_records.append(record)
        values = [v for i, v in enumerate(record, 1) if i not in meta]
        if not values or not values[0].strip():
            empty_first += 1
            continue
        if len(rows) >= limits.max_notes:
            raise ImportRejected(
                f"That file has more than {limits.max_notes:,} notes; I can import up to "
                f"{limits.max_notes:,} notes at a time."
            )
        rows.append(
            _Row(
                notetype=cell(record, headers.notetype_column) or default_notetype,
                deck=cell(record, headers.deck_column) or default_deck,
                guid=cell(record, headers.guid_column),
                tags=(*headers.tags, *cell(record, headers.tags_column).split()),
                fields=values,
            )
        )
    if not rows:
        raise ImportRejected("That file has no notes in it.")
    is_html = headers.html
    if is_html is None:  # Anki's guess: HTML when a tag shows in the first records
        is_html = any(_HTML_TAG.search(v) for r in first_records for v in r)

    def stringify(value: str) -> str:
        return value if is_html else html.escape(value, quote=False).replace("\n", "<br>")

    # Fields per note type: from #columns, else the first note of that type (as Anki).
    widths: dict[str, int] = {}
    for row in rows:
        widths.setdefault(row.notetype, len(row.fields))
    notetypes: dict[str, NoteType] = {}
    for name, width in widths.items():
        cloze = "cloze" in name.casefold()
        names = _field_names(labels or (), 0 if labels else width, cloze)
        notetypes[name] = _synthetic_notetype(len(notetypes) + 1, name, names)
    decks: dict[str, AnkiDeck] = {}
    notes: list[AnkiNote] = []
    cards: list[AnkiCard] = []
    for position, row in enumerate(rows, 1):
        notetype = notetypes[row.notetype]
        deck = decks.setdefault(row.deck, AnkiDeck(len(decks) + 1, row.deck))
        width = len(notetype.fields)
        shown = tuple(stringify(v) for v in (row.fields + [""] * width)[:width])
        notes.append(AnkiNote(position, row.guid, notetype.id, shown, row.tags))
        ords = [t.ord for t in notetype.templates]
        if notetype.kind == "cloze":
            numbers = sorted({int(n) for v in shown for n in _CLOZE.findall(v) if int(n) > 0})
            ords = [n - 1 for n in numbers] or [0]
        for ord_ in ords:
            cards.append(
                AnkiCard(
                    id=len(cards) + 1,
                    note_id=position,
                    deck_id=deck.id,
                    ord=ord_,
                    type=0,
                    queue=0,
                    due=position,
                    interval=0,
                    reps=0,
                    lapses=0,
                )
            )
    problems = []
    if empty_first:
        problems.append(
            f"{_count(empty_first, 'line was', 'lines were')} left out: the first field is empty."
        )
    return AnkiCollection(
        format="text",
        filename=filename,
        created=None,
        decks=tuple(decks.values()),
        notetypes=tuple(notetypes.values()),
        notes=tuple(notes),
        cards=tuple(cards),
        problems=tuple(problems),
    )
