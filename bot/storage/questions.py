"""The question each learner's next typed message answers (table ``open_questions``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.storage.tables import open_questions


class SqlQuestions:
    """One open question per learner, with an expiry."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def ask(self, learner_id: int, step: str, chain: bool, until: datetime) -> None:
        values = {"learner_id": learner_id, "step": step, "chain": chain, "expires_at": until}
        # An upsert: two processes asking the same learner at once do not collide.
        insert = postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert
        statement = insert(open_questions).values(values)
        self.conn.execute(
            statement.on_conflict_do_update(
                index_elements=[open_questions.c.learner_id],
                set_={"step": step, "chain": chain, "expires_at": until},
            )
        )

    def pending(self, learner_id: int, now: datetime) -> tuple[str, bool] | None:
        row = self.conn.execute(
            select(open_questions.c.step, open_questions.c.chain).where(
                open_questions.c.learner_id == learner_id, open_questions.c.expires_at > now
            )
        ).first()
        return (str(row.step), bool(row.chain)) if row else None

    def close(self, learner_id: int) -> None:
        self.conn.execute(delete(open_questions).where(open_questions.c.learner_id == learner_id))
