"""Core markdown as Telegram *rich* HTML (Bot API 10.1 ``sendRichMessage``): pure functions.

What the rich HTML subset offers and this module uses (sources in
:mod:`bot.platforms.telegram.rich`): blocks ``<p>``, ``<ul>``/``<ol>``/``<li>``,
``<blockquote>``, ``<pre><code class="language-…">``, ``<h3>``, ``<table>`` with
``<tr>``/``<th>``/``<td>``, ``<details>``/``<summary>`` and ``<tg-math-block>``;
inline ``<b>``, ``<i>``, ``<code>`` and ``<tg-math>``. Only ``&``, ``<`` and ``>`` need
escaping. A message holds at most :data:`RICH_LIMIT` characters of text, formula
sources included.

:func:`to_rich_html` converts markdown as the decks write it: ``$...$`` becomes
``<tg-math>`` and a line that is only ``$$...$$`` a ``<tg-math-block>`` (the LaTeX
source, escaped, for Telegram to typeset), tables become ``<table>``, each other line a
paragraph (a card's lines are already unwrapped), lists and quotes their blocks.
Every character of card text is escaped. :func:`reply_rich_html` lays out a whole
reply with its card: a formula image of the shown side becomes a ``<tg-math-block>``
in place of the picture, notes fold into ``<details>``. It answers None for a reply
that is no card, has another picture (a diagram or plot goes as today) or would not
fit, so the caller sends today's text.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Final

from bot.core.messages import CardView, Reply
from bot.platforms.telegram.formatting import (
    _ESCAPE,
    _GIVEN_BACK,
    _HELD,
    _INLINE_CODE,
    _balanced,
    _code_block,
    _inline,
    _segments,
    unwrap,
)
from bot.text.markdown import parse_table, table_blocks
from bot.text.split import utf16_len

__all__ = [
    "RICH_LIMIT",
    "carries_media",
    "reply_rich_html",
    "rich_inline",
    "rich_length",
    "richable",
    "to_rich_html",
]

#: Telegram: characters of text in one rich message, formula sources included.
RICH_LIMIT: Final = 32_768
#: Same delimiters as :func:`bot.text.latex.math_fallback`: ``$$..$$`` or ``$..$`` (not
#: ``$5 and $6``: no space inside the dollars, no digit right after the closing one).
_MATH: Final = re.compile(
    r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(?![\s$])([^$\n]+?)(?<![\s\\])\$(?!\d)"
)
_DISPLAY_LINE: Final = re.compile(r"^\s*(?<!\\)\$\$(.+?)(?<!\\)\$\$\s*$")
_BULLET: Final = re.compile(r"^\s*[-*+•]\s+(.*)$")
_NUMBERED: Final = re.compile(r"^\s*\d+[.)]\s+(.*)$")
_QUOTE: Final = re.compile(r"^\s*>\s?(.*)$")
_HEADING: Final = re.compile(r"^\s{0,3}#{1,6}\s+(.*?)\s*#*\s*$")
#: A formula held out of the text while emphasis and escapes are read (private use).
_SLOT_OPEN: Final = "\ue100"
_SLOT_CLOSE: Final = "\ue101"
_SLOT: Final = re.compile(f"{_SLOT_OPEN}(\\d+){_SLOT_CLOSE}")
_TAGS: Final = re.compile(r"<[^>]*>")


def _math(latex: str, *, block: bool = False) -> str:
    tag = "tg-math-block" if block else "tg-math"
    return f"<{tag}>{html.escape(latex.strip(), quote=False)}</{tag}>"


def rich_inline(text: str) -> str:
    """One line of markdown as rich inline HTML: formulas as ``<tg-math>``, **bold**,
    *italic*, `code`; everything else escaped (an odd emphasis is left as text)."""
    formulas: list[str] = []

    def hold(match: re.Match[str]) -> str:
        formulas.append(match.group(1) if match.group(1) is not None else match.group(2))
        return f"{_SLOT_OPEN}{len(formulas) - 1}{_SLOT_CLOSE}"

    # Formulas outside `code` are held out first: their backslashes are LaTeX, not escapes.
    pieces = _INLINE_CODE.split(text)
    held = "".join(p if i % 2 else _MATH.sub(hold, p) for i, p in enumerate(pieces))
    block = _ESCAPE.sub(lambda m: _HELD[m.group(1)], held)
    converted = _inline(block)
    if not _balanced(converted):
        converted = html.escape(block, quote=False)
    converted = converted.translate(_GIVEN_BACK)
    return _SLOT.sub(lambda m: _math(formulas[int(m.group(1))]), converted)


def _table(lines: list[str]) -> str:
    table = parse_table(lines)
    head = "".join(f"<th>{rich_inline(c)}</th>" for c in table.header)
    rows = "".join(
        "<tr>" + "".join(f"<td>{rich_inline(c)}</td>" for c in row) + "</tr>" for row in table.rows
    )
    return f"<table><tr>{head}</tr>{rows}</table>"


def _prose(lines: list[str]) -> list[str]:
    """Blocks of lines outside code and tables."""
    out: list[str] = []
    items: list[str] = []
    kind = ""  # the open list or quote: "ul", "ol", "blockquote" or ""

    def close() -> None:
        nonlocal kind
        if kind == "blockquote":
            out.append("<blockquote>" + "".join(f"<p>{i}</p>" for i in items) + "</blockquote>")
        elif kind:
            out.append(f"<{kind}>" + "".join(f"<li>{i}</li>" for i in items) + f"</{kind}>")
        items.clear()
        kind = ""

    for line in lines:
        if not line.strip():
            close()
            continue
        display = _DISPLAY_LINE.match(line)
        if display:
            close()
            out.append(_math(display.group(1), block=True))
            continue
        for name, pattern in (("ul", _BULLET), ("ol", _NUMBERED), ("blockquote", _QUOTE)):
            m = pattern.match(line)
            if m:
                if kind != name:
                    close()
                    kind = name
                items.append(rich_inline(m.group(1)))
                break
        else:
            close()
            heading = _HEADING.match(line)
            if heading:
                out.append(f"<h3>{rich_inline(heading.group(1))}</h3>")
            else:
                out.append(f"<p>{rich_inline(line.strip())}</p>")
    close()
    return out


def to_rich_html(markdown: str) -> str:
    """Rich HTML for core markdown (see the module docstring); "" for blank text."""
    blocks: list[str] = []
    for is_code, lines in _segments(markdown):
        if is_code:
            blocks.append(_code_block(lines))
            continue
        text = "\n".join(lines)
        pos = 0
        for start, end in table_blocks(text):
            blocks.extend(_prose(lines[pos:start]))
            blocks.append(_table(lines[start:end]))
            pos = end
        blocks.extend(_prose(lines[pos:]))
    return "".join(b for b in blocks if b)


def rich_length(rich_html: str) -> int:
    """The length of a rich message's text (formula sources included), in UTF-16 units as
    Telegram counts its other limits: never less than its characters, so a text that
    fits counted either way (the documentation does not say which) is never refused."""
    return utf16_len(html.unescape(_TAGS.sub("", rich_html)))


def carries_media(reply: Reply) -> bool:
    """Whether a reply comes with a figure, a photo (held by Telegram or stored) or a
    file: a rich message holds none of them."""
    return bool(
        reply.figure is not None
        or reply.photo_ref
        or reply.photo is not None
        or reply.attachment is not None
    )


def richable(reply: Reply) -> bool:
    """Whether a reply goes as one rich message: a card, with no picture but a formula
    (which the message typesets), and no figure, photo or file."""
    card = reply.card
    if card is None or carries_media(reply):
        return False
    return card.image is None or card.image.kind == "formula"


def reply_rich_html(reply: Reply, *, text: bool = False) -> str | None:
    """The reply as one rich message, or None when it is not :func:`richable` or would
    not fit in :data:`RICH_LIMIT` characters (then today's text goes).

    ``text``: a reply without a card (a session's end, a notice) goes too, when it has
    no figure, photo or file (for a tapped rich message edited into it)."""
    if reply.card is None and text:
        body = "" if carries_media(reply) else to_rich_html(reply.text.strip("\n"))
    elif richable(reply) and reply.card is not None:
        body = _reply_html(reply.text, reply.card)
    else:
        return None
    return body if 0 < rich_length(body) <= RICH_LIMIT else None


@lru_cache(maxsize=2048)
def _reply_html(text: str, card: CardView) -> str:
    parts: list[str] = []
    if text.strip():
        parts.append(to_rich_html(text.strip("\n")))
    parts.append(f"<p><b>{rich_inline(card.title)}</b> · <i>{rich_inline(card.deck_title)}</i></p>")
    image = card.image
    formula = _math(image.spec, block=True) if image is not None else ""
    if card.back is None:
        parts.append(formula)
    parts.append(to_rich_html(unwrap(card.front)))
    if card.back is not None:
        if card.typed_answer:
            parts.append("<p><b>Your answer</b></p>" + to_rich_html(card.typed_answer))
        parts.append("<p><b>Answer</b></p>" + formula + to_rich_html(unwrap(card.back)))
        if card.mnemonic:
            parts.append(f"<p><b>Mnemonic:</b> {rich_inline(' '.join(card.mnemonic.split()))}</p>")
        if card.notes and card.notes.strip():
            notes = to_rich_html(unwrap(card.notes))
            parts.append(f"<details><summary>Notes</summary>{notes}</details>")
    return "".join(parts)
