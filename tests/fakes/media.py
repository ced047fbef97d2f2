"""Imported images, as ``bot.storage.media.SqlMedia`` keeps them."""

from __future__ import annotations

from datetime import datetime

from bot.core.ports import StoredMedia
from tests.fakes.store import FakeStore, utc


class FakeMedia:
    """Images by owner and name; pruned when no live card of the owner's decks shows them."""

    def __init__(self, store: FakeStore) -> None:
        self.store = store

    def put(self, owner_id: int, name: str, mime: str, data: bytes, now: datetime) -> None:
        utc(now)
        self.store.media[(owner_id, name)] = StoredMedia(owner_id, name, mime, data)

    def get(self, owner_id: int, name: str) -> StoredMedia | None:
        return self.store.media.get((owner_id, name))

    def prune(self, owner_id: int) -> int:
        owned = {d.id for d in self.store.decks.values() if d.owner_id == owner_id}
        shown = {
            image.spec
            for row in self.store.cards.values()
            if row.live and row.card.deck_id in owned
            for image in (row.front_image, row.back_image)
            if image is not None and image.kind == "media"
        }
        gone = [
            key
            for key in self.store.media
            if key[0] == owner_id and f"{owner_id}/{key[1]}" not in shown
        ]
        for key in gone:
            del self.store.media[key]
        return len(gone)
