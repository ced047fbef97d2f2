"""Core replies as Telegram HTML: escaping, light markdown, math and tables, splitting.

Pure functions (no network): a :class:`~bot.core.messages.Reply` becomes one
markdown text (:func:`reply_markdown`), which is prepared once (tables as aligned
monospace, ``$...$`` as Unicode: :func:`prepare`), split under Telegram's limits
counted in UTF-16 units (:func:`split_html`) and converted piece by piece to the
small HTML subset Telegram accepts (:func:`to_html`). Every character of card
text is escaped, so ``<``, ``>`` and ``&`` in a card never break a message.
"""

from __future__ import annotations

import html
import re
from functools import lru_cache
from typing import Final
from urllib.parse import quote

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, WebAppInfo

from bot.core.actions import MAX_PAYLOAD_BYTES
from bot.core.messages import CardView, Reply
from bot.text.latex import image_alt_text, math_fallback
from bot.text.markdown import table_blocks, table_to_monospace
from bot.text.split import split_message, utf16_len

__all__ = [
    "OPEN_WORKSPACE",
    "TELEGRAM_CAPTION",
    "TELEGRAM_MESSAGE",
    "card_markdown",
    "keyboard",
    "prepare",
    "reply_markdown",
    "split_html",
    "to_html",
    "unwrap",
    "workspace_url",
]

#: Telegram: characters in one text message (after entity parsing).
TELEGRAM_MESSAGE: Final = 4096
#: Telegram: characters in a photo's caption.
TELEGRAM_CAPTION: Final = 1024
#: The label of the Mini App button of a reply that offers the browser workspace.
OPEN_WORKSPACE: Final = "Open workspace"

_FENCE: Final = re.compile(r"^\s{0,3}(```+|~~~+)(.*)$")
_INLINE_CODE: Final = re.compile(r"(`[^`\n]+`)")
#: A backslash escape of our markdown (the ones ``bot.text.terminal`` reads): the
#: character stands for itself and the backslash is not shown. Held as a private-use
#: character while emphasis and code are read, then given back.
_ESCAPE: Final = re.compile(r"\\([\\`*_{}\[\]()#+\-.!|$<>~])")
_HELD: Final = {c: chr(0xE000 + i) for i, c in enumerate("\\`*_{}[]()#+-.!|$<>~")}
#: Back into converted HTML: an escaped ``<`` or ``>`` as text, never a tag.
_GIVEN_BACK: Final = str.maketrans({v: html.escape(k, quote=False) for k, v in _HELD.items()})
_KEPT_IN_CODE: Final = str.maketrans({v: "\\" + k for k, v in _HELD.items()})
_BOLD: Final = re.compile(r"\*\*(?=\S)(.+?)(?<=\S)\*\*|__(?=\S)(.+?)(?<=\S)__")
_ITALIC: Final = re.compile(r"(?<![\w*])\*(?=[^\s*])(.+?)(?<=[^\s*])\*(?![\w*])")
_TAG: Final = re.compile(r"<(/?)([a-z]+)[^>]*>")
_BLOCK_LINE: Final = re.compile(r"^\s*([-*+•]\s|\d+[.)]\s|>|\||#|\$\$)")
#: A ``$$`` display block spread over lines: each ``$$`` alone on its line.
_DISPLAY_MATH: Final = re.compile(
    r"^([ \t]*)\$\$[ \t]*\n(.+?)\n[ \t]*\$\$[ \t]*$", re.DOTALL | re.MULTILINE
)


def _segments(text: str) -> list[tuple[bool, list[str]]]:
    """Group lines into runs of (is fenced code, lines); fence lines belong to the code run."""
    runs: list[tuple[bool, list[str]]] = []
    fence: str | None = None
    for line in text.split("\n"):
        m = _FENCE.match(line)
        if fence is None and m is not None:
            fence = m.group(1)[:3]
            runs.append((True, [line]))
            continue
        if fence is not None:
            runs[-1][1].append(line)
            if m is not None and m.group(1).startswith(fence) and not m.group(2).strip():
                fence = None
            continue
        if runs and not runs[-1][0]:
            runs[-1][1].append(line)
        else:
            runs.append((False, [line]))
    return runs


