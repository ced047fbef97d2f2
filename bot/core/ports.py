"""Ports: what the core needs from the world, as Protocols.

Storage implements :class:`Database`. A use case hands one synchronous
function to :meth:`Database.run`; the storage layer runs it inside one
transaction, off the event loop (one hop per unit of work), and commits only
if it returns. The function talks to the repositories of :class:`Tx`.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import Protocol, TypeVar

from bot.core.decks import Deck
from bot.core.model import (
    CardInfo,
    CardState,
    DeckInfo,
    Learner,
    LearnerSettings,
    Prompt,
    ReviewEntry,
    SyncReport,
)

T = TypeVar("T")


class Clock(Protocol):
    """Gives the current instant (aware UTC)."""

    def now(self) -> datetime: ...


class TokenSource(Protocol):
    """Makes unguessable prompt tokens (at most 22 URL-safe characters)."""

    def __call__(self) -> str: ...


class LearnerRepo(Protocol):
    def get(self, platform: str, platform_user_id: str) -> Learner | None: ...

    def get_by_id(self, learner_id: int) -> Learner | None: ...

    def create(
        self,
        platform: str,
        platform_user_id: str,
        display_name: str,
        settings: LearnerSettings,
        topics: Sequence[str],
        now: datetime,
    ) -> Learner: ...

    def save_settings(self, learner_id: int, settings: LearnerSettings) -> None: ...

    def set_topics(self, learner_id: int, topics: Sequence[str]) -> None: ...


class CatalogueRepo(Protocol):
    def card(self, card_id: str) -> CardInfo | None: ...

    def decks(self) -> list[DeckInfo]: ...

    def topics(self) -> list[str]: ...

    def sync(self, decks: Sequence[Deck], now: datetime, *, retire: bool = True) -> SyncReport: ...


class ScheduleRepo(Protocol):
    def get(self, learner_id: int, card_id: str) -> CardState:
        """The learner's state for a card; a NEW state when there is none."""
        ...

    def save(self, state: CardState) -> None: ...

    def delete(self, learner_id: int, card_id: str) -> None: ...

    def next_due(self, learner_id: int, now: datetime) -> str | None:
        """The most overdue live card with ``due <= now`` that is not suspended or buried."""
        ...

    def next_new(self, learner_id: int, topics: Sequence[str], now: datetime) -> str | None:
        """The first live card in deck order in ``topics`` (deck ids or tags) never studied."""
        ...

    def count_due(self, learner_id: int, until: datetime) -> int: ...

    def unsuspend(self, learner_id: int, card_ids: Sequence[str] | None) -> int:
        """Unsuspend these cards (all when None); returns how many changed."""
        ...

    def next_due_at(self, learner_id: int) -> datetime | None:
        """When the learner's next live, unsuspended card falls due."""
        ...


class ReviewRepo(Protocol):
    def add(self, entry: ReviewEntry) -> int: ...

    def last_active(self, learner_id: int) -> ReviewEntry | None:
        """The learner's latest review that has not been undone."""
        ...

    def mark_undone(self, review_id: int, now: datetime) -> None: ...

    def counts_since(self, learner_id: int, since: datetime) -> tuple[int, int]:
        """(reviews, new cards introduced) since an instant, not counting undone ones."""
        ...

    def history(self, learner_id: int, since: datetime) -> list[tuple[datetime, int, int]]:
        """(reviewed_at, rating, state before) of every active review since an instant."""
        ...


class PromptRepo(Protocol):
    def add(self, prompt: Prompt) -> None: ...

    def get(self, token: str) -> Prompt | None: ...

    def reveal(self, token: str, now: datetime, typed_answer: str | None) -> None: ...

    def claim(self, token: str, learner_id: int, now: datetime) -> bool:
        """Mark an open prompt answered; False if it was already answered (a double tap)."""
        ...

    def prune(self, before: datetime) -> int:
        """Delete prompts created before an instant; returns how many."""
        ...


class Tx(Protocol):
    """The repositories of one transaction."""

    @property
    def learners(self) -> LearnerRepo: ...

    @property
    def catalogue(self) -> CatalogueRepo: ...

    @property
    def schedule(self) -> ScheduleRepo: ...

    @property
    def reviews(self) -> ReviewRepo: ...

    @property
    def prompts(self) -> PromptRepo: ...


class Database(Protocol):
    """Runs units of work."""

    async def run(self, work: Callable[[Tx], T]) -> T:
        """Run ``work`` in one transaction; commit if it returns, roll back if it raises."""
        ...
