"""An Anki file mapped to a learner's personal decks (pure).

:func:`plan_import` turns what a file holds (:class:`bot.core.ankifile.AnkiCollection`)
into an :class:`ImportPlan`: decks, cards in our markdown, each card's review history as
review-log rows (source ``anki``) with the FSRS states a replay of it gives, and the
schedule to keep, whose due day is Anki's. Storage writes a plan in one transaction
(:mod:`bot.core.personal`); nothing here touches the database.

**Cards.** Each Anki card is drawn with its note type's template
(:mod:`bot.core.ankitemplates`) and its HTML becomes our markdown
(:mod:`bot.core.ankihtml`). The back is what follows ``<hr id=answer>`` in the answer;
without one, the answer less a leading copy of the question; else the whole answer. The
first image of the question that the file carries is the card's ``front_image``; the
first other one on the back its ``back_image``; a further image is the text
``[image: name]``, one the file lacks ``[image missing: name]``. A note type we cannot
draw is skipped whole (:attr:`ImportPlan.skipped`); a card whose question comes out empty
is left out, as Anki would not make it. A text export's notes have no cards: each gets
the cards its note type makes, new, in the file's one deck.

**History.** A card's review-log rows, oldest first: a manual row (kind 4) with ease 0
and interval 0 is a reset ("Forget") and drops the rows before it; other ease-0 rows and
rescheduling rows (kind 5) are no reviews. The reviews left are replayed with the
learner's scheduler (their FSRS parameters or the defaults, desired retention and
steps; no fuzz), which gives each review-log row its before and after states; the
replay is py-fsrs's review to the last bit, over plain numbers
(:mod:`bot.core.fsrsreplay`), since an import replays hundreds of thousands of reviews.

**Schedule.** Stability and difficulty are the replay's; the kind (learning, review,
relearning), reps, lapses and suspension are Anki's. A card Anki holds as new is new
here (no state; a suspended one keeps its suspension as a new state due at once), unless
history remains (a preview, a reset Anki did not log): it is due at once, as Anki would
show it. A buried card is buried until the learner's next day. A review or relearning
card with no usable history takes the FSRS memory Anki kept, else a stability of its
interval in days (the memory for which FSRS gives that interval at 90 % retention) and
difficulty 5 (the middle of FSRS's 1-10). Its last review is then its due less its
interval.

**Due.** ``due`` (a filtered deck's card: ``original_due`` when set) is epoch seconds
from 1,000,000,000 on (learning cards: that instant), else a day number (review and
day-learning cards, whatever their queue). Day 0 is the learner's local date whose
midnight is nearest ``collection.created`` less ``rollover_hour`` hours (``created`` is
Anki's day start, at the rollover); day ``n`` is ``n`` calendar days later, and the card
is due at the start of that local day. So a card due on day D in Anki is due on local
day D here, across clock changes, and also for a collection made up to 12 hours away
(the file does not say in which zone it was made).
"""

from __future__ import annotations

import hashlib
import math
import re
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from operator import attrgetter
from pathlib import PurePosixPath
from typing import Final, Literal, Protocol
from zoneinfo import ZoneInfo

from bot.core import srs
from bot.core.ankifile import (
    AnkiCard,
    AnkiCollection,
    AnkiDeck,
    AnkiNote,
    AnkiReview,
    ImportLimits,
    MediaFile,
)
from bot.core.ankihtml import (
    convert,
    escape_markdown,
    finish,
    plain_line,
    plain_text,
    resolve_images,
)
from bot.core.ankitemplates import CompiledNoteType, Unmappable, compile_notetype, render
from bot.core.fsrsreplay import Memory, Replayer
from bot.core.model import CardState, CardStateKind, Learner, ReviewEntry

__all__ = [
    "ANKI_SOURCE",
    "AnkiReader",
    "ImportPlan",
    "PlannedCard",
    "PlannedDeck",
    "SkippedNotes",
    "deck_slug",
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


#: A ``due`` this large is epoch seconds (2001 on); below it, a day number.
EPOCH_SECONDS_FROM: Final = 1_000_000_000
#: Longest time an answer may count for, in the review log (an hour).
MAX_DURATION_MS: Final = 3_600_000
#: Difficulty given to a review card with no history and no memory from Anki.
DEFAULT_DIFFICULTY: Final = 5.0
#: The longest slug of a deck.
SLUG_LENGTH: Final = 40
#: The longest title of a card.
TITLE_LENGTH: Final = 80

_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)
#: Bounds on what a file may say, so that a corrupt number cannot overflow a date: a
#: due day at most a century from day 0, an instant before the year 3000.
_FAR_DAYS: Final = 36_525
_LAST_SECOND: Final = 32_503_680_000
_ANSWER_RULE: Final = re.compile(r"""<hr[^>]*?\bid\s*=\s*["']?answer\b["']?[^>]*>""", re.I)
_SOUND: Final = re.compile(r"\[sound:", re.I)
_BY_ID: Final = attrgetter("id")
_TYPE_KINDS: Final = {
    1: CardStateKind.LEARNING,
    2: CardStateKind.REVIEW,
    3: CardStateKind.RELEARNING,
}


