"""Anki field HTML as our card markdown (pure: regular expressions and :mod:`html` only).

:func:`convert` turns the HTML a card template drew into the markdown our cards are
written in (``bot/decks/README.md``): line breaks, paragraphs, lists, ``**bold**``,
``*italic*``, ```code```, fenced ``<pre>`` blocks, simple tables; formulas as
``$...$``/``$$...$$``. What our markdown would read as markup but Anki meant as text is
escaped (``\\$``, ``\\*``, ``\\```, ``\\_\\_``, a ``#`` or ``>`` starting a line), so a
price like ``$5`` never starts a formula.

- Formulas: MathJax ``\\(..\\)`` becomes ``$..$`` and ``\\[..\\]`` ``$$..$$`` (on a line
  of its own); the old ``[latex]..[/latex]``, ``[$]..[/$]`` and ``[$$]..[/$$]`` too. The
  HTML inside a formula is dropped and its entities decoded.
- ``[sound:...]`` and ``[anki:tts]...[/anki:tts]`` (text read aloud) are dropped and
  counted (:attr:`Converted.sounds`).
- ``<img src=...>`` becomes a mark, ``chr(IMAGE_MARK + i)`` for the conversion's image
  ``i`` (:attr:`Converted.images`, names entity- and %-decoded), for the caller to
  resolve with :func:`resolve_images` (a side's image, or a text naming it).
- ``<script>``, ``<style>``, media players and form controls are dropped with their
  content; ``<u>``, ``<a>``, ``<span>`` and other inline tags keep only their text.

:func:`finish` then tidies the text: blank lines collapsed, and a single line break
made a hard break (two trailing spaces), so chats that join a paragraph's lines keep
Anki's.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Final
from urllib.parse import unquote

from bot.text.latex import formula_fallback
from bot.text.markdown import fence_flags, table_blocks

__all__ = [
    "IMAGE_MARK",
    "Converted",
    "convert",
    "escape_markdown",
    "field_is_empty",
    "finish",
    "plain_line",
    "plain_text",
    "resolve_images",
]

#: Image ``i`` of a conversion stands in its text as ``chr(IMAGE_MARK + i)`` (Supplementary
#: Private Use Area-A: never in card text; any such character in a field is dropped).
IMAGE_MARK: Final = 0xF0000
#: Formula ``k`` while converting (Supplementary Private Use Area-B).
_MATH_MARK: Final = 0x100000
_PRIVATE: Final = re.compile("[\U000f0000-\U0010ffff]")
_IMAGE_MARKS: Final = "\U000f0000-\U000ffffd"
_MARK_SPLIT: Final = re.compile("([\U00100000-\U0010fffd])")

# Every pattern here runs in linear time on any input (a field may be megabytes of
# hostile text, and the mapping holds the GIL): a formula's or a block's content never
# runs past the next opening of its kind, and a tag never past the next "<".
_FORMULA: Final = re.compile(
    r"\\\(((?:(?!\\[()]).)*)\\\)"
    r"|\\\[((?:(?!\\[\[\]]).)*)\\\]"
    r"|\[latex\]((?:(?!\[/?latex\]).)*)\[/latex\]"
    r"|\[\$\$\]((?:(?!\[/?\$\$\]).)*)\[/\$\$\]"
    r"|\[\$\]((?:(?!\[/?\$\]).)*)\[/\$\]",
    re.S | re.I,
)
_SOUND: Final = re.compile(
    r"\[sound:[^\]]*\]|\[anki:tts\b[^\]]*\](?:(?!\[/?anki:tts\b).)*\[/anki:tts\]", re.I | re.S
)
#: One token of HTML: (text, a comment or declaration, "/", tag name, attributes, a "<"
#: that starts no tag). A tag's attributes may hold ">" inside quotes.
_TOKEN: Final = re.compile(
    r"([^<]+)"
    r"|(<!--.*?(?:-->|\Z)|<![^<>]*>)"
    r"|<(/?)([a-zA-Z][a-zA-Z0-9-]*+)((?:[^<>\"']|\"[^<\"]*\"|'[^<']*')*+)>"
    r"|(<)",
    re.S,
)
_SRC: Final = re.compile(r"""(?<![\w-])src\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""", re.I)
_SPACE: Final = re.compile(r"[ \t\n\r\f\v]+")
#: Characters our markdown reads as markup, escaped in text: math, emphasis, code, and a
#: backslash that would escape what follows it (the escapes ``bot.text.terminal`` reads).
_SPECIAL: Final = re.compile(r"[$*`]|__+|\\(?=[\\`*_{}\[\]()#+\-.!|$<>~]|\Z)")

_VOID_NAMES: Final = "area base br col embed hr img input link meta param source track wbr"
_VOID: Final = frozenset(_VOID_NAMES.split())
#: Elements dropped with everything inside them.
_DROPPED_NAMES: Final = (
    "script style template title noscript head svg canvas iframe object audio video "
    "select button textarea"
)
_DROPPED: Final = frozenset(_DROPPED_NAMES.split())
_DROPPED_OPEN: Final = re.compile(rf"<(?:{_DROPPED_NAMES.replace(' ', '|')})\b", re.I)
_DROPPED_CONTENT: Final = re.compile(
    rf"<({_DROPPED_NAMES.replace(' ', '|')})\b(?:[^<>\"']|\"[^<\"]*\"|'[^<']*')*+>"
    r".*?(?:</\1\s*>|\Z)",
    re.S | re.I,
)
#: Elements that start and end a line.
_BLOCK_NAMES: Final = (
    "div section article header footer center dl dt dd figure figcaption main nav aside "
    "form fieldset details summary address blockquote"
)
_BLOCK: Final = frozenset(_BLOCK_NAMES.split())
_HEADINGS: Final = frozenset(("h1", "h2", "h3", "h4", "h5", "h6"))
_BOLD: Final = frozenset(("b", "strong"))
_ITALIC: Final = frozenset(("i", "em"))
_CODE: Final = frozenset(("code", "kbd", "samp", "tt"))

_EMPTY_FIELD: Final = re.compile(r"^(?:\s|&nbsp;|</?(?:br|div)\s*/?>)*$", re.I)
_TAG_OR_COMMENT: Final = re.compile(r"<!--.*?(?:-->|\Z)|<[a-zA-Z/!][^<>]*>", re.S)
_BREAKING_TAG: Final = re.compile(r"<(?:br|/?div|/?p|/?li|/?tr|/?td|/?th)\b[^<>]*>", re.I)
_DROPPED_ELEMENT: Final = re.compile(r"<(script|style)\b[^<>]*>.*?(?:</\1\s*>|\Z)", re.S | re.I)


@dataclass(frozen=True, slots=True)
class Converted:
    """One piece of HTML as markdown.

    Attributes:
        text: the markdown, each image as ``chr(IMAGE_MARK + i)``; not yet :func:`finish`-ed.
        images: the names of the images, in order (``i`` above).
        sounds: ``[sound:...]`` references and ``[anki:tts]`` blocks dropped.
    """

    text: str
    images: tuple[str, ...]
    sounds: int


def field_is_empty(value: str) -> bool:
    """Whether a field counts as empty for Anki (only whitespace, ``&nbsp;``, ``<br>``
    and ``<div>`` tags): an image alone is not empty."""
    return _EMPTY_FIELD.match(value) is not None


def plain_text(value: str) -> str:
    """A field's text without its HTML: tags dropped (line-breaking ones as a space,
    ``<script>``/``<style>`` with their content), entities decoded, ``&nbsp;`` and runs
    of whitespace as one space, stripped."""
    value = _DROPPED_ELEMENT.sub(" ", value)
    value = _BREAKING_TAG.sub(" ", value)
    value = _TAG_OR_COMMENT.sub("", value)
    value = html.unescape(value).replace("\xa0", " ")
    return _SPACE.sub(" ", _PRIVATE.sub("", value)).strip()


def _escaped(m: re.Match[str]) -> str:
    return "".join("\\" + c for c in m.group(0))


def escape_markdown(text: str) -> str:
    """Literal text made safe for our markdown: ``$``, ``*``, backticks, ``__`` and a
    backslash that would escape what follows it get a backslash."""
    return _SPECIAL.sub(_escaped, text)


def _image_name(src: str) -> str:
    """An ``<img src>`` as a media file name: entities are already decoded, %-escapes
    decoded when it has any."""
    name = src.strip()
    return unquote(name) if "%" in name else name


# --------------------------------------------------------------------------- formulas


def _math_source(raw: str) -> str:
    """A formula's LaTeX from the HTML between its delimiters."""
    return plain_text(raw)


