"""The :class:`~bot.core.ports.Database` port over SQLAlchemy, plus schema migrations.

One unit of work is one transaction and one hop off the event loop:

* SQLite: a synchronous pysqlite engine driven by one dedicated worker thread.
  The whole unit of work (every statement and the commit) runs in that
  thread, so a review costs one thread hop instead of one per statement
  (aiosqlite hops per statement). Writes start with ``BEGIN IMMEDIATE`` so
  several processes on one file never deadlock on a lock upgrade.
* PostgreSQL (asyncpg): an async engine; the unit of work runs through
  ``AsyncConnection.run_sync`` on the event loop.

The unit of work is the same synchronous function over :class:`SqlTx` in both.
"""

from __future__ import annotations

import ast
import asyncio
import logging
import re
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from importlib import resources
from pathlib import Path
from typing import TYPE_CHECKING, Any, Final, TypeVar

from sqlalchemy import Connection, Engine, create_engine, event, inspect, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncEngine, create_async_engine

from bot.core.model import CardInfo
from bot.core.ports import CannotStart, Tx
from bot.storage.fanout import fanout_for
from bot.storage.locks import MIGRATION_LOCK, serialise
from bot.storage.tx import SqlTx

if TYPE_CHECKING:
    from alembic.config import Config

log = logging.getLogger(__name__)
T = TypeVar("T")

#: The alembic scripts, shipped inside the package (``bot/storage/migrations/``). pip
#: installs a package as files, so this is a real folder, which alembic needs.
MIGRATIONS_DIR = Path(str(resources.files("bot.storage") / "migrations"))


class SchemaOutOfDate(CannotStart):
    """The database schema is behind the code."""

    def __init__(self, current: str | None, head: str | None) -> None:
        super().__init__(
            f"the database schema is at {current or 'nothing (empty database)'} but this "
            f"version needs {head}: run `studybot db upgrade` "
            "(or set [database] auto_upgrade = true)"
        )
        self.current = current
        self.head = head


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    dbapi_conn.isolation_level = None  # we issue BEGIN ourselves
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA busy_timeout=10000")
    # Checkpoints run in a background thread (Checkpointer), not inside a user's commit.
    cur.execute("PRAGMA wal_autocheckpoint=0")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    conn.exec_driver_sql("BEGIN IMMEDIATE")


def make_sqlite_engine(url: str, *, echo: bool = False) -> Engine:
    """A pysqlite engine with WAL, foreign keys and ``BEGIN IMMEDIATE`` transactions."""
    u = make_url(url).set(drivername="sqlite")  # the standard library's driver, no aiosqlite
    if u.database and u.database != ":memory:":
        Path(u.database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(u, echo=echo, connect_args={"check_same_thread": False})
    event.listen(engine, "connect", _sqlite_pragmas)
    event.listen(engine, "begin", _sqlite_begin)
    return engine


class Checkpointer:
    """Moves the SQLite write-ahead log into the database file, off the request path.

    Automatic checkpoints would run inside whichever commit crosses the threshold
    (a user's review, every ~125 reviews); a PASSIVE checkpoint from this thread
    never blocks writers or readers.
    """

    def __init__(self, engine: Engine, every: float = 1.0) -> None:
        self.engine = engine
        self.every = every
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._loop, name="sqlite-checkpoint", daemon=True)
        self.thread.start()

    def _loop(self) -> None:
        while not self.stop.wait(self.every):
            try:
                raw = self.engine.raw_connection()
                try:
                    cursor = raw.cursor()
                    cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
                    cursor.close()
                finally:
                    raw.close()
            except Exception:
                log.exception("SQLite checkpoint failed; retrying")

    def close(self) -> None:
        self.stop.set()
        self.thread.join()


