"""The review log, as ``bot.storage.reviews.SqlReviews`` keeps it."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.core.model import CardState, CardStateKind, ReviewEntry, ReviewSource
from tests.fakes.store import FakeStore, state_utc, utc


class FakeReviews:
    """The review log.

    ``counts_since`` and ``history`` skip undone reviews; "new" means the state
    before the rating was NEW.
    """

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def _active(self, learner_id: int) -> list[ReviewEntry]:
        return [
            e
            for e in self.store.reviews.values()
            if e.learner_id == learner_id and e.undone_at is None
        ]

    def add(self, entry: ReviewEntry) -> int:
        utc(entry.reviewed_at, "ReviewEntry.reviewed_at")
        state_utc(entry.before)
        state_utc(entry.after)
        review_id = self.store.next_review_id
        self.store.next_review_id += 1
        # Like the review_logs columns: the state after keeps no flags, and its reps
        # are one more than before.
        after = CardState(
            entry.learner_id,
            entry.card_id,
            entry.after.state,
            entry.after.step,
            entry.after.stability,
            entry.after.difficulty,
            entry.after.due,
            entry.after.last_review,
            entry.before.reps + 1,
            entry.after.lapses,
        )
        self.store.reviews[review_id] = replace(entry, after=after, id=review_id, undone_at=None)
        return review_id

    def last_active(self, learner_id: int) -> ReviewEntry | None:
        active = self._active(learner_id)
        if not active:
            return None
        return max(active, key=lambda e: (e.reviewed_at, e.id or 0))

    def all_for(self, learner_id: int, since: datetime | None = None) -> list[ReviewEntry]:
        if since is not None:
            utc(since)
        return sorted(
            (
                e
                for e in self.store.reviews.values()
                if e.learner_id == learner_id and (since is None or e.reviewed_at >= since)
            ),
            key=lambda e: (e.reviewed_at, e.id or 0),
        )

    def mark_undone(self, review_id: int, now: datetime) -> None:
        utc(now)
        entry = self.store.reviews.get(review_id)
        if entry is not None:
            self.store.reviews[review_id] = replace(entry, undone_at=now)

    def counts_since(self, learner_id: int, since: datetime) -> tuple[int, int]:
        utc(since)
        rows = [
            e
            for e in self._active(learner_id)
            if e.reviewed_at >= since and e.source != ReviewSource.CRAM
        ]
        return len(rows), sum(1 for e in rows if e.before.state is CardStateKind.NEW)

    def count_source_since(self, learner_id: int, source: str, since: datetime) -> int:
        utc(since)
        return sum(
            1 for e in self._active(learner_id) if e.source == source and e.reviewed_at >= since
        )

    def history(self, learner_id: int, since: datetime) -> list[tuple[datetime, int, int]]:
        utc(since)
        rows = sorted(
            (
                e
                for e in self._active(learner_id)
                if e.reviewed_at >= since and e.source != ReviewSource.CRAM
            ),
            key=lambda e: (e.reviewed_at, e.id or 0),
        )
        return [(e.reviewed_at, e.rating, int(e.before.state)) for e in rows]

    def cards_since(self, learner_id: int, source: str, since: datetime) -> set[str]:
        utc(since)
        return {
            e.card_id
            for e in self._active(learner_id)
            if e.source == source and e.reviewed_at >= since
        }

    def add_many(self, entries: Sequence[ReviewEntry]) -> int:
        for entry in entries:
            self.add(entry)
        return len(entries)

    def keys(self, learner_id: int, source: str) -> set[tuple[str, datetime]]:
        return {
            (e.card_id, e.reviewed_at)
            for e in self.store.reviews.values()
            if e.learner_id == learner_id and e.source == source
        }

    def last_reviewed(self, learner_id: int, excluding: Sequence[str]) -> dict[str, datetime]:
        out: dict[str, datetime] = {}
        for e in self._active(learner_id):
            if e.source not in excluding and (
                e.card_id not in out or e.reviewed_at > out[e.card_id]
            ):
                out[e.card_id] = e.reviewed_at
        return out

    # Test helpers (not part of the port).

    def all(self, learner_id: int | None = None) -> list[ReviewEntry]:
        """Every entry, undone ones included, in insertion order."""
        return [
            e
            for _, e in sorted(self.store.reviews.items())
            if learner_id is None or e.learner_id == learner_id
        ]
