"""Quiz rounds and participants, as ``bot.storage.quizzes.SqlQuizzes`` keeps them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from bot.core.model import QuizParticipant, QuizPollRef, QuizRound
from tests.fakes.store import FakeStore, utc


class FakeQuizzes:
    """Quiz rounds and their participants; a round closes exactly once."""

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
        utc(r.started_at, "QuizRound.started_at")
        utc(r.ends_at, "QuizRound.ends_at")
        if any(x.token == r.token for x in self.store.rounds.values()):
            raise ValueError(f"duplicate quiz token {r.token!r} (unique constraint)")
        if r.poll is not None:
            self._unique_poll(r.poll.poll_id)
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

    def hold(self, round_id: int) -> None:
        pass  # one unit of work at a time

    def _unique_poll(self, poll_id: str) -> None:
        if any(x.poll and x.poll.poll_id == poll_id for x in self.store.rounds.values()):
            raise ValueError(f"duplicate poll id {poll_id!r} (unique constraint)")

    def set_poll(self, round_id: int, poll: QuizPollRef) -> bool:
        r = self.store.rounds.get(round_id)
        if r is None or r.closed_at is not None:
            return False
        if r.poll is None or r.poll.poll_id != poll.poll_id:
            self._unique_poll(poll.poll_id)
        self.store.rounds[round_id] = replace(r, poll=poll)
        return True

    def by_poll(self, poll_id: str) -> QuizRound | None:
        for r in self.store.rounds.values():
            if r.poll is not None and r.poll.poll_id == poll_id:
                return r
        return None

    def participants(self, round_id: int) -> list[QuizParticipant]:
        return sorted(
            (p for (rid, _), p in self.store.participants.items() if rid == round_id),
            key=lambda p: p.revealed_at,
        )

    def add_participant(self, p: QuizParticipant) -> None:
        utc(p.revealed_at, "QuizParticipant.revealed_at")
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
        utc(now)
        p = self.store.participants.get((round_id, learner_id))
        if p is not None:
            self.store.participants[(round_id, learner_id)] = replace(
                p, rating=rating, answered_at=now
            )

    def close(self, round_id: int, now: datetime) -> bool:
        utc(now)
        r = self.store.rounds.get(round_id)
        if r is None or r.closed_at is not None:
            return False
        self.store.rounds[round_id] = replace(r, closed_at=now)
        return True

    def due(self, now: datetime, limit: int = 100) -> list[QuizRound]:
        utc(now)
        rounds = [r for r in self.store.rounds.values() if r.closed_at is None and r.ends_at <= now]
        rounds.sort(key=lambda r: (r.ends_at, r.id))
        return rounds[:limit]

    def _recent(self, platform: str, chat_id: str, since: datetime) -> list[QuizRound]:
        utc(since)
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