class SqlDatabase:
    """Runs units of work against SQLite or PostgreSQL.

    Args:
        url: an SQLAlchemy URL (``sqlite+aiosqlite:///path`` or
            ``postgresql+asyncpg://...``; a plain ``sqlite:///`` works too).
        echo: log every statement.

    Raises:
        ValueError: for a database other than SQLite and PostgreSQL.
        CannotStart: when the folder of a SQLite file cannot be made.
    """

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = make_url(url).drivername.startswith("sqlite")
        #: This database's own statements for the push fan-out, chosen once.
        self.fanout = fanout_for(make_url(url).get_backend_name())
        self._sync: Engine | None = None
        self._async: AsyncEngine | None = None
        self._executor: ThreadPoolExecutor | None = None
        self._conn: Connection | None = None  # SQLite: the worker thread's own connection
        self._checkpointer: Checkpointer | None = None
        #: Card content read by any unit of work; cleared by a deck sync.
        self.card_cache: dict[str, CardInfo | None] = {}
        if self.is_sqlite:
            try:
                self._sync = make_sqlite_engine(url, echo=echo)
            except OSError as exc:
                raise CannotStart(self._unreachable(exc)) from exc
            self._executor = ThreadPoolExecutor(max_workers=1, thread_name_prefix="sqlite")
            if make_url(url).database not in (None, "", ":memory:"):
                self._checkpointer = Checkpointer(self._sync)
        else:
            # Every unit of work ends in COMMIT or ROLLBACK, so a checked-in connection
            # needs no reset round trip; stale connections are recycled rather than pinged
            # before each use (a ping would double the round trips of a short transaction).
            self._async = create_async_engine(
                url, echo=echo, pool_reset_on_return=None, pool_recycle=1800
            )

    def _run_sync(self, work: Callable[[Tx], T]) -> T:
        """In the worker thread: one transaction on the thread's long-lived connection."""
        assert self._sync is not None
        conn = self._conn
        if conn is None or conn.closed or conn.invalidated:
            conn = self._conn = self._sync.connect()
        with conn.begin():
            return work(SqlTx(conn, self.card_cache, self.fanout))

    async def run(self, work: Callable[[Tx], T]) -> T:
        """Run ``work`` in one transaction: commit if it returns, roll back if it raises."""
        if self._executor is not None:
            loop = asyncio.get_running_loop()
            return await loop.run_in_executor(self._executor, self._run_sync, work)
        assert self._async is not None
        cache, fanout = self.card_cache, self.fanout
        async with self._async.begin() as conn:
            return await conn.run_sync(lambda sync_conn: work(SqlTx(sync_conn, cache, fanout)))

    async def run_connection(self, fn: Callable[[Connection], T]) -> T:
        """Run ``fn`` with a raw connection inside one transaction (migrations, tools)."""
        if self._executor is not None:
            assert self._sync is not None
            engine = self._sync

            def call() -> T:
                with engine.begin() as conn:
                    return fn(conn)

            return await asyncio.get_running_loop().run_in_executor(self._executor, call)
        assert self._async is not None
        async with self._async.begin() as conn:
            return await conn.run_sync(fn)

    async def ping(self) -> None:
        """Run ``SELECT 1``: returns when the database answers, raises when it does not."""
        await self.run_connection(_select_one)

    def _close_sync(self) -> None:
        assert self._sync is not None
        if self._conn is not None:
            self._conn.close()
            self._conn = None
        self._sync.dispose()

    async def upgrade(self) -> None:
        """Bring the schema up to the newest migration."""
        await self.run_connection(upgrade_schema)

    async def schema_status(self) -> tuple[str | None, str | None]:
        """(current revision, newest revision): the first contact with the database.

        Raises:
            CannotStart: when the database cannot be reached or refuses the connection.
        """
        try:
            return await self.run_connection(_status)
        except (OSError, DBAPIError) as exc:
            raise CannotStart(self._unreachable(exc)) from exc

    def _unreachable(self, exc: OSError | DBAPIError) -> str:
        """One line for the operator: which database, what went wrong, what to do."""
        url = make_url(self.url)
        reason = str(exc.orig) if isinstance(exc, DBAPIError) else str(exc)
        if url.password:
            reason = reason.replace(str(url.password), "***")
        advice = (
            "and that its folder can be written ([bot] data_dir)"
            if self.is_sqlite
            else "and that the database is running"
        )
        return (
            f"cannot reach the database {url.render_as_string(hide_password=True)} "
            f"({' '.join(reason.split())}): "
            f"check [database] url or STUDYBOT_DATABASE_URL, {advice}"
        )

    async def check_schema(self, *, auto_upgrade: bool) -> str | None:
        """Refuse to run on an old schema, or upgrade it when allowed.

        Returns the schema version the database is at now (None for no migrations).

        Raises:
            SchemaOutOfDate: when the schema is behind and ``auto_upgrade`` is false.
            CannotStart: when the database cannot be reached.
        """
        current, head = await self.schema_status()
        if current == head:
            return current
        if not auto_upgrade:
            raise SchemaOutOfDate(current, head)
        log.info("upgrading the database schema from %s to %s", current or "empty", head)
        found = await self.run_connection(upgrade_schema)
        if found == head:  # another process upgraded it while this one waited
            log.info("the database schema was brought to %s by another process", head)
        return head

    async def dispose(self) -> None:
        """Close every connection (waits for the unit of work in flight)."""
        if self._checkpointer is not None:
            await asyncio.to_thread(self._checkpointer.close)
            self._checkpointer = None
        if self._executor is not None:
            assert self._sync is not None
            await asyncio.get_running_loop().run_in_executor(self._executor, self._close_sync)
            self._executor.shutdown(wait=True)
            self._executor = None
        if self._async is not None:
            await self._async.dispose()


