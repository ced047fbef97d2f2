"""Alembic environment: migrations run on the connection the bot hands over.

``studybot db upgrade``, ``studybot db revision`` and the auto-upgrade at start
pass a live connection in ``config.attributes["connection"]`` (through
:func:`bot.storage.database.alembic_config`); there is no other way in.
"""

from __future__ import annotations

from alembic import context

from bot.storage.tables import metadata

config = context.config
target_metadata = metadata


def _configure(connection: object) -> None:
    context.configure(
        connection=connection,  # type: ignore[arg-type]
        target_metadata=target_metadata,
        render_as_batch=True,  # SQLite needs batch mode for ALTER TABLE
        compare_type=True,
    )
    with context.begin_transaction():
        context.run_migrations()


connection = config.attributes.get("connection")
if connection is None:
    raise RuntimeError("run migrations through `studybot db upgrade` (it hands over a connection)")
_configure(connection)
