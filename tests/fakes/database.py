"""The fake :class:`~bot.core.ports.Database`: units of work over an in-memory store."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import TypeVar

from bot.core.decks import Deck
from bot.core.model import CardState, Learner, Prompt, ReviewEntry
from tests.fakes.catalogue import FakeCatalogue
from tests.fakes.challenges import FakeChallenges
from tests.fakes.confirmations import FakeConfirmations
from tests.fakes.learners import FakeLearners
from tests.fakes.media import FakeMedia
from tests.fakes.models import FakeModels
from tests.fakes.personal import FakePersonalDecks
from tests.fakes.prompts import FakePrompts
from tests.fakes.pushes import FakePushes
from tests.fakes.questions import FakeQuestions
from tests.fakes.quizzes import FakeQuizzes
from tests.fakes.reviews import FakeReviews
from tests.fakes.schedule import FakeSchedule
from tests.fakes.store import FakeStore, OutboxRow
from tests.fakes.web import FakeWebRepo

T = TypeVar("T")


class FakeTx:
    """The repositories of one unit of work, over one view of the store."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store
        self._learners = FakeLearners(store)
        self._catalogue = FakeCatalogue(store)
        self._schedule = FakeSchedule(store)
        self._reviews = FakeReviews(store)
        self._prompts = FakePrompts(store)
        self._quizzes = FakeQuizzes(store)
        self._confirmations = FakeConfirmations(store)
        self._pushes = FakePushes(store)
        self._challenges = FakeChallenges(store)
        self._questions = FakeQuestions(store)
        self._models = FakeModels(store)
        self._media = FakeMedia(store)
        self._personal = FakePersonalDecks(store)
        self._web = FakeWebRepo(store)

    @property
    def learners(self) -> FakeLearners:
        return self._learners

    @property
    def catalogue(self) -> FakeCatalogue:
        return self._catalogue

    @property
    def schedule(self) -> FakeSchedule:
        return self._schedule

    @property
    def reviews(self) -> FakeReviews:
        return self._reviews

    @property
    def prompts(self) -> FakePrompts:
        return self._prompts

    @property
    def quizzes(self) -> FakeQuizzes:
        return self._quizzes

    @property
    def confirmations(self) -> FakeConfirmations:
        return self._confirmations

    @property
    def pushes(self) -> FakePushes:
        return self._pushes

    @property
    def challenges(self) -> FakeChallenges:
        return self._challenges

    @property
    def questions(self) -> FakeQuestions:
        return self._questions

    @property
    def models(self) -> FakeModels:
        return self._models

    @property
    def media(self) -> FakeMedia:
        return self._media

    @property
    def personal(self) -> FakePersonalDecks:
        return self._personal

    @property
    def web(self) -> FakeWebRepo:
        return self._web


class FakeDatabase:
    """Runs units of work over an in-memory store.

    Each :meth:`run` gives the work a copy-on-write view of the store (new
    containers, shared immutable values) and swaps it in only if the work
    returns: a unit of work that raises leaves no trace.

    Args:
        decks: decks to load into the catalogue at construction.
        now: the sync instant for those decks (aware UTC).
    """

    def __init__(self, decks: Sequence[Deck] = (), now: datetime | None = None) -> None:
        self.store = FakeStore()
        self.commits = 0
        self.rollbacks = 0
        if decks:
            self.run_sync(
                lambda tx: tx.catalogue.sync(decks, now or datetime(2026, 1, 1, tzinfo=UTC))
            )

    def run_sync(self, work: Callable[[FakeTx], T]) -> T:
        """Run one unit of work synchronously (for test set-up and inspection)."""
        view = self.store.copy()
        try:
            result = work(FakeTx(view))
        except BaseException:
            self.rollbacks += 1
            raise
        self.store = view
        self.commits += 1
        return result

    async def run(self, work: Callable[[FakeTx], T]) -> T:
        """Run ``work`` in one transaction; commit if it returns, roll back if it raises."""
        return self.run_sync(work)

    def snapshot(self) -> FakeStore:
        """A copy of the committed store, comparable with ``==``."""
        return self.store.copy()

    # Convenience readers over the committed store.

    def learner(self, platform: str, user_id: str) -> Learner | None:
        return FakeLearners(self.store).get(platform, user_id)

    def state(self, learner_id: int, card_id: str) -> CardState:
        return FakeSchedule(self.store).get(learner_id, card_id)

    def has_state(self, learner_id: int, card_id: str) -> bool:
        return (learner_id, card_id) in self.store.states

    def reviews(self, learner_id: int | None = None) -> list[ReviewEntry]:
        return FakeReviews(self.store).all(learner_id)

    def prompt(self, token: str) -> Prompt | None:
        return self.store.prompts.get(token)

    def outbox(self, platform: str | None = None) -> list[OutboxRow]:
        """Every outbox row (sent and failed ones too), by id."""
        return [
            r
            for _, r in sorted(self.store.outbox.items())
            if platform is None or r.message.platform == platform
        ]

    def last_reminder(self, learner_id: int) -> datetime | None:
        """The learner's ``last_reminder_at`` (None: never reminded)."""
        return self.store.last_reminders.get(learner_id)
