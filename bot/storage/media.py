"""Images of imported cards (table ``media``), by owner and file name."""

from __future__ import annotations

import hashlib
from datetime import datetime

from sqlalchemy import Connection, and_, delete, exists, insert, or_, select, update

from bot.core.ports import StoredMedia
from bot.storage.tables import cards, decks, media

#: ``image_kind`` of a card that shows an imported image; ``image_spec`` is "<owner>/<name>".
MEDIA_KIND = "media"


class SqlMedia:
    """The :class:`~bot.core.ports.MediaRepo` over SQL."""

    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def put(self, owner_id: int, name: str, mime: str, data: bytes, now: datetime) -> None:
        digest = hashlib.sha256(data).hexdigest()
        values = {"mime": mime, "sha256": digest, "data": data, "created_at": now}
        done = self.conn.execute(
            update(media).where(media.c.owner_id == owner_id, media.c.name == name).values(**values)
        )
        if done.rowcount == 0:
            self.conn.execute(insert(media).values(owner_id=owner_id, name=name, **values))

    def get(self, owner_id: int, name: str) -> StoredMedia | None:
        row = self.conn.execute(
            select(media.c.mime, media.c.data).where(
                media.c.owner_id == owner_id, media.c.name == name
            )
        ).first()
        return None if row is None else StoredMedia(owner_id, name, row.mime, bytes(row.data))

    def prune(self, owner_id: int) -> int:
        spec = str(owner_id) + "/" + media.c.name
        shown = (
            exists()
            .where(
                cards.c.deck_id == decks.c.id,
                decks.c.owner_id == owner_id,
                cards.c.retired_at.is_(None),
                or_(
                    and_(cards.c.image_kind == MEDIA_KIND, cards.c.image_spec == spec),
                    and_(cards.c.front_image_kind == MEDIA_KIND, cards.c.front_image_spec == spec),
                ),
            )
            .correlate(media)
        )
        done = self.conn.execute(delete(media).where(media.c.owner_id == owner_id, ~shown))
        return int(done.rowcount)
