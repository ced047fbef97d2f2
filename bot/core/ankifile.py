"""What an Anki file holds, as plain values: the reader's output, the importer's input.

:mod:`bot.interop.anki_import` reads a package (``.apkg``/``.colpkg``: legacy
``collection.anki2``/``collection.anki21``, schema 11, or modern ``collection.anki21b``,
schema 18) or an Anki text export (CSV/TSV with ``#separator``, ``#html``, ``#tags``,
``#columns`` headers) into an :class:`AnkiCollection`; :mod:`bot.core.importing` maps it to
personal decks, cards, review-log rows and schedules. Field values stay as Anki stores
them (HTML); nothing here knows about the database.

Anki's numbers are kept as Anki gives them (see the attribute docs): the importer, not
the reader, decides what they mean.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Final, Literal

__all__ = [
    "MAX_IMPORT_BYTES",
    "AnkiCard",
    "AnkiCollection",
    "AnkiDeck",
    "AnkiNote",
    "AnkiReview",
    "ImportLimits",
    "ImportRejected",
    "MediaFile",
    "NoteType",
    "Template",
    "format_bytes",
    "too_large",
]

#: The largest file a learner may send (Telegram's bots download at most 20 MB).
MAX_IMPORT_BYTES: Final = 20 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class ImportLimits:
    """What one import may hold; the reader refuses a file past any of them.

    Attributes:
        max_bytes: the file as sent (1 byte to 20 MB by default).
        max_unpacked_bytes: everything the zip holds, uncompressed (a zip bomb's defence):
            the sum of its members' sizes, counted as they are read, not as declared.
        max_media_files: media files the package may carry.
        max_media_bytes: the largest one media file, uncompressed.
        max_notes: notes in one file.
        max_cards: cards in one package (a note may make several).
        max_reviews: review-log rows in one file.
    """

    max_bytes: int = MAX_IMPORT_BYTES
    max_unpacked_bytes: int = 200 * 1024 * 1024
    max_media_files: int = 2_000
    max_media_bytes: int = 5 * 1024 * 1024
    max_notes: int = 50_000
    max_cards: int = 100_000
    max_reviews: int = 1_000_000


def format_bytes(n: int) -> str:
    """A size as people read it: ``"20 MB"``, ``"5.5 MB"``, ``"12 KB"``, ``"900 bytes"``."""
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):,.1f}".removesuffix(".0") + " MB"
    if n >= 1024:
        return f"{n / 1024:,.1f}".removesuffix(".0") + " KB"
    return f"{n:,} byte{'' if n == 1 else 's'}"


def too_large(size: int, limit: int = MAX_IMPORT_BYTES) -> str:
    """The reply to a file of ``size`` bytes, over ``limit`` (said before it is downloaded,
    and by the reader of one larger than the platform said). A size that would read the
    same as the limit is "just over" it."""
    shown = format_bytes(size)
    if shown == format_bytes(limit):
        shown = "just over " + shown
    return (
        f"That file is {shown}; I can import files of up to {format_bytes(limit)}. In Anki, "
        "export one deck at a time (File → Export, choose the deck) or leave the media out "
        "to make it smaller."
    )


class ImportRejected(Exception):
    """A file that cannot be imported; ``str(error)`` is the learner's reply (plain
    words, naming the limit or the problem; never the file's content beyond its name)."""


@dataclass(frozen=True, slots=True)
class Template:
    """One card template of a note type: card ``ord`` of each note is drawn with it.

    Attributes:
        front: the question template (``qfmt``), e.g. ``{{Front}}``.
        back: the answer template (``afmt``), e.g. ``{{FrontSide}}<hr id=answer>{{Back}}``.
    """

    name: str
    ord: int
    front: str
    back: str


@dataclass(frozen=True, slots=True)
class NoteType:
    """A note type ("model"): its fields, in order, and its templates.

    Attributes:
        kind: ``standard`` (a card per template) or ``cloze`` (a card per cloze number,
            all drawn with template 0).
    """

    id: int
    name: str
    kind: Literal["standard", "cloze"]
    fields: tuple[str, ...]
    templates: tuple[Template, ...]
    css: str = ""


@dataclass(frozen=True, slots=True)
class AnkiDeck:
    """A deck (``Parent::Child`` names kept whole); ``filtered`` decks hold cards only
    for a while (a card's home deck is then :attr:`AnkiCard.original_deck_id`)."""

    id: int
    name: str
    filtered: bool = False


@dataclass(frozen=True, slots=True)
class AnkiNote:
    """A note: one value per field of its note type (HTML), its tags, and its guid (the
    identity Anki itself matches notes by across collections; a text export without a
    guid column gets ``""``)."""

    id: int
    guid: str
    notetype_id: int
    fields: tuple[str, ...]
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class AnkiCard:
    """A card as Anki's ``cards`` table holds it.

    Attributes:
        type: 0 new, 1 learning, 2 review, 3 relearning.
        queue: -3 user-buried, -2 sched-buried, -1 suspended, 0 new, 1 learning (due in
            epoch seconds), 2 review (due in days since the collection was created),
            3 day-learning (due in days), 4 preview.
        due: new cards: position; queue 1 and 4: epoch seconds; queues 2 and 3: days since
            :attr:`AnkiCollection.created`.
        interval: days (a review card); negative: seconds (learning).
        original_deck_id: the home deck while in a filtered deck (else 0), and
            ``original_due`` its due there.
        memory: FSRS memory state Anki kept in the card's ``data`` (stability in days,
            difficulty 1-10), when it had one.
    """

    id: int
    note_id: int
    deck_id: int
    ord: int
    type: int
    queue: int
    due: int
    interval: int
    reps: int
    lapses: int
    original_deck_id: int = 0
    original_due: int = 0
    memory: tuple[float, float] | None = None


@dataclass(frozen=True, slots=True)
class AnkiReview:
    """A row of Anki's ``revlog``.

    Attributes:
        id: when, in milliseconds since the epoch (also the row's identity).
        ease: the button, 1 Again to 4 Easy; 0 for a manual change (no review).
        interval, last_interval: days when positive, seconds when negative.
        kind: 0 learning, 1 review, 2 relearning, 3 filtered (cram), 4 manual
            (forget/reset or set due date), 5 rescheduled.
        time_ms: how long the answer took.
    """

    id: int
    card_id: int
    ease: int
    interval: int
    last_interval: int
    factor: int
    time_ms: int
    kind: int


@dataclass(frozen=True, slots=True)
class MediaFile:
    """A media file the package carries, by the name the fields use (``<img src=...>``)."""

    name: str
    data: bytes


@dataclass(frozen=True, slots=True)
class AnkiCollection:
    """What one file holds.

    Attributes:
        format: ``anki2``, ``anki21`` (legacy, schema 11), ``anki21b`` (modern, schema 18)
            or ``text`` (a CSV/TSV text export).
        filename: the name the file was sent with (a text export's deck is named after it
            when it has no ``#deck`` header).
        created: the collection's creation (``col.crt``): day 0 of review cards' ``due``,
            at Anki's day rollover; None for a text export.
        rollover_hour: the local hour Anki's day starts at (4 unless the collection says).
        creation_offset: the UTC offset of the zone the collection was created in, in
            minutes west of UTC (Anki's ``creationOffset``: -840 to 720), when the file
            says: Anki counts its days from the creation's date in that zone.
        problems: what the reader skipped and the learner should hear of (a media file
            too large, ...), in plain words.
    """

    format: Literal["anki2", "anki21", "anki21b", "text"]
    filename: str
    created: datetime | None
    decks: tuple[AnkiDeck, ...]
    notetypes: tuple[NoteType, ...]
    notes: tuple[AnkiNote, ...]
    cards: tuple[AnkiCard, ...]
    reviews: tuple[AnkiReview, ...] = ()
    media: tuple[MediaFile, ...] = ()
    rollover_hour: int = 4
    problems: tuple[str, ...] = field(default=())
    creation_offset: int | None = None
