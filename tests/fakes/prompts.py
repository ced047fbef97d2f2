"""Prompts, as ``bot.storage.prompts.SqlPrompts`` keeps them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.core.model import CardState, Prompt
from tests.fakes.store import FakeStore, utc


class FakePrompts:
    """Prompts by token; ``claim`` succeeds once per prompt, for its own learner only."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def add(self, prompt: Prompt) -> None:
        utc(prompt.created_at, "Prompt.created_at")
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

    def reveal(
        self,
        token: str,
        now: datetime,
        typed_answer: str | None,
        intervals: Sequence[int] | None = None,
    ) -> None:
        utc(now)
        if intervals is not None and len(intervals) != 4:
            raise ValueError("intervals are four: one per rating")
        prompt = self.store.prompts.get(token)
        if prompt is not None:
            self.store.prompts[token] = replace(
                prompt,
                revealed_at=now,
                typed_answer=typed_answer,
                intervals=None if intervals is None else tuple(int(s) for s in intervals),
            )

    def claim(self, token: str, learner_id: int, now: datetime) -> bool:
        utc(now)
        prompt = self.store.prompts.get(token)
        if prompt is None or prompt.learner_id != learner_id or prompt.answered_at is not None:
            return False
        self.store.prompts[token] = replace(prompt, answered_at=now)
        return True

    def prune(self, before: datetime) -> int:
        utc(before)
        old = [t for t, p in self.store.prompts.items() if p.created_at < before]
        for token in old:
            del self.store.prompts[token]
        return len(old)