_LATEX_WRAPPERS: Final = (
    (re.compile(r"^\$\$(.*)\$\$$", re.S), True),
    (re.compile(r"^\\\[(.*)\\\]$", re.S), True),
    (re.compile(r"^\\begin\{displaymath\}(.*)\\end\{displaymath\}$", re.S), True),
    (re.compile(r"^\\begin\{math\}(.*)\\end\{math\}$", re.S), False),
    (re.compile(r"^\$(.*)\$$", re.S), False),
)


def _latex_block(source: str) -> tuple[str, bool]:
    """``[latex]...[/latex]``'s content: a formula and whether it is displayed (its own
    ``$$``, ``\\[``, ``displaymath``), else inline."""
    for pattern, display in _LATEX_WRAPPERS:
        m = pattern.match(source)
        if m is not None:
            return m.group(1).strip(), display
    return source, False


@dataclass(frozen=True, slots=True)
class _Formula:
    source: str  # the LaTeX
    display: bool
    original: str  # the delimited text as written, for a formula our markdown cannot hold


def _extract_formulas(value: str, found: list[_Formula]) -> str:
    """Each formula of ``value`` replaced by a mark (``found`` gets them)."""

    def mark(m: re.Match[str]) -> str:
        inline, display, latex, dd, d = m.groups()
        if inline is not None:
            source, shown = _math_source(inline), False
        elif display is not None:
            source, shown = _math_source(display), True
        elif latex is not None:
            source, shown = _latex_block(_math_source(latex))
        elif dd is not None:
            source, shown = _math_source(dd), True
        else:
            source, shown = _math_source(d or ""), False
        found.append(_Formula(source, shown, plain_text(m.group(0))))
        return chr(_MATH_MARK + len(found) - 1)

    return _FORMULA.sub(mark, value)


