"""APScheduler wiring: the timers the bot runs while it is up."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import TYPE_CHECKING

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.ports import Tx

if TYPE_CHECKING:
    from bot.app import App

log = logging.getLogger(__name__)

PROMPT_RETENTION = timedelta(days=30)


async def prune_prompts(app: App) -> int:
    """Delete button prompts older than 30 days (their buttons then answer "expired")."""
    cutoff = app.clock.now() - PROMPT_RETENTION

    def work(tx: Tx) -> int:
        return tx.prompts.prune(cutoff)

    count = await app.db.run(work)
    if count:
        log.info("pruned %d old prompts", count)
    return count


async def close_quizzes(app: App) -> int:
    """Close /quiz rounds whose window has ended and post their answers (exactly once)."""
    announcements = await app.quiz.sweep()
    await app.deliver(announcements)
    return len(announcements)


def build_scheduler(app: App) -> AsyncIOScheduler:
    """An AsyncIOScheduler on the running loop with the housekeeping jobs."""
    scheduler = AsyncIOScheduler(
        job_defaults={"coalesce": True, "misfire_grace_time": 3600, "max_instances": 1}
    )
    scheduler.add_job(prune_prompts, "interval", hours=6, args=[app], id="prune_prompts")
    scheduler.add_job(close_quizzes, "interval", seconds=15, args=[app], id="close_quizzes")
    return scheduler
