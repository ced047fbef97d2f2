"""Anki interop, the core's half: what an Anki export holds, read in one transaction.

Building the package (``anki``'s collection, or genanki without it) is CPU and file
work in a library the core must not import: :class:`AnkiPackager` is the port,
:mod:`bot.interop.anki_export` the adapter, run in a thread by
:meth:`bot.core.study.StudyService.export_anki`. Before that, the cards' images become
files of the package (:class:`PackageMedia`): an imported image as it is stored, read in
the same transaction, and a shipped card's image drawn to PNG by the renderer
(:func:`draw_images`), at most :data:`MAX_PACKAGE_MEDIA_BYTES` in all.
"""

from __future__ import annotations

import asyncio
import logging
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from datetime import date, datetime, timedelta, tzinfo
from typing import Final, Protocol

from bot.core.mediaimages import MEDIA_KIND, media_source
from bot.core.messages import Attachment, Reply
from bot.core.model import CardInfo, CardState, Learner, ReviewEntry, ReviewSource
from bot.core.ports import Tx
from bot.core.rendering import RenderedImage, Renderer

__all__ = [
    "ANKI_ROLLOVER_HOUR",
    "ANKI_UNAVAILABLE",
    "MAX_PACKAGE_MEDIA_BYTES",
    "AnkiExport",
    "AnkiPackage",
    "AnkiPackager",
    "PackageMedia",
    "anki_day",
    "anki_export",
    "anki_reply",
    "draw_images",
]

log = logging.getLogger(__name__)

#: Said when no packager is wired (neither ``anki`` nor genanki is installed).
ANKI_UNAVAILABLE = (
    "Anki export isn't installed on this bot. Its host can add it with "
    "`pip install 'studybot[anki]'`. /export still sends your review history as CSV."
)

#: The hour Anki's day starts at, local time (its default "Next day starts at"; a package
#: carries no setting of its own).
ANKI_ROLLOVER_HOUR: Final = 4

#: The most image bytes a package carries, so that it stays within every platform's
#: upload limit (Discord: 10 MB); images beyond it stay as their text.
MAX_PACKAGE_MEDIA_BYTES: Final = 8_000_000


def anki_day(when: datetime, zone: tzinfo, rollover: int = ANKI_ROLLOVER_HOUR) -> date:
    """The Anki day ``when`` falls on for a learner in ``zone``: the local date, each day
    starting at ``rollover`` o'clock local time (3:59 on the 10th is still the 9th)."""
    return (when.astimezone(zone) - timedelta(hours=rollover)).date()


@dataclass(frozen=True, slots=True)
class PackageMedia:
    """A file the package carries: the card image (kind and spec) it shows, the file's
    name in the package (unique in it) and its bytes.

    An imported image (kind ``media``) is its stored file, as it is (SVG and GIF too:
    Anki shows them); any other is the renderer's PNG.
    """

    kind: str
    spec: str
    name: str
    data: bytes


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
    #: The learner's time zone (IANA name): a review card due on a local day here is due
    #: on that day in Anki (:func:`anki_day`).
    timezone: str = "UTC"
    #: The files the package carries for the cards' images, one per image.
    media: tuple[PackageMedia, ...] = ()
    #: Images left as their text because the package already carried
    #: :data:`MAX_PACKAGE_MEDIA_BYTES` of images.
    images_left: int = 0


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
    media, left = _stored_media(tx, cards)
    return AnkiExport(
        learner_id=learner.id,
        cards=tuple(cards),
        states=tuple(states),
        reviews=tuple(reviews),
        desired_retention=learner.settings.desired_retention,
        fsrs_parameters=learner.settings.fsrs_parameters,
        now=now,
        timezone=learner.settings.timezone,
        media=tuple(media),
        images_left=left,
    )


def _images(cards: Sequence[CardInfo]) -> dict[tuple[str, str], None]:
    """Each card image once, (kind, spec), in card order (the front's first)."""
    found: dict[tuple[str, str], None] = {}
    for card in cards:
        for image in (card.front_image, card.back_image):
            if image is not None:
                found[(image.kind, image.spec)] = None
    return found


