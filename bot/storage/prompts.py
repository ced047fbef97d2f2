"""Prompts: cards shown to a learner, answered at most once (table ``prompts``)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, and_, bindparam, delete, insert, select, update

from bot.core.model import CardState, Prompt
from bot.storage.schedule import STATE_COLS, state_from_row
from bot.storage.tables import UTCDateTime, card_states, prompts

_PROMPT_INSERT = insert(prompts)
_PROMPT_GET = select(prompts).where(prompts.c.token == bindparam("token"))
_PROMPT_CLAIM = (
    update(prompts)
    .where(
        prompts.c.token == bindparam("b_token"),
        prompts.c.learner_id == bindparam("b_learner_id"),
        prompts.c.answered_at.is_(None),
    )
    .values(answered_at=bindparam("b_now", type_=UTCDateTime()))
)


_PROMPT_WITH_STATE = (
    select(prompts, *STATE_COLS)
    .select_from(
        prompts.outerjoin(
            card_states,
            and_(
                card_states.c.learner_id == prompts.c.learner_id,
                card_states.c.card_id == prompts.c.card_id,
            ),
        )
    )
    .where(prompts.c.token == bindparam("token"))
)


def _intervals_text(intervals: Sequence[int] | None) -> str | None:
    """A reveal's intervals as stored: seconds for ratings 1-4, comma-separated."""
    return None if intervals is None else ",".join(str(int(s)) for s in intervals)


def _intervals(text: Any) -> tuple[int, ...] | None:
    """The stored intervals back (None when the reveal stored none)."""
    return tuple(int(s) for s in text.split(",")) if text else None


class SqlPrompts:
    """Prompts: one shown card, answered at most once (its token names it in buttons)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, prompt: Prompt) -> None:
        self.conn.execute(
            _PROMPT_INSERT,
            {
                "token": prompt.token,
                "learner_id": prompt.learner_id,
                "card_id": prompt.card_id,
                "source": prompt.source,
                "created_at": prompt.created_at,
            },
        )

    def get_with_state(self, token: str) -> tuple[Prompt, CardState] | None:
        r = self.conn.execute(_PROMPT_WITH_STATE, {"token": token}).first()
        if r is None:
            return None
        prompt = Prompt(
            r.token,
            r.learner_id,
            r.card_id,
            r.source,
            r.created_at,
            r.revealed_at,
            r.answered_at,
            r.typed_answer,
            _intervals(r.intervals),
        )
        if r.state is None:
            return prompt, CardState(r.learner_id, r.card_id)
        return prompt, state_from_row(r.learner_id, r.card_id, r)

    def get(self, token: str) -> Prompt | None:
        r = self.conn.execute(_PROMPT_GET, {"token": token}).mappings().first()
        if r is None:
            return None
        return Prompt(
            r["token"],
            r["learner_id"],
            r["card_id"],
            r["source"],
            r["created_at"],
            r["revealed_at"],
            r["answered_at"],
            r["typed_answer"],
            _intervals(r["intervals"]),
        )

    def reveal(
        self,
        token: str,
        now: datetime,
        typed_answer: str | None,
        intervals: Sequence[int] | None = None,
    ) -> None:
        self.conn.execute(
            update(prompts)
            .where(prompts.c.token == token)
            .values(
                revealed_at=now, typed_answer=typed_answer, intervals=_intervals_text(intervals)
            )
        )

    def claim(self, token: str, learner_id: int, now: datetime) -> bool:
        params = {"b_token": token, "b_learner_id": learner_id, "b_now": now}
        return bool(self.conn.execute(_PROMPT_CLAIM, params).rowcount == 1)

    def prune(self, before: datetime) -> int:
        return int(self.conn.execute(delete(prompts).where(prompts.c.created_at < before)).rowcount)
