"""The renderer port and the pure text helpers around images.

The core and the platform adapters talk to the image renderer only through
:class:`Renderer`; the matplotlib implementation lives in ``bot/render``.
The helpers here need no plotting library: a Unicode fallback for formulas
(:func:`formula_fallback`), message splitting under platform limits
(:func:`split_message`), and the decision whether a card back needs an image
(:func:`needs_image`) or can be shown as aligned monospace
(:func:`table_to_monospace`).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Final, Protocol

from bot.core.messages import HeatMap
from bot.core.stats import StudyStats

__all__ = [
    "DISCORD_EMBED",
    "DISCORD_MESSAGE",
    "TELEGRAM_CAPTION",
    "TELEGRAM_MESSAGE",
    "WIDE_CODE_LINE",
    "MarkdownTable",
    "RenderError",
    "RenderedImage",
    "Renderer",
    "fence_flags",
    "formula_fallback",
    "image_alt_text",
    "math_fallback",
    "needs_image",
    "parse_table",
    "split_message",
    "table_blocks",
    "table_to_monospace",
    "utf16_len",
]

#: Telegram: characters in one text message (after entity parsing).
TELEGRAM_MESSAGE: Final = 4096
#: Telegram: characters in a photo's caption.
TELEGRAM_CAPTION: Final = 1024
#: Discord: characters in one message's content.
DISCORD_MESSAGE: Final = 2000
#: Discord: characters in an embed description.
DISCORD_EMBED: Final = 4096
#: A code line longer than this does not fit a phone's chat bubble.
WIDE_CODE_LINE: Final = 60


class RenderError(Exception):
    """An image could not be drawn; the message says why in one line."""


@dataclass(frozen=True, slots=True)
class RenderedImage:
    """A rendered PNG.

    Attributes:
        data: the PNG bytes.
        width: width in pixels.
        height: height in pixels.
        key: the content hash it is cached under (same input, same key).
    """

    data: bytes
    width: int
    height: int
    key: str
    media_type: str = "image/png"

    @property
    def filename(self) -> str:
        """A file name for uploads, stable for the same content."""
        return f"{self.key[:16]}.png"


class Renderer(Protocol):
    """Draws images for cards and /stats (implemented in ``bot/render``).

    Every method is safe to await from the event loop: cold renders run in a
    worker, cached ones return at once.
    """

    async def card_image(self, kind: str | None, spec: str | None) -> RenderedImage | None:
        """The image of a card (``CardView.image_kind`` / ``image_spec``).

        Returns None when the card has no image, or when it cannot be drawn (the
        failure is logged; ``studybot decks check`` reports such specs). Show
        :func:`image_alt_text` instead.
        """
        ...

    async def stats_chart(self, stats: StudyStats, forecast: Sequence[int]) -> RenderedImage:
        """The /stats chart: ``forecast`` is cards due on each of the next days (today first).

        Raises:
            RenderError: when the chart cannot be drawn.
        """
        ...

    async def text_image(self, markdown: str) -> RenderedImage:
        """Markdown with tables or wide code drawn as an image.

        Raises:
            RenderError: when the text cannot be drawn.
        """
        ...

    async def heatmap(self, chart: HeatMap) -> RenderedImage:
        """A heat map of levels (a challenge summary: rubric rows by participants).

        Raises:
            RenderError: when the chart cannot be drawn.
        """
        ...

    async def close(self) -> None:
        """Stop the workers; further calls are not allowed."""
        ...


# --------------------------------------------------------------------------- formulas

_GREEK: Final = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "theta": "θ",
    "vartheta": "ϑ",
    "iota": "ι",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "xi": "ξ",
    "pi": "π",
    "rho": "ρ",
    "sigma": "σ",
    "tau": "τ",
    "upsilon": "υ",
    "phi": "φ",
    "varphi": "φ",
    "chi": "χ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Xi": "Ξ",
    "Pi": "Π",
    "Sigma": "Σ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
}

_SYMBOLS: Final = {
    "cdot": "·",
    "times": "×",
    "odot": "⊙",
    "otimes": "⊗",
    "oplus": "⊕",
    "div": "÷",
    "pm": "±",
    "mp": "∓",
    "sum": "Σ",
    "prod": "Π",
    "int": "∫",
    "partial": "∂",
    "nabla": "∇",
    "infty": "∞",
    "geq": "≥",
    "ge": "≥",
    "leq": "≤",
    "le": "≤",
    "neq": "≠",
    "ne": "≠",
    "approx": "≈",
    "sim": "∼",
    "propto": "∝",
    "equiv": "≡",
    "in": "∈",
    "notin": "∉",
    "subset": "⊂",
    "to": "→",
    "rightarrow": "→",
    "leftarrow": "←",
    "Rightarrow": "⇒",
    "mapsto": "↦",
    "ldots": "…",
    "dots": "…",
    "cdots": "⋯",
    "vdots": "⋮",
    "top": "ᵀ",
    "|": "‖",
    "lVert": "‖",
    "rVert": "‖",
    "Vert": "‖",
    "vert": "|",
    "lvert": "|",
    "rvert": "|",
    "langle": "⟨",
    "rangle": "⟩",
    "{": "{",
    "}": "}",
    "_": "_",
    "%": "%",
    "$": "$",
    "&": "&",
    "#": "#",
    ",": " ",
    ";": " ",
    ":": " ",
    "!": "",
    " ": " ",
    "quad": "\x01",
    "qquad": "\x01",
    "left": "",
    "right": "",
    "big": "",
    "Big": "",
    "bigg": "",
    "Bigg": "",
    "displaystyle": "",
    "limits": "",
    "nolimits": "",
}

_FUNCTION_NAMES: Final = frozenset(
    [
        "sin",
        "cos",
        "tan",
        "tanh",
        "sinh",
        "cosh",
        "exp",
        "log",
        "ln",
        "max",
        "min",
        "arg",
        "argmax",
        "argmin",
        "det",
        "dim",
        "lim",
        "sup",
        "inf",
        "softmax",
    ]
)

# Commands whose single argument is kept as plain text.
_TEXT_COMMANDS: Final = frozenset(
    [
        "mathrm",
        "mathit",
        "mathbf",
        "mathsf",
        "mathtt",
        "mathcal",
        "text",
        "textrm",
        "textit",
        "textbf",
        "operatorname",
        "boldsymbol",
        "bm",
        "mbox",
        "hat",
        "bar",
        "tilde",
        "vec",
        "overline",
        "underline",
        "widehat",
        "widetilde",
    ]
)

_BLACKBOARD: Final = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼"}

_SUPERSCRIPT: Final = str.maketrans(
    "0123456789+-=()niT",
    "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ",
)
_SUPERSCRIPT_CHARS: Final = frozenset("0123456789+-=()niT")

_OPERATOR_CHARS: Final = frozenset(" +-·=,×/<>≤≥⊙")


class _Latex:
    """A tiny recursive reader of LaTeX math, producing plain Unicode."""

    def __init__(self, source: str) -> None:
        self.s = source
        self.i = 0

    def read(self, stop: str = "") -> str:
        out: list[str] = []
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch in stop:
                break
            if ch == "\\":
                out.append(self._command())
            elif ch == "{":
                self.i += 1
                out.append(self.read("}"))
                self.i += 1
            elif ch == "}":
                self.i += 1  # stray; ignore
            elif ch in "^_":
                self.i += 1
                arg = self._argument()
                out.append(_superscript(arg) if ch == "^" else _subscript(arg))
            elif ch == "~":
                out.append(" ")
                self.i += 1
            else:
                out.append(ch)
                self.i += 1
        return "".join(out)

    def _argument(self) -> str:
        """One argument: a braced group, a command, or a single character."""
        while self.i < len(self.s) and self.s[self.i] == " ":
            self.i += 1
        if self.i >= len(self.s):
            return ""
        ch = self.s[self.i]
        if ch == "{":
            self.i += 1
            text = self.read("}")
            self.i += 1
            return text
        if ch == "\\":
            return self._command()
        self.i += 1
        return ch

    def _command(self) -> str:
        self.i += 1  # the backslash
        m = re.compile(r"[A-Za-z]+").match(self.s, self.i)
        if m is None:
            if self.i >= len(self.s):
                return ""
            ch = self.s[self.i]
            self.i += 1
            return _SYMBOLS.get(ch, ch)
        name = m.group(0)
        self.i = m.end()
        if name == "frac" or name == "dfrac" or name == "tfrac":
            num, den = self._argument(), self._argument()
            return f"{_group(num)}/{_group(den)}"
        if name == "sqrt":
            if self.i < len(self.s) and self.s[self.i] == "[":
                end = self.s.find("]", self.i)
                self.i = end + 1 if end >= 0 else len(self.s)
            return f"√{_group(self._argument())}"
        if name in _TEXT_COMMANDS:
            return self._argument()
        if name in ("mathbb", "mathbbm"):
            arg = self._argument()
            return "".join(_BLACKBOARD.get(c, c) for c in arg)
        if name in _GREEK:
            return _GREEK[name]
        if name in _SYMBOLS:
            return _SYMBOLS[name]
        if name in _FUNCTION_NAMES:
            nxt = self.s[self.i : self.i + 1]
            return f"{name} " if nxt.isalnum() or nxt == "\\" else name
        return name


def _is_simple(text: str) -> bool:
    return not any(c in _OPERATOR_CHARS for c in text.strip())


def _group(text: str) -> str:
    text = text.strip()
    return text if _is_simple(text) else f"({text})"


def _superscript(arg: str) -> str:
    arg = arg.strip()
    if arg and all(c in _SUPERSCRIPT_CHARS for c in arg):
        return arg.translate(_SUPERSCRIPT)
    if len(arg) == 1:
        return f"^{arg}"
    return f"^({arg})"


def _subscript(arg: str) -> str:
    arg = arg.strip()
    if re.fullmatch(r"[A-Za-z0-9α-ω]*", arg):
        return f"_{arg}"
    if arg.startswith("(") and arg.endswith(")") and arg.count("(") == 1:
        return f"_{arg}"
    return f"_({arg})"


def formula_fallback(latex: str) -> str:
    """Plain Unicode for a LaTeX formula, for places that cannot show an image.

    ``\\mathrm{softmax}\\left(\\frac{QK^T}{\\sqrt{d_k}}\\right)V`` becomes
    ``softmax(QKᵀ/√d_k)V``: Greek letters and operators become their symbols,
    ``^T`` and digit powers become superscripts, subscripts stay as ``_k``,
    fractions become ``a/b`` (with parentheses around compound parts) and
    font commands such as ``\\mathrm`` are dropped.
    """
    text = _Latex(latex.strip().strip("$")).read()
    text = re.sub(r"\s+", " ", text)
    return re.sub(r" ?\x01[\x01 ]*", "  ", text).strip()


_INLINE_MATH: Final = re.compile(
    r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(?![\s$])([^$\n]+?)(?<![\s\\])\$(?!\d)"
)


def math_fallback(markdown: str) -> str:
    """Replace every ``$...$`` and ``$$...$$`` in markdown by :func:`formula_fallback`."""
    return _INLINE_MATH.sub(
        lambda m: formula_fallback(m.group(1) if m.group(1) is not None else m.group(2)),
        markdown,
    )


def image_alt_text(kind: str | None, spec: str | None) -> str:
    """What to show instead of a card's image in a text-only place."""
    if not kind or not spec:
        return ""
    if kind == "formula":
        return formula_fallback(spec)
    if kind == "diagram":
        return f"[diagram: the {spec.strip()} architecture]"
    shape, _, options = spec.partition(";")
    shape = re.sub(r"\^T", "ᵀ", shape.strip())
    shape = re.sub(r"sqrt\(([^()]*)\)", r"√\1", shape)
    shape = shape.replace(" @ ", " · ").replace("->", "→")
    return f"{shape}  ({options.strip()})" if options.strip() else shape


