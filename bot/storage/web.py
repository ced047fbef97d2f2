"""The browser workspace's rows (tables ``web_sessions``, ``web_once``, ``web_drafts``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, delete, select
from sqlalchemy.dialects import postgresql, sqlite

from bot.core.model import Draft, WebSession
from bot.storage.tables import web_drafts, web_once, web_sessions


class SqlWebRepo:
    """Sessions (by cookie digest), one-time keys and drafts (:class:`~bot.core.ports.WebRepo`)."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def use_once(self, key: str, expires_at: datetime) -> bool:
        # INSERT ... ON CONFLICT DO NOTHING: of two transactions inserting the same key,
        # PostgreSQL makes the second wait for the first and then insert nothing (and
        # SQLite serialises writers): exactly one gets True, in any process.
        insert_of = postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert
        result = self.conn.execute(
            insert_of(web_once)
            .values(key=key, expires_at=expires_at)
            .on_conflict_do_nothing(index_elements=[web_once.c.key])
        )
        return result.rowcount == 1

    def add_session(self, session: WebSession) -> None:
        self.conn.execute(
            web_sessions.insert().values(
                id_hash=session.id_hash,
                learner_id=session.learner_id,
                csrf=session.csrf,
                scope=session.scope,
                created_at=session.created_at,
                expires_at=session.expires_at,
            )
        )

    def session(self, id_hash: str, now: datetime) -> WebSession | None:
        row = self.conn.execute(
            select(web_sessions).where(
                web_sessions.c.id_hash == id_hash, web_sessions.c.expires_at > now
            )
        ).first()
        if row is None:
            return None
        return WebSession(
            id_hash=row.id_hash,
            learner_id=row.learner_id,
            csrf=row.csrf,
            scope=row.scope,
            created_at=row.created_at,
            expires_at=row.expires_at,
        )

    def drop_session(self, id_hash: str) -> None:
        self.conn.execute(delete(web_sessions).where(web_sessions.c.id_hash == id_hash))

    def draft(self, learner_id: int, key: str) -> Draft | None:
        row = self.conn.execute(
            select(web_drafts.c.text, web_drafts.c.updated_at).where(
                web_drafts.c.learner_id == learner_id, web_drafts.c.key == key
            )
        ).first()
        return None if row is None else Draft(learner_id, key, row.text, row.updated_at)

    def save_draft(self, draft: Draft) -> None:
        # An upsert: two saves racing (two tabs) do not collide; the last one wins.
        insert_of = postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert
        statement = insert_of(web_drafts).values(
            learner_id=draft.learner_id, key=draft.key, text=draft.text, updated_at=draft.updated_at
        )
        self.conn.execute(
            statement.on_conflict_do_update(
                index_elements=[web_drafts.c.learner_id, web_drafts.c.key],
                set_={"text": draft.text, "updated_at": draft.updated_at},
            )
        )

    def drop_draft(self, learner_id: int, key: str) -> None:
        self.conn.execute(
            delete(web_drafts).where(web_drafts.c.learner_id == learner_id, web_drafts.c.key == key)
        )

    def prune(self, now: datetime) -> int:
        sessions = self.conn.execute(delete(web_sessions).where(web_sessions.c.expires_at <= now))
        keys = self.conn.execute(delete(web_once).where(web_once.c.expires_at <= now))
        return sessions.rowcount + keys.rowcount
