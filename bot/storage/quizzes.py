"""Group quiz rounds and their participants (tables ``quiz_rounds``, ``quiz_participants``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, insert, select, update

from bot.core.model import QuizParticipant, QuizPollRef, QuizRound
from bot.storage.locks import QUIZ_LOCKS, serialise
from bot.storage.rows import int_list, int_list_text
from bot.storage.tables import quiz_participants, quiz_rounds


def _round(r: Any) -> QuizRound:
    return QuizRound(
        id=r.id,
        token=r.token,
        platform=r.platform,
        chat_id=r.chat_id,
        card_id=r.card_id,
        topic=r.topic,
        started_at=r.started_at,
        ends_at=r.ends_at,
        started_by=r.started_by,
        closed_at=r.closed_at,
        expected=int_list(r.expected),
        poll=None
        if r.poll_id is None
        else QuizPollRef(r.poll_id, r.poll_message_id or "", int(r.poll_correct or 0)),
    )


def _participant(r: Any) -> QuizParticipant:
    return QuizParticipant(
        r.round_id,
        r.learner_id,
        r.prompt_token,
        r.display_name,
        r.revealed_at,
        r.rating,
        r.answered_at,
    )


def _poll_values(poll: QuizPollRef | None) -> dict[str, Any]:
    if poll is None:
        return {"poll_id": None, "poll_message_id": None, "poll_correct": None}
    return {
        "poll_id": poll.poll_id,
        "poll_message_id": poll.message_id,
        "poll_correct": poll.correct,
    }


class SqlQuizzes:
    """Quiz rounds in group chats; each member answers privately, once."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def open_round(self, platform: str, chat_id: str) -> QuizRound | None:
        row = self.conn.execute(
            select(quiz_rounds)
            .where(
                quiz_rounds.c.platform == platform,
                quiz_rounds.c.chat_id == chat_id,
                quiz_rounds.c.closed_at.is_(None),
            )
            .order_by(quiz_rounds.c.started_at.desc())
            .limit(1)
        ).first()
        return _round(row) if row else None

    def add(self, r: QuizRound) -> QuizRound:
        new_id = self.conn.execute(
            insert(quiz_rounds)
            .values(
                token=r.token,
                platform=r.platform,
                chat_id=r.chat_id,
                card_id=r.card_id,
                topic=r.topic,
                started_by=r.started_by,
                started_at=r.started_at,
                ends_at=r.ends_at,
                expected=int_list_text(r.expected),
                **_poll_values(r.poll),
            )
            .returning(quiz_rounds.c.id)
        ).scalar_one()
        return replace(r, id=new_id)

    def by_token(self, token: str) -> QuizRound | None:
        row = self.conn.execute(select(quiz_rounds).where(quiz_rounds.c.token == token)).first()
        return _round(row) if row else None

    def by_id(self, round_id: int) -> QuizRound | None:
        row = self.conn.execute(select(quiz_rounds).where(quiz_rounds.c.id == round_id)).first()
        return _round(row) if row else None

    def hold(self, round_id: int) -> None:
        serialise(self.conn, QUIZ_LOCKS | round_id)

    def set_poll(self, round_id: int, poll: QuizPollRef) -> bool:
        """Mark an open round as posted as this poll; False if it is closed or unknown."""
        result = self.conn.execute(
            update(quiz_rounds)
            .where(quiz_rounds.c.id == round_id, quiz_rounds.c.closed_at.is_(None))
            .values(**_poll_values(poll))
        )
        return bool(result.rowcount == 1)

    def by_poll(self, poll_id: str) -> QuizRound | None:
        row = self.conn.execute(select(quiz_rounds).where(quiz_rounds.c.poll_id == poll_id)).first()
        return _round(row) if row else None

    def participants(self, round_id: int) -> list[QuizParticipant]:
        rows = self.conn.execute(
            select(quiz_participants)
            .where(quiz_participants.c.round_id == round_id)
            .order_by(quiz_participants.c.revealed_at)
        ).all()
        return [_participant(r) for r in rows]

    def add_participant(self, p: QuizParticipant) -> None:
        self.conn.execute(
            insert(quiz_participants).values(
                round_id=p.round_id,
                learner_id=p.learner_id,
                prompt_token=p.prompt_token,
                display_name=p.display_name[:128],
                revealed_at=p.revealed_at,
            )
        )

    def by_prompt(self, prompt_token: str) -> QuizParticipant | None:
        r = self.conn.execute(
            select(quiz_participants).where(quiz_participants.c.prompt_token == prompt_token)
        ).first()
        if r is None:
            return None
        return _participant(r)

    def record(self, round_id: int, learner_id: int, rating: int, now: datetime) -> None:
        self.conn.execute(
            update(quiz_participants)
            .where(
                quiz_participants.c.round_id == round_id,
                quiz_participants.c.learner_id == learner_id,
            )
            .values(rating=rating, answered_at=now)
        )

    def close(self, round_id: int, now: datetime) -> bool:
        result = self.conn.execute(
            update(quiz_rounds)
            .where(quiz_rounds.c.id == round_id, quiz_rounds.c.closed_at.is_(None))
            .values(closed_at=now)
        )
        return bool(result.rowcount == 1)

    def due(self, now: datetime, limit: int = 100) -> list[QuizRound]:
        rows = self.conn.execute(
            select(quiz_rounds)
            .where(quiz_rounds.c.closed_at.is_(None), quiz_rounds.c.ends_at <= now)
            .order_by(quiz_rounds.c.ends_at)
            .limit(limit)
        ).all()
        return [_round(r) for r in rows]

    def recent_participants(self, platform: str, chat_id: str, since: datetime) -> list[int]:
        rows = self.conn.execute(
            select(quiz_participants.c.learner_id)
            .join(quiz_rounds, quiz_rounds.c.id == quiz_participants.c.round_id)
            .where(
                quiz_rounds.c.platform == platform,
                quiz_rounds.c.chat_id == chat_id,
                quiz_rounds.c.started_at >= since,
            )
            .distinct()
        ).scalars()
        return sorted(int(x) for x in rows)

    def recent_cards(self, platform: str, chat_id: str, since: datetime) -> set[str]:
        return set(
            self.conn.execute(
                select(quiz_rounds.c.card_id).where(
                    quiz_rounds.c.platform == platform,
                    quiz_rounds.c.chat_id == chat_id,
                    quiz_rounds.c.started_at >= since,
                )
            ).scalars()
        )
