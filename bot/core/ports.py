"""Ports: what the core needs from the world, as Protocols.

Storage implements :class:`Database`. A use case hands one synchronous
function to :meth:`Database.run`; the storage layer runs it inside one
transaction, off the event loop (one hop per unit of work), and commits only
if it returns. The function talks to the repositories of :class:`Tx`.

Each chat platform implements :class:`Channel`, the way the core reaches chats
and learners on its own initiative (a daily push, a quiz answer for a group);
the core's :class:`Announcer` routes announcements to them. A port that cannot
start says so with :class:`CannotStart` (for good) or :class:`PlatformUnreachable`
(for now).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Protocol, TypeVar, runtime_checkable

from bot.core.challenges.photos import StoredPhoto
from bot.core.decks import Deck
from bot.core.importing import PlannedCard
from bot.core.messages import Announcement, Reply
from bot.core.model import (
    Backlog,
    CardInfo,
    CardState,
    ChallengeRun,
    ChallengeSchedule,
    DeckInfo,
    Draft,
    GroupSettings,
    Learner,
    LearnerSettings,
    ModelFit,
    OutboxMessage,
    PersonalDeck,
    Prompt,
    PushTarget,
    QuizParticipant,
    QuizPollRef,
    QuizRound,
    ReviewEntry,
    Submission,
    SyncReport,
    WebSession,
)

T = TypeVar("T")


class AccountTaken(Exception):
    """:meth:`LearnerRepo.create` found the account enrolled already: another unit of
    work (a second update from a brand-new person, handled side by side) created it
    and committed first. Nothing was written; read the learner again."""


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
    ) -> Learner:
        """Enrol an account. Raises :class:`AccountTaken` (having written nothing) when
        another transaction enrolled it first: on PostgreSQL that one's commit is waited
        for, so a read that follows sees its row."""
        ...

    def save_settings(self, learner_id: int, settings: LearnerSettings) -> None: ...

    def set_topics(self, learner_id: int, topics: Sequence[str]) -> None: ...

    def seen(self, learner_id: int, now: datetime) -> None:
        """Record contact from the learner (which also makes them reachable again)."""
        ...

    def set_next_push(self, learner_id: int, when: datetime | None) -> None:
        """Set when the learner's next daily push is due (None: no pushes); not a snoozed one."""
        ...

    def snooze_push(self, learner_id: int, when: datetime) -> None:
        """Make the learner's next push a snoozed one, due at ``when``."""
        ...

    def set_dm_channel(self, learner_id: int, channel_id: str) -> None:
        """Remember the learner's direct-message channel (one request per push on Discord)."""
        ...

    def set_unreachable(self, learner_id: int) -> None:
        """The platform refuses messages to this learner (blocked bot, closed DMs)."""
        ...

    def delete(self, learner_id: int) -> None:
        """Delete the learner and everything held about them."""
        ...


class CatalogueRepo(Protocol):
    """The decks and their cards. A personal deck (``owner_id`` set) is seen only by its
    owner: without a ``viewer`` (a learner id) only the shipped decks are seen (a quiz or
    a challenge in a group uses those alone)."""

    def card(self, card_id: str) -> CardInfo | None:
        """A card's content, whoever's deck it is in (callers reach a card through a
        prompt, a round or a query that already checked who may see it)."""
        ...

    def decks(self, viewer: int | None = None) -> list[DeckInfo]:
        """Live decks, in order: the shipped ones, then the viewer's own (paused ones
        included, and flagged)."""
        ...

    def topics(self, viewer: int | None = None) -> list[str]:
        """Every deck id and tag the viewer may choose, sorted: the shipped decks' and
        their tags, and the viewer's own deck ids (paused ones included)."""
        ...

    def cards_in_topic(self, topic: str, viewer: int | None = None) -> list[str]:
        """Live card ids of a deck id or tag, in deck order: of the shipped decks and the
        viewer's own unpaused decks."""
        ...

    def sync(self, decks: Sequence[Deck], now: datetime, *, retire: bool = True) -> SyncReport:
        """Upsert the shipped decks and their cards; retire shipped ones that are gone.
        Personal decks and their cards are never touched (a shipped deck or card whose id
        one of them holds is left out, with a warning in the log)."""
        ...


