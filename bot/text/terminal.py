"""Markdown as terminal text: wrapped to a width, styled with ANSI escapes or plain.

A :class:`Terminal` says how wide the terminal is and whether it shows colour;
:meth:`Terminal.markdown` turns markdown into lines for it:

- ``**bold**``, ``*italic*`` and ```code``` are styled with ANSI escapes when
  colour is on; without colour (output piped to a file or another program) the
  markers are dropped and no escape code is written;
- ``$...$`` and ``$$...$$`` math becomes Unicode (:func:`~bot.text.latex.math_fallback`);
- lines are wrapped to the width at spaces only: a word is never split, and a word
  longer than a line gets a line of its own; a list item, a quote or an indented
  paragraph keeps its indent on every line it wraps to;
- fenced code blocks and tables (aligned, :func:`~bot.text.markdown.monospace_table`)
  keep their lines as they are, however wide.

Card text is hard-wrapped in the deck files; ``join_lines=True`` joins the lines of a
paragraph first, as markdown renders them. The core's own messages put each thing on
a line of its own, so their line breaks are kept (the default).
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Final, Literal

from bot.text.latex import math_fallback
from bot.text.markdown import (
    FENCE,
    display_width,
    fence_flags,
    monospace_table,
    parse_table,
    table_blocks,
)

__all__ = [
    "DEFAULT_WIDTH",
    "Run",
    "Terminal",
    "inline_runs",
    "strip_ansi",
    "visible_width",
]

#: Columns of a terminal whose size cannot be read.
DEFAULT_WIDTH: Final = 80

StyleName = Literal["bold", "italic", "code", "dim"]
_SGR: Final[dict[str, str]] = {"bold": "1", "dim": "2", "italic": "3", "code": "36"}
_RESET: Final = "\x1b[0m"
_ANSI: Final = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]")

_CODE_SPAN: Final = re.compile(r"`([^`\n]+)`")
#: Markdown's backslash escapes (outside math and code): ``\*`` is a star, not emphasis.
_ESCAPE: Final = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|$<>~])")
_BOLD: Final = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_ITALIC: Final = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
#: Characters that stand for a stashed piece of text while emphasis is parsed
#: (Supplementary Private Use Area-A: never in card text).
_STASH_BASE: Final = 0xF0000

_ITEM: Final = re.compile(r"^(\s*)([-*+•]|\d{1,9}[.)])(\s+)(\S.*)$")
_HEADING: Final = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)(?:\s+#+)?\s*$")
_QUOTE: Final = re.compile(r"^(\s*)>\s?(.*)$")
_THEMATIC: Final = re.compile(r"^\s{0,3}([-*_])(?:\s*\1){2,}\s*$")
_DISPLAY_OPEN: Final = re.compile(r"^(\s*)\$\$(.*)$")


def strip_ansi(text: str) -> str:
    """``text`` without its ANSI escape sequences."""
    return _ANSI.sub("", text)


def visible_width(text: str) -> int:
    """The columns ``text`` takes on a terminal (escape codes take none)."""
    return display_width(strip_ansi(text))


@dataclass(frozen=True, slots=True)
class Run:
    """A piece of text in one style (a set of :data:`StyleName`)."""

    text: str
    style: frozenset[str] = frozenset()


def inline_runs(text: str) -> list[Run]:
    """One line of markdown as styled runs: code spans, math as Unicode, escapes,
    then ``**bold**`` and ``*italic*`` (nested as written)."""
    stash: list[Run] = []

    def keep(run: Run) -> str:
        stash.append(run)
        return chr(_STASH_BASE + len(stash) - 1)

    text = _CODE_SPAN.sub(lambda m: keep(Run(m.group(1), frozenset({"code"}))), text)
    text = math_fallback(text, each=lambda formula: keep(Run(formula)))
    text = _ESCAPE.sub(lambda m: keep(Run(m.group(1))), text)
    out: list[Run] = []
    for run in _emphasis(text, frozenset()):
        piece: list[str] = []
        for ch in run.text:
            index = ord(ch) - _STASH_BASE
            if 0 <= index < len(stash):
                if piece:
                    out.append(Run("".join(piece), run.style))
                    piece = []
                kept = stash[index]
                out.append(Run(kept.text, run.style | kept.style))
            else:
                piece.append(ch)
        if piece:
            out.append(Run("".join(piece), run.style))
    return [r for r in out if r.text]


def _emphasis(text: str, style: frozenset[str]) -> list[Run]:
    out: list[Run] = []
    pos = 0
    while pos < len(text):
        bold, italic = _BOLD.search(text, pos), _ITALIC.search(text, pos)
        found = [m for m in (bold, italic) if m is not None]
        if not found:
            break
        m = min(found, key=lambda x: x.start())
        extra = "bold" if m is bold else "italic"
        out.append(Run(text[pos : m.start()], style))
        inner = m.group(1) if m.group(1) is not None else m.group(2)
        out.extend(_emphasis(inner, style | {extra}))
        pos = m.end()
    out.append(Run(text[pos:], style))
    return out


@dataclass(slots=True)
class _Block:
    """A run of text laid out as one unit: wrapped (``lines`` None) or kept line by line."""

    first: str  # the prefix of its first line (the indent, a bullet)
    rest: str  # the prefix of the lines it wraps to
    text: str = ""
    style: frozenset[str] = frozenset()
    #: Lines kept as they are (code, tables), already styled; None for wrapped text.
    lines: list[str] | None = None
    gap: bool = False  # a blank line comes before it
    open: bool = True  # the next plain line may continue it (join_lines only)
    kind: str = "para"  # para, item, quote, display
    pieces: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class Terminal:
    """How to write for a terminal: its width (None: never wrap) and whether to use colour.

    The default is plain text wrapped at :data:`DEFAULT_WIDTH`.
    """

    width: int | None = DEFAULT_WIDTH
    colour: bool = False

    # ------------------------------------------------------------------ styling

    def paint(self, text: str, *styles: str) -> str:
        """``text`` in these styles (``bold``, ``italic``, ``code``, ``dim``) when colour
        is on; as it is when off."""
        return self._paint(text, frozenset(styles))

    def _paint(self, text: str, style: frozenset[str]) -> str:
        if not self.colour or not style or not text:
            return text
        codes = ";".join(sorted(_SGR[s] for s in style if s in _SGR))
        return f"\x1b[{codes}m{text}{_RESET}" if codes else text

    # ------------------------------------------------------------------ wrapping

    def wrap(self, runs: Sequence[Run], first: str = "", rest: str | None = None) -> list[str]:
        """Styled runs filled into lines no wider than the width, broken at spaces only.

        ``first`` starts the first line and ``rest`` (default: as many spaces as
        ``first`` is wide) the others; either may be styled. A newline in the runs
        starts a new line.
        A word wider than a line is put on a line of its own, whole.
        """
        if rest is None:
            rest = " " * visible_width(first)
        words = _words(runs)
        lines: list[str] = []
        prefix = first
        current: list[list[Run]] = []
        used = 0
        for word in words:
            if word is None:  # a hard line break
                lines.append(self._line(prefix, current))
                prefix, current, used = rest, [], 0
                continue
            width = sum(display_width(r.text) for r in word)
            room = None if self.width is None else self.width - visible_width(prefix)
            if current and room is not None and used + 1 + width > room:
                lines.append(self._line(prefix, current))
                prefix, current, used = rest, [], 0
            used += width + (1 if current else 0)
            current.append(word)
        if current or not lines:
            lines.append(self._line(prefix, current))
        return lines

    def _line(self, prefix: str, words: list[list[Run]]) -> str:
        merged: list[Run] = []

        def add(run: Run) -> None:
            if merged and merged[-1].style == run.style:
                merged[-1] = Run(merged[-1].text + run.text, run.style)
            else:
                merged.append(run)

        for k, word in enumerate(words):
            if k:  # the space between two words is in their style when they share it
                shared = merged[-1].style == word[0].style
                add(Run(" ", word[0].style if shared else frozenset()))
            for run in word:
                add(run)
        return (prefix + "".join(self._paint(r.text, r.style) for r in merged)).rstrip()

    def text(self, line: str, first: str = "", rest: str | None = None) -> str:
        """Plain text (no markdown) wrapped to the width, its line breaks kept."""
        runs = [Run(line)]
        return "\n".join(self.wrap(runs, first, rest))

    # ------------------------------------------------------------------ markdown

    def markdown(self, markdown: str, indent: str = "", *, join_lines: bool = False) -> str:
        """Markdown as terminal lines, each starting with ``indent``.

        Args:
            markdown: the text (a card's side, a reply).
            indent: put before every line (the console indents a card's text).
            join_lines: join the hard-wrapped lines of a paragraph, as markdown does
                (card text); otherwise each line stays a line (the core's messages).
        """
        lines = markdown.expandtabs(4).splitlines()
        flags = fence_flags(lines)
        tables = dict(table_blocks("\n".join(lines)))
        blocks: list[_Block] = []
        gap = False
        current: _Block | None = None
        i = 0
        while i < len(lines):
            line = lines[i]
            if flags[i]:
                end = i
                while end < len(lines) and flags[end]:
                    end += 1
                code = [ln for ln in lines[i:end] if not FENCE.match(ln)]
                blocks.append(self._code(code, indent, gap))
                current, gap, i = None, False, end
                continue
            if i in tables:
                end = tables[i]
                blocks.append(self._table(lines[i:end], indent, gap))
                current, gap, i = None, False, end
                continue
            i += 1
            if not line.strip():
                gap = gap or bool(blocks)
                current = None
                continue
            if current is not None and current.kind == "display":
                current.pieces.append(line.strip())
                if "$$" in line:  # the formula's end
                    current = None
                continue
            block = self._start(line, indent, current, join_lines=join_lines)
            if block is None:  # continues the current block
                assert current is not None
                sep = "" if current.text.endswith("\n") else " "
                current.text += sep + line.strip()
            else:
                block.gap = gap and bool(blocks)
                blocks.append(block)
                current, gap = block, False
            if current is not None:
                if line.endswith("  "):  # a hard line break
                    current.text = current.text.rstrip(" ") + "\n"
                if not join_lines and current.kind != "display":
                    current.open = False
        out: list[str] = []
        for block in blocks:
            if block.gap and out:
                out.append("")
            if block.lines is not None:
                out.extend(block.lines)
                continue
            text = block.text
            if block.kind == "display":
                text = "$$" + " ".join(block.pieces).replace("$$", " ").strip() + "$$"
            runs = [Run(r.text, r.style | block.style) for r in inline_runs(text)]
            out.extend(self.wrap(runs, block.first, block.rest))
        return "\n".join(out)

    def _start(
        self, line: str, indent: str, current: _Block | None, *, join_lines: bool
    ) -> _Block | None:
        """The block a prose line starts, or None when it continues ``current``."""
        item = _ITEM.match(line)
        if item is not None and not _THEMATIC.match(line):
            lead, marker, _, text = item.groups()
            shown = "•" if marker in "-*+" else marker
            first = f"{indent}{lead}{shown} "
            return _Block(first, " " * display_width(first), text, kind="item")
        heading = _HEADING.match(line)
        if heading is not None:
            return _Block(indent, indent, heading.group(1), frozenset({"bold"}), open=False)
        if _THEMATIC.match(line):
            rule = "─" * min(20, max(3, (self.width or 20) - display_width(indent)))
            return _Block(indent, indent, lines=[indent + self.paint(rule, "dim")], open=False)
        quote = _QUOTE.match(line)
        if quote is not None:
            if current is not None and current.kind == "quote" and current.open:
                current.text += ("" if current.text.endswith("\n") else " ") + quote.group(2)
                if not join_lines:
                    current.text += "\n"
                return None
            bar = f"{indent}{quote.group(1)}│ "
            text = quote.group(2) + ("" if join_lines else "\n")
            return _Block(bar, bar, text, frozenset({"italic"}), kind="quote")
        display = _DISPLAY_OPEN.match(line)
        if display is not None:
            first = f"{indent}{display.group(1)}  "
            inside = display.group(2).strip()
            if not inside:  # "$$" alone: the formula follows, up to the next "$$"
                return _Block(first, first, kind="display", open=False)
            if inside.endswith("$$"):  # a display formula on one line
                return _Block(first, first, line.strip(), open=False)
        if current is not None and current.open and join_lines:
            return None
        lead = re.match(r"\s*", line)
        prefix = indent + (lead.group(0) if lead else "")
        return _Block(prefix, prefix, line.strip())

    def _code(self, code: Sequence[str], indent: str, gap: bool) -> _Block:
        lead = min((len(ln) - len(ln.lstrip()) for ln in code if ln.strip()), default=0)
        shown = [(indent + "  " + self.paint(ln[lead:].rstrip(), "code")).rstrip() for ln in code]
        return _Block(indent, indent, lines=shown, gap=gap, open=False)

    def _table(self, rows: Sequence[str], indent: str, gap: bool) -> _Block:
        header, rule, *body = monospace_table(parse_table(rows))
        shown = [indent + self.paint(header, "bold"), indent + self.paint(rule, "dim")]
        shown.extend(indent + row for row in body)
        return _Block(indent, indent, lines=shown, gap=gap, open=False)


def _words(runs: Iterable[Run]) -> list[list[Run] | None]:
    """Runs split into words (lists of runs, a word may change style midway) at spaces;
    None marks a hard line break."""
    words: list[list[Run] | None] = []
    current: list[Run] = []
    for run in runs:
        for piece in re.split(r"([ \t]+|\n)", run.text):
            if not piece:
                continue
            if piece == "\n":
                if current:
                    words.append(current)
                    current = []
                words.append(None)
            elif piece.isspace():
                if current:
                    words.append(current)
                    current = []
            else:
                current.append(Run(piece, run.style))
    if current:
        words.append(current)
    while words and words[-1] is None:
        words.pop()
    return words
