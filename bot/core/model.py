"""Domain values shared by the core and the storage layer.

Plain frozen dataclasses: repositories return these, never ORM rows. Every
datetime is aware UTC (``tzinfo is timezone.utc``).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from typing import NamedTuple

from bot.core.choices import Choices
from bot.core.imagespec import ImageSpec


class CardStateKind(enum.IntEnum):
    """A card's place in a learner's schedule (FSRS states plus New)."""

    NEW = 0
    LEARNING = 1
    REVIEW = 2
    RELEARNING = 3


class ReviewSource(enum.StrEnum):
    """Where a rating came from."""

    DM = "dm"
    PUSH = "push"
    CONSOLE = "console"
    QUIZ = "quiz"
    CHALLENGE = "challenge"
    #: Practice (``/cram``): logged, but the card's schedule is left alone, and the
    #: review feeds neither fitting nor retention figures.
    CRAM = "cram"


RATING_NAMES = {1: "Again", 2: "Hard", 3: "Good", 4: "Easy"}


@dataclass(frozen=True, slots=True)
class LearnerSettings:
    """A learner's own study settings."""

    timezone: str = "UTC"
    push_time: time = time(9, 0)
    desired_retention: float = 0.9
    new_cards_per_day: int = 10
    max_reviews_per_day: int = 200
    learning_steps: tuple[timedelta, ...] = (timedelta(minutes=1), timedelta(minutes=10))
    relearning_steps: tuple[timedelta, ...] = (timedelta(minutes=10),)
    maximum_interval_days: int = 36500
    leech_threshold: int = 8
    enable_fuzzing: bool = True
    paused: bool = False
    fsrs_parameters: tuple[float, ...] | None = None
    #: Local quiet hours [start, end) in which no push is sent; may wrap midnight.
    quiet_start: time | None = None
    quiet_end: time | None = None
    #: Local weekdays without a push (0 = Monday ... 6 = Sunday).
    days_off: tuple[int, ...] = ()
    #: Cards in one pushed session.
    max_cards_per_push: int = 20
    #: Each local weekday's share of a normal day's load, Monday first (7 values in
    #: [0, 1]); empty: every day is a normal day.
    easy_days: tuple[float, ...] = ()
    #: An exam on this local date, covering this topic (None: every card studied).
    exam_date: date | None = None
    exam_topic: str | None = None
    #: The recall each card of the exam's topic should have on its date.
    exam_target: float = 0.9


@dataclass(frozen=True, slots=True)
class Learner:
    """One platform account that studies."""

    id: int
    platform: str
    platform_user_id: str
    display_name: str
    created_at: datetime
    settings: LearnerSettings = field(default_factory=LearnerSettings)
    topics: tuple[str, ...] = ()
    unreachable: bool = False
    last_seen_at: datetime | None = None
    dm_channel_id: str | None = None
    next_push_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class CardState:
    """A learner's schedule for one card (FSRS columns plus our own counters)."""

    learner_id: int
    card_id: str
    state: CardStateKind = CardStateKind.NEW
    step: int | None = None
    stability: float | None = None
    difficulty: float | None = None
    due: datetime | None = None
    last_review: datetime | None = None
    reps: int = 0
    lapses: int = 0
    suspended: bool = False
    leech: bool = False
    buried_until: datetime | None = None

    @property
    def is_new(self) -> bool:
        return self.state is CardStateKind.NEW


@dataclass(frozen=True, slots=True)
class ReviewEntry:
    """One row of the append-only review log, with the state before and after."""

    learner_id: int
    card_id: str
    rating: int
    reviewed_at: datetime
    source: str
    before: CardState
    after: CardState
    duration_ms: int | None = None
    typed_answer: str | None = None
    id: int | None = None
    undone_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class Prompt:
    """A card shown to a learner, named by the token its buttons carry."""

    token: str
    learner_id: int
    card_id: str
    source: str
    created_at: datetime
    revealed_at: datetime | None = None
    answered_at: datetime | None = None
    typed_answer: str | None = None
    #: The interval each rating (1-4) gives, in seconds, as the reveal showed them.
    intervals: tuple[int, ...] | None = None