class PersonalDeckRepo(Protocol):
    """Learners' own decks (imported files) and their cards, by owner.

    A deck's id is ``u<owner>-<slug>``, made unique with ``-2``, ``-3``...; its cards have
    no tags and show images stored with :class:`MediaRepo` (``image_kind`` ``media``,
    spec ``<owner>/<name>``).
    """

    def list(self, owner_id: int) -> list[PersonalDeck]:
        """The owner's decks, in the order they were made."""
        ...

    def get(self, deck_id: str) -> PersonalDeck | None:
        """A personal deck by id, whoever owns it (None for a shipped deck or none)."""
        ...

    def lock(self, owner_id: int) -> None:
        """Wait until no other unit of work is importing for this learner; held until
        this one ends (PostgreSQL: an advisory lock; SQLite's writers are one at a time)."""
        ...

    def find(self, owner_id: int, source: str, source_ref: str) -> PersonalDeck | None:
        """The owner's deck imported from this source and identity, if any (its
        ``reviews`` not counted: 0)."""
        ...

    def create(
        self, owner_id: int, title: str, source: str, source_ref: str, slug: str, now: datetime
    ) -> str:
        """Make an empty deck, unpaused, after the owner's others; returns its id."""
        ...

    def retitle(self, deck_id: str, title: str, now: datetime) -> None: ...

    def upsert_cards(
        self, deck_id: str, planned: Sequence[PlannedCard], now: datetime
    ) -> SyncReport:
        """Make the deck's live cards these: new ones added, changed ones rewritten (a card
        of another of the owner's decks moves here), unchanged ones (same content and
        place, by ``content_hash``) left alone, and the deck's cards not among them retired
        (their history kept). A card whose id is held outside the owner's decks is
        refused (:attr:`SyncReport.refused`)."""
        ...

    def set_paused(self, deck_id: str, paused: bool) -> None: ...

    def remove(self, deck_id: str) -> None:
        """Delete the deck: its cards' schedules, review-log rows and prompts (every
        learner's), tags, quiz rounds, the cards and the deck; then the owner's images no
        card shows any more."""
        ...


class ScheduleRepo(Protocol):
    def get(self, learner_id: int, card_id: str) -> CardState:
        """The learner's state for a card; a NEW state when there is none."""
        ...

    def save(self, state: CardState) -> None: ...

    def save_many(self, states: Sequence[CardState]) -> int:
        """Save these states (at most one per learner and card) in a few statements (an
        import's thousands); returns how many."""
        ...

    def delete(self, learner_id: int, card_id: str) -> None: ...

    def states_for(self, learner_ids: Sequence[int], card_ids: Sequence[str]) -> list[CardState]:
        """Stored states of these learners for these cards (new cards have none)."""
        ...

    def next_due(
        self,
        learner_id: int,
        now: datetime,
        due_before: datetime | None = None,
        *,
        topics: Sequence[str] = (),
    ) -> str | None:
        """The most overdue live card due by ``due_before`` (default ``now``).

        Suspended cards and cards buried past ``now`` are left out, and with
        ``topics`` (deck ids or tags) the cards in none of them.
        """
        ...

    def next_new(self, learner_id: int, topics: Sequence[str], now: datetime) -> str | None:
        """The first live card in deck order in ``topics`` (deck ids or tags) never studied."""
        ...

    def next_due_and_counts(
        self, learner_id: int, now: datetime, since: datetime, *, topics: Sequence[str] = ()
    ) -> tuple[str | None, int, int]:
        """``next_due(learner_id, now, topics=topics)`` and
        ``ReviewRepo.counts_since(learner_id, since)`` in one statement (the hot path
        of every rating). The counts are of every deck: the daily limits are too."""
        ...

    def count_due(self, learner_id: int, until: datetime) -> int: ...

    def due_times(self, learner_id: int, until: datetime) -> list[datetime]:
        """When each live, unsuspended card falls due, for cards due before ``until``."""
        ...

    def due_per_day(self, learner_id: int, day_starts: Sequence[datetime]) -> list[int]:
        """The learner's live, unsuspended cards due in each day: ``day_starts`` are the
        instants at which n + 1 consecutive (local) days begin, ascending; the answer is
        the n counts of ``day_starts[i] <= due < day_starts[i + 1]``. One query (the load
        balancer's, on every reveal of a card in Review)."""
        ...

    def unsuspend(self, learner_id: int, card_ids: Sequence[str] | None) -> int:
        """Unsuspend these cards (all when None); returns how many changed."""
        ...

    def next_due_at(self, learner_id: int, *, topics: Sequence[str] = ()) -> datetime | None:
        """When the learner's next live, unsuspended card falls due (in ``topics``, deck
        ids or tags, when given)."""
        ...


