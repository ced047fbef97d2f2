"""In-memory fakes for the core's ports (``bot.core.ports``), for fast deterministic tests.

They mirror the semantics of the SQL repositories in ``bot.storage.repositories``:

* ``next_due`` orders by due and skips suspended, buried (``buried_until > now``)
  and retired cards;
* ``next_new`` walks live cards never studied, in deck order then card order,
  filtered by topics (deck ids or tags);
* ``counts_since`` and ``history`` skip undone reviews; "new" means the state
  before the rating was NEW;
* ``claim`` succeeds once per prompt;
* :class:`FakePushes` mirrors ``SqlPushes``: ``claim_due`` takes learners whose
  ``next_push_at <= now`` on the given platforms, neither unreachable nor
  paused, by ``next_push_at``; the outbox is leased by ``(not_before, id)``;
* :class:`FakeChallenges` mirrors ``SqlChallenges``: ``open_run`` is the newest
  run of a chat neither revealed nor cancelled; ``set_run`` sets a column once;
  submissions are upserted by ``(run_id, learner_id)`` and listed by
  ``(joined_at, learner_id)``; deleting a learner drops their submissions and
  clears ``started_by`` of their runs (ON DELETE CASCADE / SET NULL).

:class:`FakeDatabase` runs each unit of work on a copy-on-write view of its
store and commits the view only if the work returns, so a unit of work that
raises leaves no trace. Every instant handed to a fake must be aware UTC
(``tzinfo is timezone.utc``), as the architecture requires; a naive or
non-UTC datetime fails loudly.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, time, timedelta
from typing import TypeVar

from bot.core.decks import CardDef, Deck, Difficulty
from bot.core.imagespec import ImageSpec
from bot.core.model import (
    CardInfo,
    CardState,
    CardStateKind,
    ChallengeRun,
    ChallengeSchedule,
    DeckInfo,
    GroupSettings,
    Learner,
    LearnerSettings,
    OutboxMessage,
    Prompt,
    PushTarget,
    QuizParticipant,
    QuizRound,
    ReviewEntry,
    Submission,
    SyncReport,
)

T = TypeVar("T")

__all__ = [
    "FakeCatalogue",
    "FakeChallenges",
    "FakeConfirmations",
    "FakeDatabase",
    "FakeLearners",
    "FakePrompts",
    "FakePushes",
    "FakeQuizzes",
    "FakeReviews",
    "FakeSchedule",
    "FakeStore",
    "FakeTimers",
    "FakeTx",
    "FixedClock",
    "OutboxRow",
    "SequentialTokens",
    "make_card",
    "make_deck",
]


def _utc(when: datetime | None, what: str = "instant") -> None:
    """Fail loudly unless ``when`` is None or aware UTC with ``tzinfo is timezone.utc``."""
    if when is not None and when.tzinfo is not UTC:
        raise AssertionError(f"{what} must be aware UTC (tzinfo is timezone.utc), got {when!r}")


def _state_utc(state: CardState) -> None:
    _utc(state.due, "CardState.due")
    _utc(state.last_review, "CardState.last_review")
    _utc(state.buried_until, "CardState.buried_until")


# --------------------------------------------------------------------------- time and tokens


class FixedClock:
    """A clock that stands still until a test moves it.

    Args:
        now: the starting instant (aware UTC).
    """

    def __init__(self, now: datetime) -> None:
        _utc(now, "FixedClock time")
        self._now = now

    def now(self) -> datetime:
        return self._now

    def set(self, now: datetime) -> None:
        """Jump to an instant (aware UTC)."""
        _utc(now, "FixedClock time")
        self._now = now

    def advance(self, delta: timedelta) -> datetime:
        """Move forward (or back, with a negative delta); returns the new now."""
        self._now = self._now + delta
        return self._now


class SequentialTokens:
    """Deterministic prompt tokens: ``t0000001``, ``t0000002``, ... (8+ URL-safe chars)."""

    def __init__(self, prefix: str = "t") -> None:
        self.prefix = prefix
        self.count = 0
        self.issued: list[str] = []

    def __call__(self) -> str:
        self.count += 1
        token = f"{self.prefix}{self.count:07d}"
        self.issued.append(token)
        return token


# --------------------------------------------------------------------------- decks


def make_card(
    card_id: str,
    deck_id: str = "deck",
    *,
    title: str | None = None,
    front: str | None = None,
    back: str | None = None,
    tags: Sequence[str] = (),
    difficulty: Difficulty = "medium",
    mnemonic: str | None = None,
    notes: str | None = None,
    image: ImageSpec | None = None,
) -> CardDef:
    """A :class:`CardDef` with readable defaults (front "Front of <id>", back "Back of <id>")."""
    return CardDef(
        id=card_id,
        deck_id=deck_id,
        title=title if title is not None else f"Title of {card_id}",
        front=front if front is not None else f"Front of {card_id}",
        back=back if back is not None else f"Back of {card_id}",
        tags=tuple(tags),
        difficulty=difficulty,
        mnemonic=mnemonic,
        notes=notes,
        image=image,
    )


def make_deck(
    deck_id: str,
    cards: Iterable[CardDef | str],
    *,
    title: str | None = None,
    description: str = "",
    tags: Sequence[str] = (),
) -> Deck:
    """A :class:`Deck` of these cards (a bare string is a card id), positions in order.

    Each card's ``deck_id`` is set to ``deck_id`` and its ``position`` to its index.
    """
    defs: list[CardDef] = []
    for position, item in enumerate(cards):
        card = make_card(item, deck_id) if isinstance(item, str) else item
        defs.append(replace(card, deck_id=deck_id, position=position))
    return Deck(
        id=deck_id,
        title=title if title is not None else deck_id.replace("-", " ").title(),
        path=f"decks/{deck_id}.md",
        cards=tuple(defs),
        description=description,
        tags=tuple(tags),
    )


# --------------------------------------------------------------------------- the store


@dataclass(frozen=True, slots=True)
class _DeckRow:
    id: str
    title: str
    description: str
    path: str
    tags: tuple[str, ...]
    position: int
    synced_at: datetime
    retired_at: datetime | None = None


@dataclass(frozen=True, slots=True)
class _CardRow:
    card: CardDef
    deck_position: int
    created_at: datetime
    updated_at: datetime
    retired_at: datetime | None = None

    @property
    def live(self) -> bool:
        return self.retired_at is None


@dataclass(frozen=True, slots=True)
class _ConfirmationRow:
    token: str
    learner_id: int
    kind: str
    created_at: datetime
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
    decks: dict[str, _DeckRow] = field(default_factory=dict)
    cards: dict[str, _CardRow] = field(default_factory=dict)
    states: dict[tuple[int, str], CardState] = field(default_factory=dict)
    reviews: dict[int, ReviewEntry] = field(default_factory=dict)
    prompts: dict[str, Prompt] = field(default_factory=dict)
    rounds: dict[int, QuizRound] = field(default_factory=dict)
    participants: dict[tuple[int, int], QuizParticipant] = field(default_factory=dict)
    confirmations: dict[str, _ConfirmationRow] = field(default_factory=dict)
    outbox: dict[int, OutboxRow] = field(default_factory=dict)
    #: learners.last_reminder_at, by learner id (absent: NULL).
    last_reminders: dict[int, datetime] = field(default_factory=dict)
    runs: dict[int, ChallengeRun] = field(default_factory=dict)
    submissions: dict[tuple[int, int], Submission] = field(default_factory=dict)
    groups: dict[tuple[str, str], GroupSettings] = field(default_factory=dict)
    schedules: dict[int, ChallengeSchedule] = field(default_factory=dict)
    next_learner_id: int = 1
    next_review_id: int = 1
    next_round_id: int = 1
    next_outbox_id: int = 1
    next_run_id: int = 1
    next_schedule_id: int = 1

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
            runs=dict(self.runs),
            submissions=dict(self.submissions),
            groups=dict(self.groups),
            schedules=dict(self.schedules),
            next_learner_id=self.next_learner_id,
            next_review_id=self.next_review_id,
            next_round_id=self.next_round_id,
            next_outbox_id=self.next_outbox_id,
            next_run_id=self.next_run_id,
            next_schedule_id=self.next_schedule_id,
        )


# --------------------------------------------------------------------------- repositories


class FakeLearners:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def get(self, platform: str, platform_user_id: str) -> Learner | None:
        for learner in self.store.learners.values():
            if learner.platform == platform and learner.platform_user_id == platform_user_id:
                return learner
        return None

    def get_by_id(self, learner_id: int) -> Learner | None:
        return self.store.learners.get(learner_id)

    def create(
        self,
        platform: str,
        platform_user_id: str,
        display_name: str,
        settings: LearnerSettings,
        topics: Sequence[str],
        now: datetime,
    ) -> Learner:
        _utc(now)
        if self.get(platform, platform_user_id) is not None:
            raise ValueError(f"learner {platform}/{platform_user_id} exists (unique constraint)")
        learner = Learner(
            id=self.store.next_learner_id,
            platform=platform,
            platform_user_id=platform_user_id,
            display_name=display_name[:128],
            created_at=now,
            settings=settings,
            topics=tuple(topics),
            unreachable=False,
            last_seen_at=now,
        )
        self.store.learners[learner.id] = learner
        self.store.next_learner_id += 1
        return learner

    def save_settings(self, learner_id: int, settings: LearnerSettings) -> None:
        learner = self.store.learners.get(learner_id)
        if learner is not None:
            self.store.learners[learner_id] = replace(learner, settings=settings)

    def set_topics(self, learner_id: int, topics: Sequence[str]) -> None:
        learner = self.store.learners.get(learner_id)
        if learner is not None:
            self.store.learners[learner_id] = replace(learner, topics=tuple(topics))

    def seen(self, learner_id: int, now: datetime) -> None:
        _utc(now)
        learner = self.store.learners.get(learner_id)
        if learner is not None:
            self.store.learners[learner_id] = replace(learner, last_seen_at=now, unreachable=False)

    def set_next_push(self, learner_id: int, when: datetime | None) -> None:
        _utc(when)
        learner = self.store.learners.get(learner_id)
        if learner is not None:
            self.store.learners[learner_id] = replace(learner, next_push_at=when)

    def set_dm_channel(self, learner_id: int, channel_id: str) -> None:
        learner = self.store.learners.get(learner_id)
        if learner is not None:
            self.store.learners[learner_id] = replace(learner, dm_channel_id=channel_id)

    def set_unreachable(self, learner_id: int) -> None:
        learner = self.store.learners.get(learner_id)
        if learner is not None:
            self.store.learners[learner_id] = replace(learner, unreachable=True)

    def delete(self, learner_id: int) -> None:
        """Delete the learner; like ON DELETE CASCADE / SET NULL in the SQL schema."""
        st = self.store
        st.learners.pop(learner_id, None)
        st.states = {k: v for k, v in st.states.items() if k[0] != learner_id}
        st.reviews = {k: v for k, v in st.reviews.items() if v.learner_id != learner_id}
        st.prompts = {k: v for k, v in st.prompts.items() if v.learner_id != learner_id}
        st.participants = {k: v for k, v in st.participants.items() if k[1] != learner_id}
        st.confirmations = {k: v for k, v in st.confirmations.items() if v.learner_id != learner_id}
        st.outbox = {k: v for k, v in st.outbox.items() if v.message.learner_id != learner_id}
        st.last_reminders.pop(learner_id, None)
        st.rounds = {
            k: replace(r, started_by=None) if r.started_by == learner_id else r
            for k, r in st.rounds.items()
        }
        st.submissions = {k: v for k, v in st.submissions.items() if k[1] != learner_id}
        st.runs = {
            k: replace(r, started_by=None) if r.started_by == learner_id else r
            for k, r in st.runs.items()
        }


class FakeCatalogue:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def card(self, card_id: str) -> CardInfo | None:
        row = self.store.cards.get(card_id)
        if row is None:
            return None
        c = row.card
        deck = self.store.decks[c.deck_id]
        return CardInfo(
            id=c.id,
            deck_id=c.deck_id,
            deck_title=deck.title,
            title=c.title,
            front=c.front,
            back=c.back,
            tags=tuple(sorted(set(c.tags))),
            mnemonic=c.mnemonic,
            notes=c.notes,
            image_kind=c.image.kind if c.image else None,
            image_spec=c.image.source if c.image else None,
        )

    def decks(self) -> list[DeckInfo]:
        out: list[DeckInfo] = []
        for deck in sorted(self.store.decks.values(), key=lambda d: d.position):
            if deck.retired_at is not None:
                continue
            count = sum(
                1 for r in self.store.cards.values() if r.live and r.card.deck_id == deck.id
            )
            out.append(DeckInfo(deck.id, deck.title, deck.description, count, deck.tags))
        return out

    def topics(self) -> list[str]:
        names: set[str] = set()
        for row in self.store.cards.values():
            if row.live:
                names.update(row.card.tags)
        names.update(d.id for d in self.store.decks.values() if d.retired_at is None)
        return sorted(names)

    def cards_in_topic(self, topic: str) -> list[str]:
        rows = [
            r
            for r in self.store.cards.values()
            if r.live and (r.card.deck_id == topic or topic in r.card.tags)
        ]
        rows.sort(key=lambda r: (r.deck_position, r.card.position, r.card.id))
        return [r.card.id for r in rows]

    def sync(self, decks: Sequence[Deck], now: datetime, *, retire: bool = True) -> SyncReport:
        """Upsert decks and cards by id; retire what is gone (unless ``retire`` is False)."""
        _utc(now)
        for position, deck in enumerate(decks):
            self.store.decks[deck.id] = _DeckRow(
                id=deck.id,
                title=deck.title,
                description=deck.description,
                path=deck.path,
                tags=tuple(deck.tags),
                position=position,
                synced_at=now,
            )
        if retire:
            live = {d.id for d in decks}
            for deck_id, row in list(self.store.decks.items()):
                if deck_id not in live and row.retired_at is None:
                    self.store.decks[deck_id] = replace(row, retired_at=now)
        added = updated = unchanged = 0
        seen: set[str] = set()
        for position, deck in enumerate(decks):
            for card in deck.cards:
                seen.add(card.id)
                old = self.store.cards.get(card.id)
                if old is None:
                    self.store.cards[card.id] = _CardRow(card, position, now, now)
                    added += 1
                elif old.card != card or old.deck_position != position or not old.live:
                    self.store.cards[card.id] = _CardRow(card, position, old.created_at, now)
                    updated += 1
                else:
                    unchanged += 1
        retired = 0
        if retire:
            for card_id, card_row in list(self.store.cards.items()):
                if card_id not in seen and card_row.live:
                    self.store.cards[card_id] = replace(card_row, retired_at=now)
                    retired += 1
        return SyncReport(added=added, updated=updated, retired=retired, unchanged=unchanged)


class FakeSchedule:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def _live(self, card_id: str) -> bool:
        row = self.store.cards.get(card_id)
        return row is not None and row.live

    def _mine(self, learner_id: int) -> list[CardState]:
        return [s for (lid, _), s in self.store.states.items() if lid == learner_id]

    def _available(self, state: CardState, now: datetime) -> bool:
        """Live, unsuspended, unburied (``buried_until`` is None or ``<= now``)."""
        return (
            not state.suspended
            and (state.buried_until is None or state.buried_until <= now)
            and self._live(state.card_id)
        )

    def get(self, learner_id: int, card_id: str) -> CardState:
        return self.store.states.get((learner_id, card_id), CardState(learner_id, card_id))

    def save(self, state: CardState) -> None:
        assert state.due is not None, "a stored card state always has a due time"
        _state_utc(state)
        self.store.states[(state.learner_id, state.card_id)] = state

    def delete(self, learner_id: int, card_id: str) -> None:
        self.store.states.pop((learner_id, card_id), None)

    def states_for(self, learner_ids: Sequence[int], card_ids: Sequence[str]) -> list[CardState]:
        lids, cids = set(learner_ids), set(card_ids)
        return [s for (lid, cid), s in self.store.states.items() if lid in lids and cid in cids]

    def next_due(
        self, learner_id: int, now: datetime, due_before: datetime | None = None
    ) -> str | None:
        _utc(now)
        _utc(due_before)
        limit = now if due_before is None else due_before
        due = [
            s
            for s in self._mine(learner_id)
            if s.due is not None and s.due <= limit and self._available(s, now)
        ]
        if not due:
            return None
        return min(due, key=lambda s: (s.due, s.card_id)).card_id

    def next_new(self, learner_id: int, topics: Sequence[str], now: datetime) -> str | None:
        _utc(now)
        wanted = set(topics)
        candidates = [
            row
            for card_id, row in self.store.cards.items()
            if row.live
            and (learner_id, card_id) not in self.store.states
            and (not wanted or row.card.deck_id in wanted or wanted.intersection(row.card.tags))
        ]
        if not candidates:
            return None
        first = min(candidates, key=lambda r: (r.deck_position, r.card.position, r.card.id))
        return first.card.id

    def next_due_and_counts(
        self, learner_id: int, now: datetime, since: datetime
    ) -> tuple[str | None, int, int]:
        reviews, new = FakeReviews(self.store).counts_since(learner_id, since)
        return self.next_due(learner_id, now), reviews, new

    def count_due(self, learner_id: int, until: datetime) -> int:
        _utc(until)
        return sum(
            1
            for s in self._mine(learner_id)
            if s.due is not None
            and s.due < until
            and not s.suspended
            and (s.buried_until is None or s.buried_until < until)
            and self._live(s.card_id)
        )

    def due_times(self, learner_id: int, until: datetime) -> list[datetime]:
        """Due instants (or the bury's end, when later) of live, unsuspended cards due before."""
        _utc(until)
        return [
            max(s.due, s.buried_until) if s.buried_until else s.due
            for s in self._mine(learner_id)
            if s.due is not None and s.due < until and not s.suspended and self._live(s.card_id)
        ]

    def unsuspend(self, learner_id: int, card_ids: Sequence[str] | None) -> int:
        changed = 0
        for s in self._mine(learner_id):
            if s.suspended and (card_ids is None or s.card_id in card_ids):
                self.store.states[(learner_id, s.card_id)] = replace(
                    s, suspended=False, leech=False
                )
                changed += 1
        return changed

    def next_due_at(self, learner_id: int) -> datetime | None:
        whens: list[datetime] = []
        for s in self._mine(learner_id):
            if s.suspended or not self._live(s.card_id) or s.due is None:
                continue
            when = s.due
            if s.buried_until is not None and s.buried_until > when:
                when = s.buried_until
            whens.append(when)
        return min(whens) if whens else None


class FakeReviews:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def _active(self, learner_id: int) -> list[ReviewEntry]:
        return [
            e
            for e in self.store.reviews.values()
            if e.learner_id == learner_id and e.undone_at is None
        ]

    def add(self, entry: ReviewEntry) -> int:
        _utc(entry.reviewed_at, "ReviewEntry.reviewed_at")
        _state_utc(entry.before)
        _state_utc(entry.after)
        review_id = self.store.next_review_id
        self.store.next_review_id += 1
        self.store.reviews[review_id] = replace(entry, id=review_id, undone_at=None)
        return review_id

    def last_active(self, learner_id: int) -> ReviewEntry | None:
        active = self._active(learner_id)
        if not active:
            return None
        return max(active, key=lambda e: (e.reviewed_at, e.id or 0))

    def all_for(self, learner_id: int) -> list[ReviewEntry]:
        return sorted(
            (e for e in self.store.reviews.values() if e.learner_id == learner_id),
            key=lambda e: (e.reviewed_at, e.id or 0),
        )

    def mark_undone(self, review_id: int, now: datetime) -> None:
        _utc(now)
        entry = self.store.reviews.get(review_id)
        if entry is not None:
            self.store.reviews[review_id] = replace(entry, undone_at=now)

    def counts_since(self, learner_id: int, since: datetime) -> tuple[int, int]:
        _utc(since)
        rows = [e for e in self._active(learner_id) if e.reviewed_at >= since]
        return len(rows), sum(1 for e in rows if e.before.state is CardStateKind.NEW)

    def count_source_since(self, learner_id: int, source: str, since: datetime) -> int:
        _utc(since)
        return sum(
            1 for e in self._active(learner_id) if e.source == source and e.reviewed_at >= since
        )

    def history(self, learner_id: int, since: datetime) -> list[tuple[datetime, int, int]]:
        _utc(since)
        rows = sorted(
            (e for e in self._active(learner_id) if e.reviewed_at >= since),
            key=lambda e: (e.reviewed_at, e.id or 0),
        )
        return [(e.reviewed_at, e.rating, int(e.before.state)) for e in rows]

    # Test helpers (not part of the port).

    def all(self, learner_id: int | None = None) -> list[ReviewEntry]:
        """Every entry, undone ones included, in insertion order."""
        return [
            e
            for _, e in sorted(self.store.reviews.items())
            if learner_id is None or e.learner_id == learner_id
        ]


class FakePrompts:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def add(self, prompt: Prompt) -> None:
        _utc(prompt.created_at, "Prompt.created_at")
        if prompt.token in self.store.prompts:
            raise ValueError(f"duplicate prompt token {prompt.token!r} (primary key)")
        # Like the SQL insert: only the identifying columns are stored.
        self.store.prompts[prompt.token] = Prompt(
            prompt.token, prompt.learner_id, prompt.card_id, prompt.source, prompt.created_at
        )

    def get_with_state(self, token: str) -> tuple[Prompt, CardState] | None:
        prompt = self.store.prompts.get(token)
        if prompt is None:
            return None
        state = self.store.states.get((prompt.learner_id, prompt.card_id))
        return prompt, state or CardState(prompt.learner_id, prompt.card_id)

    def get(self, token: str) -> Prompt | None:
        return self.store.prompts.get(token)

    def reveal(self, token: str, now: datetime, typed_answer: str | None) -> None:
        _utc(now)
        prompt = self.store.prompts.get(token)
        if prompt is not None:
            self.store.prompts[token] = replace(prompt, revealed_at=now, typed_answer=typed_answer)

    def claim(self, token: str, learner_id: int, now: datetime) -> bool:
        _utc(now)
        prompt = self.store.prompts.get(token)
        if prompt is None or prompt.learner_id != learner_id or prompt.answered_at is not None:
            return False
        self.store.prompts[token] = replace(prompt, answered_at=now)
        return True

    def prune(self, before: datetime) -> int:
        _utc(before)
        old = [t for t, p in self.store.prompts.items() if p.created_at < before]
        for token in old:
            del self.store.prompts[token]
        return len(old)


class FakeQuizzes:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def open_round(self, platform: str, chat_id: str) -> QuizRound | None:
        rounds = [
            r
            for r in self.store.rounds.values()
            if r.platform == platform and r.chat_id == chat_id and r.closed_at is None
        ]
        return max(rounds, key=lambda r: (r.started_at, r.id)) if rounds else None

    def add(self, r: QuizRound) -> QuizRound:
        _utc(r.started_at, "QuizRound.started_at")
        _utc(r.ends_at, "QuizRound.ends_at")
        if any(x.token == r.token for x in self.store.rounds.values()):
            raise ValueError(f"duplicate quiz token {r.token!r} (unique constraint)")
        stored = replace(r, id=self.store.next_round_id, closed_at=None)
        self.store.next_round_id += 1
        self.store.rounds[stored.id] = stored
        return stored

    def by_token(self, token: str) -> QuizRound | None:
        for r in self.store.rounds.values():
            if r.token == token:
                return r
        return None

    def by_id(self, round_id: int) -> QuizRound | None:
        return self.store.rounds.get(round_id)

    def participants(self, round_id: int) -> list[QuizParticipant]:
        return sorted(
            (p for (rid, _), p in self.store.participants.items() if rid == round_id),
            key=lambda p: p.revealed_at,
        )

    def add_participant(self, p: QuizParticipant) -> None:
        _utc(p.revealed_at, "QuizParticipant.revealed_at")
        key = (p.round_id, p.learner_id)
        if key in self.store.participants:
            raise ValueError(f"participant {key} exists (primary key)")
        self.store.participants[key] = QuizParticipant(
            p.round_id, p.learner_id, p.prompt_token, p.display_name[:128], p.revealed_at
        )

    def by_prompt(self, prompt_token: str) -> QuizParticipant | None:
        for p in self.store.participants.values():
            if p.prompt_token == prompt_token:
                return p
        return None

    def record(self, round_id: int, learner_id: int, rating: int, now: datetime) -> None:
        _utc(now)
        p = self.store.participants.get((round_id, learner_id))
        if p is not None:
            self.store.participants[(round_id, learner_id)] = replace(
                p, rating=rating, answered_at=now
            )

    def close(self, round_id: int, now: datetime) -> bool:
        _utc(now)
        r = self.store.rounds.get(round_id)
        if r is None or r.closed_at is not None:
            return False
        self.store.rounds[round_id] = replace(r, closed_at=now)
        return True

    def due(self, now: datetime, limit: int = 100) -> list[QuizRound]:
        _utc(now)
        rounds = [r for r in self.store.rounds.values() if r.closed_at is None and r.ends_at <= now]
        rounds.sort(key=lambda r: (r.ends_at, r.id))
        return rounds[:limit]

    def _recent(self, platform: str, chat_id: str, since: datetime) -> list[QuizRound]:
        _utc(since)
        return [
            r
            for r in self.store.rounds.values()
            if r.platform == platform and r.chat_id == chat_id and r.started_at >= since
        ]

    def recent_participants(self, platform: str, chat_id: str, since: datetime) -> list[int]:
        ids = {r.id for r in self._recent(platform, chat_id, since)}
        return sorted({lid for (rid, lid) in self.store.participants if rid in ids})

    def recent_cards(self, platform: str, chat_id: str, since: datetime) -> set[str]:
        return {r.card_id for r in self._recent(platform, chat_id, since)}


class FakeConfirmations:
    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def add(self, token: str, learner_id: int, kind: str, now: datetime) -> None:
        _utc(now)
        if token in self.store.confirmations:
            raise ValueError(f"duplicate confirmation token {token!r} (primary key)")
        self.store.confirmations[token] = _ConfirmationRow(token, learner_id, kind, now)

    def use(self, token: str, learner_id: int, now: datetime, since: datetime) -> str | None:
        _utc(now)
        _utc(since)
        row = self.store.confirmations.get(token)
        if (
            row is None
            or row.learner_id != learner_id
            or row.used_at is not None
            or row.created_at < since
        ):
            return None
        self.store.confirmations[token] = replace(row, used_at=now)
        return row.kind


class FakePushes:
    """The push fan-out and the outbox, as ``SqlPushes`` does them."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def _available(self, state: CardState, now: datetime) -> bool:
        row = self.store.cards.get(state.card_id)
        return (
            state.due is not None
            and state.due <= now
            and not state.suspended
            and (state.buried_until is None or state.buried_until <= now)
            and row is not None
            and row.live
        )

    def _due(self, learner_ids: Sequence[int], now: datetime) -> list[CardState]:
        _utc(now)
        wanted = set(learner_ids)
        return [
            s
            for (lid, _), s in self.store.states.items()
            if lid in wanted and self._available(s, now)
        ]

    def claim_due(self, now: datetime, platforms: Sequence[str], limit: int) -> list[PushTarget]:
        _utc(now)
        wanted = set(platforms)
        rows = [
            lr
            for lr in self.store.learners.values()
            if lr.next_push_at is not None
            and lr.next_push_at <= now
            and lr.platform in wanted
            and not lr.unreachable
            and not lr.settings.paused
        ]
        rows.sort(key=lambda lr: (lr.next_push_at, lr.id))
        targets = []
        for lr in rows[:limit]:
            active = lr.last_seen_at or lr.created_at
            reminder = self.store.last_reminders.get(lr.id)
            s = lr.settings
            timing = LearnerSettings(
                timezone=s.timezone,
                push_time=s.push_time,
                quiet_start=s.quiet_start,
                quiet_end=s.quiet_end,
                days_off=s.days_off,
            )
            reminded = reminder is not None and reminder >= active
            targets.append(
                PushTarget(lr.id, lr.platform, active, reminded, timing, s.max_cards_per_push)
            )
        return targets

    def due_summary(self, learner_ids: Sequence[int], now: datetime) -> dict[int, tuple[str, int]]:
        """Each learner's first due card by ``(due, card_id)``, and how many are due."""
        mine: dict[int, list[tuple[datetime, str]]] = {}
        for s in self._due(learner_ids, now):
            assert s.due is not None
            mine.setdefault(s.learner_id, []).append((s.due, s.card_id))
        return {lid: (min(keys)[1], len(keys)) for lid, keys in mine.items()}

    def mean_durations(self, learner_ids: Sequence[int], since: datetime) -> dict[int, float]:
        """Mean ``duration_ms`` of reviews since an instant (undone ones too, as in SQL)."""
        _utc(since)
        wanted = set(learner_ids)
        sums: dict[int, list[int]] = {}
        for e in self.store.reviews.values():
            if e.learner_id in wanted and e.reviewed_at >= since and e.duration_ms is not None:
                sums.setdefault(e.learner_id, []).append(e.duration_ms)
        return {lid: sum(ds) / len(ds) for lid, ds in sums.items()}

    def reschedule(
        self, updates: Sequence[tuple[int, datetime | None, bool]], now: datetime
    ) -> None:
        _utc(now)
        for learner_id, nxt, reminded in updates:
            _utc(nxt, "next push")
            learner = self.store.learners.get(learner_id)
            if learner is None:
                continue
            self.store.learners[learner_id] = replace(learner, next_push_at=nxt)
            if reminded:
                self.store.last_reminders[learner_id] = now

    def add_outbox(self, rows: Sequence[OutboxMessage]) -> None:
        for m in rows:
            _utc(m.created_at, "OutboxMessage.created_at")
            _utc(m.not_before, "OutboxMessage.not_before")
            if m.learner_id not in self.store.learners:
                raise ValueError(f"no learner {m.learner_id} (foreign key)")
            message_id = self.store.next_outbox_id
            self.store.next_outbox_id += 1
            self.store.outbox[message_id] = OutboxRow(replace(m, id=message_id, attempts=0))

    def lease(
        self, platform: str, now: datetime, until: datetime, limit: int
    ) -> list[OutboxMessage]:
        _utc(now)
        _utc(until)
        rows = [
            r
            for r in self.store.outbox.values()
            if r.message.platform == platform
            and r.pending
            and r.message.not_before <= now
            and (r.lease_until is None or r.lease_until <= now)
        ]
        rows.sort(key=lambda r: (r.message.not_before, r.message.id))
        taken = rows[:limit]
        for r in taken:
            self.store.outbox[r.message.id] = replace(r, lease_until=until)
        return [r.message for r in taken]

    def _finish(
        self,
        message_id: int,
        *,
        sent_at: datetime | None = None,
        failed_at: datetime | None = None,
        not_before: datetime | None = None,
        error: str | None = None,
        parts_sent: int | None = None,
    ) -> None:
        """One delivery attempt ended: count it and release the lease."""
        row = self.store.outbox.get(message_id)
        if row is None:
            return
        message = replace(row.message, attempts=row.message.attempts + 1)
        if not_before is not None:
            message = replace(message, not_before=not_before)
        if parts_sent is not None:
            message = replace(message, parts_sent=parts_sent)
        self.store.outbox[message_id] = OutboxRow(
            message,
            lease_until=None,
            sent_at=sent_at if sent_at is not None else row.sent_at,
            failed_at=failed_at if failed_at is not None else row.failed_at,
            last_error=error[:200] if error is not None else row.last_error,
        )

    def mark_sent(self, message_id: int, now: datetime) -> None:
        _utc(now)
        self._finish(message_id, sent_at=now)

    def mark_failed(self, message_id: int, now: datetime, error: str) -> None:
        _utc(now)
        self._finish(message_id, failed_at=now, error=error)

    def retry_later(self, message_id: int, when: datetime, error: str, parts_sent: int) -> None:
        _utc(when)
        self._finish(message_id, not_before=when, error=error, parts_sent=parts_sent)

    def backfill(self, now: datetime, active_since: datetime, limit: int) -> list[Learner]:
        _utc(now)
        _utc(active_since)
        rows = [
            lr
            for lr in self.store.learners.values()
            if lr.next_push_at is None
            and (
                lr.last_seen_at >= active_since
                if lr.last_seen_at is not None
                else lr.created_at >= active_since
            )
        ]
        rows.sort(key=lambda lr: lr.id)
        return rows[:limit]

    def pending_count(self, platform: str | None = None) -> int:
        return sum(
            1
            for r in self.store.outbox.values()
            if r.pending and (platform is None or r.message.platform == platform)
        )

    def prune_outbox(self, before: datetime) -> int:
        gone = [
            k
            for k, r in self.store.outbox.items()
            if (r.sent_at is not None and r.sent_at < before)
            or (r.failed_at is not None and r.failed_at < before)
        ]
        for k in gone:
            del self.store.outbox[k]
        return len(gone)


def _grades_round_trip(grades: Sequence[int | None]) -> tuple[int | None, ...]:
    """Grades as the SQL column stores and reads them back ("3,,1"; "" is no grades)."""
    text = ",".join("" if g is None else str(g) for g in grades)
    return tuple(int(x) if x else None for x in text.split(",")) if text else ()


def _checks_round_trip(checks: Sequence[int]) -> tuple[int, ...]:
    """Checkpoint indexes as the SQL column stores and reads them back ("0,2,3")."""
    text = ",".join(str(c) for c in checks)
    return tuple(int(x) for x in text.split(",") if x)


_RUN_ONCE_FIELDS = ("revealed_at", "cancelled_at", "summary_at")
_RUN_NOT_NULL_FIELDS = ("started_at", "deadline")


class FakeChallenges:
    """Challenge runs, submissions, group settings and weekly schedules, as ``SqlChallenges``."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def _runs_in(self, platform: str, chat_id: str) -> list[ChallengeRun]:
        return [
            r for r in self.store.runs.values() if r.platform == platform and r.chat_id == chat_id
        ]

    def open_run(self, platform: str, chat_id: str) -> ChallengeRun | None:
        runs = [r for r in self._runs_in(platform, chat_id) if r.open]
        return max(runs, key=lambda r: (r.started_at, r.id)) if runs else None

    def latest_run(self, platform: str, chat_id: str) -> ChallengeRun | None:
        runs = self._runs_in(platform, chat_id)
        return max(runs, key=lambda r: (r.started_at, r.id)) if runs else None

    def add_run(self, run: ChallengeRun) -> ChallengeRun:
        _utc(run.started_at, "ChallengeRun.started_at")
        _utc(run.deadline, "ChallengeRun.deadline")
        if any(r.token == run.token for r in self.store.runs.values()):
            raise ValueError(f"duplicate run token {run.token!r} (unique constraint)")
        if run.started_by is not None and run.started_by not in self.store.learners:
            raise ValueError(f"no learner {run.started_by} (foreign key)")
        # Like the SQL insert: revealed_at, cancelled_at and summary_at start NULL.
        stored = replace(
            run, id=self.store.next_run_id, revealed_at=None, cancelled_at=None, summary_at=None
        )
        self.store.next_run_id += 1
        self.store.runs[stored.id] = stored
        return stored

    def run_by_token(self, token: str) -> ChallengeRun | None:
        return next((r for r in self.store.runs.values() if r.token == token), None)

    def run_by_id(self, run_id: int) -> ChallengeRun | None:
        return self.store.runs.get(run_id)

    def set_run(self, run_id: int, field: str, now: datetime) -> bool:
        """Set revealed_at, cancelled_at or summary_at once; False if it was already set."""
        _utc(now)
        if field in _RUN_NOT_NULL_FIELDS:
            return False  # NOT NULL columns are never NULL: the UPDATE matches no row
        if field not in _RUN_ONCE_FIELDS:
            raise KeyError(field)  # like challenge_runs.c[field]
        run = self.store.runs.get(run_id)
        if run is None or getattr(run, field) is not None:
            return False
        if field == "revealed_at":
            run = replace(run, revealed_at=now)
        elif field == "cancelled_at":
            run = replace(run, cancelled_at=now)
        else:
            run = replace(run, summary_at=now)
        self.store.runs[run_id] = run
        return True

    def due_reveals(self, now: datetime) -> list[ChallengeRun]:
        _utc(now)
        runs = [r for r in self.store.runs.values() if r.open and r.deadline <= now]
        runs.sort(key=lambda r: (r.deadline, r.id))
        return runs[:100]

    def due_summaries(self, revealed_before: datetime) -> list[ChallengeRun]:
        _utc(revealed_before)
        runs = [
            r
            for r in self.store.runs.values()
            if r.revealed_at is not None
            and r.revealed_at <= revealed_before
            and r.summary_at is None
        ]
        runs.sort(key=lambda r: (r.revealed_at, r.id))
        return runs[:100]

    def submissions(self, run_id: int) -> list[Submission]:
        return sorted(
            (s for (rid, _), s in self.store.submissions.items() if rid == run_id),
            key=lambda s: (s.joined_at, s.learner_id),
        )

    def submission(self, run_id: int, learner_id: int) -> Submission | None:
        return self.store.submissions.get((run_id, learner_id))

    def submission_by_token(self, token: str) -> Submission | None:
        return next((s for s in self.store.submissions.values() if s.token == token), None)

    def save_submission(self, sub: Submission) -> None:
        """Upsert by ``(run_id, learner_id)``, storing what the SQL columns hold."""
        _utc(sub.joined_at, "Submission.joined_at")
        _utc(sub.submitted_at, "Submission.submitted_at")
        _utc(sub.assessed_at, "Submission.assessed_at")
        _utc(sub.shared_at, "Submission.shared_at")
        key = (sub.run_id, sub.learner_id)
        if sub.run_id not in self.store.runs:
            raise ValueError(f"no challenge run {sub.run_id} (foreign key)")
        if sub.learner_id not in self.store.learners:
            raise ValueError(f"no learner {sub.learner_id} (foreign key)")
        if any(k != key and s.token == sub.token for k, s in self.store.submissions.items()):
            raise ValueError(f"duplicate submission token {sub.token!r} (unique constraint)")
        self.store.submissions[key] = replace(
            sub,
            display_name=sub.display_name[:128],
            grades=_grades_round_trip(sub.grades),
            checks=_checks_round_trip(sub.checks),
        )

    def joined_open_run(self, learner_id: int) -> ChallengeRun | None:
        """The newest open run the learner joined (by their ``joined_at``)."""
        best: tuple[datetime, ChallengeRun] | None = None
        for (run_id, lid), sub in self.store.submissions.items():
            run = self.store.runs.get(run_id)
            if lid != learner_id or run is None or not run.open:
                continue
            if best is None or sub.joined_at > best[0]:
                best = (sub.joined_at, run)
        return best[1] if best else None

    def group(self, platform: str, chat_id: str) -> GroupSettings | None:
        return self.store.groups.get((platform, chat_id))

    def save_group(self, settings: GroupSettings) -> None:
        self.store.groups[(settings.platform, settings.chat_id)] = settings

    def schedules(self, platform: str, chat_id: str) -> list[ChallengeSchedule]:
        return [
            s
            for _, s in sorted(self.store.schedules.items())
            if s.platform == platform and s.chat_id == chat_id
        ]

    def add_schedule(self, s: ChallengeSchedule) -> ChallengeSchedule:
        _utc(s.next_run_at, "ChallengeSchedule.next_run_at")
        # The time is stored as "HH:MM".
        at = time(s.at.hour, s.at.minute)
        stored = replace(s, id=self.store.next_schedule_id, at=at)
        self.store.next_schedule_id += 1
        self.store.schedules[stored.id] = stored
        return stored

    def delete_schedules(self, platform: str, chat_id: str, challenge_id: str | None) -> int:
        gone = [
            k
            for k, s in self.store.schedules.items()
            if s.platform == platform
            and s.chat_id == chat_id
            and (challenge_id is None or s.challenge_id == challenge_id)
        ]
        for k in gone:
            del self.store.schedules[k]
        return len(gone)

    def claim_schedules(self, now: datetime, limit: int) -> list[ChallengeSchedule]:
        _utc(now)
        due = [
            s
            for s in self.store.schedules.values()
            if s.next_run_at is not None and s.next_run_at <= now
        ]
        due.sort(key=lambda s: (s.next_run_at, s.id))
        return due[:limit]

    def set_schedule_next(self, schedule_id: int, when: datetime | None) -> None:
        _utc(when)
        s = self.store.schedules.get(schedule_id)
        if s is not None:
            self.store.schedules[schedule_id] = replace(s, next_run_at=when)


class FakeTimers:
    """A :class:`Timers` that records calls.

    ``pending`` holds the live push timer per learner, ``reveals`` the reveal
    timer per challenge run.
    """

    def __init__(self) -> None:
        self.calls: list[tuple[str, int, datetime | None]] = []
        self.pending: dict[int, datetime] = {}
        self.reveals: dict[int, datetime] = {}

    async def push_at(self, learner_id: int, when: datetime) -> None:
        _utc(when, "timer instant")
        self.calls.append(("push_at", learner_id, when))
        self.pending[learner_id] = when

    async def cancel_push(self, learner_id: int) -> None:
        self.calls.append(("cancel_push", learner_id, None))
        self.pending.pop(learner_id, None)

    async def reveal_at(self, run_id: int, when: datetime) -> None:
        _utc(when, "timer instant")
        self.calls.append(("reveal_at", run_id, when))
        self.reveals[run_id] = when


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
