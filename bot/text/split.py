"""Splitting a message under a platform's length limit, keeping code blocks renderable."""

from __future__ import annotations

from collections.abc import Callable

from bot.text.markdown import FENCE, fence_flags

__all__ = ["split_message", "utf16_len"]


def utf16_len(text: str) -> int:
    """Length in UTF-16 code units: how Telegram counts its limits."""
    return len(text.encode("utf-16-le")) // 2


def _paragraphs(text: str) -> list[str]:
    """Split at blank lines outside fenced code; a code block stays one piece."""
    lines = text.splitlines()
    in_code = fence_flags(lines)
    parts: list[list[str]] = []
    current: list[str] = []
    for line, code in zip(lines, in_code, strict=True):
        if not code and not line.strip():
            if current:
                parts.append(current)
                current = []
            continue
        current.append(line)
    if current:
        parts.append(current)
    return ["\n".join(p) for p in parts]


def _hard_split(line: str, limit: int, length: Callable[[str], int]) -> list[str]:
    pieces: list[str] = []
    rest = line
    while length(rest) > limit:
        # Largest prefix within the limit, preferring to cut at a space.
        lo, hi = 1, len(rest)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if length(rest[:mid]) <= limit:
                lo = mid
            else:
                hi = mid - 1
        cut = lo
        space = rest.rfind(" ", 0, cut)
        if space > cut // 2:
            cut = space + 1
        pieces.append(rest[:cut].rstrip())
        rest = rest[cut:]
    if rest:
        pieces.append(rest)
    return pieces


def _split_block(block: str, limit: int, length: Callable[[str], int]) -> list[str]:
    """Split one over-long paragraph or code block by lines (then hard)."""
    lines = block.split("\n")
    fence = FENCE.match(lines[0]) if lines else None
    opener = closer = ""
    if fence is not None and len(lines) >= 2 and FENCE.match(lines[-1]):
        opener, closer = lines[0], fence.group(1)
        lines = lines[1:-1]
    extra = (length(opener) + 1 + length(closer) + 1) if opener else 0
    room = max(1, limit - extra)
    chunks: list[str] = []
    current: list[str] = []
    size = 0
    for line in lines:
        for piece in _hard_split(line, room, length) if length(line) > room else [line]:
            add = length(piece) + (1 if current else 0)
            if current and size + add > room:
                chunks.append("\n".join(current))
                current, size = [], 0
                add = length(piece)
            current.append(piece)
            size += add
    if current or not chunks:
        chunks.append("\n".join(current))
    if opener:
        return [f"{opener}\n{c}\n{closer}" for c in chunks]
    return chunks


def split_message(text: str, limit: int, *, length: Callable[[str], int] = len) -> list[str]:
    """Split ``text`` into messages of at most ``limit`` characters.

    Paragraphs (blank-line separated) are packed greedily; a paragraph longer
    than the limit is split between lines, and a line longer than the limit at
    a space (or anywhere, as a last resort). A fenced code block is kept whole
    when it fits; when it cannot fit it is split between lines and each piece
    is closed and reopened, so every message renders as code.

    Args:
        text: the markdown to send.
        limit: the platform's limit, e.g. 4096 for a Telegram message.
        length: how the platform counts; pass :func:`utf16_len` for Telegram.

    Returns:
        The messages, in order; ``[]`` for blank text.
    """
    if limit < 1:
        raise ValueError("limit must be positive")
    if length(text) <= limit:
        return [text] if text.strip() else []
    messages: list[str] = []
    current = ""
    for para in _paragraphs(text):
        pieces = [para] if length(para) <= limit else _split_block(para, limit, length)
        for piece in pieces:
            joined = f"{current}\n\n{piece}" if current else piece
            if length(joined) <= limit:
                current = joined
            else:
                if current:
                    messages.append(current)
                current = piece
    if current:
        messages.append(current)
    return messages
