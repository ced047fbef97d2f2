"""Markdown structure that chat apps treat specially: fenced code and tables.

:func:`fence_flags` tells which lines are fenced code, :func:`table_blocks`
finds the tables outside code and :func:`parse_table` reads one;
:func:`needs_image` decides whether a text needs drawing (a table, or code
wider than a phone's chat bubble) and :func:`table_to_monospace` is the
text-only alternative: every table as aligned columns in a code block
(:func:`monospace_table` gives one table's lines).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Final

from bot.text.latex import math_fallback

__all__ = [
    "FENCE",
    "WIDE_CODE_LINE",
    "MarkdownTable",
    "display_width",
    "fence_flags",
    "monospace_table",
    "needs_image",
    "parse_table",
    "table_blocks",
    "table_to_monospace",
]

#: A code line longer than this does not fit a phone's chat bubble.
WIDE_CODE_LINE: Final = 60
#: A code fence line: up to three spaces, then three or more backticks or tildes (group 1).
FENCE: Final = re.compile(r"^\s{0,3}(```+|~~~+)")
_TABLE_SEP: Final = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def fence_flags(lines: Sequence[str]) -> list[bool]:
    """For each line, True when it belongs to a fenced code block (fences included)."""
    flags: list[bool] = []
    fence: str | None = None
    for line in lines:
        m = FENCE.match(line)
        if fence is None:
            if m:
                fence = m.group(1)[:3]
                flags.append(True)
            else:
                flags.append(False)
        else:
            flags.append(True)
            if m and m.group(1).startswith(fence) and not line.strip()[len(m.group(1)) :]:
                fence = None
    return flags


def _is_table_start(lines: Sequence[str], i: int) -> bool:
    return (
        i + 1 < len(lines)
        and "|" in lines[i]
        and _TABLE_SEP.match(lines[i + 1]) is not None
        and "-" in lines[i + 1]
    )


def needs_image(markdown: str) -> bool:
    """True when chat markdown cannot show this text well.

    That is when it has a markdown table, or a fenced code line wider than
    :data:`WIDE_CODE_LINE` characters.
    """
    lines = markdown.splitlines()
    in_code = fence_flags(lines)
    for i, line in enumerate(lines):
        if in_code[i]:
            if not FENCE.match(line) and len(line.rstrip()) > WIDE_CODE_LINE:
                return True
        elif _is_table_start(lines, i):
            return True
    return False


def _split_row(line: str) -> list[str]:
    text = line.strip()
    if text.startswith("|"):
        text = text[1:]
    if text.endswith("|") and not text.endswith("\\|"):
        text = text[:-1]
    cells: list[str] = []
    current: list[str] = []
    i = 0
    while i < len(text):
        if text[i] == "\\" and i + 1 < len(text) and text[i + 1] == "|":
            current.append("|")
            i += 2
            continue
        if text[i] == "|":
            cells.append("".join(current).strip())
            current = []
        else:
            current.append(text[i])
        i += 1
    cells.append("".join(current).strip())
    return cells


def display_width(text: str) -> int:
    """Columns a text takes in a monospace font: wide East Asian characters count two,
    combining marks none."""
    width = 0
    for ch in text:
        if unicodedata.combining(ch):
            continue
        width += 2 if unicodedata.east_asian_width(ch) in ("W", "F") else 1
    return width


def _plain_cell(cell: str) -> str:
    cell = math_fallback(cell)
    cell = re.sub(r"\*\*(.+?)\*\*|__(.+?)__", lambda m: m.group(1) or m.group(2), cell)
    cell = re.sub(r"(?<![\w*])\*(?!\s)(.+?)(?<!\s)\*(?![\w*])", r"\1", cell)
    return re.sub(r"`([^`]*)`", r"\1", cell)


@dataclass(frozen=True, slots=True)
class MarkdownTable:
    """A markdown table: header cells, alignments (``l``/``c``/``r``) and body rows."""

    header: tuple[str, ...]
    align: tuple[str, ...]
    rows: tuple[tuple[str, ...], ...]


def parse_table(lines: Sequence[str]) -> MarkdownTable:
    """Parse the lines of one markdown table (header, separator, rows)."""
    header = _split_row(lines[0])
    align: list[str] = []
    for cell in _split_row(lines[1]):
        c = cell.strip()
        if c.startswith(":") and c.endswith(":"):
            align.append("c")
        elif c.endswith(":"):
            align.append("r")
        else:
            align.append("l")
    width = len(header)
    rows = tuple(
        tuple((_split_row(line) + [""] * width)[:width]) for line in lines[2:] if line.strip()
    )
    align = (align + ["l"] * width)[:width]
    return MarkdownTable(tuple(header), tuple(align), rows)


def table_blocks(markdown: str) -> list[tuple[int, int]]:
    """(start, end) line ranges (end exclusive) of the tables outside code blocks."""
    lines = markdown.splitlines()
    in_code = fence_flags(lines)
    found: list[tuple[int, int]] = []
    i = 0
    while i < len(lines):
        if not in_code[i] and _is_table_start(lines, i):
            end = i + 2
            while (
                end < len(lines) and not in_code[end] and "|" in lines[end] and lines[end].strip()
            ):
                end += 1
            found.append((i, end))
            i = end
        else:
            i += 1
    return found


def monospace_table(table: MarkdownTable) -> list[str]:
    """A table as aligned plain lines: the header, a ``-+-`` rule, the rows (math as
    Unicode, emphasis and code markers dropped, each column aligned as the markdown says)."""
    header = [_plain_cell(c) for c in table.header]
    rows = [[_plain_cell(c) for c in row] for row in table.rows]
    widths = [
        max([display_width(header[k]), *(display_width(r[k]) for r in rows)])
        for k in range(len(header))
    ]

    def fit(text: str, k: int) -> str:
        pad = widths[k] - display_width(text)
        if table.align[k] == "r":
            return " " * pad + text
        if table.align[k] == "c":
            return " " * (pad // 2) + text + " " * (pad - pad // 2)
        return text + " " * pad

    out = [" | ".join(fit(c, k) for k, c in enumerate(header)).rstrip()]
    out.append("-+-".join("-" * w for w in widths))
    out.extend(" | ".join(fit(c, k) for k, c in enumerate(r)).rstrip() for r in rows)
    return out


def table_to_monospace(markdown: str) -> str:
    """Replace every markdown table by aligned columns in a fenced code block.

    ``$...$`` math in cells becomes Unicode (:func:`formula_fallback`), bold and
    code markers are dropped, and the markdown's column alignment is kept.
    The rest of the text is returned unchanged.
    """
    lines = markdown.splitlines()
    blocks = table_blocks(markdown)
    if not blocks:
        return markdown
    out: list[str] = []
    pos = 0
    for start, end in blocks:
        out.extend(lines[pos:start])
        out.append("```")
        out.extend(monospace_table(parse_table(lines[start:end])))
        out.append("```")
        pos = end
    out.extend(lines[pos:])
    return "\n".join(out)