@dataclass(frozen=True, slots=True)
class ModelFit:
    """One fit of a learner's memory model, kept or not, with what it was judged on.

    Attributes:
        learner_id: whose log it was fitted on.
        fitted_at: when.
        reviews: reviews the parameters were fitted on.
        held_out: the recent reviews, not fitted on, that judged them.
        logloss_current: log loss on those of the parameters in use before the fit.
        logloss_fitted: of the fitted parameters.
        logloss_default: of FSRS's default parameters.
        kept: whether the fitted parameters replaced the ones in use.
        parameters: the fitted parameters.
    """

    learner_id: int
    fitted_at: datetime
    reviews: int
    held_out: int
    logloss_current: float
    logloss_fitted: float
    logloss_default: float
    kept: bool
    parameters: tuple[float, ...]
    id: int | None = None


@dataclass(frozen=True, slots=True)
class CardImage:
    """An image a card shows on one side, as its deck file gives it.

    Attributes:
        kind: ``shape``, ``formula`` or ``diagram``.
        spec: what follows the kind (what the renderer draws).
    """

    kind: str
    spec: str

    @classmethod
    def of(cls, spec: ImageSpec | None) -> CardImage | None:
        """The image of a parsed spec (None for none)."""
        return None if spec is None else cls(spec.kind, spec.source)


@dataclass(frozen=True, slots=True)
class CardInfo:
    """What the study loop needs to show a card (content from the deck catalogue)."""

    id: str
    deck_id: str
    deck_title: str
    title: str
    front: str
    back: str
    tags: tuple[str, ...] = ()
    mnemonic: str | None = None
    notes: str | None = None
    #: Shown with the question; it asks for something (``?``).
    front_image: CardImage | None = None
    #: Shown with the answer.
    back_image: CardImage | None = None
    #: Its multiple-choice form (a quiz poll on Telegram), if it has one.
    choices: Choices | None = None


@dataclass(frozen=True, slots=True)
class DeckInfo:
    """A deck in the catalogue, with how many live cards it has.

    Attributes:
        owner_id: the learner a personal (imported) deck belongs to, the only one who
            sees it; None for a shipped deck, which every learner sees.
        paused: its owner paused it (a personal deck only): its cards are not offered.
    """

    id: str
    title: str
    description: str
    card_count: int
    tags: tuple[str, ...] = ()
    owner_id: int | None = None
    paused: bool = False


@dataclass(frozen=True, slots=True)
class PersonalDeck:
    """A learner's own deck (imported from Anki or a text export), as ``/decks`` lists it.

    Attributes:
        id: ``u<owner>-<slug>`` (``-2``, ``-3``... when taken).
        source: ``anki`` (a package) or ``text`` (a text export).
        source_ref: its identity there (Anki's deck id, a text export's deck name), so
            importing it again finds it.
        card_count: its live cards.
        paused: its cards are not offered (due or new) until resumed.
        reviews: the owner's reviews of its cards (undone ones not counted).
    """

    id: str
    owner_id: int
    title: str
    source: str
    source_ref: str
    card_count: int
    paused: bool
    reviews: int


@dataclass(frozen=True, slots=True)
class SyncReport:
    """What a deck sync changed in the catalogue."""

    added: int = 0
    updated: int = 0
    retired: int = 0
    unchanged: int = 0
    #: Cards not written because their id belongs to a card outside the deck's owner's
    #: decks (a personal deck's import only; never expected, since imported ids name
    #: their learner).
    refused: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class QuizRound:
    """One /quiz card posted to a group chat."""

    id: int
    token: str
    platform: str
    chat_id: str
    card_id: str
    topic: str
    started_at: datetime
    ends_at: datetime
    started_by: int | None = None
    closed_at: datetime | None = None
    expected: tuple[int, ...] = ()
    #: A quiz poll round (Telegram): the platform's poll id, the poll message (to stop it
    #: when the round closes) and the index of the right option as the poll showed them.
    poll: QuizPollRef | None = None


@dataclass(frozen=True, slots=True)
class QuizPollRef:
    """The poll a quiz round was posted as."""

    poll_id: str
    message_id: str
    correct: int


@dataclass(frozen=True, slots=True)
class QuizParticipant:
    """A member who revealed a quiz card, and their rating once given."""

    round_id: int
    learner_id: int
    prompt_token: str
    display_name: str
    revealed_at: datetime
    rating: int | None = None
    answered_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class OutboxMessage:
    """A message waiting to be delivered by a platform's sender."""

    platform: str
    learner_id: int
    kind: str
    text: str
    created_at: datetime
    not_before: datetime
    card_id: str | None = None
    prompt_token: str | None = None
    due_count: int = 0
    attempts: int = 0
    id: int = 0
    #: Messages of this push the platform already accepted (a reply can take several:
    #: a photo, then the rest of a long text); a retry sends only the ones after them.
    parts_sent: int = 0