def imported_card_id(learner_id: int, note_key: str, ordinal: int) -> str:
    """Our id of an imported card: the same for the same learner, note (its guid, or a
    text export's first field) and card ordinal, so re-importing updates the card.

    ``a`` and 24 hex digits of a SHA-256 of the three (25 characters): 96 bits, so two
    cards of one learner meet by chance with odds below 10⁻¹⁹ for a million cards.
    """
    key = f"{learner_id}\x1f{note_key}\x1f{ordinal}".encode()
    return "a" + hashlib.sha256(key).hexdigest()[:24]


def deck_slug(title: str) -> str:
    """A deck's slug: its title's ASCII words (accents dropped), lowercase, joined by
    ``-``, at most :data:`SLUG_LENGTH` characters (whole words while they fit); ``deck``
    when no word is left."""
    folded = unicodedata.normalize("NFKD", title).encode("ascii", "ignore").decode().lower()
    slug = ""
    for word in re.findall(r"[a-z0-9]+", folded):
        longer = f"{slug}-{word}" if slug else word
        if len(longer) > SLUG_LENGTH:
            slug = slug or word[:SLUG_LENGTH]
            break
        slug = longer
    return slug or "deck"


def note_key(note: AnkiNote) -> str:
    """What identifies a note across imports: its guid; a text export without one, its
    first field as plain text (every field when that is empty), which the planner puts
    after its deck's name."""
    if note.guid:
        return note.guid
    first = plain_text(note.fields[0]) if note.fields else ""
    return first or "\x1f".join(plain_text(f) for f in note.fields)


# --------------------------------------------------------------------------- days


def anki_day_zero(
    created: datetime, rollover_hour: int, zone: ZoneInfo, creation_offset: int | None = None
) -> date:
    """The date of Anki's day 0. With the collection's ``creation_offset`` (minutes west
    of UTC), exactly as Anki counts it (rslib's ``sched_timing_today``): ``created``'s
    own date in that zone, whatever the rollover. Without it, the learner's local date
    whose midnight is nearest ``created`` less ``rollover_hour`` hours (``created`` is
    Anki's day start there, so this is exact for a collection created within 12 hours of
    the learner's zone).
    A naive ``created`` is UTC; the hour is taken into 0-23."""
    if created.tzinfo is None:
        created = created.replace(tzinfo=UTC)
    start = created - timedelta(hours=min(max(rollover_hour, 0), 23))
    if creation_offset is not None:  # rslib: crt's own date there, whatever the rollover
        return (created - timedelta(minutes=creation_offset)).replace(tzinfo=None).date()
    local = start.astimezone(zone)
    return local.date() + timedelta(days=1 if local.hour >= 12 else 0)


def _local_midnight(day: date, zone: ZoneInfo) -> datetime:
    """The UTC instant a local date begins (a midnight a clock change skips: the first
    instant of that date)."""
    return datetime.combine(day, time(0), tzinfo=zone).astimezone(UTC)


# --------------------------------------------------------------------------- history


def _usable_memory(memory: tuple[float, float] | None) -> tuple[float, float] | None:
    """The FSRS memory state Anki kept, when we can take it (finite, stability > 0,
    difficulty 1-10)."""
    if memory is None or not all(math.isfinite(v) for v in memory):
        return None
    return memory if memory[0] > 0 and 1.0 <= memory[1] <= 10.0 else None


def usable_history(rows: Sequence[AnkiReview]) -> list[AnkiReview]:
    """A card's review-log rows that are reviews, oldest first: after the last reset (a
    manual row with ease 0 and interval 0), without other ease-0 rows, rescheduling rows
    (kind 5), answers in a filtered deck that did not reschedule (kind 3 with factor 0:
    cramming or a preview, which Anki's FSRS leaves out too), an ease outside 1-4, or a
    time before 1970 or after 2999."""
    kept: list[AnkiReview] = []
    for row in sorted(rows, key=_BY_ID):
        if row.kind == 5 or (row.kind == 3 and row.factor == 0):
            continue
        if row.ease == 0:
            if row.kind == 4 and row.interval == 0:
                kept.clear()
            continue
        if 1 <= row.ease <= 4 and 0 <= row.id <= _LAST_SECOND * 1000:
            kept.append(row)
    return kept


