"""Open questions, as ``bot.storage.questions.SqlQuestions`` keeps them."""

from __future__ import annotations

from datetime import datetime

from tests.fakes.store import FakeStore, utc


class FakeQuestions:
    """One open question per learner (step, chain, expiry)."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def ask(self, learner_id: int, step: str, chain: bool, until: datetime) -> None:
        utc(until)
        if learner_id not in self.store.learners:
            raise ValueError(f"no learner {learner_id} (foreign key)")
        self.store.questions[learner_id] = (step, chain, until)

    def pending(self, learner_id: int, now: datetime) -> tuple[str, bool] | None:
        utc(now)
        found = self.store.questions.get(learner_id)
        if found is None or found[2] <= now:
            return None
        return found[0], found[1]

    def close(self, learner_id: int) -> None:
        self.store.questions.pop(learner_id, None)
