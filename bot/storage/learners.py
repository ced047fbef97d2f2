"""Learners and their settings (tables ``learners`` and ``learner_settings``)."""

from __future__ import annotations

import json
import logging
from collections.abc import Sequence
from datetime import date, datetime, time, timedelta
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, bindparam, delete, insert, select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.engine import RowMapping

from bot.core.memory import check_parameters
from bot.core.model import Learner, LearnerSettings
from bot.core.ports import AccountTaken
from bot.storage.personal import delete_decks
from bot.storage.rows import hhmm, hhmm_text
from bot.storage.tables import decks, learner_settings, learners, outbox

log = logging.getLogger(__name__)


def _steps_text(steps: Sequence[timedelta]) -> str:
    return ",".join(str(int(s.total_seconds())) for s in steps)


@lru_cache(maxsize=256)
def _steps(text: str) -> tuple[timedelta, ...]:
    return tuple(timedelta(seconds=int(p)) for p in text.split(",") if p)


@lru_cache(maxsize=128)
def _days(text: str) -> tuple[int, ...]:
    return tuple(int(d) for d in text)


@lru_cache(maxsize=128)
def _loads(text: str) -> tuple[float, ...]:
    return tuple(float(p) for p in text.split(",") if p)


def settings_row(s: LearnerSettings) -> dict[str, Any]:
    """The ``learner_settings`` columns (all but ``learner_id`` and ``topics``) for settings."""
    return {
        "timezone": s.timezone,
        "push_time": hhmm_text(s.push_time),
        "desired_retention": s.desired_retention,
        "new_cards_per_day": s.new_cards_per_day,
        "max_reviews_per_day": s.max_reviews_per_day,
        "learning_steps": _steps_text(s.learning_steps),
        "relearning_steps": _steps_text(s.relearning_steps),
        "maximum_interval_days": s.maximum_interval_days,
        "leech_threshold": s.leech_threshold,
        "enable_fuzzing": s.enable_fuzzing,
        "paused": s.paused,
        "fsrs_parameters": json.dumps(list(s.fsrs_parameters)) if s.fsrs_parameters else None,
        "quiet_start": hhmm_text(s.quiet_start) if s.quiet_start else None,
        "quiet_end": hhmm_text(s.quiet_end) if s.quiet_end else None,
        "days_off": "".join(str(d) for d in sorted(s.days_off)),
        "max_cards_per_push": s.max_cards_per_push,
        "easy_days": ",".join(str(float(x)) for x in s.easy_days),
        "exam_date": s.exam_date.isoformat() if s.exam_date else None,
        "exam_topic": s.exam_topic,
        "exam_target": s.exam_target,
    }


@lru_cache(maxsize=1024)
def fsrs_parameters(learner_id: int, text: str | None) -> tuple[float, ...] | None:
    """A learner's stored FSRS parameters, checked (:func:`~bot.core.memory.check_parameters`).

    An unusable value (not JSON, not numbers, out of FSRS-6's bounds, the wrong
    length for this scheduler) is logged, with the learner and the wrong
    value's index, once while it stays cached, and the defaults (None) are used:
    a learner is never locked out by a bad row.
    """
    if not text:
        return None
    try:
        return check_parameters(json.loads(text))
    except ValueError as exc:  # JSONDecodeError and InvalidParameters alike
        log.warning(
            "learner %d: stored FSRS parameters are unusable (%s); using the defaults",
            learner_id,
            exc,
        )
        return None


def _settings(r: RowMapping) -> LearnerSettings:
    return LearnerSettings(
        timezone=r["timezone"],
        push_time=hhmm(r["push_time"]) or time(9, 0),
        desired_retention=r["desired_retention"],
        new_cards_per_day=r["new_cards_per_day"],
        max_reviews_per_day=r["max_reviews_per_day"],
        learning_steps=_steps(r["learning_steps"]),
        relearning_steps=_steps(r["relearning_steps"]),
        maximum_interval_days=r["maximum_interval_days"],
        leech_threshold=r["leech_threshold"],
        enable_fuzzing=r["enable_fuzzing"],
        paused=r["paused"],
        fsrs_parameters=fsrs_parameters(r["id"], r["fsrs_parameters"]),
        quiet_start=hhmm(r["quiet_start"]),
        quiet_end=hhmm(r["quiet_end"]),
        days_off=_days(r["days_off"]),
        max_cards_per_push=r["max_cards_per_push"],
        easy_days=_loads(r["easy_days"]),
        exam_date=date.fromisoformat(r["exam_date"]) if r["exam_date"] else None,
        exam_topic=r["exam_topic"],
        exam_target=r["exam_target"],
    )


@lru_cache(maxsize=4096)
def push_timing(
    timezone: str, push: str, quiet_start: str | None, quiet_end: str | None, days_off: str
) -> LearnerSettings:
    """The push-timing part of a learner's settings, from its columns.

    Shared and cached: learners have few distinct values, and the push planner
    keys its answers on the identity of this object.
    """
    return LearnerSettings(
        timezone=timezone,
        push_time=hhmm(push) or time(9, 0),
        quiet_start=hhmm(quiet_start),
        quiet_end=hhmm(quiet_end),
        days_off=_days(days_off),
    )


