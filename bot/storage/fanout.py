"""What the push fan-out does differently on SQLite and on PostgreSQL.

One strategy per database, chosen once per database object
(:func:`fanout_for`) and handed to the repositories that claim rows in bulk
(:class:`~bot.storage.pushes.SqlPushes` and
:class:`~bot.storage.challenges.SqlChallenges`). Each strategy holds all of
its database's statements and tricks for the fan-out, so the repositories
read the same on both.

- Claiming rows: plain on SQLite (one writer at a time); ``FOR UPDATE SKIP
  LOCKED`` on PostgreSQL, where several processes claim side by side.
- A list of ids: one JSON parameter read by ``json_each`` on SQLite; one
  array (``= ANY``) on PostgreSQL.
- Each learner's first due card: ``min(due || ' ' || card_id)`` over SQLite's
  fixed-width instants; ``array_agg(card_id ORDER BY due, card_id)[1]`` on
  PostgreSQL.
- Outbox rows: one executemany on SQLite; ``COPY`` through asyncpg.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any, Protocol

from sqlalchemy import (
    ARRAY,
    Connection,
    Integer,
    Select,
    String,
    any_,
    bindparam,
    func,
    literal_column,
    select,
    type_coerce,
)
from sqlalchemy.dialects.postgresql import aggregate_order_by
from sqlalchemy.sql.elements import ColumnElement
from sqlalchemy.util import await_

from bot.storage.pushes import OUTBOX_COLUMNS, claim_query, insert_outbox_rows
from bot.storage.tables import card_states, learners


class Fanout(Protocol):
    """The statements of the push fan-out and challenge schedules that depend on the database."""

    @property
    def claim_due(self) -> Select[Any]:
        """The claim of due learners (:func:`bot.storage.pushes.claim_query`) for this database."""
        ...

    def locked(self, query: Select[Any]) -> Select[Any]:
        """``query`` with its rows held by this transaction, skipped by any other claimant."""
        ...

    def in_ids(
        self, conn: Connection, column: ColumnElement[Any], ids: Sequence[int]
    ) -> ColumnElement[bool]:
        """``column IN ids`` with one bound parameter, not one per id.

        Thousands of separate parameters cost more to render and bind than
        the query costs to run.
        """
        ...

    @property
    def first_due_card(self) -> ColumnElement[Any]:
        """Aggregate over a learner's ``card_states``: the card due first (ties: smaller id).

        Its value holds the card id from :attr:`card_id_at` on.
        """
        ...

    @property
    def card_id_at(self) -> int:
        """Where the card id starts in a value of :attr:`first_due_card`."""
        ...

    def insert_outbox(self, conn: Connection, records: Sequence[tuple[Any, ...]]) -> None:
        """Insert outbox rows, each a tuple in :data:`~bot.storage.pushes.OUTBOX_COLUMNS` order."""
        ...


# Length of an instant as SQLAlchemy stores it in SQLite: "2026-03-02 09:00:00.000000".
_SQLITE_INSTANT = 26


class SqliteFanout:
    """SQLite: one writer at a time, so claims need no locks; instants are fixed-width text.

    Args:
        has_json: whether this SQLite library has ``json_each``; None asks it on first use.
    """

    #: Reads only the due rows off the next-push index. The platform is compared as
    #: ``platform || ''``: without statistics SQLite would otherwise walk the
    #: (platform, user id) index over every learner and sort, on every tick.
    claim_due = claim_query(learners.c.platform.concat(literal_column("''")))

    #: Instants are stored as fixed-width text ("2026-03-02 09:00:00.000000"), so the
    #: smallest ``due || ' ' || card_id`` names the earliest due card, ties broken by
    #: card id (3 times faster than window functions).
    first_due_card = type_coerce(
        func.min(
            type_coerce(card_states.c.due, String)
            .concat(literal_column("' '"))
            .concat(card_states.c.card_id)
        ),
        String,
    )
    card_id_at = _SQLITE_INSTANT + 1

    def __init__(self, has_json: bool | None = None) -> None:
        self._has_json = has_json

    def locked(self, query: Select[Any]) -> Select[Any]:
        """``query`` as it is: a write transaction (BEGIN IMMEDIATE) already has the file."""
        return query

    def in_ids(
        self, conn: Connection, column: ColumnElement[Any], ids: Sequence[int]
    ) -> ColumnElement[bool]:
        """The ids as one JSON list read by ``json_each`` (a plain ``IN`` list without JSON1)."""
        if self._json(conn):
            listed = func.json_each(bindparam("ids", json.dumps(list(ids)))).table_valued("value")
            return column.in_(select(listed.c.value))
        return column.in_(ids)

    def _json(self, conn: Connection) -> bool:
        """Whether this SQLite library has ``json_each`` (built in since 3.38; older may not)."""
        if self._has_json is None:
            try:
                conn.exec_driver_sql("SELECT count(*) FROM json_each('[1]')").scalar()
                self._has_json = True
            except Exception:  # no JSON1 in this build: plain IN lists instead
                self._has_json = False
        return self._has_json

    def insert_outbox(self, conn: Connection, records: Sequence[tuple[Any, ...]]) -> None:
        """One executemany straight to the driver."""
        insert_outbox_rows(conn, records)


class PostgresFanout:
    """PostgreSQL: several processes claim side by side, each skipping the rows another holds."""

    #: Reads only the due rows off the next-push index. The plain platform column:
    #: behind an expression PostgreSQL misjudges how many rows match and sorts every
    #: due learner instead (3 times slower).
    claim_due = claim_query(learners.c.platform).with_for_update(skip_locked=True, of=learners)

    first_due_card = func.array_agg(
        aggregate_order_by(card_states.c.card_id, card_states.c.due, card_states.c.card_id),
        type_=ARRAY(String),
    )[1]
    card_id_at = 0

    def locked(self, query: Select[Any]) -> Select[Any]:
        """``query ... FOR UPDATE SKIP LOCKED``."""
        return query.with_for_update(skip_locked=True)

    def in_ids(
        self, conn: Connection, column: ColumnElement[Any], ids: Sequence[int]
    ) -> ColumnElement[bool]:
        """``column = ANY(:ids)`` with the ids as one array."""
        return column == any_(bindparam("ids", list(ids), type_=ARRAY(Integer)))

    def insert_outbox(self, conn: Connection, records: Sequence[tuple[Any, ...]]) -> None:
        """COPY the rows in through asyncpg (one round trip, not one per row), in this
        connection's transaction."""
        driver = conn.connection.driver_connection
        assert driver is not None  # a connection inside a transaction is open
        await_(
            driver.copy_records_to_table("outbox", records=records, columns=list(OUTBOX_COLUMNS))
        )


def fanout_for(dialect: str) -> Fanout:
    """The strategy for a database, by SQLAlchemy dialect name.

    Raises:
        ValueError: for a database other than SQLite and PostgreSQL.
    """
    if dialect == "sqlite":
        return SqliteFanout()
    if dialect == "postgresql":
        return PostgresFanout()
    raise ValueError(f"unsupported database {dialect!r}: studybot runs on SQLite or PostgreSQL")
