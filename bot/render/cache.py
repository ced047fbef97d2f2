"""Content-hash caches for rendered images: a bounded in-memory LRU and PNG files on disk.

The key of an image is a hash of what it shows and how it is drawn:
``(kind, spec, style, RENDERER_VERSION)``. The same card image is therefore
rendered once for every learner, and a new renderer version never serves an
old picture. No matplotlib here.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import struct
import tempfile
from collections import OrderedDict
from pathlib import Path
from typing import Final

from bot.core.rendering import RenderedImage
from bot.render.style import RENDERER_VERSION, Style

__all__ = [
    "CACHE_DIR_NAME",
    "DiskCache",
    "MemoryCache",
    "cache_dir_for",
    "cache_key",
    "png_size",
]

log = logging.getLogger(__name__)

#: The folder under the data directory where rendered PNGs are kept.
CACHE_DIR_NAME: Final = "render-cache"

_PNG_SIGNATURE: Final = b"\x89PNG\r\n\x1a\n"


def cache_dir_for(data_dir: Path) -> Path:
    """``<data_dir>/render-cache``: where the disk cache lives."""
    return data_dir / CACHE_DIR_NAME


def cache_key(kind: str, spec: str, style: Style | str) -> str:
    """The content hash of an image: hex SHA-256 of kind, spec, style and renderer version.

    ``style`` is a :class:`Style` or its :meth:`Style.digest` (cheaper in a hot path).
    """
    digest = style if isinstance(style, str) else style.digest()
    raw = json.dumps(
        [RENDERER_VERSION, kind, spec, digest], ensure_ascii=False, separators=(",", ":")
    ).encode()
    return hashlib.sha256(raw).hexdigest()


def png_size(data: bytes) -> tuple[int, int]:
    """(width, height) from a PNG's IHDR chunk.

    Raises:
        ValueError: when the bytes are not a PNG.
    """
    if len(data) < 24 or data[:8] != _PNG_SIGNATURE or data[12:16] != b"IHDR":
        raise ValueError("not a PNG")
    w, h = struct.unpack(">II", data[16:24])
    return int(w), int(h)


class MemoryCache:
    """A least-recently-used map from key to image, bounded by item count and bytes."""

    def __init__(self, max_items: int = 256, max_bytes: int = 64 * 1024 * 1024) -> None:
        if max_items < 0 or max_bytes < 0:
            raise ValueError("cache bounds must not be negative")
        self.max_items = max_items
        self.max_bytes = max_bytes
        self._items: OrderedDict[str, RenderedImage] = OrderedDict()
        self._bytes = 0

    def __len__(self) -> int:
        return len(self._items)

    def __contains__(self, key: str) -> bool:
        return key in self._items

    @property
    def size_bytes(self) -> int:
        """Total PNG bytes held."""
        return self._bytes

    def get(self, key: str) -> RenderedImage | None:
        """The image under ``key`` (now the most recently used), or None."""
        image = self._items.get(key)
        if image is not None:
            self._items.move_to_end(key)
        return image

    def put(self, image: RenderedImage) -> None:
        """Keep an image, dropping the least recently used ones beyond the bounds."""
        if self.max_items == 0 or len(image.data) > self.max_bytes:
            return
        old = self._items.pop(image.key, None)
        if old is not None:
            self._bytes -= len(old.data)
        self._items[image.key] = image
        self._bytes += len(image.data)
        while len(self._items) > self.max_items or self._bytes > self.max_bytes:
            _, dropped = self._items.popitem(last=False)
            self._bytes -= len(dropped.data)

    def clear(self) -> None:
        """Forget every image."""
        self._items.clear()
        self._bytes = 0


class DiskCache:
    """PNG files named by their key under one folder (``<dir>/ab/abcdef....png``).

    Writes are atomic (a temporary file renamed into place), so several
    processes may share the folder. Unreadable or corrupt files count as misses.
    """

    def __init__(self, directory: Path) -> None:
        self.directory = directory

    def path(self, key: str) -> Path:
        """Where the image with this key is stored."""
        return self.directory / key[:2] / f"{key}.png"

    def get(self, key: str) -> RenderedImage | None:
        """The stored image, or None when it is missing or unreadable."""
        path = self.path(key)
        try:
            data = path.read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            log.warning("cannot read cached image %s: %s", path, exc)
            return None
        try:
            width, height = png_size(data)
        except ValueError:
            log.warning("ignoring a corrupt cached image %s", path)
            return None
        return RenderedImage(data, width, height, key)

    def put(self, image: RenderedImage) -> Path | None:
        """Store an image; returns its path, or None when it could not be written."""
        path = self.path(image.key)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".tmp-", suffix=".png")
            try:
                with os.fdopen(fd, "wb") as fh:
                    fh.write(image.data)
                os.replace(tmp, path)
            except BaseException:
                with contextlib.suppress(OSError):
                    os.unlink(tmp)
                raise
        except OSError as exc:
            log.warning("cannot write cached image %s: %s", path, exc)
            return None
        return path
