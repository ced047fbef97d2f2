"""Housekeeping: old rows that nobody needs any more are deleted."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.core.ports import Clock, Database, Tx

log = logging.getLogger(__name__)

#: Button prompts older than this are deleted (their buttons then answer "expired").
PROMPT_RETENTION = timedelta(days=30)
#: Outbox rows sent or given up longer ago than this are deleted.
OUTBOX_RETENTION = timedelta(days=7)


class Housekeeping:
    """Deletes old button prompts and delivered outbox rows.

    Args:
        db: runs units of work.
        clock: gives "now".
    """

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def prune(self) -> tuple[int, int]:
        """Delete prompts older than 30 days and outbox rows delivered or given up more
        than 7 days ago; returns how many of each."""
        now = self.clock.now()

        def work(tx: Tx) -> tuple[int, int]:
            prompts = tx.prompts.prune(now - PROMPT_RETENTION)
            return prompts, tx.pushes.prune_outbox(now - OUTBOX_RETENTION)

        prompts, messages = await self.db.run(work)
        if prompts or messages:
            log.info("pruned %d old prompts and %d delivered outbox rows", prompts, messages)
        return prompts, messages