def unwrap(markdown: str) -> str:
    """Join hard-wrapped lines of a paragraph, as markdown renders them (one line in a chat).

    Code blocks, tables, list items, quotes, headings, ``$$`` display math and
    lines ending in a hard break (two spaces) keep their line breaks.
    """
    markdown = _DISPLAY_MATH.sub(
        lambda m: m.group(1) + "$$" + " ".join(m.group(2).split()) + "$$", markdown
    )
    keep: set[int] = set()
    for start, end in table_blocks(markdown):
        keep.update(range(start, end))
    out: list[str] = []
    open_prose = False  # the last line is prose that the next line may continue
    index = 0
    for is_code, lines in _segments(markdown):
        for line in lines:
            prose = not is_code and index not in keep
            if prose and open_prose and line.strip() and not _BLOCK_LINE.match(line):
                out[-1] = f"{out[-1].rstrip()} {line.strip()}"
            else:
                out.append(line)
            last = out[-1]
            open_prose = (
                prose
                and bool(last.strip())
                and not last.endswith("  ")
                and not last.rstrip().endswith("$$")
            )
            index += 1
    return "\n".join(line.rstrip() for line in out)


def prepare(markdown: str) -> str:
    """Tables become aligned monospace code blocks; ``$...$`` math outside code becomes Unicode.

    Both only shorten or keep the visible text, so splitting after this step is exact.
    """
    text = table_to_monospace(markdown)
    out: list[str] = []
    for is_code, lines in _segments(text):
        block = "\n".join(lines)
        out.append(block if is_code else math_fallback(block))
    return "\n".join(out)


def _emphasis(escaped: str) -> str:
    text = _BOLD.sub(lambda m: f"<b>{m.group(1) or m.group(2)}</b>", escaped)
    return _ITALIC.sub(r"<i>\1</i>", text)


def _inline(text: str) -> str:
    parts: list[str] = []
    for piece in _INLINE_CODE.split(text):
        if len(piece) >= 2 and piece.startswith("`") and piece.endswith("`"):
            code = piece[1:-1].translate(_KEPT_IN_CODE)  # code is literal: its backslashes stay
            parts.append(f"<code>{html.escape(code, quote=False)}</code>")
        else:
            parts.append(_emphasis(html.escape(piece, quote=False)))
    return "".join(parts)


def _balanced(markup: str) -> bool:
    stack: list[str] = []
    for m in _TAG.finditer(markup):
        closing, name = m.group(1), m.group(2)
        if not closing:
            stack.append(name)
        elif not stack or stack.pop() != name:
            return False
    return not stack


def _code_block(lines: list[str]) -> str:
    first = _FENCE.match(lines[0])
    language = first.group(2).strip().split(" ")[0] if first else ""
    body = lines[1:]
    if len(body) >= 1 and _FENCE.match(body[-1]) and not body[-1].strip().strip("`~"):
        body = body[:-1]
    code = html.escape("\n".join(body), quote=False)
    if re.fullmatch(r"[A-Za-z0-9_+-]{1,32}", language):
        return f'<pre><code class="language-{language}">{code}</code></pre>'
    return f"<pre>{code}</pre>"


def to_html(markdown: str) -> str:
    """Telegram HTML for prepared markdown: everything escaped; **bold**, *italic*,
    `code` and fenced blocks (as ``<pre>``) converted. Nothing else is interpreted.

    If the emphasis markers in a paragraph overlap oddly, that paragraph is sent
    escaped but without emphasis rather than as broken HTML.
    """
    out: list[str] = []
    for is_code, lines in _segments(markdown):
        if is_code:
            out.append(_code_block(lines))
            continue
        block = _ESCAPE.sub(lambda m: _HELD[m.group(1)], "\n".join(lines))
        converted = _inline(block)
        if not _balanced(converted):
            converted = html.escape(block, quote=False)
        out.append(converted.translate(_GIVEN_BACK))
    return "\n".join(out)


#: Converted texts kept (a card's front or back with the reply around it, a few kB
#: each). The text itself is the key, so a card whose content changed is converted anew.
CONVERTED_CACHE: Final = 2048


def split_html(markdown: str, first_limit: int, limit: int = TELEGRAM_MESSAGE) -> list[str]:
    """Prepare, split and convert ``markdown`` into HTML messages.

    The first piece holds at most ``first_limit`` visible characters (a photo
    caption's 1024), the others at most ``limit``; Telegram counts UTF-16 units
    after parsing the HTML, which never exceeds the prepared markdown's length.
    Returns ``[]`` for blank text.

    Every learner sees the same cards: a text is converted once and then taken from
    a cache (:data:`CONVERTED_CACHE` texts, least recently used dropped).
    """
    return list(_split_html(markdown, first_limit, limit))