class ReviewRepo(Protocol):
    def add(self, entry: ReviewEntry) -> int: ...

    def last_active(self, learner_id: int) -> ReviewEntry | None:
        """The learner's latest review that has not been undone."""
        ...

    def mark_undone(self, review_id: int, now: datetime) -> None: ...

    def all_for(self, learner_id: int, since: datetime | None = None) -> list[ReviewEntry]:
        """Every review of a learner (made at ``since`` or later, if given), oldest first,
        undone ones included."""
        ...

    def counts_since(self, learner_id: int, since: datetime) -> tuple[int, int]:
        """(reviews, new cards introduced) since an instant, not counting undone ones nor
        practice (source ``cram``)."""
        ...

    def count_source_since(self, learner_id: int, source: str, since: datetime) -> int:
        """Active reviews from one source (push, quiz, ...) since an instant."""
        ...

    def history(self, learner_id: int, since: datetime) -> list[tuple[datetime, int, int]]:
        """(reviewed_at, rating, state before) of every active review since an instant
        (practice, source ``cram``, left out)."""
        ...

    def cards_since(self, learner_id: int, source: str, since: datetime) -> set[str]:
        """The cards with an active review from one source (``cram``, ...) since an instant."""
        ...

    def add_many(self, entries: Sequence[ReviewEntry]) -> int:
        """Append these reviews in one statement (an import); returns how many."""
        ...

    def keys(self, learner_id: int, source: str) -> set[tuple[str, datetime]]:
        """(card id, reviewed_at) of every review of the learner from one source (``anki``:
        what an earlier import wrote), undone ones included."""
        ...

    def last_reviewed(self, learner_id: int, excluding: Sequence[str]) -> dict[str, datetime]:
        """Each card's latest active review by the learner from any source but these."""
        ...


class PromptRepo(Protocol):
    def add(self, prompt: Prompt) -> None: ...

    def get(self, token: str) -> Prompt | None: ...

    def get_with_state(self, token: str) -> tuple[Prompt, CardState] | None:
        """A prompt and its learner's state for the card (NEW when none), in one read."""
        ...

    def reveal(
        self,
        token: str,
        now: datetime,
        typed_answer: str | None,
        intervals: Sequence[int] | None = None,
    ) -> None:
        """Record the reveal: when, the typed answer, and the interval each rating (1-4)
        gives in seconds, as the buttons showed them (None: none stored)."""
        ...

    def claim(self, token: str, learner_id: int, now: datetime) -> bool:
        """Mark an open prompt answered; False if it was already answered (a double tap)."""
        ...

    def prune(self, before: datetime) -> int:
        """Delete prompts created before an instant; returns how many."""
        ...


