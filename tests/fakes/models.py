"""Learners' memory models, as ``bot.storage.models.SqlModels`` keeps them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.core.model import ModelFit, ReviewSource
from tests.fakes.store import FakeStore, utc


class FakeModels:
    """Fits (``model_fits``), ``learners.next_fit_at``, the log a fit reads."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[int]:
        utc(now)
        utc(lease_until)
        nexts = self.store.next_fits
        due = [lid for lid in self.store.learners if nexts.get(lid) is None or nexts[lid] <= now]
        due.sort(key=lambda lid: (nexts.get(lid) is not None, nexts.get(lid) or now, lid))
        claimed = due[:limit]
        for lid in claimed:
            nexts[lid] = lease_until
        return claimed

    def set_next(self, learner_id: int, when: datetime | None) -> None:
        utc(when)
        if learner_id not in self.store.learners:
            return
        if when is None:
            self.store.next_fits.pop(learner_id, None)
        else:
            self.store.next_fits[learner_id] = when

    def next_at(self, learner_id: int) -> datetime | None:
        return self.store.next_fits.get(learner_id)

    def learner_ids(self) -> list[int]:
        return sorted(self.store.learners)

    def log(self, learner_id: int) -> list[tuple[str, datetime, int]]:
        rows = sorted(
            (
                e
                for e in self.store.reviews.values()
                if e.learner_id == learner_id
                and e.undone_at is None
                and e.source != ReviewSource.CRAM
            ),
            key=lambda e: (e.reviewed_at, e.id or 0),
        )
        return [(e.card_id, e.reviewed_at, e.rating) for e in rows]

    def log_size(self, learner_id: int) -> int:
        return len(self.log(learner_id))

    def add(self, fit: ModelFit) -> ModelFit:
        utc(fit.fitted_at)
        if fit.learner_id not in self.store.learners:
            raise ValueError(f"no learner {fit.learner_id} (foreign key)")
        stored = replace(
            fit, id=self.store.next_fit_id, parameters=tuple(float(p) for p in fit.parameters)
        )
        self.store.model_fits[stored.id or 0] = stored
        self.store.next_fit_id += 1
        return stored

    def latest(self, learner_id: int, *, kept: bool | None = None) -> ModelFit | None:
        fits = [
            f
            for f in self.store.model_fits.values()
            if f.learner_id == learner_id and (kept is None or f.kept == kept)
        ]
        return max(fits, key=lambda f: (f.fitted_at, f.id or 0), default=None)

    def set_memory_states(
        self, learner_id: int, states: Sequence[tuple[str, datetime, float, float]]
    ) -> None:
        for card_id, as_of, stability, difficulty in states:
            utc(as_of)
            key = (learner_id, card_id)
            found = self.store.states.get(key)
            if found is not None and found.last_review == as_of:
                self.store.states[key] = replace(found, stability=stability, difficulty=difficulty)
