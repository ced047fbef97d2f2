"""A learner's own decks: a file imported into them, and ``/decks`` pause, resume, remove.

An import (:meth:`bot.core.study.StudyService.import_file`, ``studybot import``) runs in
four steps, only the last touching the database for writing:

1. the declared size against :data:`~bot.core.ankifile.MAX_IMPORT_BYTES` (a file too
   large is never downloaded), then the download;
2. the reader (:class:`~bot.core.importing.AnkiReader`, blocking: in a thread) turns the
   bytes into an :class:`~bot.core.ankifile.AnkiCollection`, or refuses the file with
   :class:`~bot.core.ankifile.ImportRejected`, whose message is the reply;
3. the mapping (:func:`bot.core.importing.plan_import`, pure and CPU-bound: in a thread,
   with the learner read in a unit of work first) makes an
   :class:`~bot.core.importing.ImportPlan`;
4. :func:`write_import` writes the whole plan in ONE unit of work: decks, cards, the
   review log (rows already imported skipped), schedules (a card the learner reviewed
   here after Anki keeps ours) and images. Any error rolls all of it back.

A personal deck is seen only by its owner (:class:`~bot.core.ports.CatalogueRepo`), and
its cards are offered only while it is not paused (:class:`~bot.core.ports.ScheduleRepo`).
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
import re
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Final

from bot.core import importing, srs
from bot.core.actions import Action, DeckChoice, DeckStep
from bot.core.ankifile import ImportLimits, ImportRejected, MediaFile
from bot.core.ankihtml import escape_markdown
from bot.core.importing import ANKI_SOURCE, AnkiReader, ImportPlan, PlannedCard, SkippedNotes
from bot.core.messages import Button, Reply
from bot.core.model import CardState, Learner, PersonalDeck, ReviewSource, SyncReport
from bot.core.ports import Tx
from bot.core.views import button
from bot.text.excerpt import excerpt

log = logging.getLogger(__name__)

__all__ = [
    "IMPORT_UNAVAILABLE",
    "RMDECK",
    "DeckWritten",
    "ImportSummary",
    "deck_buttons",
    "deck_command",
    "image_mime",
    "import_data",
    "import_reply",
    "nothing_to_import",
    "pause_deck",
    "remove_deck",
    "request_remove",
    "write_import",
]

#: What a bot without a reader wired says (tests and tools that build services bare).
IMPORT_UNAVAILABLE: Final = (
    "Importing files isn't set up on this bot, so I can't read that file. "
    "/decks lists the decks you can study."
)
#: The confirmation kind of removing a deck (its subject: the deck id).
RMDECK: Final = "rmdeck"
#: The longest media file name the ``media`` table keeps.
MAX_MEDIA_NAME: Final = 256
#: The sources whose reviews never make an imported schedule give way: what was
#: imported itself, and practice, which schedules nothing.
NOT_STUDY: Final = (ANKI_SOURCE, ReviewSource.CRAM.value)
#: The longest deck title shown on a button.
_BUTTON_TITLE: Final = 24


def shown_title(title: str, limit: int | None = None) -> str:
    """A deck's title in a reply: its markdown characters shown as themselves (an Anki
    deck may be called "C++ *basics*"), cut to ``limit`` characters when given."""
    return escape_markdown(excerpt(title, limit) if limit is not None else title)


def _s(n: int, word: str, plural: str | None = None) -> str:
    """``"1 card"``, ``"3,410 cards"``."""
    return f"{n:,} {word if n == 1 else plural or word + 's'}"


def nothing_to_import(plan: ImportPlan) -> Reply:
    """The reply to a file that holds no card we can make."""
    lines = ["I found nothing to import in that file: no note in it makes a card I can show."]
    lines.extend(_skipped_lines(plan.skipped))
    lines.extend(_problem_lines(plan.problems))
    return Reply("error", "\n".join(lines))


def image_mime(f: MediaFile) -> str | None:
    """The type of an image by its first bytes (then its name, for SVG); None for anything
    but PNG, JPEG, GIF, WebP and SVG."""
    head = f.data[:16]
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    if head.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if head.startswith((b"GIF87a", b"GIF89a")):
        return "image/gif"
    if head.startswith(b"RIFF") and f.data[8:12] == b"WEBP":
        return "image/webp"
    start = f.data[:4096].lstrip().lower()
    looks_svg = start.startswith((b"<svg", b"<?xml")) or f.name.lower().endswith(".svg")
    return "image/svg+xml" if looks_svg and b"<svg" in start else None


# --------------------------------------------------------------------------- writing


@dataclass(frozen=True, slots=True)
class DeckWritten:
    """What importing wrote to one deck.

    Attributes:
        created: the deck is new (else it was found by its source and identity).
        renamed_from: its old title, when the file names it otherwise now.
        cards: the deck's cards in the file (less any refused).
        new: of them, cards without history (new here too); ``with_history`` the others.
        reviews: the file's reviews of its cards; ``reviews_added`` those not imported
            before.
        report: the cards added, rewritten, retired (gone from the file), unchanged.
        schedules: schedules written from the file (a card studied here since keeps ours).
        due_today: its cards due before the learner's next day starts.
        paused: the learner had paused it (a re-import leaves it so).
    """

    deck_id: str
    title: str
    created: bool
    renamed_from: str | None
    cards: int
    new: int
    with_history: int
    reviews: int
    reviews_added: int
    report: SyncReport
    schedules: int
    due_today: int
    paused: bool

    @property
    def changed(self) -> bool:
        r = self.report
        return bool(
            self.created
            or self.renamed_from is not None
            or r.added
            or r.updated
            or r.retired
            or self.reviews_added
            or self.schedules
        )


@dataclass(frozen=True, slots=True)
class ImportSummary:
    """What one import wrote, and what the learner is told of it.

    Attributes:
        images: images stored (new or changed).
        topics_added: new deck ids added to the decks the learner chose to study.
        studies_everything: the learner studies every deck (no topics chosen).
    """

    decks: tuple[DeckWritten, ...]
    skipped: tuple[SkippedNotes, ...] = ()
    problems: tuple[str, ...] = ()
    images: int = 0
    topics_added: tuple[str, ...] = ()
    studies_everything: bool = True


@dataclass(slots=True)
class _Log:
    """The review-log rows already imported, and each card's latest review here."""

    imported: set[tuple[str, datetime]] = field(default_factory=set)
    studied: dict[str, datetime] = field(default_factory=dict)


