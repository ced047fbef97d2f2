"""Import plans built by hand, for tests: what :func:`bot.core.importing.plan_import` makes,
written without it (the storage and the use cases are tested on these; the mapping has
tests of its own)."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Literal

from bot.core.ankifile import AnkiCollection, ImportLimits, MediaFile
from bot.core.importing import ANKI_SOURCE, ImportPlan, PlannedCard, PlannedDeck, SkippedNotes
from bot.core.model import CardState, CardStateKind, ReviewEntry

#: The smallest PNG there is (a 1x1 transparent pixel): what an image's bytes look like.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360000002000154a24f5d0000000049454e44ae426082"
)


def history(
    learner_id: int,
    card_id: str,
    times: Sequence[datetime],
    *,
    due_after: timedelta = timedelta(days=3),
    ratings: Sequence[int] | None = None,
) -> tuple[tuple[ReviewEntry, ...], CardState]:
    """Reviews at ``times`` (Good unless ``ratings`` says), as an import writes them
    (source ``anki``), and the state after the last: in review, due ``due_after`` later."""
    entries: list[ReviewEntry] = []
    state = CardState(learner_id, card_id)
    for i, at in enumerate(times):
        after = CardState(
            learner_id,
            card_id,
            CardStateKind.REVIEW,
            None,
            2.0 + i,
            5.0,
            at + due_after,
            at,
            state.reps + 1,
            0,
        )
        rating = ratings[i] if ratings is not None else 3
        entries.append(
            ReviewEntry(learner_id, card_id, rating, at, ANKI_SOURCE, state, after, 4000)
        )
        state = after
    return tuple(entries), state


def planned_card(
    card_id: str,
    position: int = 0,
    *,
    front: str | None = None,
    back: str | None = None,
    title: str | None = None,
    front_image: str | None = None,
    back_image: str | None = None,
    state: CardState | None = None,
    reviews: Iterable[ReviewEntry] = (),
) -> PlannedCard:
    """A planned card with readable defaults (front "Front of <id>", back "Back of <id>")."""
    return PlannedCard(
        id=card_id,
        position=position,
        title=title if title is not None else f"Title of {card_id}",
        front=front if front is not None else f"Front of {card_id}",
        back=back if back is not None else f"Back of {card_id}",
        front_image=front_image,
        back_image=back_image,
        state=state,
        reviews=tuple(reviews),
    )


def planned_deck(
    title: str,
    cards: Iterable[PlannedCard | str],
    *,
    source: Literal["anki", "text"] = "anki",
    source_ref: str | None = None,
    slug: str | None = None,
) -> PlannedDeck:
    """A planned deck of these cards (a bare string is a card id), positions in order."""
    made = [
        replace(c, position=i) if isinstance(c, PlannedCard) else planned_card(c, i)
        for i, c in enumerate(cards)
    ]
    return PlannedDeck(
        source=source,
        source_ref=source_ref if source_ref is not None else title,
        title=title,
        slug=slug if slug is not None else title.lower().replace("::", "-").replace(" ", "-"),
        cards=tuple(made),
    )


def plan(
    *decks: PlannedDeck,
    media: Iterable[MediaFile] = (),
    skipped: Iterable[SkippedNotes] = (),
    problems: Iterable[str] = (),
) -> ImportPlan:
    """A plan of these decks."""
    return ImportPlan(
        decks=decks, media=tuple(media), skipped=tuple(skipped), problems=tuple(problems)
    )


def empty_collection(filename: str = "deck.apkg") -> AnkiCollection:
    """A collection with nothing in it (what the reader returns is not looked into when
    the mapping is monkeypatched)."""
    return AnkiCollection("anki21b", filename, datetime(2025, 1, 1, tzinfo=UTC), (), (), (), ())


@dataclass
class FakeReader:
    """An :class:`~bot.core.importing.AnkiReader`: what it returns (or raises), and the
    calls it got."""

    result: AnkiCollection | Exception = field(default_factory=empty_collection)
    calls: list[tuple[bytes, str, ImportLimits]] = field(default_factory=list)

    def __call__(self, data: bytes, filename: str, limits: ImportLimits, /) -> AnkiCollection:
        self.calls.append((data, filename, limits))
        if isinstance(self.result, Exception):
            raise self.result
        return self.result


@dataclass
class FakeFetch:
    """A platform's download of the file a learner sent; counts the calls."""

    data: bytes = b"PK\x03\x04 an Anki package"
    calls: int = 0

    async def __call__(self) -> bytes:
        self.calls += 1
        return self.data
