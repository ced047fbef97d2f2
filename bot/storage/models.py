"""Each learner's memory model: fits (table ``model_fits``), when to look next
(``learners.next_fit_at``), the log a fit reads, and the memory states it rewrites."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import datetime
from typing import TYPE_CHECKING, Any

from sqlalchemy import Connection, bindparam, func, insert, not_, or_, select, update

from bot.core.model import ModelFit, ReviewSource
from bot.storage.tables import UTCDateTime, card_states, learners, model_fits, review_logs

if TYPE_CHECKING:
    from bot.storage.fanout import Fanout

#: The reviews a fit reads: neither practice (``/cram``) nor undone.
_USABLE = (
    review_logs.c.learner_id == bindparam("learner_id"),
    review_logs.c.undone_at.is_(None),
    review_logs.c.source != str(ReviewSource.CRAM),
)
_LOG = (
    select(review_logs.c.card_id, review_logs.c.reviewed_at, review_logs.c.rating)
    .where(*_USABLE)
    .order_by(review_logs.c.reviewed_at, review_logs.c.id)
)
_LOG_SIZE = select(func.count()).select_from(review_logs).where(*_USABLE)
_SET_STATE = (
    update(card_states)
    .where(
        card_states.c.learner_id == bindparam("lid"),
        card_states.c.card_id == bindparam("cid"),
        card_states.c.last_review == bindparam("as_of", type_=UTCDateTime()),
    )
    .values(stability=bindparam("s"), difficulty=bindparam("d"))
)


def _fit(r: Any) -> ModelFit:
    return ModelFit(
        id=r.id,
        learner_id=r.learner_id,
        fitted_at=r.fitted_at,
        reviews=r.reviews,
        held_out=r.held_out,
        logloss_current=r.logloss_current,
        logloss_fitted=r.logloss_fitted,
        logloss_default=r.logloss_default,
        kept=r.kept,
        parameters=tuple(float(p) for p in json.loads(r.parameters)),
    )


class SqlModels:
    """Learners' memory models.

    Args:
        conn: the transaction's connection.
        fanout: how this database claims rows (``FOR UPDATE SKIP LOCKED`` on PostgreSQL).
    """

    def __init__(self, conn: Connection, fanout: Fanout) -> None:
        self.conn = conn
        self.fanout = fanout

    def claim_due(self, now: datetime, lease_until: datetime, limit: int) -> list[int]:
        due = self.fanout.locked(
            select(learners.c.id)
            .where(or_(learners.c.next_fit_at.is_(None), learners.c.next_fit_at <= now))
            .order_by(learners.c.next_fit_at.asc().nulls_first(), learners.c.id)
            .limit(limit)
        )
        ids = list(self.conn.execute(due).scalars())
        if ids:
            self.conn.execute(
                update(learners).where(learners.c.id.in_(ids)).values(next_fit_at=lease_until)
            )
        return ids

    def set_next(self, learner_id: int, when: datetime | None) -> None:
        self.conn.execute(
            update(learners).where(learners.c.id == learner_id).values(next_fit_at=when)
        )

    def next_at(self, learner_id: int) -> datetime | None:
        return self.conn.execute(
            select(learners.c.next_fit_at).where(learners.c.id == learner_id)
        ).scalar()

    def learner_ids(self) -> list[int]:
        return list(self.conn.execute(select(learners.c.id).order_by(learners.c.id)).scalars())

    def log(self, learner_id: int) -> list[tuple[str, datetime, int]]:
        rows = self.conn.execute(_LOG, {"learner_id": learner_id}).all()
        return [(r[0], r[1], r[2]) for r in rows]

    def log_size(self, learner_id: int) -> int:
        return int(self.conn.execute(_LOG_SIZE, {"learner_id": learner_id}).scalar_one())

    def add(self, fit: ModelFit) -> ModelFit:
        new_id = self.conn.execute(
            insert(model_fits)
            .values(
                learner_id=fit.learner_id,
                fitted_at=fit.fitted_at,
                reviews=fit.reviews,
                held_out=fit.held_out,
                logloss_current=fit.logloss_current,
                logloss_fitted=fit.logloss_fitted,
                logloss_default=fit.logloss_default,
                kept=fit.kept,
                parameters=json.dumps(list(fit.parameters)),
            )
            .returning(model_fits.c.id)
        ).scalar_one()
        return ModelFit(
            fit.learner_id,
            fit.fitted_at,
            fit.reviews,
            fit.held_out,
            fit.logloss_current,
            fit.logloss_fitted,
            fit.logloss_default,
            fit.kept,
            fit.parameters,
            id=int(new_id),
        )

    def latest(self, learner_id: int, *, kept: bool | None = None) -> ModelFit | None:
        query = select(model_fits).where(model_fits.c.learner_id == learner_id)
        if kept is not None:
            query = query.where(model_fits.c.kept if kept else not_(model_fits.c.kept))
        row = self.conn.execute(
            query.order_by(model_fits.c.fitted_at.desc(), model_fits.c.id.desc()).limit(1)
        ).first()
        return _fit(row) if row is not None else None

    def set_memory_states(
        self, learner_id: int, states: Sequence[tuple[str, datetime, float, float]]
    ) -> None:
        if not states:
            return
        rows = [
            {"lid": learner_id, "cid": card_id, "as_of": as_of, "s": s, "d": d}
            for card_id, as_of, s, d in states
        ]
        self.conn.execute(_SET_STATE, rows)
