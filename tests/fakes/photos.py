"""Photo answers as an adapter hands them to the core: a declared size and a fetch
that counts its downloads."""

from __future__ import annotations

from dataclasses import dataclass, field

from bot.core.challenges.photos import SentPhoto

#: The smallest PNG a decoder accepts: one transparent pixel.
PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6300010000050001"
    "0d0a2db40000000049454e44ae426082"
)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + b"\x00" * 64 + b"\xff\xd9"


@dataclass
class Downloads:
    """Counts what the core downloaded."""

    count: int = 0
    sizes: list[int] = field(default_factory=list)

    def photo(
        self, data: bytes = PNG, ref: str = "photo-1", *, declared: int | None = None
    ) -> SentPhoto:
        """A photo whose declared size is ``declared`` (default: its real size)."""

        async def fetch() -> bytes:
            self.count += 1
            self.sizes.append(len(data))
            return data

        return SentPhoto(len(data) if declared is None else declared, fetch, ref)


def photo(data: bytes = PNG, ref: str = "photo-1") -> SentPhoto:
    """A photo answer whose downloads nobody counts."""
    return Downloads().photo(data, ref)