def _unique(cards: Sequence[PlannedCard]) -> list[PlannedCard]:
    seen: dict[str, PlannedCard] = {}
    for card in cards:
        seen.setdefault(card.id, card)
    return list(seen.values())


def _keep_ours(card: PlannedCard, studied: datetime | None) -> bool:
    """Whether the learner reviewed this card here after its last Anki review."""
    if studied is None:
        return False
    if card.state is None:
        return True  # new in Anki, studied here: ours is the only history
    anki_last = card.state.last_review or (card.reviews[-1].reviewed_at if card.reviews else None)
    return anki_last is None or studied > anki_last


def _due_before(state: CardState | None, until: datetime) -> bool:
    return (
        state is not None
        and not state.is_new
        and not state.suspended
        and state.due is not None
        and state.due < until
    )


def _write_deck(
    tx: Tx,
    learner: Learner,
    deck_id: str,
    cards: list[PlannedCard],
    log: _Log,
    tomorrow: datetime,
) -> tuple[int, int, int]:
    """The reviews and schedules of a deck's cards: (reviews added, schedules written, due
    today)."""
    fresh = []
    for card in cards:
        for entry in card.reviews:
            key = (entry.card_id, entry.reviewed_at)
            if key not in log.imported:
                log.imported.add(key)
                fresh.append(entry)
    tx.reviews.add_many(fresh)
    stored = {s.card_id: s for s in tx.schedule.states_for([learner.id], [c.id for c in cards])}
    changed: list[CardState] = []
    due = 0
    for card in cards:
        final = stored.get(card.id)
        if card.state is not None and not _keep_ours(card, log.studied.get(card.id)):
            if final != card.state:
                changed.append(card.state)
            final = card.state
        due += _due_before(final, tomorrow)
    tx.schedule.save_many(changed)
    return len(fresh), len(changed), due