def _select_one(conn: Connection) -> None:
    conn.execute(text("SELECT 1"))


def alembic_config(connection: Connection | None = None) -> Config:
    """An alembic config over :data:`MIGRATIONS_DIR` (and a live connection, if given)."""
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(MIGRATIONS_DIR))
    if connection is not None:
        cfg.attributes["connection"] = connection
    return cfg


def write_revision(conn: Connection, message: str) -> str:
    """Autogenerate a migration from the difference between the database and tables.py."""
    from alembic import command
    from alembic.script import ScriptDirectory

    cfg = alembic_config(conn)
    count = len(list(ScriptDirectory.from_config(cfg).walk_revisions()))
    scripts = command.revision(cfg, message=message, autogenerate=True, rev_id=f"{count + 1:04d}")
    script = scripts[0] if isinstance(scripts, list) else scripts
    return str(script.path) if script is not None else "(nothing)"


def upgrade_schema(conn: Connection) -> str | None:
    """Bring the schema on ``conn`` to the newest migration, one process at a time;
    returns the revision it found once its turn came (None for an empty database)."""
    from alembic import command
    from alembic.runtime.migration import MigrationContext

    serialise(conn, MIGRATION_LOCK)
    found = MigrationContext.configure(conn).get_current_revision()
    command.upgrade(alembic_config(conn), "head")
    return found


#: ``revision = "0009"`` and ``down_revision = "0008"`` lines of a migration script.
_REVISION_LINE: Final = re.compile(r"^(revision|down_revision)\b[^=\n]*=\s*(.+?)\s*$", re.M)


def newest_revision(directory: Path = MIGRATIONS_DIR) -> str | None:
    """The newest migration (alembic's head), read from the scripts' ``revision`` and
    ``down_revision`` lines without importing alembic: a bot whose schema is current
    never loads it (about 10 MB and 0.15 s at every start). Anything but one straight
    chain of plain revisions is left to alembic."""
    chain: dict[str, str | None] = {}
    for path in sorted((directory / "versions").glob("*.py")):
        found = dict(_REVISION_LINE.findall(path.read_text(encoding="utf-8")))
        try:
            revision = ast.literal_eval(found["revision"])
            down = ast.literal_eval(found.get("down_revision", "None"))
        except (KeyError, ValueError, SyntaxError):
            return _alembic_head()
        if not isinstance(revision, str) or not (down is None or isinstance(down, str)):
            return _alembic_head()
        chain[revision] = down
    heads = set(chain) - set(chain.values())
    return heads.pop() if len(heads) == 1 else _alembic_head()


def _alembic_head() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config()).get_current_head()


def _current_revision(conn: Connection) -> str | None:
    """The revision the database is at (None when empty), as alembic reads it."""
    if not inspect(conn).has_table("alembic_version"):
        return None
    found = list(conn.execute(text("SELECT version_num FROM alembic_version")).scalars())
    if len(found) > 1:  # several heads: alembic says what is wrong
        from alembic.runtime.migration import MigrationContext

        return MigrationContext.configure(conn).get_current_revision()
    return str(found[0]) if found else None


def _status(conn: Connection) -> tuple[str | None, str | None]:
    return _current_revision(conn), newest_revision()
