"""In-memory fakes for the core's ports (``bot.core.ports``), for fast deterministic tests.

One module per aggregate, mirroring ``bot/storage/``; ``tests/contract/`` runs
the same behaviour tests against these fakes and the real databases, so they
cannot drift apart (where they disagree, the real database is right).

:class:`~tests.fakes.database.FakeDatabase` runs each unit of work on a
copy-on-write view of its :class:`~tests.fakes.store.FakeStore` and commits
the view only if the work returns, so a unit of work that raises leaves no
trace. Every instant handed to a fake must be aware UTC (``tzinfo is
timezone.utc``), as the architecture requires; a naive or non-UTC datetime
fails loudly.
"""