def _stored_media(tx: Tx, cards: Sequence[CardInfo]) -> tuple[list[PackageMedia], int]:
    """The imported images the cards show, as stored (missing ones left out), within
    :data:`MAX_PACKAGE_MEDIA_BYTES`; and how many were left out for that limit."""
    out: list[PackageMedia] = []
    taken: set[str] = set()
    used = left = 0
    for kind, spec in _images(cards):
        source = media_source(spec) if kind == MEDIA_KIND else None
        stored = tx.media.get(*source) if source is not None else None
        if stored is None:
            continue
        if used + len(stored.data) > MAX_PACKAGE_MEDIA_BYTES:
            left += 1
            continue
        used += len(stored.data)
        out.append(PackageMedia(kind, spec, _unique_name(stored.name, taken), stored.data))
    return out, left


#: What a media file's name may not hold (Anki's own rule is close: no path separators,
#: no characters Windows refuses).
_UNSAFE_NAME: Final = re.compile(r'[\x00-\x1f\x7f/\\:*?"<>|]')
#: The longest media file name, in characters (Anki shortens longer ones itself).
_MAX_NAME: Final = 100


def _unique_name(wanted: str, taken: set[str]) -> str:
    """A file name for the package: ``wanted`` without characters a file name may not
    hold, at most :data:`_MAX_NAME` characters, made unique among ``taken`` (compared
    without case, as on Windows and macOS) by a ``-2``, ``-3`` ... before its extension;
    added to ``taken``."""
    clean = _UNSAFE_NAME.sub("_", wanted).strip().lstrip(".") or "image"
    stem, dot, ext = clean.rpartition(".")
    if not dot or not stem or len(ext) > 10:
        stem, ext = clean, ""
    suffix = f".{ext}" if ext else ""
    stem = stem[: _MAX_NAME - len(suffix)]
    name, n = stem + suffix, 1
    while name.casefold() in taken:
        n += 1
        name = f"{stem[: _MAX_NAME - len(suffix) - len(str(n)) - 1]}-{n}{suffix}"
    taken.add(name.casefold())
    return name


async def draw_images(export: AnkiExport, renderer: Renderer) -> AnkiExport:
    """``export`` with its shipped cards' images drawn to PNG by ``renderer`` (side by
    side; cached ones at once) and added to its files, within what is left of
    :data:`MAX_PACKAGE_MEDIA_BYTES`. An image that cannot be drawn stays as its text."""
    wanted = [(kind, spec) for kind, spec in _images(export.cards) if kind != MEDIA_KIND]
    if not wanted:
        return export
    drawn = await asyncio.gather(*(_draw(renderer, kind, spec) for kind, spec in wanted))
    media = list(export.media)
    taken = {m.name.casefold() for m in media}
    used = sum(len(m.data) for m in media)
    left = export.images_left
    for (kind, spec), image in zip(wanted, drawn, strict=True):
        if image is None:
            continue
        if used + len(image.data) > MAX_PACKAGE_MEDIA_BYTES:
            left += 1
            continue
        used += len(image.data)
        name = _unique_name(f"studybot-{image.key[:16]}{image.extension}", taken)
        media.append(PackageMedia(kind, spec, name, image.data))
    return replace(export, media=tuple(media), images_left=left)


async def _draw(renderer: Renderer, kind: str, spec: str) -> RenderedImage | None:
    try:
        return await renderer.card_image(kind, spec)
    except asyncio.CancelledError:
        raise
    except Exception:
        log.warning("could not draw the %s image %r for an Anki package", kind, spec, exc_info=True)
        return None


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
    images = len(export.media)
    if images:
        text += f"It carries {images} image{'s' if images != 1 else ''}. "
    if export.images_left:
        text += (
            f"{export.images_left:,} more "
            f"{'image stays' if export.images_left == 1 else 'images stay'} as text: "
            "a package carries at most "
            f"{MAX_PACKAGE_MEDIA_BYTES // 1_000_000} MB of images. "
        )
    text += (
        "Open it with Anki (File → Import). Exporting again later updates these notes "
        "instead of adding copies."
    )
    return Reply("info", text, attachment=Attachment(package.filename, package.data))