class QuizRepo(Protocol):
    def open_round(self, platform: str, chat_id: str) -> QuizRound | None: ...

    def add(self, r: QuizRound) -> QuizRound:
        """Store a round; returns it with its id."""
        ...

    def by_token(self, token: str) -> QuizRound | None: ...

    def by_id(self, round_id: int) -> QuizRound | None: ...

    def hold(self, round_id: int) -> None:
        """Until this unit of work ends, no other one records an answer to this round
        (answers that arrive together are counted, and the round closed, one at a time)."""
        ...

    def set_poll(self, round_id: int, poll: QuizPollRef) -> bool:
        """Mark an open round as posted as this poll; False if it is closed or unknown.

        Raises:
            Exception: the poll id names another round already (unique).
        """
        ...

    def by_poll(self, poll_id: str) -> QuizRound | None:
        """The round posted as this poll."""
        ...

    def participants(self, round_id: int) -> list[QuizParticipant]: ...

    def add_participant(self, p: QuizParticipant) -> None: ...

    def by_prompt(self, prompt_token: str) -> QuizParticipant | None: ...

    def record(self, round_id: int, learner_id: int, rating: int, now: datetime) -> None: ...

    def close(self, round_id: int, now: datetime) -> bool:
        """Close an open round; False if it was already closed (exactly once)."""
        ...

    def due(self, now: datetime, limit: int = 100) -> list[QuizRound]:
        """Open rounds whose window has ended."""
        ...

    def recent_participants(self, platform: str, chat_id: str, since: datetime) -> list[int]: ...

    def recent_cards(self, platform: str, chat_id: str, since: datetime) -> set[str]: ...


class ConfirmationRepo(Protocol):
    def add(
        self, token: str, learner_id: int, kind: str, now: datetime, subject: str | None = None
    ) -> None:
        """A question awaiting its answer; ``subject`` names what it is about when the kind
        needs it (the deck a ``rmdeck`` removes, at most 64 characters)."""
        ...

    def use(
        self, token: str, learner_id: int, now: datetime, since: datetime
    ) -> tuple[str, str | None] | None:
        """Use an unused confirmation of this learner made after ``since``; returns its
        kind and subject."""
        ...


@dataclass(frozen=True, slots=True)
class StoredMedia:
    """An imported image: its owner, its file name in the package, its type and bytes."""

    owner_id: int
    name: str
    mime: str
    data: bytes


class MediaRepo(Protocol):
    """Images of imported cards, by owner and file name (a card names one with
    ``CardImage("media", "<owner_id>/<name>")``)."""

    def put(self, owner_id: int, name: str, mime: str, data: bytes, now: datetime) -> None:
        """Store (or replace) one image."""
        ...

    def get(self, owner_id: int, name: str) -> StoredMedia | None: ...

    def prune(self, owner_id: int) -> int:
        """Delete this owner's images that none of their live cards shows; how many."""
        ...


class QuestionRepo(Protocol):
    """The question each learner's next typed message answers (one per learner)."""

    def ask(self, learner_id: int, step: str, chain: bool, until: datetime) -> None:
        """Their next typed message answers ``step`` (replacing any open question) until
        ``until``; ``chain``: the walk-through goes on after it."""
        ...

    def pending(self, learner_id: int, now: datetime) -> tuple[str, bool] | None:
        """The open question's step and chain flag; None when none is open or it expired."""
        ...

    def close(self, learner_id: int) -> None:
        """Forget the open question (answered, or the learner moved on)."""
        ...


class PushRepo(Protocol):
    """Set-based access for the daily push fan-out and the outbox."""

    def claim_due(self, now: datetime, platforms: Sequence[str], limit: int) -> list[PushTarget]:
        """Learners whose push is due (not paused, not unreachable), soonest first.

        Each target carries the instant it was due at and whether that push was
        a snoozed one. On PostgreSQL the rows are locked (FOR UPDATE SKIP
        LOCKED) until the transaction ends, so two processes never claim the
        same learner.
        """
        ...

    def due_summary(self, learner_ids: Sequence[int], now: datetime) -> dict[int, tuple[str, int]]:
        """For each learner with cards due now: (the most overdue card, how many are due)."""
        ...

    def mean_durations(self, learner_ids: Sequence[int], since: datetime) -> dict[int, float]: ...

    def reschedule(
        self,
        updates: Sequence[tuple[int, datetime | None, bool]],
        now: datetime,
        snoozed: Sequence[int] = (),
    ) -> None:
        """Set each ``(learner id, next push, reminded)``.

        The next push is a daily one; ``reminded`` records that a reminder went out
        ``now``. ``snoozed`` names the learners whose claimed push was a snooze: theirs
        is one no more (the others had none to clear, so their rows are not touched for it).
        """
        ...

    def add_outbox(self, rows: Sequence[OutboxMessage]) -> None: ...

    def lease(
        self, platform: str, now: datetime, until: datetime, limit: int
    ) -> list[OutboxMessage]:
        """Take up to ``limit`` pending messages for a platform until ``until``."""
        ...

    def mark_sent(self, message_id: int, now: datetime) -> None: ...

    def mark_failed(self, message_id: int, now: datetime, error: str) -> None: ...

    def retry_later(self, message_id: int, when: datetime, error: str, parts_sent: int) -> None:
        """Try again at ``when``, the first ``parts_sent`` messages of it already delivered."""
        ...

    def wake(self, learner_id: int, now: datetime) -> int:
        """Make the learner's pending outbox messages due now (they wrote again); returns
        how many."""

    def defer(self, message_ids: Sequence[int], when: datetime) -> None:
        """Release pending messages untried until ``when`` (an earlier message to the same
        chat was told to wait): no attempt is counted."""
        ...

    def backfill(self, now: datetime, active_since: datetime, limit: int) -> list[Learner]:
        """Active learners without a next push (new columns, or back from a long silence)."""
        ...

    def pending_count(self, platform: str | None = None) -> int: ...

    def backlog(self) -> list[Backlog]:
        """Each platform with pending pushes: how many, and when the oldest was written
        (self-assessments waiting for a member to write again are not counted)."""
        ...

    def prune_outbox(self, before: datetime) -> int:
        """Delete outbox rows sent or given up before an instant; returns how many."""
        ...


