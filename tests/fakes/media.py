"""Imported images, as ``bot.storage.media.SqlMedia`` keeps them."""

from __future__ import annotations

from datetime import datetime

from bot.core.ports import StoredMedia
from tests.fakes.store import FakeStore, utc


class FakeMedia:
    """Images by owner and name; pruned when no live card shows them."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def put(self, owner_id: int, name: str, mime: str, data: bytes, now: datetime) -> None:
        utc(now)
        self.store.media[(owner_id, name)] = StoredMedia(owner_id, name, mime, data)

    def get(self, owner_id: int, name: str) -> StoredMedia | None:
        return self.store.media.get((owner_id, name))

    def prune(self, owner_id: int) -> int:
        shown = {
            image.source
            for row in self.store.cards.values()
            if row.live
            for _, image in row.card.images()
            if image.kind == "media"
        }
        gone = [
            key
            for key in self.store.media
            if key[0] == owner_id and f"{owner_id}/{key[1]}" not in shown
        ]
        for key in gone:
            del self.store.media[key]
        return len(gone)
