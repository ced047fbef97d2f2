"""Reading a file a learner sends: an Anki package or an Anki text export (the adapter
for :class:`bot.core.importing.AnkiReader`)."""

from __future__ import annotations

from bot.core.ankifile import AnkiCollection, ImportLimits

__all__ = ["read_file"]


def read_file(data: bytes, filename: str, limits: ImportLimits) -> AnkiCollection:
    """What ``data`` holds, or :class:`~bot.core.ankifile.ImportRejected` saying why not."""
    raise NotImplementedError