class ChallengeRepo(Protocol):
    """Challenge runs, submissions, group settings and weekly schedules."""

    def open_run(self, platform: str, chat_id: str) -> ChallengeRun | None: ...

    def latest_run(self, platform: str, chat_id: str) -> ChallengeRun | None: ...

    def add_run(self, run: ChallengeRun) -> ChallengeRun: ...

    def run_by_token(self, token: str) -> ChallengeRun | None: ...

    def run_by_id(self, run_id: int) -> ChallengeRun | None: ...

    def set_run(self, run_id: int, field: str, now: datetime) -> bool:
        """Set ``revealed_at``, ``cancelled_at`` or ``summary_at`` once (False if already set)."""
        ...

    def due_reveals(self, now: datetime) -> list[ChallengeRun]: ...

    def next_deadline(self) -> datetime | None:
        """The earliest deadline among open runs (neither revealed nor cancelled)."""
        ...

    def due_summaries(self, revealed_before: datetime) -> list[ChallengeRun]: ...

    def submissions(self, run_id: int) -> list[Submission]: ...

    def submission(self, run_id: int, learner_id: int) -> Submission | None: ...

    def submission_by_token(self, token: str) -> Submission | None: ...

    def save_submission(self, sub: Submission) -> None:
        """Insert or update the member's submission. It never clears ``assessed_at``:
        one stored (by :meth:`claim_assessment`) stays, so a tap that read the row before
        a racing Apply committed cannot undo the claim."""
        ...

    def add_submission(self, sub: Submission) -> bool:
        """Add a member to a run, once: False when they are in already (a tap racing
        another, in another transaction, waits for it and finds them in)."""
        ...

    def claim_assessment(self, run_id: int, learner_id: int, now: datetime) -> bool:
        """Mark a submission assessed, once: False when it already was (a tap racing
        another, in another transaction, waits for it and finds it done)."""
        ...

    def joined_open_run(
        self, learner_id: int, revealed_since: datetime | None = None
    ) -> ChallengeRun | None:
        """The newest run the learner joined that is open (or, with ``revealed_since``,
        was revealed at or after it): where a private answer goes."""
        ...

    def group(self, platform: str, chat_id: str) -> GroupSettings | None: ...

    def save_group(self, settings: GroupSettings) -> None: ...

    def schedules(self, platform: str, chat_id: str) -> list[ChallengeSchedule]: ...

    def add_schedule(self, s: ChallengeSchedule) -> ChallengeSchedule: ...

    def delete_schedules(self, platform: str, chat_id: str, challenge_id: str | None) -> int: ...

    def claim_schedules(self, now: datetime, limit: int) -> list[ChallengeSchedule]:
        """Schedules due to fire (locked FOR UPDATE SKIP LOCKED on PostgreSQL)."""
        ...

    def set_schedule_next(self, schedule_id: int, when: datetime | None) -> None: ...

    # Photo answers (table ``challenge_photos``), apart from the submissions so that
    # listing submissions never reads their bytes. A submission answered with a photo
    # keeps the platform's reference in ``photo_ref``; dropping its stored photo
    # (:meth:`free_photos`, :meth:`prune_photos`) clears that too.

    def save_photo(self, run_id: int, learner_id: int, photo: StoredPhoto, now: datetime) -> None:
        """Store (or replace) the photo of a member's answer."""
        ...

    def drop_photo(self, run_id: int, learner_id: int) -> None:
        """Forget the photo of a member's answer (replaced by a typed one)."""
        ...

    def photo(self, run_id: int, learner_id: int) -> StoredPhoto | None: ...

    def hold_photos(self, run_id: int) -> None:
        """Until this unit of work ends, no other one checks or stores a photo of this
        run (its group's share is checked and used by one member at a time)."""
        ...

    def photo_sizes(self, run_id: int) -> dict[int, int]:
        """The size of each stored photo of a run, by learner id (no bytes read)."""
        ...

    def group_photo_bytes(self, platform: str, chat_id: str) -> int:
        """The bytes of every photo stored for a group's runs."""
        ...

    def free_photos(self, platform: str, chat_id: str, need: int) -> int:
        """Drop photos of a group's finished runs (revealed or cancelled), the oldest
        run first, until at least ``need`` bytes are free or none is left; returns the
        bytes freed."""
        ...

    def prune_photos(self, finished_before: datetime) -> int:
        """Drop the photos of runs revealed or cancelled before ``finished_before``;
        returns how many."""
        ...


