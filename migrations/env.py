"""Alembic environment: migrations run on the connection the bot hands over.

``studybot db upgrade`` (and auto-upgrade at start) passes a live connection
in ``config.attributes["connection"]``. Running ``alembic`` by hand also
works: set ``STUDYBOT_DATABASE_URL`` (a sync or async URL).
"""

from __future__ import annotations

import os

from alembic import context
from sqlalchemy import create_engine

from bot.storage.database import sync_url
from bot.storage.tables import metadata

config = context.config
target_metadata = metadata


# Tables that live in the database but are not ours to migrate.
FOREIGN_TABLES = {"apscheduler_jobs"}


def include_name(name: str | None, type_: str, parent_names: object) -> bool:
    """Leave APScheduler's job table alone (it creates and owns it)."""
    return not (type_ == "table" and name in FOREIGN_TABLES)


def _configure(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        include_name=include_name,
        render_as_batch=True,  # SQLite needs batch mode for ALTER TABLE
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_offline() -> None:
    url = sync_url(os.environ.get("STUDYBOT_DATABASE_URL", "sqlite:///data/studybot.sqlite3"))
    context.configure(url=url, target_metadata=target_metadata, literal_binds=True)
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        return
    url = sync_url(os.environ.get("STUDYBOT_DATABASE_URL", "sqlite:///data/studybot.sqlite3"))
    engine = create_engine(url)
    with engine.begin() as conn:
        _configure(conn)
    engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
