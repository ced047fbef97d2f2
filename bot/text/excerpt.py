"""A short excerpt of what someone typed, for quoting it back in a reply."""

from __future__ import annotations

import unicodedata
from typing import Final

__all__ = ["EXCERPT", "excerpt"]

#: Characters of typed input a reply quotes at most.
EXCERPT: Final = 40


def _visible(char: str) -> bool:
    """False for control and format characters (zero-width, direction marks)."""
    return unicodedata.category(char) not in ("Cc", "Cf", "Cs", "Co", "Cn")


def excerpt(text: str, limit: int = EXCERPT) -> str:
    """``text`` as one short line: whitespace collapsed, control and invisible format
    characters (zero-width, right-to-left marks) dropped, and cut to ``limit``
    characters with "…" when longer (never after a lone combining mark's base is cut
    off: a cut falls before a run of combining marks, not inside it)."""
    line = " ".join("".join(c for c in text if _visible(c) or c.isspace()).split())
    if len(line) <= limit or limit < 2:
        return line[:limit]
    cut = limit - 1
    while cut > 1 and unicodedata.combining(line[cut]):
        cut -= 1
    return line[:cut].rstrip() + "…"
