"""An Anki file mapped to a learner's personal decks (pure).

:func:`plan_import` turns what a file holds (:class:`bot.core.ankifile.AnkiCollection`)
into an :class:`ImportPlan`: decks, cards in our markdown, each card's review history as
review-log rows (source ``anki``) with the FSRS states a replay of it gives, and the
schedule to keep, whose due day is Anki's. Storage writes a plan in one transaction
(:mod:`bot.core.personal`); nothing here touches the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol

from bot.core.ankifile import AnkiCollection, ImportLimits, MediaFile
from bot.core.model import CardState, Learner, ReviewEntry

__all__ = [
    "ANKI_SOURCE",
    "AnkiReader",
    "ImportPlan",
    "PlannedCard",
    "PlannedDeck",
    "SkippedNotes",
    "imported_card_id",
    "plan_import",
]

#: The review-log source of a review made in Anki and imported.
ANKI_SOURCE = "anki"


@dataclass(frozen=True, slots=True)
class PlannedCard:
    """One of our cards, from one Anki card (a note's template, or cloze number).

    Attributes:
        id: our card id, stable for this learner, note and card (:func:`imported_card_id`),
            so a second import finds it.
        position: its place in its deck (Anki's order: new cards by their due position).
        title: a short line naming it (the question's first words).
        front, back: the question and the answer in our card markdown (formulas as
            ``$...$``/``$$...$$``); the back without the question.
        front_image, back_image: the name of the media file shown with the question and
            with the answer (the first image of each side), or None.
        state: the schedule to keep: stability and difficulty from replaying
            :attr:`reviews`, due on Anki's due day, suspension as Anki had it; None for a
            card Anki never reviewed (new here too).
        reviews: the card's Anki reviews, oldest first, as review-log rows (source
            :data:`ANKI_SOURCE`, the before and after states of the replay).
    """

    id: str
    position: int
    title: str
    front: str
    back: str
    front_image: str | None
    back_image: str | None
    state: CardState | None
    reviews: tuple[ReviewEntry, ...]


@dataclass(frozen=True, slots=True)
class PlannedDeck:
    """A personal deck to create or update.

    Attributes:
        source: ``anki`` (a package) or ``text`` (a text export).
        source_ref: its identity there: Anki's deck id, or a text export's deck name.
        title: the name to show (Anki's full ``Parent::Child`` name).
        slug: lowercase ASCII words joined by ``-`` (at most 40 characters), for the deck
            id storage gives it (``u<learner>-<slug>``, made unique).
    """

    source: Literal["anki", "text"]
    source_ref: str
    title: str
    slug: str
    cards: tuple[PlannedCard, ...]


@dataclass(frozen=True, slots=True)
class SkippedNotes:
    """Notes left out: ``count`` notes of note type ``notetype``, and why (plain words)."""

    notetype: str
    count: int
    reason: str


@dataclass(frozen=True, slots=True)
class ImportPlan:
    """What importing one file writes, and what the learner is told about it.

    Attributes:
        media: the media files a planned card shows (no others).
        problems: what was left out beyond whole note types (the reader's and the
            mapping's), in plain words.
    """

    decks: tuple[PlannedDeck, ...]
    media: tuple[MediaFile, ...]
    skipped: tuple[SkippedNotes, ...]
    problems: tuple[str, ...]

    @property
    def card_count(self) -> int:
        return sum(len(d.cards) for d in self.decks)

    @property
    def review_count(self) -> int:
        return sum(len(c.reviews) for d in self.decks for c in d.cards)


class AnkiReader(Protocol):
    """Reads a file a learner sent (blocking: run it in a thread); the port
    :mod:`bot.interop.anki_import` implements.

    Raises:
        ImportRejected: the file cannot be imported (its message is the reply).
    """

    def __call__(self, data: bytes, filename: str, limits: ImportLimits, /) -> AnkiCollection: ...


def imported_card_id(learner_id: int, note_key: str, ordinal: int) -> str:
    """Our id of an imported card: the same for the same learner, note (its guid, or a
    text export's first field) and card ordinal, so re-importing updates the card."""
    raise NotImplementedError


def plan_import(collection: AnkiCollection, learner: Learner, now: datetime) -> ImportPlan:
    """Map a file's notes, cards and review log to personal decks for ``learner``.

    Note types whose templates we cannot draw are skipped whole (:attr:`ImportPlan.skipped`
    names them). States are replayed with the learner's FSRS parameters (the defaults when
    they have none) and desired retention; due days are Anki's, in the learner's time zone.
    """
    raise NotImplementedError