#: A learner with their settings; :func:`learner_from_row` reads its rows.
LEARNER_SELECT = select(
    learners.c.id,
    learners.c.platform,
    learners.c.platform_user_id,
    learners.c.display_name,
    learners.c.created_at,
    learners.c.unreachable,
    learners.c.last_seen_at,
    learners.c.dm_channel_id,
    learners.c.next_push_at,
    *[c for c in learner_settings.c if c.name != "learner_id"],
).join(learner_settings, learner_settings.c.learner_id == learners.c.id)


def learner_from_row(r: RowMapping) -> Learner:
    """A :class:`Learner` from a row of :data:`LEARNER_SELECT`."""
    return Learner(
        id=r["id"],
        platform=r["platform"],
        platform_user_id=r["platform_user_id"],
        display_name=r["display_name"],
        created_at=r["created_at"],
        settings=_settings(r),
        topics=tuple(t for t in r["topics"].split(",") if t),
        unreachable=r["unreachable"],
        last_seen_at=r["last_seen_at"],
        dm_channel_id=r["dm_channel_id"],
        next_push_at=r["next_push_at"],
    )


# Hot-path statements are built once: a statement built per call costs more
# (argument checks, a fresh cache key) than SQLite takes to run it.
_LEARNER_BY_ACCOUNT = LEARNER_SELECT.where(
    learners.c.platform == bindparam("platform"),
    learners.c.platform_user_id == bindparam("user_id"),
)
_LEARNER_BY_ID = LEARNER_SELECT.where(learners.c.id == bindparam("learner_id"))


class SqlLearners:
    """Learner accounts, their settings and their push bookkeeping."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def get(self, platform: str, platform_user_id: str) -> Learner | None:
        row = (
            self.conn.execute(
                _LEARNER_BY_ACCOUNT, {"platform": platform, "user_id": platform_user_id}
            )
            .mappings()
            .first()
        )
        return learner_from_row(row) if row else None

    def get_by_id(self, learner_id: int) -> Learner | None:
        row = self.conn.execute(_LEARNER_BY_ID, {"learner_id": learner_id}).mappings().first()
        return learner_from_row(row) if row else None

    def create(
        self,
        platform: str,
        platform_user_id: str,
        display_name: str,
        settings: LearnerSettings,
        topics: Sequence[str],
        now: datetime,
    ) -> Learner:
        insert_of = postgresql.insert if self.conn.dialect.name == "postgresql" else sqlite.insert
        learner_id = self.conn.execute(
            insert_of(learners)
            .values(
                platform=platform,
                platform_user_id=platform_user_id,
                display_name=display_name[:128],
                created_at=now,
                last_seen_at=now,
                unreachable=False,
            )
            .on_conflict_do_nothing(
                index_elements=[learners.c.platform, learners.c.platform_user_id]
            )
            .returning(learners.c.id)
        ).scalar_one_or_none()
        if learner_id is None:  # another transaction enrolled the account and committed
            raise AccountTaken(f"{platform} account enrolled meanwhile")
        self.conn.execute(
            insert(learner_settings).values(
                learner_id=learner_id, topics=",".join(topics), **settings_row(settings)
            )
        )
        return Learner(
            learner_id,
            platform,
            platform_user_id,
            display_name[:128],
            now,
            settings,
            tuple(topics),
            last_seen_at=now,
        )

    def save_settings(self, learner_id: int, settings: LearnerSettings) -> None:
        self.conn.execute(
            update(learner_settings)
            .where(learner_settings.c.learner_id == learner_id)
            .values(**settings_row(settings))
        )

    def set_topics(self, learner_id: int, topics: Sequence[str]) -> None:
        self.conn.execute(
            update(learner_settings)
            .where(learner_settings.c.learner_id == learner_id)
            .values(topics=",".join(topics))
        )

    def seen(self, learner_id: int, now: datetime) -> None:
        self.conn.execute(
            update(learners)
            .where(learners.c.id == learner_id)
            .values(last_seen_at=now, unreachable=False)
        )

    def set_next_push(self, learner_id: int, when: datetime | None) -> None:
        self.conn.execute(
            update(learners)
            .where(learners.c.id == learner_id)
            .values(next_push_at=when, push_snoozed=False)
        )

    def snooze_push(self, learner_id: int, when: datetime) -> None:
        self.conn.execute(
            update(learners)
            .where(learners.c.id == learner_id)
            .values(next_push_at=when, push_snoozed=True)
        )

    def set_dm_channel(self, learner_id: int, channel_id: str) -> None:
        self.conn.execute(
            update(learners).where(learners.c.id == learner_id).values(dm_channel_id=channel_id)
        )

    def set_unreachable(self, learner_id: int) -> None:
        self.conn.execute(
            update(learners).where(learners.c.id == learner_id).values(unreachable=True)
        )

    def delete(self, learner_id: int) -> None:
        # Rows that point at the learner go with it (ON DELETE CASCADE); quiz rounds
        # they started stay, without their name. The outbox has no foreign key (it
        # is written in bulk), and neither has a deck's owner: their rows are deleted
        # here, the learner's own decks with their cards and everything about them.
        owned = self.conn.execute(select(decks.c.id).where(decks.c.owner_id == learner_id))
        delete_decks(self.conn, list(owned.scalars()))
        self.conn.execute(delete(outbox).where(outbox.c.learner_id == learner_id))
        self.conn.execute(delete(learners).where(learners.c.id == learner_id))
