"""The deck catalogue in the database, kept in step with the deck files."""

from __future__ import annotations

import logging

from bot.core.decks import DeckSet
from bot.core.model import SyncReport
from bot.core.ports import Clock, Database, Tx

log = logging.getLogger(__name__)


async def sync_decks(db: Database, deck_set: DeckSet, clock: Clock) -> SyncReport:
    """Write the deck catalogue to the database.

    When some deck files have problems, the good decks are still synced but
    nothing is retired, so a typo never takes cards away from learners.
    """
    for error in deck_set.errors:
        log.warning("deck problem: %s", error)
    now = clock.now()
    retire = deck_set.ok

    def work(tx: Tx) -> SyncReport:
        return tx.catalogue.sync(deck_set.decks, now, retire=retire)

    report = await db.run(work)
    log.info(
        "decks synced: %d added, %d updated, %d retired, %d unchanged",
        report.added,
        report.updated,
        report.retired,
        report.unchanged,
    )
    return report
