"""Learners and their settings, as ``bot.storage.learners.SqlLearners`` keeps them."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, time, timedelta

from bot.core.memory import InvalidParameters, check_parameters
from bot.core.model import Learner, LearnerSettings
from bot.core.ports import AccountTaken
from tests.fakes.personal import delete_decks
from tests.fakes.store import FakeStore, utc


def _minute(value: time) -> time:
    return time(value.hour, value.minute)


def _usable(parameters: tuple[float, ...] | None) -> tuple[float, ...] | None:
    if not parameters:
        return None
    try:
        return check_parameters(list(parameters))
    except InvalidParameters:
        return None


def _stored_settings(s: LearnerSettings) -> LearnerSettings:
    """Settings as their SQL columns hold them.

    Times of day to the minute, steps to whole seconds, days off sorted, and
    no FSRS parameters, or parameters the scheduler cannot use, as None (the SQL
    repository reads them so, logging the bad ones).
    """
    return replace(
        s,
        push_time=_minute(s.push_time),
        quiet_start=_minute(s.quiet_start) if s.quiet_start else None,
        quiet_end=_minute(s.quiet_end) if s.quiet_end else None,
        learning_steps=tuple(timedelta(seconds=int(d.total_seconds())) for d in s.learning_steps),
        relearning_steps=tuple(
            timedelta(seconds=int(d.total_seconds())) for d in s.relearning_steps
        ),
        days_off=tuple(sorted(s.days_off)),
        fsrs_parameters=_usable(s.fsrs_parameters),
    )


def _stored_topics(topics: Sequence[str]) -> tuple[str, ...]:
    """Topics as their comma-separated column holds them (empty names dropped)."""
    return tuple(t for t in ",".join(topics).split(",") if t)


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
            raise AccountTaken(f"learner {platform}/{platform_user_id} exists")
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
        # Like the SQL insert: the learner is returned as given and read back as stored.
        self.store.learners[learner.id] = replace(
            learner, settings=_stored_settings(settings), topics=_stored_topics(topics)
        )
        self.store.next_learner_id += 1
        return learner

    def save_settings(self, learner_id: int, settings: LearnerSettings) -> None:
        learner = self.store.learners.get(learner_id)
        if learner is not None:
            self.store.learners[learner_id] = replace(learner, settings=_stored_settings(settings))

    def set_topics(self, learner_id: int, topics: Sequence[str]) -> None:
        learner = self.store.learners.get(learner_id)
        if learner is not None:
            self.store.learners[learner_id] = replace(learner, topics=_stored_topics(topics))

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
        """Delete the learner and their own decks (with every row naming those decks'
        cards); the rest like ON DELETE CASCADE / SET NULL in the SQL schema."""
        st = self.store
        delete_decks(st, [d.id for d in st.decks.values() if d.owner_id == learner_id])
        st.media = {k: v for k, v in st.media.items() if k[0] != learner_id}
        st.learners.pop(learner_id, None)
        st.states = {k: v for k, v in st.states.items() if k[0] != learner_id}
        st.reviews = {k: v for k, v in st.reviews.items() if v.learner_id != learner_id}
        st.prompts = {k: v for k, v in st.prompts.items() if v.learner_id != learner_id}
        st.participants = {k: v for k, v in st.participants.items() if k[1] != learner_id}
        st.confirmations = {k: v for k, v in st.confirmations.items() if v.learner_id != learner_id}
        st.outbox = {k: v for k, v in st.outbox.items() if v.message.learner_id != learner_id}
        st.last_reminders.pop(learner_id, None)
        st.snoozed_pushes.discard(learner_id)
        st.questions.pop(learner_id, None)
        st.web_sessions = {k: v for k, v in st.web_sessions.items() if v.learner_id != learner_id}
        st.web_drafts = {k: v for k, v in st.web_drafts.items() if k[0] != learner_id}
        st.next_fits.pop(learner_id, None)
        st.model_fits = {k: v for k, v in st.model_fits.items() if v.learner_id != learner_id}
        st.rounds = {
            k: replace(r, started_by=None) if r.started_by == learner_id else r
            for k, r in st.rounds.items()
        }
        st.submissions = {k: v for k, v in st.submissions.items() if k[1] != learner_id}
        st.answer_photos = {k: v for k, v in st.answer_photos.items() if k[1] != learner_id}
        st.runs = {
            k: replace(r, started_by=None) if r.started_by == learner_id else r
            for k, r in st.runs.items()
        }
