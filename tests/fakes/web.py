"""The browser workspace's rows, as ``bot.storage.web.SqlWebRepo`` keeps them."""

from __future__ import annotations

from datetime import datetime

from bot.core.model import Draft, WebSession
from tests.fakes.store import FakeStore, utc


class FakeWebRepo:
    """Sessions by cookie digest, one-time keys and drafts, with the SQL schema's limits."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def use_once(self, key: str, expires_at: datetime) -> bool:
        utc(expires_at)
        if len(key) > 64:
            raise ValueError("a one-time key is at most 64 characters (its column)")
        if key in self.store.web_once:
            return False
        self.store.web_once[key] = expires_at
        return True

    def add_session(self, session: WebSession) -> None:
        utc(session.created_at)
        utc(session.expires_at)
        if session.learner_id not in self.store.learners:
            raise ValueError(f"no learner {session.learner_id} (foreign key)")
        if session.id_hash in self.store.web_sessions:
            raise ValueError("duplicate session (primary key)")
        if len(session.id_hash) > 64 or len(session.csrf) > 64 or len(session.scope) > 120:
            raise ValueError("a session's id_hash, csrf or scope is too long (its columns)")
        self.store.web_sessions[session.id_hash] = session

    def session(self, id_hash: str, now: datetime) -> WebSession | None:
        utc(now)
        found = self.store.web_sessions.get(id_hash)
        return found if found is not None and found.expires_at > now else None

    def drop_session(self, id_hash: str) -> None:
        self.store.web_sessions.pop(id_hash, None)

    def draft(self, learner_id: int, key: str) -> Draft | None:
        return self.store.web_drafts.get((learner_id, key))

    def save_draft(self, draft: Draft) -> None:
        utc(draft.updated_at)
        if draft.learner_id not in self.store.learners:
            raise ValueError(f"no learner {draft.learner_id} (foreign key)")
        if len(draft.key) > 120:
            raise ValueError("a draft's key is at most 120 characters (its column)")
        self.store.web_drafts[(draft.learner_id, draft.key)] = draft

    def drop_draft(self, learner_id: int, key: str) -> None:
        self.store.web_drafts.pop((learner_id, key), None)

    def prune(self, now: datetime) -> int:
        utc(now)
        st = self.store
        before = len(st.web_sessions) + len(st.web_once)
        st.web_sessions = {k: s for k, s in st.web_sessions.items() if s.expires_at > now}
        st.web_once = {k: e for k, e in st.web_once.items() if e > now}
        return before - len(st.web_sessions) - len(st.web_once)