@dataclass(frozen=True, slots=True)
class ChallengeRun:
    """One timed "derive it from memory" challenge in a group chat."""

    id: int
    token: str
    platform: str
    chat_id: str
    challenge_id: str
    started_at: datetime
    deadline: datetime
    started_by: int | None = None
    revealed_at: datetime | None = None
    cancelled_at: datetime | None = None
    summary_at: datetime | None = None

    @property
    def open(self) -> bool:
        return self.revealed_at is None and self.cancelled_at is None


@dataclass(frozen=True, slots=True)
class Submission:
    """A member's part in a challenge run: their answer, then their self-assessment.

    ``grades`` holds one entry per rubric row: 1 need to re-study, 2 shaky,
    3 confident, None not rated yet. ``checks`` are the ticked checkpoints.
    """

    run_id: int
    learner_id: int
    token: str
    display_name: str
    joined_at: datetime
    text: str | None = None
    photo_ref: str | None = None
    submitted_at: datetime | None = None
    grades: tuple[int | None, ...] = ()
    checks: tuple[int, ...] = ()
    assessed_at: datetime | None = None
    shared_at: datetime | None = None
    show_name: bool = False

    @property
    def submitted(self) -> bool:
        return self.submitted_at is not None


@dataclass(frozen=True, slots=True)
class GroupSettings:
    """Settings of one group chat or server for challenges."""

    platform: str
    chat_id: str
    timezone: str = "UTC"
    #: Who may start, cancel and reveal: "admins" (plus a starter for their own run) or "everyone".
    who_runs: str = "admins"


@dataclass(frozen=True, slots=True)
class ChallengeSchedule:
    """A weekly challenge in a group, at a local weekday and time."""

    id: int
    platform: str
    chat_id: str
    challenge_id: str
    weekday: int
    at: time
    timezone: str
    next_run_at: datetime | None
    minutes: int | None = None


class Backlog(NamedTuple):
    """One platform's outbox: the messages neither sent nor given up yet.

    Attributes:
        platform: the platform's name.
        pending: how many there are.
        oldest: when the oldest of them was written.
    """

    platform: str
    pending: int
    oldest: datetime


class PushTarget(NamedTuple):
    """What planning a learner's daily push needs, and nothing more (it runs for many).

    A named tuple rather than a frozen dataclass: a tick builds one for every learner
    it claims, and a tuple is built in half the time (about 2 % of a tick).

    Attributes:
        learner_id: the learner.
        platform: where the push goes.
        last_active: the learner's last contact (or enrolment).
        reminded: whether a reminder already went out since that contact.
        timing: the settings that decide when pushes happen (zone, push time,
            quiet hours, days off); learners who share them share the answers.
        max_cards_per_push: the session size.
        snoozed_at: when the claimed push was due, if it is a snoozed one (None for the
            daily push: the planner needs the instant only to drop a long-missed snooze,
            and reading it for every learner claimed would cost a date parse each).
    """

    learner_id: int
    platform: str
    last_active: datetime
    reminded: bool
    timing: LearnerSettings
    max_cards_per_push: int
    snoozed_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class WebSession:
    """A learner signed in to the browser workspace (``[web]``).

    Attributes:
        id_hash: SHA-256 (hex) of the session cookie's value; the value itself is
            never stored, so a read of the table signs no one in.
        learner_id: whose session it is: every request made with it acts as them.
        csrf: the token every API call and form of this session must carry.
        scope: what the session may open: ``*`` for anything of the learner's own
            (a Telegram Mini App login), or the one purpose of the link it came from
            (``challenge:<run token>``, ``review``, ``stats``).
        created_at: when it was opened.
        expires_at: when it stops working.
    """

    id_hash: str
    learner_id: int
    csrf: str
    scope: str
    created_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class Draft:
    """What a learner has written so far in the workspace, kept as they type.

    ``key`` names what it answers (``challenge:<run token>``); at most one per key.
    """

    learner_id: int
    key: str
    text: str
    updated_at: datetime
