"""What the fake database holds: the rows of each aggregate, and the UTC checks.

The counterpart of ``bot/storage/tables.py``. Every instant handed to a fake must
be aware UTC (``tzinfo is timezone.utc``), as the architecture requires; a naive
or non-UTC datetime fails loudly.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime

from bot.core.challenges.photos import StoredPhoto
from bot.core.decks import CardDef
from bot.core.model import (
    CardImage,
    CardState,
    ChallengeRun,
    ChallengeSchedule,
    Draft,
    GroupSettings,
    Learner,
    ModelFit,
    OutboxMessage,
    Prompt,
    QuizParticipant,
    QuizRound,
    ReviewEntry,
    Submission,
    WebSession,
)
from bot.core.ports import StoredMedia


def utc(when: datetime | None, what: str = "instant") -> None:
    """Fail loudly unless ``when`` is None or aware UTC with ``tzinfo is timezone.utc``."""
    if when is not None and when.tzinfo is not UTC:
        raise AssertionError(f"{what} must be aware UTC (tzinfo is timezone.utc), got {when!r}")


def state_utc(state: CardState) -> None:
    """Fail loudly unless every instant of a card state is None or aware UTC."""
    utc(state.due, "CardState.due")
    utc(state.last_review, "CardState.last_review")
    utc(state.buried_until, "CardState.buried_until")


@dataclass(frozen=True, slots=True)
class DeckRow:
    """A row of ``decks``."""

    id: str
    title: str
    description: str
    path: str
    tags: tuple[str, ...]
    position: int
    synced_at: datetime
    retired_at: datetime | None = None
    #: A personal deck's owner (None: a shipped deck), where it came from, and whether
    #: its owner paused it.
    owner_id: int | None = None
    source: str | None = None
    source_ref: str | None = None
    paused: bool = False


@dataclass(frozen=True, slots=True)
class CardRow:
    """A row of ``cards``: the card as synced, and where its deck stood in the sync.

    ``front_image`` and ``back_image`` are an imported card's images (kind ``media``),
    which a :class:`CardDef` cannot hold; a shipped card's are its definition's.
    """

    card: CardDef
    deck_position: int
    created_at: datetime
    updated_at: datetime
    retired_at: datetime | None = None
    front_image: CardImage | None = None
    back_image: CardImage | None = None

    @property
    def live(self) -> bool:
        return self.retired_at is None


@dataclass(frozen=True, slots=True)
class ConfirmationRow:
    """A row of ``confirmations``."""

    token: str
    learner_id: int
    kind: str
    created_at: datetime
    subject: str | None = None
    used_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboxRow:
    """One outbox row: the message (with its id, attempts and not_before) and delivery columns."""

    message: OutboxMessage
    lease_until: datetime | None = None
    sent_at: datetime | None = None
    failed_at: datetime | None = None
    last_error: str | None = None

    @property
    def pending(self) -> bool:
        return self.sent_at is None and self.failed_at is None


@dataclass(slots=True)
class FakeStore:
    """Everything the fake database holds. Values are immutable; containers are copied."""

    learners: dict[int, Learner] = field(default_factory=dict)
    decks: dict[str, DeckRow] = field(default_factory=dict)
    cards: dict[str, CardRow] = field(default_factory=dict)
    states: dict[tuple[int, str], CardState] = field(default_factory=dict)
    reviews: dict[int, ReviewEntry] = field(default_factory=dict)
    prompts: dict[str, Prompt] = field(default_factory=dict)
    rounds: dict[int, QuizRound] = field(default_factory=dict)
    participants: dict[tuple[int, int], QuizParticipant] = field(default_factory=dict)
    confirmations: dict[str, ConfirmationRow] = field(default_factory=dict)
    outbox: dict[int, OutboxRow] = field(default_factory=dict)
    #: learners.last_reminder_at, by learner id (absent: NULL).
    last_reminders: dict[int, datetime] = field(default_factory=dict)
    #: Learners whose next push is a snoozed one (learners.push_snoozed).
    snoozed_pushes: set[int] = field(default_factory=set)
    runs: dict[int, ChallengeRun] = field(default_factory=dict)
    submissions: dict[tuple[int, int], Submission] = field(default_factory=dict)
    #: challenge_photos: (run id, learner id) -> (the photo, stored_at).
    answer_photos: dict[tuple[int, int], tuple[StoredPhoto, datetime]] = field(default_factory=dict)
    groups: dict[tuple[str, str], GroupSettings] = field(default_factory=dict)
    schedules: dict[int, ChallengeSchedule] = field(default_factory=dict)
    #: open_questions: learner id -> (step, chain, expires_at).
    questions: dict[int, tuple[str, bool, datetime]] = field(default_factory=dict)
    #: learners.next_fit_at, by learner id (absent: NULL).
    next_fits: dict[int, datetime] = field(default_factory=dict)
    model_fits: dict[int, ModelFit] = field(default_factory=dict)
    #: media: (owner id, file name) -> the image.
    media: dict[tuple[int, str], StoredMedia] = field(default_factory=dict)
    #: web_sessions: cookie digest -> the session.
    web_sessions: dict[str, WebSession] = field(default_factory=dict)
    #: web_once: key -> expires_at.
    web_once: dict[str, datetime] = field(default_factory=dict)
    #: web_drafts: (learner id, key) -> the draft.
    web_drafts: dict[tuple[int, str], Draft] = field(default_factory=dict)
    next_fit_id: int = 1
    next_learner_id: int = 1
    next_review_id: int = 1
    next_round_id: int = 1
    next_outbox_id: int = 1
    next_run_id: int = 1
    next_schedule_id: int = 1

    def offered(self, learner_id: int, card_id: str) -> bool:
        """Whether a card is live and in a deck the learner studies: a shipped one, or
        their own unpaused one (as ``bot.storage.schedule.offered``)."""
        row = self.cards.get(card_id)
        if row is None or not row.live:
            return False
        deck = self.decks.get(row.card.deck_id)
        return (
            deck is not None
            and not deck.paused
            and (deck.owner_id is None or deck.owner_id == learner_id)
        )

    def copy(self) -> FakeStore:
        """A copy whose containers are new and whose (frozen) values are shared."""
        return FakeStore(
            learners=dict(self.learners),
            decks=dict(self.decks),
            cards=dict(self.cards),
            states=dict(self.states),
            reviews=dict(self.reviews),
            prompts=dict(self.prompts),
            rounds=dict(self.rounds),
            participants=dict(self.participants),
            confirmations=dict(self.confirmations),
            outbox=dict(self.outbox),
            last_reminders=dict(self.last_reminders),
            snoozed_pushes=set(self.snoozed_pushes),
            runs=dict(self.runs),
            submissions=dict(self.submissions),
            answer_photos=dict(self.answer_photos),
            groups=dict(self.groups),
            schedules=dict(self.schedules),
            questions=dict(self.questions),
            next_fits=dict(self.next_fits),
            model_fits=dict(self.model_fits),
            media=dict(self.media),
            web_sessions=dict(self.web_sessions),
            web_once=dict(self.web_once),
            web_drafts=dict(self.web_drafts),
            next_fit_id=self.next_fit_id,
            next_learner_id=self.next_learner_id,
            next_review_id=self.next_review_id,
            next_round_id=self.next_round_id,
            next_outbox_id=self.next_outbox_id,
            next_run_id=self.next_run_id,
            next_schedule_id=self.next_schedule_id,
        )
