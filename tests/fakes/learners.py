"""Learners and their settings, as ``bot.storage.learners.SqlLearners`` keeps them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime

from bot.core.model import Learner, LearnerSettings
from tests.fakes.store import FakeStore, utc


class FakeLearners:
    """Learners with their settings; deleting one cascades like the SQL schema."""

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
        utc(now)
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
        utc(now)
        learner = self.store.learners.get(learner_id)
        if learner is not None:
            self.store.learners[learner_id] = replace(learner, last_seen_at=now, unreachable=False)

    def set_next_push(self, learner_id: int, when: datetime | None) -> None:
        utc(when)
        learner = self.store.learners.get(learner_id)
        if learner is not None:
            self.store.learners[learner_id] = replace(learner, next_push_at=when)
            self.store.snoozed_pushes.discard(learner_id)

    def snooze_push(self, learner_id: int, when: datetime) -> None:
        utc(when)
        learner = self.store.learners.get(learner_id)
        if learner is not None:
            self.store.learners[learner_id] = replace(learner, next_push_at=when)
            self.store.snoozed_pushes.add(learner_id)

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
        st.snoozed_pushes.discard(learner_id)
        st.rounds = {
            k: replace(r, started_by=None) if r.started_by == learner_id else r
            for k, r in st.rounds.items()
        }
        st.submissions = {k: v for k, v in st.submissions.items() if k[1] != learner_id}
        st.runs = {
            k: replace(r, started_by=None) if r.started_by == learner_id else r
            for k, r in st.runs.items()
        }