class ModelRepo(Protocol):
    """Each learner's memory model: fits, when to look next, the log a fit reads."""

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[int]:
        """Learners whose model is due a look (``next_fit_at`` passed, or NULL: at once),
        NULL first, then the earliest; each one's ``next_fit_at`` is moved to
        ``lease_until`` in this transaction, so no other fitter claims it (rows locked
        FOR UPDATE SKIP LOCKED on PostgreSQL)."""
        ...

    def set_next(self, learner_id: int, when: datetime | None) -> None:
        """When the learner's model is next looked at (None: at once)."""
        ...

    def next_at(self, learner_id: int) -> datetime | None: ...

    def learner_ids(self) -> list[int]:
        """Every learner, by id."""
        ...

    def log(self, learner_id: int) -> list[tuple[str, datetime, int]]:
        """The reviews a fit reads, (card id, when, rating), oldest first (ties by entry):
        every review but undone ones and practice (source ``cram``)."""
        ...

    def log_size(self, learner_id: int) -> int:
        """How many reviews :meth:`log` holds."""
        ...

    def add(self, fit: ModelFit) -> ModelFit:
        """Record one attempt; returns it with its id."""
        ...

    def latest(self, learner_id: int, *, kept: bool | None = None) -> ModelFit | None:
        """The learner's latest attempt (``kept``: only those kept, or only those not)."""
        ...

    def set_memory_states(
        self, learner_id: int, states: Sequence[tuple[str, datetime, float, float]]
    ) -> None:
        """Set cards' (stability, difficulty), each given as (card id, last review,
        stability, difficulty): a card whose ``last_review`` is no longer that one (it
        was reviewed since) is left alone."""
        ...