@lru_cache(maxsize=CONVERTED_CACHE)
def _split_html(markdown: str, first_limit: int, limit: int) -> tuple[str, ...]:
    text = prepare(markdown)
    pieces = split_message(text, first_limit, length=utf16_len)
    if len(pieces) > 1 and limit != first_limit:
        rest = "\n\n".join(pieces[1:])
        pieces = [pieces[0], *split_message(rest, limit, length=utf16_len)]
    html_pieces = [to_html(p) for p in pieces]
    # A later piece that is markup only (a code block emptied by the split: "<pre></pre>")
    # would be refused by Telegram ("message text is empty"): it is left out. The first
    # keeps its place, since it may be a photo's caption.
    return tuple(h for i, h in enumerate(html_pieces) if i == 0 or _visible(h))


def _visible(html_text: str) -> bool:
    """Whether HTML shows any text once its tags are gone."""
    return bool(html.unescape(re.sub(r"<[^>]*>", "", html_text)).strip())


def card_markdown(card: CardView, *, image_shown: bool) -> str:
    """A card as markdown: title and deck, front, then the back; the text of the shown
    side's image goes with its side (above the front, or above the answer) when no photo
    shows it.

    Cached by the view itself (its content, not its id): a card edited in its deck
    file makes a new view, converted anew."""
    return _card_markdown(card, image_shown)


@lru_cache(maxsize=CONVERTED_CACHE)
def _card_markdown(card: CardView, image_shown: bool) -> str:
    alt = "" if image_shown else _image_text(card)
    parts = [f"**{card.title}** · *{card.deck_title}*"]
    if card.back is None and alt:
        parts.append(alt)
    parts.append(unwrap(card.front))
    if card.back is not None:
        if card.typed_answer:
            parts.append(f"**Your answer**\n{card.typed_answer}")
        answer = f"**Answer**\n{alt}\n\n" if alt else "**Answer**\n"
        parts.append(answer + unwrap(card.back))
        if card.mnemonic:
            parts.append(f"**Mnemonic:** {unwrap(card.mnemonic)}")
        if card.notes:
            parts.append(f"**Notes**\n{unwrap(card.notes)}")
    return "\n\n".join(p.strip("\n") for p in parts if p.strip())


def _image_text(card: CardView) -> str:
    """The text that stands in for the shown side's image ("" without one)."""
    image = card.image
    if image is None:
        return ""
    alt = image_alt_text(image.kind, image.spec)
    code = image.kind in ("shape", "media")  # an imported file's name is no markdown
    return f"`{alt}`" if alt and code and "`" not in alt else alt


def reply_markdown(reply: Reply, *, image_shown: bool = False) -> str:
    """The whole reply (its text, then its card) as one markdown text."""
    parts: list[str] = []
    if reply.text.strip():
        parts.append(reply.text.strip("\n"))
    if reply.card is not None:
        parts.append(card_markdown(reply.card, image_shown=image_shown))
    return "\n\n".join(parts)


def workspace_url(base: str | None, reply: Reply, chat_id: int) -> str | None:
    """The address of the browser workspace ``reply`` offers (:attr:`Reply.workspace`)
    in chat ``chat_id``: ``{base}/app?open=<purpose>``; None when ``[web]`` is off
    (``base`` None), the reply offers none, or the chat is not a private chat (Telegram
    takes ``web_app`` buttons in private chats only; their ids are positive, those of
    groups and channels negative)."""
    if not base or reply.workspace is None or chat_id <= 0:
        return None
    return f"{base.rstrip('/')}/app?open={quote(reply.workspace, safe='')}"


def keyboard(reply: Reply, workspace: str | None = None) -> InlineKeyboardMarkup | None:
    """The reply's buttons as an inline keyboard (callback data = the core's payload),
    and with ``workspace`` (:func:`workspace_url`) one more row: the Mini App button
    :data:`OPEN_WORKSPACE` opening that address."""
    rows = [
        [
            InlineKeyboardButton(b.label, callback_data=b.payload)
            for b in row
            if 0 < len(b.payload.encode()) <= MAX_PAYLOAD_BYTES
        ]
        for row in reply.buttons
    ]
    rows = [row for row in rows if row]
    if workspace is not None:
        rows.append([InlineKeyboardButton(OPEN_WORKSPACE, web_app=WebAppInfo(workspace))])
    return InlineKeyboardMarkup(rows) if rows else None