def _store_images(
    tx: Tx, learner: Learner, plan: ImportPlan, now: datetime
) -> tuple[int, list[str]]:
    """Store the plan's images (unchanged ones left alone); (how many written, problems)."""
    written = 0
    problems: list[str] = []
    for f in plan.media:
        if len(f.name) > MAX_MEDIA_NAME:
            problems.append(
                f"An image's file name is longer than {MAX_MEDIA_NAME} characters "
                f"(“{excerpt(f.name, 40)}”): its cards show without it."
            )
            continue
        mime = image_mime(f)
        if mime is None:
            shown = f.name.partition("-")[2] if _DIGESTED.match(f.name) else f.name
            problems.append(
                f"“{excerpt(shown, 60)}” is not an image I can show (PNG, JPEG, GIF, WebP "
                "or SVG): its cards show without it."
            )
            continue
        old = tx.media.get(learner.id, f.name)
        if old is None or old.mime != mime or old.data != f.data:
            tx.media.put(learner.id, f.name, mime, f.data, now)
            written += 1
    tx.media.prune(learner.id)
    return written, problems


#: A stored image's name: the digest :func:`content_named` puts before the file's name.
_DIGESTED: Final = re.compile(r"[0-9a-f]{16}-.")


def content_named(plan: ImportPlan) -> ImportPlan:
    """The plan with each image stored under its content's digest and its name
    (``<16 hex of its SHA-256>-<name>``), and its cards naming them so: one learner's decks
    from different packages often each have an ``image.png``, and a changed image makes
    its cards' content change. A name that would grow too long is left as it is (and
    refused by its length)."""
    names: dict[str, str] = {}
    for m in plan.media:
        stored = f"{hashlib.sha256(m.data).hexdigest()[:16]}-{m.name}"
        names[m.name] = stored if len(stored) <= MAX_MEDIA_NAME else m.name

    def renamed(card: PlannedCard) -> PlannedCard:
        front, back = card.front_image, card.back_image
        return replace(
            card,
            front_image=names.get(front, front) if front else front,
            back_image=names.get(back, back) if back else back,
        )

    return replace(
        plan,
        decks=tuple(replace(d, cards=tuple(renamed(c) for c in d.cards)) for d in plan.decks),
        media=tuple(MediaFile(names[m.name], m.data) for m in plan.media),
    )


