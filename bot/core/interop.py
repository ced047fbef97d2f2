"""Anki interop, the core's half: what an Anki export holds, read in one transaction.

Building the package (``anki``'s collection, or genanki without it) is CPU and file
work in a library the core must not import: :class:`AnkiPackager` is the port,
:mod:`bot.interop.anki_export` the adapter, run in a thread by
:meth:`bot.core.study.StudyService.export`.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Protocol

from bot.core.messages import Attachment, Reply
from bot.core.model import CardInfo, CardState, Learner, ReviewEntry, ReviewSource
from bot.core.ports import Tx

__all__ = [
    "ANKI_UNAVAILABLE",
    "AnkiExport",
    "AnkiPackage",
    "AnkiPackager",
    "anki_export",
    "anki_reply",
]

#: Said when no packager is wired (neither ``anki`` nor genanki is installed).
ANKI_UNAVAILABLE = (
    "Anki export isn't installed on this bot. Its host can add it with "
    "`pip install 'studybot[anki]'`. /export still sends your review history as CSV."
)


@dataclass(frozen=True, slots=True)
class AnkiExport:
    """One learner's cards, schedule and review log, for an Anki package.

    Attributes:
        cards: every card the learner studies or has reviewed, in catalogue order.
        states: the learner's schedule rows for those cards (new cards may have none).
        reviews: the review log, oldest first, without practice (``/cram``) and undone
            reviews, which changed no schedule.
    """

    learner_id: int
    cards: tuple[CardInfo, ...]
    states: tuple[CardState, ...]
    reviews: tuple[ReviewEntry, ...]
    desired_retention: float
    fsrs_parameters: tuple[float, ...] | None
    now: datetime


@dataclass(frozen=True, slots=True)
class AnkiPackage:
    """A built package: its file, and whether it carries the schedule and history
    (``anki`` installed) or the notes alone (genanki)."""

    filename: str
    data: bytes
    with_scheduling: bool


class AnkiPackager(Protocol):
    """Builds an ``.apkg`` from an export (blocking: run it in a thread)."""

    def __call__(self, export: AnkiExport, /) -> AnkiPackage: ...


def anki_export(tx: Tx, learner: Learner, now: datetime) -> AnkiExport:
    """Read what an Anki export of ``learner`` holds."""
    reviews = [
        e
        for e in tx.reviews.all_for(learner.id)
        if e.undone_at is None and e.source != ReviewSource.CRAM
    ]
    wanted: dict[str, None] = {}
    for topic in learner.topics:
        wanted.update(dict.fromkeys(tx.catalogue.cards_in_topic(topic, learner.id)))
    wanted.update(dict.fromkeys(e.card_id for e in reviews))
    cards = [c for c in (tx.catalogue.card(cid) for cid in wanted) if c is not None]
    states = tx.schedule.states_for([learner.id], [c.id for c in cards])
    return AnkiExport(
        learner_id=learner.id,
        cards=tuple(cards),
        states=tuple(states),
        reviews=tuple(reviews),
        desired_retention=learner.settings.desired_retention,
        fsrs_parameters=learner.settings.fsrs_parameters,
        now=now,
    )


def anki_reply(package: AnkiPackage, export: AnkiExport) -> Reply:
    """The message that carries the package."""
    cards = len(export.cards)
    text = (
        f"Your Anki package: {cards} card{'s' if cards != 1 else ''}"
        if cards
        else "Your Anki package (no cards yet: send /review to start)"
    )
    if package.with_scheduling:
        reviews = len(export.reviews)
        text += (
            f" with their schedules, memory states and {reviews} review"
            f"{'s' if reviews != 1 else ''}. "
            "In Anki, turn on FSRS (Deck options → FSRS; the switch is Anki's own and "
            "does not travel in a package) so it schedules from those memory states. "
        )
    else:
        text += (
            ". It holds the notes only: every card starts as new in Anki, without your "
            "schedule or review history (the bot's host can add them with "
            "`pip install 'studybot[anki]'`). "
        )
    text += (
        "Open it with Anki (File → Import). Exporting again later updates these notes "
        "instead of adding copies."
    )
    return Reply("info", text, attachment=Attachment(package.filename, package.data))
