"""The core's ports (``bot.core.ports``) over SQLAlchemy, on SQLite or PostgreSQL.

- ``database.py``: :class:`~bot.storage.database.SqlDatabase` runs units of work
  and migrations; ``tx.py``: the repositories of one transaction.
- One module per aggregate: ``learners``, ``catalogue``, ``schedule``,
  ``reviews``, ``prompts``, ``quizzes``, ``confirmations``, ``pushes``,
  ``challenges``.
- ``fanout.py``: what SQLite and PostgreSQL do differently in the push fan-out.
- ``tables.py``: the schema; ``rows.py``: text encodings several tables share.
"""