def write_import(tx: Tx, learner: Learner, plan: ImportPlan, now: datetime) -> ImportSummary:
    """Write a plan for ``learner`` in this unit of work (all of it, or nothing if it
    raises): each deck created or found again by its source and identity, its cards
    upserted, the review-log rows not imported before, the schedules (unless the learner
    reviewed a card here after Anki did: then ours stays), the images; new decks join the
    learner's chosen topics when they chose some. A deck with no card is left alone."""
    tx.personal.lock(learner.id)  # another import of theirs writes first, then this one reads it
    log = _Log()
    if plan.review_count:
        log.imported = tx.reviews.keys(learner.id, ANKI_SOURCE)
    log.studied = tx.reviews.last_reviewed(learner.id, NOT_STUDY)
    tomorrow = srs.next_day_start(now, learner.settings.timezone)
    problems: list[str] = []
    written: list[DeckWritten] = []
    created: list[str] = []
    for deck in plan.decks:
        cards = _unique(deck.cards)
        if not cards:
            problems.append(f"The deck “{shown_title(deck.title, 60)}” has no card I can import.")
            continue
        found = tx.personal.find(learner.id, deck.source, deck.source_ref)
        renamed_from: str | None = None
        if found is None:
            deck_id = tx.personal.create(
                learner.id, deck.title, deck.source, deck.source_ref, deck.slug, now
            )
            created.append(deck_id)
        else:
            deck_id = found.id
            if found.title != deck.title[:256]:
                tx.personal.retitle(deck_id, deck.title, now)
                renamed_from = found.title
        report = tx.personal.upsert_cards(deck_id, cards, now)
        if report.refused:
            refused = set(report.refused)
            cards = [c for c in cards if c.id not in refused]
            problems.append(
                f"{_s(len(refused), 'card')} of “{shown_title(deck.title, 60)}” could not be "
                "imported: their ids are taken by other cards."
            )
        reviews_added, schedules, due = _write_deck(tx, learner, deck_id, cards, log, tomorrow)
        history = sum(1 for c in cards if c.state is not None)
        written.append(
            DeckWritten(
                deck_id=deck_id,
                title=deck.title,
                created=found is None,
                renamed_from=renamed_from,
                cards=len(cards),
                new=len(cards) - history,
                with_history=history,
                reviews=sum(len(c.reviews) for c in cards),
                reviews_added=reviews_added,
                report=report,
                schedules=schedules,
                due_today=due,
                paused=found is not None and found.paused,
            )
        )
    images, image_problems = _store_images(tx, learner, plan, now)
    if learner.topics and created:
        tx.learners.set_topics(learner.id, [*learner.topics, *created])
    return ImportSummary(
        decks=tuple(written),
        skipped=plan.skipped,
        problems=(*plan.problems, *problems, *image_problems),
        images=images,
        topics_added=tuple(created) if learner.topics else (),
        studies_everything=not learner.topics,
    )


async def import_data(
    reader: AnkiReader,
    data: bytes,
    filename: str,
    learner: Learner,
    now: datetime,
    write: Callable[[ImportPlan], Awaitable[ImportSummary]],
) -> Reply:
    """Read ``data`` (in a thread), map it for ``learner`` (in a thread), and have
    ``write`` write the plan in one unit of work (:func:`write_import`); the reply says
    what was imported. A refused file, or one with nothing to import, is a reply of kind
    ``error`` and nothing is written."""
    name = excerpt(filename, 60)
    try:
        collection = await asyncio.to_thread(reader, data, filename, ImportLimits())
    except ImportRejected as exc:
        return Reply("error", str(exc))
    except Exception:
        log.exception("reading %r failed", filename)
        return Reply(
            "error",
            f"I couldn't read “{name}”: something in it is not what an Anki package or an "
            "Anki text export holds. Nothing was imported.",
        )
    try:
        plan = await asyncio.to_thread(importing.plan_import, collection, learner, now)
    except ImportRejected as exc:
        return Reply("error", str(exc))
    except Exception:
        log.exception("mapping %r for learner %s failed", filename, learner.id)
        return Reply(
            "error",
            f"I read “{name}” but couldn't turn its notes into cards. Nothing was imported.",
        )
    if plan.card_count == 0:
        return nothing_to_import(plan)
    summary = await write(content_named(plan))
    log.info(
        "learner %s imported %r: %d deck(s), %d card(s), %d review(s)",
        learner.id,
        filename,
        len(summary.decks),
        plan.card_count,
        plan.review_count,
    )
    return import_reply(summary)


# --------------------------------------------------------------------------- the reply


def _skipped_lines(skipped: Sequence[SkippedNotes]) -> list[str]:
    return [
        f"{_s(s.count, 'note')} of type '{s.notetype}' {'was' if s.count == 1 else 'were'} "
        f"skipped: {s.reason}"
        for s in skipped
    ]


#: Problems listed in a reply at most (a package can have thousands of bad media files).
MAX_PROBLEMS: Final = 10


def _problem_lines(problems: Sequence[str]) -> list[str]:
    lines = [f"• {p}" for p in problems[:MAX_PROBLEMS]]
    if len(problems) > MAX_PROBLEMS:
        lines.append(f"• … and {len(problems) - MAX_PROBLEMS:,} more.")
    return lines


