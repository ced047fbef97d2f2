"""Shared helpers for the renderer's tests: reading a PNG's header."""

from __future__ import annotations

import struct
import zlib


def png_info(data: bytes) -> tuple[int, int]:
    """(width, height) read from the IHDR chunk, after checking the signature and CRC."""
    assert data[:8] == b"\x89PNG\r\n\x1a\n", "not a PNG signature"
    length, kind = struct.unpack(">I4s", data[8:16])
    assert kind == b"IHDR" and length == 13
    body = data[16 : 16 + length]
    (crc,) = struct.unpack(">I", data[16 + length : 20 + length])
    assert zlib.crc32(kind + body) == crc
    assert data.endswith(b"IEND\xaeB`\x82")
    width, height = struct.unpack(">II", body[:8])
    return width, height