# --------------------------------------------------------------------------- the writer


class _List:
    __slots__ = ("number", "ordered")

    def __init__(self, ordered: bool) -> None:
        self.ordered = ordered
        self.number = 0


class _Table:
    __slots__ = ("cell_start", "row", "rows")

    def __init__(self) -> None:
        self.rows: list[list[str]] = []
        self.row: list[str] | None = None
        self.cell_start: int | None = None


class _Writer:
    """Builds the markdown as the tags and texts come (one conversion)."""

    def __init__(self, formulas: list[_Formula]) -> None:
        self.out: list[str] = []
        self.last = "\n"  # the last character written ("\n" at the start: a line start)
        self.formulas = formulas
        self.images: list[str] = []
        # (tag kind, index in out where its content starts)
        self.frames: list[tuple[str, int]] = []
        self.bold = 0
        self.italic = 0
        self.code = 0
        self.pre = 0
        self.lists: list[_List] = []
        self.tables: list[_Table] = []
        self.after_formula = False  # "$x$2" is no formula: a digit after one gets a space

    # ---------------------------------------------------------------- output

    def write(self, piece: str) -> None:
        self.after_formula = False
        if piece:
            self.out.append(piece)
            self.last = piece[-1]

    def _recompute_last(self) -> None:
        for piece in reversed(self.out):
            if piece:
                self.last = piece[-1]
                return
        self.last = "\n"

    def newline(self) -> None:
        """Start a new line unless at one (a cell stays on its line)."""
        if self.tables and self.tables[-1].cell_start is not None:
            if self.last not in " \n":
                self.write(" ")
            return
        if self.last != "\n":
            self.write("\n")

    def paragraph(self) -> None:
        """A blank line, unless at the start or after one."""
        self.newline()
        if self._in_cell() or not self.out:
            return
        text = "".join(self.out[-2:])
        if not text.endswith("\n\n"):
            self.write("\n")

    def _in_cell(self) -> bool:
        return bool(self.tables) and self.tables[-1].cell_start is not None

    def take(self, start: int) -> str:
        """The output since ``start``, removed."""
        inner = "".join(self.out[start:])
        del self.out[start:]
        self._recompute_last()
        return inner

    # ---------------------------------------------------------------- text

    def text(self, raw: str) -> None:
        if self.formulas:
            for k, piece in enumerate(_MARK_SPLIT.split(raw)):
                if k % 2:
                    self.formula(self.formulas[ord(piece) - _MATH_MARK])
                elif piece:
                    self._plain(
                        html.unescape(piece).replace("\xa0", " ") if "&" in piece else piece
                    )
            return
        if "&" in raw:
            raw = html.unescape(raw).replace("\xa0", " ")
        if self.pre or self.code or self.after_formula:
            self._plain(raw)
            return
        # Most text: outside code, after no formula.
        if "  " in raw or "\n" in raw or "\t" in raw or "\r" in raw or "\f" in raw or "\v" in raw:
            raw = _SPACE.sub(" ", raw)
        last = self.last
        if raw[0] == " " and (last == " " or last == "\n"):
            raw = raw[1:]
            if not raw:
                return
        if "$" in raw or "*" in raw or "`" in raw or "\\" in raw or "__" in raw:
            escaped = _SPECIAL.sub(_escaped, raw)
        else:
            escaped = raw
        if last == "\n" and escaped[0] in "#>":
            escaped = "\\" + escaped
        self.out.append(escaped)
        self.last = escaped[-1]

    def _plain(self, text: str) -> None:
        if self.after_formula and text[:1].isdigit():
            text = " " + text
        if self.pre:
            self.write(text.replace("\r\n", "\n").replace("\r", "\n"))
            return
        text = _SPACE.sub(" ", text)
        if self.last in " \n" and text.startswith(" "):
            text = text[1:]
        if not text:
            return
        if self.code:
            self.write(text)
            return
        escaped = escape_markdown(text)
        if self.last == "\n" and escaped[0] in "#>":
            escaped = "\\" + escaped
        self.write(escaped)

    def formula(self, formula: _Formula) -> None:
        source = _SPACE.sub(" ", formula.source).strip()
        if not source:
            return
        if "$" in source:  # our markdown cannot hold it as a formula: keep it as text
            self._plain(formula.original)
            return
        if formula.display and not (self.code or self.pre or self._in_cell()):
            self.newline()
            self.write(f"$${source}$$")
            self.newline()
        elif formula.display:
            self.write(f"$${source}$$")
        else:
            self.write(f"${source}$")
            self.after_formula = True

    def image(self, attrs: str) -> None:
        m = _SRC.search(attrs)
        if m is None:
            return
        src = html.unescape(next(g for g in m.groups() if g is not None))
        name = _image_name(_PRIVATE.sub("", src))
        if not name:
            return
        self.images.append(name)
        self.write(chr(IMAGE_MARK + len(self.images) - 1))

    # ---------------------------------------------------------------- tags

    def start(self, tag: str, attrs: str) -> None:
        if tag == "br":
            if self.pre or self.code:
                self.write("\n")
            elif self._in_cell():
                self.newline()
            else:
                self.write("\n")
        elif tag == "img":
            self.image(attrs)
        elif tag in ("hr", "p"):
            self.paragraph()
        elif tag in _BLOCK:
            self.newline()
        elif tag in _HEADINGS:
            self.paragraph()
            self._open("bold")
        elif tag in _BOLD:
            self._open("bold")
        elif tag in _ITALIC:
            self._open("italic")
        elif tag == "pre":
            self.newline()
            self.pre += 1
            self.frames.append(("pre", len(self.out)))
        elif tag in _CODE:
            if not self.pre:
                self.code += 1
                self.frames.append(("code", len(self.out)))
        elif tag in ("ul", "ol"):
            self.newline()
            self.lists.append(_List(tag == "ol"))
        elif tag == "li":
            self._item()
        elif tag == "table":
            self.newline()
            self.tables.append(_Table())
        elif tag == "tr" and self.tables:
            self._end_row()
            self.tables[-1].row = []
        elif tag in ("td", "th") and self.tables:
            table = self.tables[-1]
            self._end_cell()
            if table.row is None:
                table.row = []
            table.cell_start = len(self.out)
            self.last = "\n"
        elif tag == "tr":
            self.newline()
        elif tag in ("td", "th"):
            self.write(" ")

    def end(self, tag: str) -> None:
        if tag == "p":
            self.paragraph()
        elif tag in _BLOCK:
            self.newline()
        elif tag in _HEADINGS:
            self._close("bold")
            self.paragraph()
        elif tag in _BOLD:
            self._close("bold")
        elif tag in _ITALIC:
            self._close("italic")
        elif tag == "pre":
            self._close("pre")
        elif tag in _CODE:
            self._close("code")
        elif tag in ("ul", "ol"):
            if self.lists:
                self.lists.pop()
            self.newline()
        elif tag == "li":
            self.newline()
        elif tag == "table" and self.tables:
            self._end_table()
        elif tag == "tr" and self.tables:
            self._end_row()
        elif tag in ("td", "th") and self.tables:
            self._end_cell()

    def _item(self) -> None:
        self.newline()
        if self.lists:
            current = self.lists[-1]
            current.number += 1
            marker = f"{current.number}. " if current.ordered else "- "
            self.write("  " * (len(self.lists) - 1) + marker)
        else:
            self.write("- ")

    # ---------------------------------------------------------------- frames

    def _open(self, kind: str) -> None:
        if kind == "bold":
            self.bold += 1
            if self.bold > 1:
                return
        elif kind == "italic":
            self.italic += 1
            if self.italic > 1:
                return
        self.frames.append((kind, len(self.out)))

    def _close(self, kind: str) -> None:
        if kind == "bold":
            if not self.bold:
                return
            self.bold -= 1
            if self.bold:
                return
        elif kind == "italic":
            if not self.italic:
                return
            self.italic -= 1
            if self.italic:
                return
        if not any(k == kind for k, _ in self.frames):
            return
        while self.frames:
            open_kind, start = self.frames.pop()
            if open_kind != kind:  # closed by an outer tag: close it too
                self._finish_frame(open_kind, start)
                if open_kind == "bold":
                    self.bold = 0
                elif open_kind == "italic":
                    self.italic = 0
                continue
            self._finish_frame(kind, start)
            return

    def _finish_frame(self, kind: str, start: int) -> None:
        if kind == "pre":
            self.pre -= 1
            body = self.take(start).strip("\n")
            if body.strip():
                fence = "~~~" if "```" in body else "```"
                self.newline()
                self.write(f"{fence}\n{body}\n{fence}")
                self.newline()
            return
        if kind == "code":
            self.code -= 1
            body = self.take(start)
            self._code_span(body)
            return
        inner = self.take(start)
        if self.code or self.pre:
            self.write(inner)
            return
        self.write(_wrap(inner, "**" if kind == "bold" else "*"))

    def _code_span(self, body: str) -> None:
        if "\n" in body.strip("\n") and not self._in_cell():
            fence = "~~~" if "```" in body else "```"
            self.newline()
            self.write(f"{fence}\n{body.strip(chr(10))}\n{fence}")
            self.newline()
            return
        body = body.replace("\n", " ")
        core = body.strip()
        if not core:
            self.write(body if self.last not in " \n" else "")
            return
        lead = body[: len(body) - len(body.lstrip())]
        trail = body[len(body.rstrip()) :]
        if "`" in core:
            self.write(lead + escape_markdown(core) + trail)
        else:
            self.write(f"{lead}`{core}`{trail}")

    # ---------------------------------------------------------------- tables

    def _end_cell(self) -> None:
        table = self.tables[-1]
        if table.cell_start is None:
            return
        cell = self.take(table.cell_start)
        table.cell_start = None
        cell = _SPACE.sub(" ", cell).strip().replace("|", "\\|")
        if table.row is None:
            table.row = []
        table.row.append(cell)

    def _end_row(self) -> None:
        table = self.tables[-1]
        self._end_cell()
        if table.row is not None:
            if any(table.row):
                table.rows.append(table.row)
            table.row = None

    def _end_table(self) -> None:
        self._end_row()
        table = self.tables.pop()
        rows = table.rows
        if not rows:
            return
        width = max(len(r) for r in rows)
        self.newline()
        if len(rows) >= 2 and width >= 2:
            padded = [r + [""] * (width - len(r)) for r in rows]
            lines = ["| " + " | ".join(padded[0]) + " |", "|" + "---|" * width]
            lines.extend("| " + " | ".join(r) + " |" for r in padded[1:])
            if self.tables:  # a table in a cell: its cells in a row
                self.write(" ".join(" ".join(r) for r in padded))
                return
            self.paragraph()
            self.write("\n".join(lines))
            self.paragraph()
        else:
            self.write(("\n" if not self.tables else " ").join(" ".join(r) for r in rows))
            self.newline()

    def close(self) -> str:
        while self.frames:
            kind, _ = self.frames[-1]
            if kind == "bold":
                self.bold = 1
            elif kind == "italic":
                self.italic = 1
            self._close(kind)
        while self.tables:
            self._end_table()
        return "".join(self.out)


