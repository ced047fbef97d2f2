"""Card states, as ``bot.storage.schedule.SqlSchedule`` keeps them."""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.core.model import CardState
from tests.fakes.reviews import FakeReviews
from tests.fakes.store import FakeStore, state_utc, utc


class FakeSchedule:
    """Card states by (learner, card).

    ``next_due`` orders by due and skips suspended, buried (``buried_until >
    now``) and retired cards; ``next_new`` walks live cards never studied, in
    deck order then card order. Both (and ``next_due_at``) filter by topics
    (deck ids or tags) when given. Every query offers a learner only the cards of
    shipped decks and of their own unpaused decks (``FakeStore.offered``).
    """

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def _live(self, learner_id: int, card_id: str, topics: Sequence[str] = ()) -> bool:
        """Offered to the learner: live, in a shipped deck or their own unpaused one (and
        in one of ``topics``, deck ids or tags, when given)."""
        if not self.store.offered(learner_id, card_id):
            return False
        row = self.store.cards[card_id]
        wanted = set(topics)
        return not wanted or row.card.deck_id in wanted or bool(wanted.intersection(row.card.tags))

    def _mine(self, learner_id: int) -> list[CardState]:
        return [s for (lid, _), s in self.store.states.items() if lid == learner_id]

    def _available(self, state: CardState, now: datetime, topics: Sequence[str]) -> bool:
        """Live, in the topics, unsuspended, unburied (``buried_until`` is None or ``<= now``)."""
        return (
            not state.suspended
            and (state.buried_until is None or state.buried_until <= now)
            and self._live(state.learner_id, state.card_id, topics)
        )

    def get(self, learner_id: int, card_id: str) -> CardState:
        return self.store.states.get((learner_id, card_id), CardState(learner_id, card_id))

    def save(self, state: CardState) -> None:
        assert state.due is not None, "a stored card state always has a due time"
        state_utc(state)
        self.store.states[(state.learner_id, state.card_id)] = state

    def save_many(self, states: Sequence[CardState]) -> int:
        keys = [(s.learner_id, s.card_id) for s in states]
        if len(set(keys)) != len(keys):
            raise ValueError("save_many: one state per learner and card (primary key)")
        for state in states:
            self.save(state)
        return len(states)

    def delete(self, learner_id: int, card_id: str) -> None:
        self.store.states.pop((learner_id, card_id), None)

    def states_for(self, learner_ids: Sequence[int], card_ids: Sequence[str]) -> list[CardState]:
        lids, cids = set(learner_ids), set(card_ids)
        return [s for (lid, cid), s in self.store.states.items() if lid in lids and cid in cids]

    def next_due(
        self,
        learner_id: int,
        now: datetime,
        due_before: datetime | None = None,
        *,
        topics: Sequence[str] = (),
    ) -> str | None:
        utc(now)
        utc(due_before)
        limit = now if due_before is None else due_before
        due = [
            s
            for s in self._mine(learner_id)
            if s.due is not None and s.due <= limit and self._available(s, now, topics)
        ]
        if not due:
            return None
        return min(due, key=lambda s: (s.due, s.card_id)).card_id

    def next_new(self, learner_id: int, topics: Sequence[str], now: datetime) -> str | None:
        utc(now)
        candidates = [
            row
            for card_id, row in self.store.cards.items()
            if (learner_id, card_id) not in self.store.states
            and self._live(learner_id, card_id, topics)
        ]
        if not candidates:
            return None
        first = min(candidates, key=lambda r: (r.deck_position, r.card.position, r.card.id))
        return first.card.id

    def next_due_and_counts(
        self, learner_id: int, now: datetime, since: datetime, *, topics: Sequence[str] = ()
    ) -> tuple[str | None, int, int]:
        reviews, new = FakeReviews(self.store).counts_since(learner_id, since)
        return self.next_due(learner_id, now, topics=topics), reviews, new

    def count_due(self, learner_id: int, until: datetime) -> int:
        utc(until)
        return sum(
            1
            for s in self._mine(learner_id)
            if s.due is not None
            and s.due < until
            and not s.suspended
            and (s.buried_until is None or s.buried_until < until)
            and self._live(learner_id, s.card_id)
        )

    def due_times(self, learner_id: int, until: datetime) -> list[datetime]:
        """Due instants (or the bury's end, when later) of live, unsuspended cards due before."""
        utc(until)
        return [
            max(s.due, s.buried_until) if s.buried_until else s.due
            for s in self._mine(learner_id)
            if s.due is not None
            and s.due < until
            and not s.suspended
            and self._live(learner_id, s.card_id)
        ]

    def due_per_day(self, learner_id: int, day_starts: Sequence[datetime]) -> list[int]:
        """Live, unsuspended cards due in each ``[day_starts[i], day_starts[i + 1])``."""
        for start in day_starts:
            utc(start)
        if list(day_starts) != sorted(set(day_starts)):
            raise ValueError("day_starts must be ascending and distinct")
        counts = [0] * max(0, len(day_starts) - 1)
        for s in self._mine(learner_id):
            if s.due is None or s.suspended or not self._live(learner_id, s.card_id):
                continue
            i = bisect.bisect_right(day_starts, s.due) - 1
            if 0 <= i < len(counts):
                counts[i] += 1
        return counts

    def unsuspend(self, learner_id: int, card_ids: Sequence[str] | None) -> int:
        changed = 0
        for s in self._mine(learner_id):
            if s.suspended and (card_ids is None or s.card_id in card_ids):
                self.store.states[(learner_id, s.card_id)] = replace(
                    s, suspended=False, leech=False
                )
                changed += 1
        return changed

    def next_due_at(self, learner_id: int, *, topics: Sequence[str] = ()) -> datetime | None:
        whens: list[datetime] = []
        for s in self._mine(learner_id):
            if s.suspended or not self._live(learner_id, s.card_id, topics) or s.due is None:
                continue
            when = s.due
            if s.buried_until is not None and s.buried_until > when:
                when = s.buried_until
            whens.append(when)
        return min(whens) if whens else None