# --------------------------------------------------------------------------- the planner


@dataclass(slots=True)
class _Draft:
    """A planned card before its position in the deck is known."""

    order: tuple[int, int, int]
    id: str
    title: str
    front: str
    back: str
    front_image: str | None
    back_image: str | None
    state: CardState | None
    reviews: tuple[ReviewEntry, ...]


@dataclass(slots=True)
class _DeckDraft:
    source: Literal["anki", "text"]
    source_ref: str
    title: str
    cards: list[_Draft] = field(default_factory=list)


class _Planner:
    """One plan's working state (see :func:`plan_import`)."""

    def __init__(self, collection: AnkiCollection, learner: Learner, now: datetime) -> None:
        self.collection = collection
        self.learner = learner
        self.now = now.astimezone(UTC)
        self.settings = learner.settings
        self.zone = ZoneInfo(self.settings.timezone)
        self.replayer = Replayer(srs.scheduler_for(self.settings))
        self.day_zero = (
            anki_day_zero(
                collection.created,
                collection.rollover_hour,
                self.zone,
                collection.creation_offset,
            )
            if collection.created is not None
            else None
        )
        self.text = collection.format == "text"
        self.decks = {d.id: d for d in collection.decks}
        self.media = {m.name: m for m in collection.media}
        self.compiled: dict[int, CompiledNoteType | str] = {}
        self.notetypes = {nt.id: nt for nt in collection.notetypes}
        self.cards_by_note: defaultdict[int, list[AnkiCard]] = defaultdict(list)
        for card in collection.cards:
            self.cards_by_note[card.note_id].append(card)
        self.history: defaultdict[int, list[AnkiReview]] = defaultdict(list)
        for row in collection.reviews:
            self.history[row.card_id].append(row)
        self.out_decks: dict[tuple[str, str], _DeckDraft] = {}
        self.used_media: dict[str, MediaFile] = {}
        self.skipped: Counter[tuple[str, str]] = Counter()
        self.missing_images: set[str] = set()
        self.empty = 0
        self.duplicates = 0
        self.sounds = 0
        self.sound_notes = 0
        self.no_day_zero = 0
        self._buried_until: datetime | None = None

    # ------------------------------------------------------------------ notes

    def plan(self) -> ImportPlan:
        seen: set[str] = set()
        for index, note in enumerate(self.collection.notes):
            compiled = self._compiled(note.notetype_id)
            if isinstance(compiled, str):
                nt = self.notetypes.get(note.notetype_id)
                name = nt.name if nt is not None else f"#{note.notetype_id}"
                self.skipped[(name, compiled)] += 1
                continue
            key = note_key(note)
            if not note.guid:  # a text note is its first field in its deck: the same
                # words in two decks (two files, or one file renamed) are two notes
                key = f"{self._note_deck(note).name}\x1f{key}"
            if key in seen:
                self.duplicates += 1
                continue
            seen.add(key)
            planned = self._note(index, note, key, compiled)
            if planned:
                sounds = sum(len(_SOUND.findall(f)) for f in note.fields)
                self.sounds += sounds
                self.sound_notes += sounds > 0
        return self._result()

    def _compiled(self, notetype_id: int) -> CompiledNoteType | str:
        found = self.compiled.get(notetype_id)
        if found is None:
            nt = self.notetypes.get(notetype_id)
            if nt is None:
                found = "the file does not hold this note type"
            else:
                try:
                    found = compile_notetype(nt)
                except Unmappable as exc:
                    found = str(exc)
            self.compiled[notetype_id] = found
        return found

    def _note(self, index: int, note: AnkiNote, key: str, compiled: CompiledNoteType) -> int:
        """Plan a note's cards; how many were planned."""
        cards: Sequence[AnkiCard | int] = self.cards_by_note.get(note.id, ())
        if not cards and self.text:
            cards = compiled.ordinals(note.fields)
        planned = 0
        ordinals: set[int] = set()
        for card in cards:
            if isinstance(card, int):
                deck, ordinal, anki = self._text_deck(), card, None
            else:
                home = card.original_deck_id or card.deck_id
                deck, ordinal, anki = self._deck(home), card.ord, card
            if ordinal in ordinals:  # a second card of one template: the first one counts
                continue
            ordinals.add(ordinal)
            rendered = render(compiled, note.fields, ordinal, tags=note.tags, deck=deck.name)
            if rendered is None or not rendered.has_content:
                self.empty += 1
                continue
            sides = self._sides(rendered.question, rendered.answer)
            if sides is None:
                self.empty += 1
                continue
            front, back, front_image, back_image = sides
            card_id = imported_card_id(self.learner.id, key, ordinal)
            state: CardState | None
            reviews: tuple[ReviewEntry, ...]
            if anki is None:
                state, reviews = None, ()
                order = (0, index, ordinal)
            else:
                leech = any(t.lower() == "leech" for t in note.tags)
                state, reviews = self._schedule(anki, card_id, leech)
                order = self._order(anki)
            title = _title(front, front_image)
            draft = _Draft(
                order, card_id, title, front, back, front_image, back_image, state, reviews
            )
            self._deck_draft(deck).cards.append(draft)
            planned += 1
        return planned

    # ------------------------------------------------------------------ decks

    def _deck(self, deck_id: int) -> AnkiDeck:
        found = self.decks.get(deck_id)
        if found is None:
            found = AnkiDeck(deck_id, f"Anki deck {deck_id}")
            self.decks[deck_id] = found
        return found

    def _note_deck(self, note: AnkiNote) -> AnkiDeck:
        """The deck a note's first card goes to."""
        for card in self.cards_by_note.get(note.id, ()):
            return self._deck(card.original_deck_id or card.deck_id)
        return self._text_deck()

    def _text_deck(self) -> AnkiDeck:
        if self.collection.decks:
            return self.collection.decks[0]
        stem = PurePosixPath(self.collection.filename.replace("\\", "/")).stem.strip()
        return AnkiDeck(0, stem or "Imported")

    def _deck_draft(self, deck: AnkiDeck) -> _DeckDraft:
        if self.text:
            source: Literal["anki", "text"] = "text"
            ref = deck.name
        else:
            source, ref = "anki", str(deck.id)
        found = self.out_decks.get((source, ref))
        if found is None:
            found = _DeckDraft(source, ref, deck.name)
            self.out_decks[(source, ref)] = found
        return found

    @staticmethod
    def _order(card: AnkiCard) -> tuple[int, int, int]:
        """New cards first, in Anki's new order (their ``due``), then the rest by card id."""
        if card.type == 0:
            position = (
                card.original_due if card.original_deck_id and card.original_due else card.due
            )
            return (0, position, card.id)
        return (1, card.id, 0)

    # ------------------------------------------------------------------ sides

    def _sides(self, question: str, answer: str) -> tuple[str, str, str | None, str | None] | None:
        """A card's front and back markdown and images; None when the front is empty."""
        front_conv = convert(question)
        front_image: str | None = None

        def front_mark(i: int) -> str:
            nonlocal front_image
            name = front_conv.images[i]
            if name not in self.media:
                return self._missing(name)
            if front_image is None:
                front_image = name
                return ""
            return f"[image: {escape_markdown(name)}]"

        front = finish(
            resolve_images(front_conv.text, front_mark) if front_conv.images else front_conv.text
        )
        if not front and front_image is None:
            return None
        rule = _ANSWER_RULE.search(answer)
        if rule is not None:
            back_conv = convert(answer[rule.end() :])
            back_text = back_conv.text
        else:
            back_conv = convert(answer)
            rest = _after_question(front_conv.text, back_conv.text)
            back_text = back_conv.text if rest is None or not rest.strip() else rest
        back_image: str | None = None

        def back_mark(i: int) -> str:
            nonlocal back_image
            name = back_conv.images[i]
            if name not in self.media:
                return self._missing(name)
            if name == front_image:
                return ""
            if back_image is None:
                back_image = name
                return ""
            return f"[image: {escape_markdown(name)}]"

        back = finish(resolve_images(back_text, back_mark) if back_conv.images else back_text)
        for name in (front_image, back_image):
            if name is not None and name not in self.used_media:
                self.used_media[name] = self.media[name]
        return front, back, front_image, back_image

    def _missing(self, name: str) -> str:
        self.missing_images.add(name)
        return f"[image missing: {escape_markdown(name)}]"

    # ------------------------------------------------------------------ schedule

    def _schedule(
        self, card: AnkiCard, card_id: str, leech: bool
    ) -> tuple[CardState | None, tuple[ReviewEntry, ...]]:
        learner_id = self.learner.id
        history = usable_history(self.history.get(card.id, ()))
        reviews: list[ReviewEntry] = []
        before = CardState(learner_id, card_id)
        replayed: Memory | None = None
        lapses = 0
        review = self.replayer.review
        kinds = _TYPE_KINDS
        instant = datetime.fromtimestamp
        for n, row in enumerate(history, start=1):
            # The review-log id as an instant, exact to the millisecond: a float holds an
            # epoch instant before 2106 to half a microsecond, and fromtimestamp rounds.
            at = instant(row.id / 1000, UTC)
            lapses += row.ease == 1 and before.state is CardStateKind.REVIEW
            replayed = review(replayed, row.ease, row.id)
            after = CardState(
                learner_id,
                card_id,
                kinds[replayed.state],
                replayed.step,
                replayed.stability,
                replayed.difficulty,
                at + replayed.interval,
                at,
                n,
                lapses,
            )
            reviews.append(
                ReviewEntry(
                    learner_id,
                    card_id,
                    row.ease,
                    at,
                    ANKI_SOURCE,
                    before,
                    after,
                    min(max(row.time_ms, 0), MAX_DURATION_MS),
                )
            )
            before = after
        return self._kept(card, card_id, reviews, replayed, leech), tuple(reviews)

    def _kept(
        self,
        card: AnkiCard,
        card_id: str,
        reviews: list[ReviewEntry],
        replayed: Memory | None,
        leech: bool,
    ) -> CardState | None:
        """The schedule to keep for a card (see the module docs)."""
        suspended = card.queue == -1
        buried_until = self._next_day() if card.queue in (-2, -3) else None
        kind = _TYPE_KINDS.get(card.type)
        if kind is None:  # new in Anki
            if reviews:
                last = reviews[-1].after
                return CardState(
                    self.learner.id,
                    card_id,
                    last.state,
                    last.step,
                    last.stability,
                    last.difficulty,
                    # Due at once; the last review, not the import's instant, so that
                    # importing the same file again finds the same state.
                    reviews[-1].reviewed_at,
                    last.last_review,
                    card.reps,
                    card.lapses,
                    suspended,
                    leech,
                    buried_until,
                )
            if suspended:  # due at once when unsuspended; the card's creation (its id, in
                # ms), not the import's instant, so that importing again changes nothing
                made = _EPOCH + timedelta(milliseconds=min(max(card.id, 0), _LAST_SECOND * 1000))
                return CardState(self.learner.id, card_id, due=min(made, self.now), suspended=True)
            return None
        due = self._due(card)
        stability: float | None
        difficulty: float | None
        if replayed is not None:
            stability, difficulty = replayed.stability, replayed.difficulty
            kept = _usable_memory(card.memory)
            if kept is not None:
                # Anki's own state for this history (its FSRS, with the learner's fitted
                # parameters, counting days as Anki does) is the better estimate.
                stability, difficulty = kept
            last_review: datetime | None = reviews[-1].reviewed_at
        else:
            interval = min(card.interval, self.settings.maximum_interval_days)
            kept = _usable_memory(card.memory)
            if kept is not None:
                stability, difficulty = kept
            elif kind is CardStateKind.LEARNING:
                stability = difficulty = None
            else:
                stability, difficulty = float(max(interval, 1)), DEFAULT_DIFFICULTY
            if stability is not None:
                stability = max(stability, 0.001)
            if difficulty is not None:
                difficulty = min(max(difficulty, 1.0), 10.0)
            last_review = None
            if kind is not CardStateKind.LEARNING and interval > 0:
                last_review = min(due - timedelta(days=interval), self.now)
        step: int | None = None
        if kind is not CardStateKind.REVIEW:
            same = replayed is not None and replayed.state == int(kind)
            step = replayed.step if same and replayed is not None else None
            step = 0 if step is None else step
        return CardState(
            self.learner.id,
            card_id,
            kind,
            step,
            stability,
            difficulty,
            due,
            last_review,
            card.reps,
            card.lapses,
            suspended,
            leech,
            buried_until,
        )

    def _due(self, card: AnkiCard) -> datetime:
        value = card.original_due if card.original_deck_id and card.original_due else card.due
        if value >= EPOCH_SECONDS_FROM:
            return _EPOCH + timedelta(seconds=min(value, _LAST_SECOND))
        if self.day_zero is None:
            self.no_day_zero += 1
            return self.now
        days = min(max(value, -_FAR_DAYS), _FAR_DAYS)
        return _local_midnight(self.day_zero + timedelta(days=days), self.zone)

    def _next_day(self) -> datetime:
        if self._buried_until is None:
            self._buried_until = srs.next_day_start(self.now, self.settings.timezone)
        return self._buried_until

    # ------------------------------------------------------------------ result

    def _result(self) -> ImportPlan:
        decks: list[PlannedDeck] = []
        for draft in sorted(self.out_decks.values(), key=lambda d: (d.title, d.source_ref)):
            ordered = sorted(draft.cards, key=lambda c: c.order)
            cards = tuple(
                PlannedCard(
                    c.id,
                    position,
                    c.title,
                    c.front,
                    c.back,
                    c.front_image,
                    c.back_image,
                    c.state,
                    c.reviews,
                )
                for position, c in enumerate(ordered)
            )
            decks.append(
                PlannedDeck(
                    draft.source, draft.source_ref, draft.title, deck_slug(draft.title), cards
                )
            )
        skipped = tuple(
            SkippedNotes(name, count, reason)
            for (name, reason), count in sorted(self.skipped.items())
        )
        return ImportPlan(tuple(decks), tuple(self.used_media.values()), skipped, self._problems())

    def _problems(self) -> tuple[str, ...]:
        problems = list(self.collection.problems)
        if self.duplicates:
            problems.append(
                f"{_count(self.duplicates, 'note')} repeated an earlier note "
                f"({'the same first field' if self.text else 'the same id'}) and "
                f"{'was' if self.duplicates == 1 else 'were'} left out."
            )
        if self.empty:
            problems.append(
                f"{_count(self.empty, 'card')} came out with an empty question and "
                f"{'was' if self.empty == 1 else 'were'} left out (Anki would not show "
                "them either: empty fields, or a question that is only sound)."
            )
        if self.sounds:
            problems.append(
                f"{_count(self.sounds, 'sound clip')} in {_count(self.sound_notes, 'note')} "
                f"{'was' if self.sounds == 1 else 'were'} left out: the bot does not play audio."
            )
        if self.missing_images:
            names = sorted(self.missing_images)
            shown = ", ".join(names[:3]) + (", ..." if len(names) > 3 else "")
            problems.append(
                f"{_count(len(names), 'image')} the cards show "
                f"{'is' if len(names) == 1 else 'are'} not in the file ({shown}): "
                "each shows as [image missing: name]."
            )
        if self.no_day_zero:
            problems.append(
                f"The file does not say when its collection began, so "
                f"{_count(self.no_day_zero, 'card')} scheduled by day "
                f"{'is' if self.no_day_zero == 1 else 'are'} due now."
            )
        return tuple(problems)


