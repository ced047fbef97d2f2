"""Group challenges: runs, submissions, group settings and weekly schedules.

Tables ``challenge_runs``, ``challenge_submissions`` (with ``challenge_photos``, the
photo answers' bytes), ``group_settings`` and ``challenge_schedules``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from datetime import datetime, time
from typing import TYPE_CHECKING, Any, Final

from sqlalchemy import Connection, delete, func, insert, or_, select, tuple_, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.sql.elements import ColumnElement

from bot.core.challenges.photos import StoredPhoto
from bot.core.model import ChallengeRun, ChallengeSchedule, GroupSettings, Submission
from bot.storage.locks import PHOTO_LOCKS, serialise
from bot.storage.rows import hhmm, hhmm_text, int_list, int_list_text
from bot.storage.tables import (
    challenge_photos,
    challenge_runs,
    challenge_schedules,
    challenge_submissions,
    group_settings,
)

if TYPE_CHECKING:
    from bot.storage.fanout import Fanout

#: (run, learner) pairs named in one statement that drops photos (2 bound values each,
#: well under SQLite's limit of bound values).
_KEYS_PER_STATEMENT: Final = 500


def _grades_text(grades: Sequence[int | None]) -> str:
    return ",".join("" if g is None else str(g) for g in grades)


def _grades(text: str) -> tuple[int | None, ...]:
    return tuple(int(x) if x else None for x in text.split(",")) if text else ()


def _run(r: Any) -> ChallengeRun:
    return ChallengeRun(
        id=r.id,
        token=r.token,
        platform=r.platform,
        chat_id=r.chat_id,
        challenge_id=r.challenge_id,
        started_at=r.started_at,
        deadline=r.deadline,
        started_by=r.started_by,
        revealed_at=r.revealed_at,
        cancelled_at=r.cancelled_at,
        summary_at=r.summary_at,
    )


def _submission(r: Any) -> Submission:
    return Submission(
        run_id=r.run_id,
        learner_id=r.learner_id,
        token=r.token,
        display_name=r.display_name,
        joined_at=r.joined_at,
        text=r.text,
        photo_ref=r.photo_ref,
        submitted_at=r.submitted_at,
        grades=_grades(r.grades),
        checks=int_list(r.checks),
        assessed_at=r.assessed_at,
        shared_at=r.shared_at,
        show_name=r.show_name,
    )


def _schedule(r: Any) -> ChallengeSchedule:
    return ChallengeSchedule(
        id=r.id,
        platform=r.platform,
        chat_id=r.chat_id,
        challenge_id=r.challenge_id,
        weekday=r.weekday,
        at=hhmm(r.at) or time(0),
        timezone=r.timezone,
        next_run_at=r.next_run_at,
        minutes=r.minutes,
    )


class SqlChallenges:
    """Challenge runs, submissions, group settings and weekly schedules.

    Args:
        conn: the transaction's connection.
        fanout: how this database claims rows (locked on PostgreSQL).
    """

    def __init__(self, conn: Connection, fanout: Fanout) -> None:
        self.conn = conn
        self.fanout = fanout

    def open_run(self, platform: str, chat_id: str) -> ChallengeRun | None:
        row = self.conn.execute(
            select(challenge_runs)
            .where(
                challenge_runs.c.platform == platform,
                challenge_runs.c.chat_id == chat_id,
                challenge_runs.c.revealed_at.is_(None),
                challenge_runs.c.cancelled_at.is_(None),
            )
            .order_by(challenge_runs.c.started_at.desc())
            .limit(1)
        ).first()
        return _run(row) if row else None

    def latest_run(self, platform: str, chat_id: str) -> ChallengeRun | None:
        row = self.conn.execute(
            select(challenge_runs)
            .where(challenge_runs.c.platform == platform, challenge_runs.c.chat_id == chat_id)
            .order_by(challenge_runs.c.started_at.desc(), challenge_runs.c.id.desc())
            .limit(1)
        ).first()
        return _run(row) if row else None

    def add_run(self, run: ChallengeRun) -> ChallengeRun:
        new_id = self.conn.execute(
            insert(challenge_runs)
            .values(
                token=run.token,
                platform=run.platform,
                chat_id=run.chat_id,
                challenge_id=run.challenge_id,
                started_by=run.started_by,
                started_at=run.started_at,
                deadline=run.deadline,
            )
            .returning(challenge_runs.c.id)
        ).scalar_one()
        return replace(run, id=new_id)

    def run_by_token(self, token: str) -> ChallengeRun | None:
        row = self.conn.execute(
            select(challenge_runs).where(challenge_runs.c.token == token)
        ).first()
        return _run(row) if row else None

    def run_by_id(self, run_id: int) -> ChallengeRun | None:
        row = self.conn.execute(select(challenge_runs).where(challenge_runs.c.id == run_id)).first()
        return _run(row) if row else None

    def set_run(self, run_id: int, field: str, now: datetime) -> bool:
        """Set revealed_at, cancelled_at or summary_at once; False if it was already set."""
        column = challenge_runs.c[field]
        result = self.conn.execute(
            update(challenge_runs)
            .where(challenge_runs.c.id == run_id, column.is_(None))
            .values({field: now})
        )
        return bool(result.rowcount == 1)

    def due_reveals(self, now: datetime) -> list[ChallengeRun]:
        rows = self.conn.execute(
            select(challenge_runs)
            .where(
                challenge_runs.c.revealed_at.is_(None),
                challenge_runs.c.cancelled_at.is_(None),
                challenge_runs.c.deadline <= now,
            )
            .order_by(challenge_runs.c.deadline)
            .limit(100)
        ).all()
        return [_run(r) for r in rows]

    def next_deadline(self) -> datetime | None:
        """The earliest deadline of an open run (neither revealed nor cancelled)."""
        deadline: datetime | None = self.conn.execute(
            select(challenge_runs.c.deadline)
            .where(challenge_runs.c.revealed_at.is_(None), challenge_runs.c.cancelled_at.is_(None))
            .order_by(challenge_runs.c.deadline)
            .limit(1)
        ).scalar()
        return deadline

    def due_summaries(self, revealed_before: datetime) -> list[ChallengeRun]:
        rows = self.conn.execute(
            select(challenge_runs)
            .where(
                challenge_runs.c.revealed_at.is_not(None),
                challenge_runs.c.revealed_at <= revealed_before,
                challenge_runs.c.summary_at.is_(None),
            )
            .limit(100)
        ).all()
        return [_run(r) for r in rows]

    def submissions(self, run_id: int) -> list[Submission]:
        rows = self.conn.execute(
            select(challenge_submissions)
            .where(challenge_submissions.c.run_id == run_id)
            .order_by(challenge_submissions.c.joined_at, challenge_submissions.c.learner_id)
        ).all()
        return [_submission(r) for r in rows]

    def submission(self, run_id: int, learner_id: int) -> Submission | None:
        row = self.conn.execute(
            select(challenge_submissions).where(
                challenge_submissions.c.run_id == run_id,
                challenge_submissions.c.learner_id == learner_id,
            )
        ).first()
        return _submission(row) if row else None

    def submission_by_token(self, token: str) -> Submission | None:
        row = self.conn.execute(
            select(challenge_submissions).where(challenge_submissions.c.token == token)
        ).first()
        return _submission(row) if row else None

    def save_submission(self, sub: Submission) -> None:
        values = _submission_values(sub)
        # A stored assessed_at stays (see the port): claim_assessment may have set it
        # in another transaction after this row was read.
        assessed = func.coalesce(challenge_submissions.c.assessed_at, sub.assessed_at)
        result = self.conn.execute(
            update(challenge_submissions)
            .where(
                challenge_submissions.c.run_id == sub.run_id,
                challenge_submissions.c.learner_id == sub.learner_id,
            )
            .values(assessed_at=assessed, **values)
        )
        if result.rowcount == 0:
            self.conn.execute(
                insert(challenge_submissions).values(
                    run_id=sub.run_id,
                    learner_id=sub.learner_id,
                    assessed_at=sub.assessed_at,
                    **values,
                )
            )

    def add_submission(self, sub: Submission) -> bool:
        values = {
            "run_id": sub.run_id,
            "learner_id": sub.learner_id,
            "assessed_at": sub.assessed_at,
            **_submission_values(sub),
        }
        insert_of = postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert
        result = self.conn.execute(
            insert_of(challenge_submissions)
            .values(values)
            .on_conflict_do_nothing(
                index_elements=[challenge_submissions.c.run_id, challenge_submissions.c.learner_id]
            )
        )
        return result.rowcount == 1

    def claim_assessment(self, run_id: int, learner_id: int, now: datetime) -> bool:
        result = self.conn.execute(
            update(challenge_submissions)
            .where(
                challenge_submissions.c.run_id == run_id,
                challenge_submissions.c.learner_id == learner_id,
                challenge_submissions.c.assessed_at.is_(None),
            )
            .values(assessed_at=now)
        )
        return result.rowcount == 1

    def joined_open_run(
        self, learner_id: int, revealed_since: datetime | None = None
    ) -> ChallengeRun | None:
        """The newest open run the learner joined (where a DM answer goes); with
        ``revealed_since``, also one revealed since then (a late answer is told so)."""
        revealed: ColumnElement[bool] = challenge_runs.c.revealed_at.is_(None)
        if revealed_since is not None:
            revealed = or_(revealed, challenge_runs.c.revealed_at >= revealed_since)
        row = self.conn.execute(
            select(challenge_runs)
            .join(challenge_submissions, challenge_submissions.c.run_id == challenge_runs.c.id)
            .where(
                challenge_submissions.c.learner_id == learner_id,
                revealed,
                challenge_runs.c.cancelled_at.is_(None),
            )
            .order_by(challenge_submissions.c.joined_at.desc())
            .limit(1)
        ).first()
        return _run(row) if row else None

    def group(self, platform: str, chat_id: str) -> GroupSettings | None:
        row = self.conn.execute(
            select(group_settings).where(
                group_settings.c.platform == platform, group_settings.c.chat_id == chat_id
            )
        ).first()
        if row is None:
            return None
        return GroupSettings(row.platform, row.chat_id, row.timezone, row.who_runs)

    def save_group(self, settings: GroupSettings) -> None:
        result = self.conn.execute(
            update(group_settings)
            .where(
                group_settings.c.platform == settings.platform,
                group_settings.c.chat_id == settings.chat_id,
            )
            .values(timezone=settings.timezone, who_runs=settings.who_runs)
        )
        if result.rowcount == 0:
            self.conn.execute(
                insert(group_settings).values(
                    platform=settings.platform,
                    chat_id=settings.chat_id,
                    timezone=settings.timezone,
                    who_runs=settings.who_runs,
                )
            )

    def schedules(self, platform: str, chat_id: str) -> list[ChallengeSchedule]:
        rows = self.conn.execute(
            select(challenge_schedules)
            .where(
                challenge_schedules.c.platform == platform,
                challenge_schedules.c.chat_id == chat_id,
            )
            .order_by(challenge_schedules.c.id)
        ).all()
        return [_schedule(r) for r in rows]

    def add_schedule(self, s: ChallengeSchedule) -> ChallengeSchedule:
        new_id = self.conn.execute(
            insert(challenge_schedules)
            .values(
                platform=s.platform,
                chat_id=s.chat_id,
                challenge_id=s.challenge_id,
                weekday=s.weekday,
                at=hhmm_text(s.at),
                timezone=s.timezone,
                minutes=s.minutes,
                next_run_at=s.next_run_at,
            )
            .returning(challenge_schedules.c.id)
        ).scalar_one()
        return replace(s, id=new_id)

    def delete_schedules(self, platform: str, chat_id: str, challenge_id: str | None) -> int:
        stmt = delete(challenge_schedules).where(
            challenge_schedules.c.platform == platform, challenge_schedules.c.chat_id == chat_id
        )
        if challenge_id is not None:
            stmt = stmt.where(challenge_schedules.c.challenge_id == challenge_id)
        return int(self.conn.execute(stmt).rowcount)

    def claim_schedules(self, now: datetime, limit: int) -> list[ChallengeSchedule]:
        query = self.fanout.locked(
            select(challenge_schedules)
            .where(challenge_schedules.c.next_run_at <= now)
            .order_by(challenge_schedules.c.next_run_at)
            .limit(limit)
        )
        return [_schedule(r) for r in self.conn.execute(query).all()]

    def set_schedule_next(self, schedule_id: int, when: datetime | None) -> None:
        self.conn.execute(
            update(challenge_schedules)
            .where(challenge_schedules.c.id == schedule_id)
            .values(next_run_at=when)
        )

    # ------------------------------------------------------------------ photo answers

    def save_photo(self, run_id: int, learner_id: int, photo: StoredPhoto, now: datetime) -> None:
        self.drop_photo(run_id, learner_id)
        self.conn.execute(
            insert(challenge_photos).values(
                run_id=run_id,
                learner_id=learner_id,
                mime=photo.mime,
                size=photo.size,
                data=photo.data,
                stored_at=now,
            )
        )

    def drop_photo(self, run_id: int, learner_id: int) -> None:
        self.conn.execute(
            delete(challenge_photos).where(
                challenge_photos.c.run_id == run_id, challenge_photos.c.learner_id == learner_id
            )
        )

    def photo(self, run_id: int, learner_id: int) -> StoredPhoto | None:
        row = self.conn.execute(
            select(challenge_photos.c.data, challenge_photos.c.mime).where(
                challenge_photos.c.run_id == run_id, challenge_photos.c.learner_id == learner_id
            )
        ).first()
        return StoredPhoto(bytes(row.data), row.mime) if row else None

    def hold_photos(self, run_id: int) -> None:
        serialise(self.conn, PHOTO_LOCKS | run_id)

    def photo_sizes(self, run_id: int) -> dict[int, int]:
        rows = self.conn.execute(
            select(challenge_photos.c.learner_id, challenge_photos.c.size).where(
                challenge_photos.c.run_id == run_id
            )
        )
        return {r.learner_id: r.size for r in rows}

    def group_photo_bytes(self, platform: str, chat_id: str) -> int:
        total = self.conn.execute(
            select(func.coalesce(func.sum(challenge_photos.c.size), 0))
            .join(challenge_runs, challenge_runs.c.id == challenge_photos.c.run_id)
            .where(challenge_runs.c.platform == platform, challenge_runs.c.chat_id == chat_id)
        ).scalar_one()
        return int(total)

    def free_photos(self, platform: str, chat_id: str, need: int) -> int:
        finished = or_(
            challenge_runs.c.revealed_at.is_not(None), challenge_runs.c.cancelled_at.is_not(None)
        )
        rows = self.conn.execute(
            select(
                challenge_photos.c.run_id, challenge_photos.c.learner_id, challenge_photos.c.size
            )
            .join(challenge_runs, challenge_runs.c.id == challenge_photos.c.run_id)
            .where(
                challenge_runs.c.platform == platform,
                challenge_runs.c.chat_id == chat_id,
                finished,
            )
            .order_by(
                challenge_runs.c.started_at,
                challenge_runs.c.id,
                challenge_photos.c.learner_id,
            )
        ).all()
        freed = 0
        chosen: list[tuple[int, int]] = []
        for r in rows:
            if freed >= need:
                break
            chosen.append((r.run_id, r.learner_id))
            freed += r.size
        self._drop_photos(chosen)
        return freed

    def prune_photos(self, finished_before: datetime) -> int:
        rows = self.conn.execute(
            select(challenge_photos.c.run_id, challenge_photos.c.learner_id)
            .join(challenge_runs, challenge_runs.c.id == challenge_photos.c.run_id)
            .where(
                or_(
                    challenge_runs.c.revealed_at < finished_before,
                    challenge_runs.c.cancelled_at < finished_before,
                )
            )
        ).all()
        keys = [(r.run_id, r.learner_id) for r in rows]
        self._drop_photos(keys)
        return len(keys)

    def _drop_photos(self, keys: Sequence[tuple[int, int]]) -> None:
        """Delete these photos, and the references of the answers they were: two
        statements a batch of :data:`_KEYS_PER_STATEMENT` (run, learner) pairs."""
        photo_key = tuple_(challenge_photos.c.run_id, challenge_photos.c.learner_id)
        answer_key = tuple_(challenge_submissions.c.run_id, challenge_submissions.c.learner_id)
        for at in range(0, len(keys), _KEYS_PER_STATEMENT):
            batch = list(keys[at : at + _KEYS_PER_STATEMENT])
            self.conn.execute(delete(challenge_photos).where(photo_key.in_(batch)))
            self.conn.execute(
                update(challenge_submissions).where(answer_key.in_(batch)).values(photo_ref=None)
            )


def _submission_values(sub: Submission) -> dict[str, Any]:
    """A submission's columns but its key and ``assessed_at`` (which only an insert or
    :meth:`SqlChallenges.claim_assessment` sets)."""
    return {
        "token": sub.token,
        "display_name": sub.display_name[:128],
        "joined_at": sub.joined_at,
        "text": sub.text,
        "photo_ref": sub.photo_ref,
        "submitted_at": sub.submitted_at,
        "grades": _grades_text(sub.grades),
        "checks": int_list_text(sub.checks),
        "shared_at": sub.shared_at,
        "show_name": sub.show_name,
    }