_WRAP_EDGES: Final = re.compile(rf"^([\s{_IMAGE_MARKS}]*)(.*?)([\s{_IMAGE_MARKS}]*)$", re.S)


def _wrap(inner: str, marker: str) -> str:
    """``inner`` emphasised line by line, the markers inside its whitespace and images
    (``** bold **`` is not bold in markdown; an image is no emphasis)."""
    out: list[str] = []
    for line in inner.split("\n"):
        m = _WRAP_EDGES.match(line)
        assert m is not None
        lead, core, trail = m.groups()
        if not core or core.startswith("*") or core.endswith("*"):
            out.append(line)
        else:
            out.append(f"{lead}{marker}{core}{marker}{trail}")
    return "\n".join(out)


def convert(value: str) -> Converted:
    """HTML as markdown, images marked (see the module docs). Never raises: malformed
    HTML is read as a browser would read most of it (unclosed tags closed at the end,
    stray closing tags ignored, a ``<`` that starts no tag kept as text)."""
    if "<" not in value and "&" not in value and "\\" not in value and "[" not in value:
        return _convert_text(value)
    if value and max(value) >= "\U000f0000":
        value = _PRIVATE.sub("", value)
    sounds = 0
    if "ound:" in value or "OUND:" in value or "nki:tts" in value:
        value, sounds = _SOUND.subn("", value)
    formulas: list[_Formula] = []
    if "\\(" in value or "\\[" in value or "[$" in value or "atex]" in value or "ATEX]" in value:
        value = _extract_formulas(value, formulas)
    if "<" in value and _DROPPED_OPEN.search(value) is not None:
        value = _DROPPED_CONTENT.sub("", value)
    writer = _Writer(formulas)
    text, start, end = writer.text, writer.start, writer.end
    for chars, _, slash, tag, attrs, lone in _TOKEN.findall(value):
        if chars or lone:
            text(chars or lone)
        elif tag:
            tag = tag.lower()
            if slash:
                end(tag)
            else:
                start(tag, attrs)
                if attrs.endswith("/") and tag not in _VOID:
                    end(tag)
    return Converted(writer.close(), tuple(writer.images), sounds)