def _deck_line(d: DeckWritten) -> str:
    title = f"'{shown_title(d.title)}'"
    r = d.report
    due = (
        f" It is paused: /decks resume {d.deck_id} brings it back."
        if d.paused
        else f"; {d.due_today:,} due today."
    )
    if d.created:
        return (
            f"Imported {title} ({d.deck_id}): {_s(d.cards, 'card')} ({d.new:,} new, "
            f"{d.with_history:,} with history), {_s(d.reviews, 'review')}" + due
        )
    if not d.changed:
        return (
            f"Already imported: {title} has no changes "
            f"({_s(d.cards, 'card')}, {_s(d.reviews, 'review')})."
        )
    parts: list[str] = []
    if d.renamed_from is not None:
        parts.append(f"renamed from '{d.renamed_from}'")
    if r.added:
        parts.append(f"{_s(r.added, 'new card')}")
    if r.updated:
        parts.append(f"{_s(r.updated, 'card')} changed")
    if r.retired:
        parts.append(
            f"{_s(r.retired, 'card')} no longer in the file set aside (their history is kept)"
        )
    if d.reviews_added:
        parts.append(f"{_s(d.reviews_added, 'review')} added")
    if d.schedules:
        parts.append(f"{_s(d.schedules, 'schedule')} updated from Anki")
    return (
        f"Updated {title} ({d.deck_id}): {', '.join(parts)} "
        f"({_s(d.cards, 'card')}, {_s(d.reviews, 'review')} in all)" + due
    )


def import_reply(summary: ImportSummary) -> Reply:
    """What the learner is told: each deck's figures, the notes skipped and why, the
    problems, and how to study, pause or remove what they imported."""
    lines = [_deck_line(d) for d in summary.decks]
    lines.extend(_skipped_lines(summary.skipped))
    if summary.problems:
        lines.append("Also:")
        lines.extend(_problem_lines(summary.problems))
    changed = [d for d in summary.decks if d.changed]
    if summary.topics_added:
        lines.append(f"Added {', '.join(summary.topics_added)} to the decks you study.")
    created = [d for d in summary.decks if d.created]
    if created and summary.studies_everything:
        lines.append(
            "You study every deck, and the new cards of your own decks come after the "
            f"bot's decks: /decks {created[0].deck_id} studies it alone."
        )
    if changed:
        lines.append(
            "Send /review to study. /decks lists your decks: /decks pause ID, "
            "/decks resume ID and /decks remove ID pause, resume or remove one."
        )
    return Reply("info", "\n".join(lines))


# --------------------------------------------------------------------------- /decks


def _own_deck(tx: Tx, learner: Learner, deck_id: str) -> PersonalDeck | str:
    """The learner's own deck by id, or the refusal to reply with."""
    deck = tx.personal.get(deck_id) or tx.personal.get(deck_id.lower())  # ids are lowercase
    if deck is not None and deck.owner_id == learner.id:
        return deck
    named = deck_id.strip().casefold()
    shipped = next(
        (d for d in tx.catalogue.decks() if named in (d.id.casefold(), d.title.casefold())),
        None,
    )
    if deck is None and shipped is not None:  # by id or title, in any case
        return (
            f"“{shown_title(shipped.title, 60)}” is one of the bot's own decks: only decks "
            f"you imported can be paused or removed. /decks {shipped.id} studies it alone, "
            "/decks all studies every deck."
        )
    mine = tx.personal.list(learner.id)
    text = f"You have no deck with the id “{excerpt(deck_id, 60)}”."
    if mine:
        return text + " Your decks: " + ", ".join(d.id for d in mine) + "."
    return (
        text + " You have imported none yet: send me an Anki package (.apkg) or an Anki "
        "text export in this chat to make one."
    )


def pause_deck(tx: Tx, learner: Learner, deck_id: str, paused: bool) -> Reply:
    """Pause (or resume) one of the learner's own decks: its cards are not offered, due
    or new, until resumed."""
    found = _own_deck(tx, learner, deck_id)
    if isinstance(found, str):
        return Reply("error", found)
    title = f"'{shown_title(found.title)}' ({found.id})"
    if found.paused == paused:
        return Reply("info", f"{title} is already {'paused' if paused else 'active'}.")
    tx.personal.set_paused(found.id, paused)
    if paused:
        return Reply(
            "info",
            f"Paused {title}: its cards are not offered until you send /decks resume {found.id}.",
        )
    return Reply("info", f"Resumed {title}: its cards come back in /review.")


