"""Photo answers that keep: a member's photo is downloaded when it is sent and stored
with their submission, so the reveal, a shared answer and a late self-assessment show
it even after the platform's link has died (a Discord attachment URL expires after
about a day).

As with an Anki import, the adapter hands over the size the platform declares and a
``fetch`` that downloads the bytes (:class:`SentPhoto`); the core refuses a photo over
:attr:`PhotoLimits.max_bytes` before anything is downloaded, checks the bytes are an
image (PNG, JPEG, GIF or WebP, by their first bytes), and keeps each group's stored
photos under :attr:`PhotoLimits.group_bytes`: the photos of the group's finished runs
(revealed or cancelled) go first, oldest first, and when the open run's own photos
leave no room the member is told. Housekeeping drops the photos of runs revealed (or
cancelled) more than :attr:`PhotoLimits.keep_days` days ago.
"""

from __future__ import annotations

import math
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import timedelta
from typing import Final

#: A photo of at most this many bytes is kept (Discord's upload limit without boosts,
#: so the reveal can upload it again).
MAX_PHOTO_BYTES: Final = 8 * 1024 * 1024
#: The photos stored for one group's runs add up to at most this many bytes.
GROUP_PHOTO_BYTES: Final = 100 * 1024 * 1024
#: A run's photos are dropped this many days after its reveal.
KEEP_PHOTO_DAYS: Final = 30

#: The first bytes of each image format kept, and its MIME type.
_MAGIC: Final = (
    (b"\x89PNG\r\n\x1a\n", "image/png"),
    (b"\xff\xd8\xff", "image/jpeg"),
    (b"GIF87a", "image/gif"),
    (b"GIF89a", "image/gif"),
)
_EXTENSIONS: Final = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/gif": "gif",
    "image/webp": "webp",
}


@dataclass(frozen=True, slots=True)
class SentPhoto:
    """A photo a member sent, as the adapter hands it over.

    Attributes:
        size: the size in bytes the platform declares (checked before any download).
        fetch: downloads the bytes, when the core asks; a download that fails raises
            the adapter's own error, which its one error handler tells the person.
        ref: the platform's own name for it (a Telegram file id, a Discord attachment
            URL), kept as the submission's ``photo_ref``: it marks an answer given as a
            photo, never to show it (a Discord URL expires).
    """

    size: int
    fetch: Callable[[], Awaitable[bytes]]
    ref: str


@dataclass(frozen=True, slots=True)
class StoredPhoto:
    """A photo answer as stored with its submission."""

    data: bytes
    mime: str

    @property
    def size(self) -> int:
        return len(self.data)

    @property
    def filename(self) -> str:
        """The name the photo is uploaded under (``answer.jpg``)."""
        return f"answer.{_EXTENSIONS.get(self.mime, 'bin')}"


@dataclass(frozen=True, slots=True)
class PhotoLimits:
    """How much of members' photo answers is kept (``[quiz]`` in the config file)."""

    max_bytes: int = MAX_PHOTO_BYTES
    group_bytes: int = GROUP_PHOTO_BYTES
    keep_days: int = KEEP_PHOTO_DAYS

    @property
    def keep(self) -> timedelta:
        return timedelta(days=self.keep_days)


def image_mime(data: bytes) -> str | None:
    """The MIME type of a PNG, JPEG, GIF or WebP image, read from its first bytes;
    None for anything else."""
    for magic, mime in _MAGIC:
        if data.startswith(magic):
            return mime
    if len(data) >= 12 and data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "image/webp"
    return None


def megabytes(size: int) -> str:
    """``8 MB``, ``0.5 MB``: a size for people, rounded up (to a tenth below 10 MB, to
    a whole MB above), so a photo just over a limit never reads as within it."""
    tenths = math.ceil(size * 10 / (1024 * 1024))
    if tenths >= 100 or tenths % 10 == 0:
        return f"{math.ceil(tenths / 10)} MB"
    return f"{tenths / 10:.1f} MB"


def too_large(size: int, limits: PhotoLimits) -> str:
    return (
        f"That photo is {megabytes(size)}; I keep photos of up to "
        f"{megabytes(limits.max_bytes)}. Please send a smaller one (a screenshot of the "
        "page, or the photo compressed), or type your answer."
    )


NOT_AN_IMAGE: Final = (
    "I couldn't read that as a picture (I take PNG, JPEG, GIF and WebP). Please send "
    "a photo of your page, or type your answer. Your earlier answer, if any, is unchanged."
)


PHOTO_GONE: Final = (
    "Your answer was a photo, and it is no longer kept (a group keeps its challenge "
    "photos for a while after the reveal), so there is nothing to share."
)


def group_full(limits: PhotoLimits) -> str:
    return (
        f"I can't keep this photo: this group's challenge photos already fill the "
        f"{megabytes(limits.group_bytes)} I keep for it, all from the challenge running now. "
        "Please type your answer instead. Your earlier answer, if any, is unchanged."
    )
