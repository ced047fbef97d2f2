"""Confirmations of destructive commands, usable once (table ``confirmations``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, update

from bot.storage.tables import confirmations


class SqlConfirmations:
    """One-time confirmations of destructive commands (/forget, removing a deck)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(
        self, token: str, learner_id: int, kind: str, now: datetime, subject: str | None = None
    ) -> None:
        self.conn.execute(
            insert(confirmations).values(
                token=token, learner_id=learner_id, kind=kind, created_at=now, subject=subject
            )
        )

    def use(
        self, token: str, learner_id: int, now: datetime, since: datetime
    ) -> tuple[str, str | None] | None:
        row = self.conn.execute(
            update(confirmations)
            .where(
                confirmations.c.token == token,
                confirmations.c.learner_id == learner_id,
                confirmations.c.used_at.is_(None),
                confirmations.c.created_at >= since,
            )
            .values(used_at=now)
            .returning(confirmations.c.kind, confirmations.c.subject)
        ).first()
        return (str(row.kind), row.subject) if row else None
