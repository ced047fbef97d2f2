"""Many rows in one statement, straight to the driver: what an import writes by the
thousand (review-log rows, schedules).

SQLAlchemy's own executemany processes every bound value of every row (a review-log row
has eight instants); here each instant goes through the column type's own conversion
once per distinct value, so what is stored, and how it compares, is the same as every
other statement's. SQLite gets one executemany; PostgreSQL a COPY through asyncpg, as
the push fan-out writes the outbox (``bot/storage/fanout.py``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from sqlalchemy import Connection, Table
from sqlalchemy.util import await_

from bot.storage.tables import UTCDateTime

_PARAM_MARKS = {"qmark": "?", "format": "%s", "numeric": ":{n}", "numeric_dollar": "${n}"}


@lru_cache(maxsize=16)
def insert_sql(table: str, columns: tuple[str, ...], paramstyle: str) -> str:
    """``INSERT INTO table (...) VALUES (?, ...)`` in the driver's positional style."""
    mark = _PARAM_MARKS.get("format" if paramstyle == "pyformat" else paramstyle)
    if mark is None:
        raise NotImplementedError(f"bulk insert: parameter style {paramstyle}")
    values = ", ".join(mark.format(n=n + 1) for n in range(len(columns)))
    return f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})"


def bulk_insert(conn: Connection, table: Table, rows: Sequence[Mapping[str, Any]]) -> int:
    """Insert ``rows`` (each naming the same columns) in one executemany; how many."""
    if not rows:
        return 0
    columns = tuple(rows[0])
    dialect = conn.dialect
    convert = UTCDateTime().dialect_impl(dialect).bind_processor(dialect)
    instants = {name for name in columns if isinstance(table.c[name].type, UTCDateTime)}
    stored: dict[datetime, Any] = {}

    def instant(value: datetime | None) -> Any:
        if value is None or convert is None:
            return value
        found = stored.get(value)
        if found is None:
            found = stored[value] = convert(value)
        return found

    values = [tuple(instant(row[c]) if c in instants else row[c] for c in columns) for row in rows]
    if dialect.name == "postgresql":
        # COPY through asyncpg, in this connection's transaction: one round trip for all
        # rows (asyncpg's executemany costs tens of microseconds a row).
        driver = conn.connection.driver_connection
        assert driver is not None  # a connection inside a transaction is open
        await_(driver.copy_records_to_table(table.name, records=values, columns=list(columns)))
    else:
        conn.exec_driver_sql(insert_sql(table.name, columns, dialect.paramstyle), values)
    return len(values)
