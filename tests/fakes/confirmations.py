"""Confirmations, as ``bot.storage.confirmations.SqlConfirmations`` keeps them."""

from __future__ import annotations

from dataclasses import replace
from datetime import datetime

from tests.fakes.store import ConfirmationRow, FakeStore, utc


class FakeConfirmations:
    """Confirmations usable once, by their learner, while recent enough."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def add(
        self, token: str, learner_id: int, kind: str, now: datetime, subject: str | None = None
    ) -> None:
        utc(now)
        if token in self.store.confirmations:
            raise ValueError(f"duplicate confirmation token {token!r} (primary key)")
        if subject is not None and len(subject) > 64:
            raise ValueError("a confirmation's subject is at most 64 characters (its column)")
        self.store.confirmations[token] = ConfirmationRow(token, learner_id, kind, now, subject)

    def use(
        self, token: str, learner_id: int, now: datetime, since: datetime
    ) -> tuple[str, str | None] | None:
        utc(now)
        utc(since)
        row = self.store.confirmations.get(token)
        if (
            row is None
            or row.learner_id != learner_id
            or row.used_at is not None
            or row.created_at < since
        ):
            return None
        self.store.confirmations[token] = replace(row, used_at=now)
        return row.kind, row.subject