def _count(n: int, noun: str) -> str:
    return f"{n:,} {noun}" + ("" if n == 1 else "s")


def _after_question(question: str, answer: str) -> str | None:
    """The answer less a leading copy of the question, line by line (blank lines aside;
    the question's last line may run on into the answer's); None when it has none."""
    wanted = [line.strip() for line in question.split("\n") if line.strip()]
    if not wanted:
        return None
    lines = answer.split("\n")
    i = 0
    for k, line in enumerate(wanted):
        while i < len(lines) and not lines[i].strip():
            i += 1
        if i >= len(lines):
            return None
        have = lines[i].strip()
        if have == line:
            i += 1
            continue
        if k == len(wanted) - 1 and have.startswith(line):
            return "\n".join([have[len(line) :].lstrip(), *lines[i + 1 :]])
        return None
    return "\n".join(lines[i:])


def _title(front: str, front_image: str | None) -> str:
    for line in front.split("\n"):
        text = plain_line(line, TITLE_LENGTH)
        if text:
            return text
    if front_image is not None:
        return plain_line(f"[image: {escape_markdown(front_image)}]", TITLE_LENGTH)
    return "Card"


def plan_import(collection: AnkiCollection, learner: Learner, now: datetime) -> ImportPlan:
    """Map a file's notes, cards and review log to personal decks for ``learner``.

    Note types whose templates we cannot draw are skipped whole (:attr:`ImportPlan.skipped`
    names them). States are replayed with the learner's FSRS parameters (the defaults when
    they have none) and desired retention; due days are Anki's, in the learner's time zone.
    Deterministic: the same file, learner and ``now`` give the same plan.
    """
    return _Planner(collection, learner, now).plan()
