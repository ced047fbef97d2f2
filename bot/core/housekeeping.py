"""Housekeeping: old rows that nobody needs any more are deleted, the photo answers
of challenges revealed (or cancelled) long enough ago, and the browser workspace's
expired sessions and one-time keys."""

from __future__ import annotations

import logging
from datetime import timedelta

from bot.core.challenges.photos import KEEP_PHOTO_DAYS
from bot.core.ports import Clock, Database, Tx

log = logging.getLogger(__name__)

#: Button prompts older than this are deleted (their buttons then answer "expired").
PROMPT_RETENTION = timedelta(days=30)
#: Outbox rows sent or given up longer ago than this are deleted.
OUTBOX_RETENTION = timedelta(days=7)


class Housekeeping:
    """Deletes old button prompts, delivered outbox rows, old challenge photos and the
    workspace's expired sessions and one-time keys.

    Args:
        db: runs units of work.
        clock: gives "now".
        photos_for: how long after a challenge's reveal its photo answers are kept
            (``[quiz] challenge_photo_days``).
    """

    def __init__(
        self, db: Database, clock: Clock, photos_for: timedelta = timedelta(days=KEEP_PHOTO_DAYS)
    ) -> None:
        self.db = db
        self.clock = clock
        self.photos_for = photos_for

    async def prune(self) -> tuple[int, int, int, int]:
        """Delete prompts older than 30 days, outbox rows delivered or given up more
        than 7 days ago, the photo answers of challenges revealed or cancelled more
        than ``photos_for`` ago, and the workspace's sessions and one-time keys expired
        by now (``WebRepo.prune``); returns how many of each."""
        now = self.clock.now()
        photos_before = now - self.photos_for

        def work(tx: Tx) -> tuple[int, int, int, int]:
            prompts = tx.prompts.prune(now - PROMPT_RETENTION)
            messages = tx.pushes.prune_outbox(now - OUTBOX_RETENTION)
            photos = tx.challenges.prune_photos(photos_before)
            return prompts, messages, photos, tx.web.prune(now)

        prompts, messages, photos, web = await self.db.run(work)
        if prompts or messages or photos or web:
            log.info(
                "pruned %d old prompts, %d delivered outbox rows, %d challenge photos "
                "and %d expired web sessions and one-time keys",
                prompts,
                messages,
                photos,
                web,
            )
        return prompts, messages, photos, web
