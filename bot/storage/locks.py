"""Work that processes sharing one database must do one at a time.

Several ``studybot run`` processes may start together on one database (a deploy
restarts them all): each upgrades the schema when allowed and syncs the decks. On
PostgreSQL each of these takes a transaction-scoped advisory lock first, so the
second waits for the first to commit and then finds its rows. SQLite needs none:
every write transaction begins with ``BEGIN IMMEDIATE``, so one writer is in at a time.
"""

from __future__ import annotations

from typing import Final

from sqlalchemy import Connection, func, select

__all__ = ["IMPORT_LOCKS", "MIGRATION_LOCK", "PHOTO_LOCKS", "QUIZ_LOCKS", "SYNC_LOCK", "serialise"]

#: Held by a schema upgrade (``studybot db upgrade`` and the auto-upgrade at start).
MIGRATION_LOCK: Final = 0x5354_4442_4D49_4752  # "STDBMIGR"
#: Held by a deck sync.
SYNC_LOCK: Final = 0x5354_4442_4445_4B53  # "STDBDEKS"
#: An import's, for one learner: ``IMPORT_LOCKS | learner id`` ("STIM" then the id), so
#: two imports of one learner's files (the same file sent twice, two processes) write
#: one after the other, the second finding what the first wrote.
IMPORT_LOCKS: Final = 0x5354_494D_0000_0000
#: A challenge run's photo answers: ``PHOTO_LOCKS | run id`` ("STPH" then the id), so two
#: members' photos are checked against their group's share one after the other.
PHOTO_LOCKS: Final = 0x5354_5048_0000_0000
#: A group quiz round's answers: ``QUIZ_LOCKS | round id`` ("STQZ" then the id), so the
#: last answers arriving together see each other and close the round.
QUIZ_LOCKS: Final = 0x5354_515A_0000_0000


def serialise(conn: Connection, key: int) -> None:
    """On PostgreSQL, wait for the advisory lock ``key``; it is held until the
    transaction ends (commit or rollback), so a crash never leaves it taken."""
    if conn.dialect.name == "postgresql":
        conn.execute(select(func.pg_advisory_xact_lock(key)))
