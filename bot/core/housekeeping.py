"""Housekeeping: old rows that nobody needs any more are deleted."""

from __future__ import annotations

import logging
from datetime import timedelta
from typing import NamedTuple

from bot.core.ports import Clock, Database, Tx

log = logging.getLogger(__name__)

#: Button prompts older than this are deleted (their buttons then answer "expired").
PROMPT_RETENTION = timedelta(days=30)
#: Outbox rows sent or given up longer ago than this are deleted.
OUTBOX_RETENTION = timedelta(days=7)


class Pruned(NamedTuple):
    """How many rows one :meth:`Housekeeping.prune` deleted, of each kind."""

    prompts: int
    messages: int
    questions: int


class Housekeeping:
    """Deletes old button prompts, delivered outbox rows and expired open questions.

    Args:
        db: runs units of work.
        clock: gives "now".
    """

    def __init__(self, db: Database, clock: Clock) -> None:
        self.db = db
        self.clock = clock

    async def prune(self) -> Pruned:
        """Delete prompts older than 30 days, outbox rows delivered or given up more than
        7 days ago, and open questions that have expired; returns how many of each."""
        now = self.clock.now()

        def work(tx: Tx) -> Pruned:
            return Pruned(
                prompts=tx.prompts.prune(now - PROMPT_RETENTION),
                messages=tx.pushes.prune_outbox(now - OUTBOX_RETENTION),
                questions=tx.questions.prune(now),
            )

        pruned = await self.db.run(work)
        if any(pruned):
            log.info(
                "pruned %d old prompts, %d delivered outbox rows and %d expired questions",
                *pruned,
            )
        return pruned