class WebRepo(Protocol):
    """The browser workspace's sessions, one-time keys and drafts (``[web]``)."""

    def use_once(self, key: str, expires_at: datetime) -> bool:
        """Record ``key`` as used (until ``expires_at``); False when it was already
        used, in this or another process: a replayed Mini App login or a link opened
        twice. A key is a digest, never the secret itself."""
        ...

    def add_session(self, session: WebSession) -> None: ...

    def session(self, id_hash: str, now: datetime) -> WebSession | None:
        """The session with this cookie digest, unless it has expired by ``now``."""
        ...

    def drop_session(self, id_hash: str) -> None: ...

    def draft(self, learner_id: int, key: str) -> Draft | None: ...

    def save_draft(self, draft: Draft) -> None:
        """Insert or replace the learner's draft for ``draft.key``."""
        ...

    def drop_draft(self, learner_id: int, key: str) -> None: ...

    def prune(self, now: datetime) -> int:
        """Drop expired sessions and one-time keys; returns how many rows went."""
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

    @property
    def quizzes(self) -> QuizRepo: ...

    @property
    def confirmations(self) -> ConfirmationRepo: ...

    @property
    def pushes(self) -> PushRepo: ...

    @property
    def challenges(self) -> ChallengeRepo: ...

    @property
    def questions(self) -> QuestionRepo: ...

    @property
    def models(self) -> ModelRepo: ...

    @property
    def media(self) -> MediaRepo: ...

    @property
    def personal(self) -> PersonalDeckRepo: ...

    @property
    def web(self) -> WebRepo: ...


class Database(Protocol):
    """Runs units of work."""

    async def run(self, work: Callable[[Tx], T]) -> T:
        """Run ``work`` in one transaction; commit if it returns, roll back if it raises."""
        ...


@dataclass(frozen=True, slots=True)
class Delivery:
    """What a platform did with a message for a learner's private chat.

    Attributes:
        reached: True when the platform accepted it; False when the learner cannot be
            reached (blocked the bot, closed their direct messages).
        dm_channel: the private channel the platform opened to deliver it, when the
            learner had none stored (kept so the next delivery needs one request).
    """

    reached: bool
    dm_channel: str | None = None


class DeliveryRetry(Exception):
    """A platform asks to try again later (429, a network error).

    Attributes:
        retry_after: seconds the platform asked to wait, if it said.
        delivered: messages of the reply the platform accepted before it failed
            (a reply can take several); the retry starts after them.
    """

    def __init__(
        self, message: str, retry_after: float | None = None, *, delivered: int = 0
    ) -> None:
        super().__init__(message)
        self.retry_after = retry_after
        self.delivered = delivered


class DeliveryRefused(Exception):
    """The platform refused this message for good (it is malformed, say): it is not tried
    again, and the learner stays reachable."""


class AnnounceRefused(Exception):
    """The platform will not post in this group chat: the bot may not write there (it
    lacks the permission, or was removed). Raised by :meth:`Channel.announce`."""


class CannotStart(Exception):
    """Starting cannot succeed until the operator changes something: a token the platform
    rejects, a database that cannot be reached.

    The message is one line that names what failed and what to do, and never holds a
    secret: it is what the operator sees, without a traceback.
    """


class PlatformUnreachable(Exception):
    """A platform's API cannot be reached now (a network error, a 5xx): starting it again
    later may work. The message is one line without a secret."""


class Channel(Protocol):
    """A running chat platform, as the core reaches it on its own initiative."""

    @property
    def name(self) -> str:
        """The platform's name (``telegram``, ``discord``), as stored with each learner."""
        ...

    async def announce(self, chat_id: str, reply: Reply) -> None:
        """Post a reply to a group chat (a quiz answer, a challenge's reference).

        Raises:
            AnnounceRefused: the bot may not post in that chat.
        """
        ...

    async def push(self, learner: Learner, reply: Reply, *, skip: int = 0) -> Delivery:
        """Send a reply to a learner's private chat, without its first ``skip`` messages
        (the platform accepted them on an earlier try).

        Raises:
            DeliveryRetry: to have it tried again later, saying how many more
                messages went out first.
            DeliveryRefused: when the platform will never take this message.
        """
        ...


@runtime_checkable
class ShowsToOneMember(Protocol):
    """A :class:`Channel` that can show a message inside a group to one member alone
    (Telegram's ephemeral messages), for a member its :meth:`Channel.push` cannot reach."""

    async def show_to_member(self, chat_id: str, learner: Learner, reply: Reply) -> bool:
        """Show ``reply`` in the group ``chat_id`` to ``learner`` alone; False when the
        platform cannot there now (nothing is shown, or what was shown is taken back)."""
        ...


class Announcer(Protocol):
    """Posts announcements once the transaction that made them has committed."""

    async def post(self, items: Sequence[Announcement]) -> None:
        """Post each item through its platform; a failure is logged, never raised."""
        ...