def _remove_question(deck: PersonalDeck) -> str:
    return (
        f"This removes '{shown_title(deck.title)}' with its {_s(deck.card_count, 'card')} and your "
        f"{_s(deck.reviews, 'review')} of them. It cannot be undone. Remove it?"
    )


def request_remove(tx: Tx, learner: Learner, deck_id: str, now: datetime, token: str) -> Reply:
    """Ask before removing one of the learner's own decks (confirmation ``rmdeck``)."""
    found = _own_deck(tx, learner, deck_id)
    if isinstance(found, str):
        return Reply("error", found)
    tx.confirmations.add(token, learner.id, RMDECK, now, found.id)
    return Reply(
        "info",
        _remove_question(found),
        buttons=(
            (
                button("Yes, remove it", Action("confirm", token, 1), "danger"),
                button("No, keep it", Action("confirm", token, 0)),
            ),
        ),
    )


def remove_deck(tx: Tx, learner: Learner, deck_id: str) -> Reply:
    """Remove a deck the learner confirmed removing: its cards, their schedules and
    history, and the images only it showed; it leaves the decks they study."""
    deck = tx.personal.get(deck_id)
    if deck is None or deck.owner_id != learner.id:
        return Reply("info", "That deck is already gone.")
    tx.personal.remove(deck.id)
    text = (
        f"Removed '{shown_title(deck.title)}': its {_s(deck.card_count, 'card')} and your "
        f"{_s(deck.reviews, 'review')} of them are deleted."
    )
    if deck.id in learner.topics:
        rest = [t for t in learner.topics if t != deck.id]
        tx.learners.set_topics(learner.id, rest)
        text += " You now study " + (", ".join(rest) if rest else "every deck") + "."
    s = learner.settings
    if s.exam_topic == deck.id:  # the exam covered only this deck: nothing is left of it
        tx.learners.save_settings(learner.id, replace(s, exam_date=None, exam_topic=None))
        text += " Your exam covered only this deck, so it is cleared: /exam sets a new one."
    return Reply("info", text)


def deck_buttons(decks: Sequence[PersonalDeck]) -> tuple[tuple[Button, ...], ...]:
    """Per deck: Pause (or Resume) and Remove; a deck whose id does not fit in a payload
    gets none (``/decks pause ID`` still works)."""
    rows: list[tuple[Button, ...]] = []
    for d in decks:
        step: DeckStep = "resume" if d.paused else "pause"
        pause, remove = DeckChoice(step, d.id), DeckChoice("remove", d.id)
        try:
            pause.encode()
        except ValueError:
            continue
        # A subdeck by its own name: "Languages::Spanish::Verbs" is "Verbs".
        name = excerpt(d.title.rsplit("::", 1)[-1].strip() or d.title, _BUTTON_TITLE)
        rows.append(
            (
                button(f"{'Resume' if d.paused else 'Pause'} {name}", pause),
                button(f"Remove {name}", remove, "danger"),
            )
        )
    return tuple(rows)


DECK_STEPS: Final[dict[str, DeckStep]] = {"pause": "pause", "resume": "resume", "remove": "remove"}
DECK_USAGE: Final = "/decks pause ID, /decks resume ID or /decks remove ID (the ids /decks lists)."


def deck_command(
    tx: Tx, learner: Learner, step: DeckStep, args: Sequence[str], now: datetime, token: str
) -> Reply:
    """``/decks pause|resume|remove ID``: the deck named by its id."""
    if len(args) != 1:
        return Reply("error", "Give one deck id: " + DECK_USAGE)
    deck_id = args[0].strip()
    if step == "remove":
        return request_remove(tx, learner, deck_id, now, token)
    return pause_deck(tx, learner, deck_id, step == "pause")