def _convert_text(value: str) -> Converted:
    """:func:`convert` of a value with no tag, entity, formula or sound: its text alone."""
    text = _SPACE.sub(" ", _PRIVATE.sub("", value)).strip()
    if not text:
        return Converted("", (), 0)
    escaped = escape_markdown(text)
    return Converted("\\" + escaped if escaped[0] in "#>" else escaped, (), 0)


# --------------------------------------------------------------------------- after


def resolve_images(text: str, replace: Callable[[int], str]) -> str:
    """Each image mark in ``text`` replaced by ``replace(i)``; a mark that becomes nothing
    takes one of the spaces around it with it."""

    def one(m: re.Match[str]) -> str:
        shown = replace(ord(m.group(2)) - IMAGE_MARK)
        if shown:
            return m.group(1) + shown + m.group(3)
        return " " if m.group(1) and m.group(3) else ""

    return re.sub(rf"( ?)([{_IMAGE_MARKS}])( ?)", one, text)


_BLOCK_LINE: Final = re.compile(r"^\s*([-*+•]\s|\d+[.)]\s|>|\||#|\$\$|```|~~~)")


def finish(text: str) -> str:
    """Tidy converted markdown: lines right-stripped, runs of blank lines made one, none
    at the start or end, and a line break inside a paragraph made a hard break (two
    trailing spaces) so that a chat joining a paragraph's lines keeps it."""
    if "\n" not in text:
        return text.rstrip()
    lines = [line.rstrip() for line in text.split("\n")]
    kept: list[str] = []
    for line in lines:
        if not line and (not kept or not kept[-1]):
            continue
        kept.append(line)
    while kept and not kept[-1]:
        kept.pop()
    if not kept:
        return ""
    joined = "\n".join(kept)
    in_code = fence_flags(kept) if "```" in joined or "~~~" in joined else [False] * len(kept)
    in_table: set[int] = set()
    if "|" in joined:
        for start, stop in table_blocks(joined):
            in_table.update(range(start, stop))
    out: list[str] = []
    for i, line in enumerate(kept):
        nxt = kept[i + 1] if i + 1 < len(kept) else ""
        if (
            line
            and nxt
            and not in_code[i]
            and not in_code[i + 1]
            and i not in in_table
            and i + 1 not in in_table
            and not line.lstrip().startswith("$$")
            and not _BLOCK_LINE.match(nxt)
        ):
            line += "  "
        out.append(line)
    return "\n".join(out)


_TITLE_MATH: Final = re.compile(
    r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(?![\s$])([^$\n]+?)(?<![\s\\])\$(?!\d)"
)
_TITLE_MARKUP: Final = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|$<>~])|\*+|`")
_TITLE_LEAD: Final = re.compile(r"^\s*(?:[-*+•]\s+|\d+[.)]\s+|#+\s+|>\s*)")


def plain_line(line: str, limit: int = 80) -> str:
    """A line of our markdown as plain text of at most ``limit`` characters: formulas as
    Unicode, escapes and emphasis and code markers dropped, cut with ``…``."""
    line = _TITLE_LEAD.sub("", line.strip())
    parts: list[str] = []
    pos = 0
    for m in _TITLE_MATH.finditer(line):
        parts.append(_TITLE_MARKUP.sub(lambda t: t.group(1) or "", line[pos : m.start()]))
        parts.append(formula_fallback(m.group(1) if m.group(1) is not None else m.group(2)))
        pos = m.end()
    parts.append(_TITLE_MARKUP.sub(lambda t: t.group(1) or "", line[pos:]))
    text = _SPACE.sub(" ", "".join(parts)).strip()
    if len(text) > limit:
        text = text[: limit - 1].rstrip() + "…"
    return text