# --------------------------------------------------------------------------- markdown

_FENCE: Final = re.compile(r"^\s{0,3}(```+|~~~+)")
_TABLE_SEP: Final = re.compile(r"^\s*\|?\s*:?-{2,}:?\s*(\|\s*:?-{2,}:?\s*)*\|?\s*$")


def fence_flags(lines: Sequence[str]) -> list[bool]:
    """For each line, True when it belongs to a fenced code block (fences included)."""
    flags: list[bool] = []
    fence: str | None = None
    for line in lines:
        m = _FENCE.match(line)
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
            if not _FENCE.match(line) and len(line.rstrip()) > WIDE_CODE_LINE:
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


def _display_width(text: str) -> int:
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


def _monospace(table: MarkdownTable) -> list[str]:
    header = [_plain_cell(c) for c in table.header]
    rows = [[_plain_cell(c) for c in row] for row in table.rows]
    widths = [
        max([_display_width(header[k]), *(_display_width(r[k]) for r in rows)])
        for k in range(len(header))
    ]

    def fit(text: str, k: int) -> str:
        pad = widths[k] - _display_width(text)
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
        out.extend(_monospace(parse_table(lines[start:end])))
        out.append("```")
        pos = end
    out.extend(lines[pos:])
    return "\n".join(out)


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
    fence = _FENCE.match(lines[0]) if lines else None
    opener = closer = ""
    if fence is not None and len(lines) >= 2 and _FENCE.match(lines[-1]):
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
        limit: the platform limit, e.g. :data:`TELEGRAM_MESSAGE`.
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
