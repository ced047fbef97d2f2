"""APScheduler wiring: the timers the bot runs while it is up.

APScheduler only ticks; the database decides who is due. Interval jobs live in
memory (they are re-added at every start). One-off events that must survive a
restart (a snoozed push) go to the ``persistent`` SQLAlchemy job store on the
same database, through a synchronous driver, with an explicit misfire grace
time and coalescing: after downtime a missed one runs once, late.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from apscheduler.jobstores.memory import MemoryJobStore
from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.ports import Tx
from bot.jobs.pushes import PERSISTENT, challenge_sweep, tick
from bot.storage.database import sync_url

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

PROMPT_RETENTION = timedelta(days=30)
OUTBOX_RETENTION = timedelta(days=7)
JOBS_TABLE = "apscheduler_jobs"


async def prune_old_rows(app: App) -> tuple[int, int]:
    """Housekeeping: delete button prompts older than 30 days (their buttons then
    answer "expired") and outbox rows sent or given up more than 7 days ago."""
    now = app.clock.now()

    def work(tx: Tx) -> tuple[int, int]:
        return tx.prompts.prune(now - PROMPT_RETENTION), tx.pushes.prune_outbox(
            now - OUTBOX_RETENTION
        )

    prompts, messages = await app.db.run(work)
    if prompts or messages:
        log.info("pruned %d old prompts and %d delivered outbox rows", prompts, messages)
    return prompts, messages


async def close_quizzes(app: App) -> int:
    """Close /quiz rounds whose window has ended and post their answers (exactly once)."""
    announcements = await app.quiz.sweep()
    await app.deliver(announcements)
    return len(announcements)


def build_scheduler(app: App) -> AsyncIOScheduler:
    """An AsyncIOScheduler with the push tick, housekeeping, and the persistent store."""
    grace = app.settings.push.misfire_grace_minutes * 60
    scheduler = AsyncIOScheduler(
        jobstores={
            "default": MemoryJobStore(),
            PERSISTENT: SQLAlchemyJobStore(
                url=sync_url(app.settings.database.url), tablename=JOBS_TABLE
            ),
        },
        job_defaults={"coalesce": True, "misfire_grace_time": grace, "max_instances": 1},
        timezone="UTC",
    )
    every = app.settings.push.tick_seconds
    # The tick's own grace is short: a late tick is simply the next tick.
    scheduler.add_job(
        tick, "interval", seconds=every, args=[app], id="push_tick", misfire_grace_time=every
    )
    scheduler.add_job(close_quizzes, "interval", seconds=15, args=[app], id="close_quizzes")
    scheduler.add_job(challenge_sweep, "interval", seconds=30, args=[app], id="challenge_sweep")
    scheduler.add_job(prune_old_rows, "interval", hours=6, args=[app], id="prune_old_rows")
    return scheduler
