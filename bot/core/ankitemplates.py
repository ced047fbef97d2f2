"""Anki card templates drawn as HTML (pure): the part of Anki's template language a
card of ours can show.

:func:`compile_notetype` checks a note type's templates once and keeps them parsed, or
raises :class:`Unmappable` with the reason in plain words; :func:`render` draws one card
of a note: its question (``qfmt``) and its answer (``afmt``, with ``{{FrontSide}}``).

Supported, as Anki draws them:

- ``{{Field}}``; ``{{#Field}}…{{/Field}}`` (shown when the field is not empty: only
  whitespace, ``&nbsp;``, ``<br>`` and ``<div>`` count as empty) and ``{{^Field}}…{{/Field}}``
  (when it is); in a cloze note type ``{{#c2}}`` is "this card is cloze 2".
- Special fields ``{{FrontSide}}``, ``{{Tags}}``, ``{{Deck}}``, ``{{Subdeck}}``,
  ``{{Card}}``, ``{{Type}}`` and ``{{CardFlag}}`` (always empty: flags do not travel).
- Filters, applied right to left as Anki does: ``text:`` (the field's text without its
  HTML), ``cloze:``, ``cloze-only:`` (the current cloze's answers, comma-separated),
  ``hint:`` and ``edit:`` (the field itself: we show a hint's content at once), and
  ``type:`` (``type:nc:`` too): dropped from the question, since our learners reveal the
  answer and grade themselves; on the answer it shows the expected answer.
- Cloze: card ``ord`` n shows cloze number n + 1. On the question ``{{cN::answer::hint}}``
  becomes ``[…]`` (``[hint]`` with a hint) and the other numbers show their answer; on the
  answer the current number's answers are bold. Nested clozes are read as Anki reads them.

Anything else (another filter such as ``furigana:`` or ``tts``, image occlusion, a field
the note type does not have, a section never closed) makes the note type unmappable.
"""

from __future__ import annotations

import html
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from typing import Final

from bot.core.ankifile import NoteType
from bot.core.ankihtml import field_is_empty, plain_text

__all__ = [
    "CLOZE_FRONT",
    "CompiledNoteType",
    "Rendered",
    "Unmappable",
    "cloze_numbers",
    "compile_notetype",
    "render",
]

#: What a cloze deletion without a hint shows on the question.
CLOZE_FRONT: Final = "[…]"

KNOWN_FILTERS: Final = frozenset(("text", "cloze", "cloze-only", "hint", "edit", "type"))
SPECIAL_FIELDS: Final = frozenset(
    ("FrontSide", "Tags", "Deck", "Subdeck", "Card", "Type", "CardFlag")
)

_TAG: Final = re.compile(r"\{\{(.*?)\}\}", re.S)
_CLOZE_NUMBER: Final = re.compile(r"^c(\d+)$")
_CLOZE_TOKEN: Final = re.compile(r"\{\{c(\d+)::|\}\}")


class Unmappable(Exception):
    """A note type we cannot draw; ``str(error)`` says why, in plain words."""


# --------------------------------------------------------------------------- parsing


@dataclass(frozen=True, slots=True)
class _Text:
    text: str


@dataclass(frozen=True, slots=True)
class _Field:
    name: str
    filters: tuple[str, ...]  # as written, left to right


@dataclass(frozen=True, slots=True)
class _Section:
    name: str
    negated: bool
    children: tuple[_Node, ...]


_Node = _Text | _Field | _Section


def _parse(source: str, where: str) -> tuple[_Node, ...]:
    """A template as nodes; raises :class:`Unmappable` for what we cannot read."""
    stack: list[tuple[str, bool, list[_Node]]] = [("", False, [])]
    pos = 0
    for m in _TAG.finditer(source):
        if m.start() > pos:
            stack[-1][2].append(_Text(source[pos : m.start()]))
        pos = m.end()
        key = m.group(1).strip()
        if key[:1] in ("#", "^"):
            stack.append((key[1:].strip(), key[0] == "^", []))
        elif key[:1] == "/":
            name = key[1:].strip()
            if len(stack) == 1 or stack[-1][0] != name:
                raise Unmappable(f"{where} closes '{{{{/{name}}}}}' where no such section is open")
            opened, negated, children = stack.pop()
            stack[-1][2].append(_Section(opened, negated, tuple(children)))
        elif key[:1] in ("=", "!", ">", "&", "{"):
            raise Unmappable(f"{where} uses template syntax '{{{{{key[:12]}' that Anki add-ons add")
        else:
            *filters, name = key.split(":")
            stack[-1][2].append(_Field(name.strip(), tuple(f.strip() for f in filters)))
    if len(stack) > 1:
        raise Unmappable(f"{where} opens a '{{{{#{stack[-1][0]}}}}}' section it never closes")
    if pos < len(source):
        stack[0][2].append(_Text(source[pos:]))
    return tuple(stack[0][2])


def _filter_name(written: str) -> str:
    """A filter's name (``tts en_US voices=...`` is ``tts``)."""
    return written.split(" ", 1)[0].lower() if written else written


def _check(
    nodes: Sequence[_Node], fields: frozenset[str], cloze: bool, where: str, found: set[str]
) -> None:
    """Raise :class:`Unmappable` for a filter or field we cannot draw; add the fields a
    ``cloze:`` filter reads to ``found``."""
    for node in nodes:
        if isinstance(node, _Text):
            continue
        if isinstance(node, _Section):
            if (
                node.name not in fields
                and node.name not in SPECIAL_FIELDS
                and not (cloze and _CLOZE_NUMBER.match(node.name))
            ):
                raise Unmappable(f"{where} names a field '{node.name}' the note type does not have")
            _check(node.children, fields, cloze, where, found)
            continue
        for written in node.filters:
            name = _filter_name(written)
            if name == "nc" and "type" in (_filter_name(f) for f in node.filters):
                continue
            if name == "image-occlusion":
                raise Unmappable("image occlusion cards need their masks drawn over the image")
            if name not in KNOWN_FILTERS:
                shown = written.split(" ", 1)[0]
                if shown.lower().startswith("tts"):
                    raise Unmappable(
                        f"{where} reads text aloud ('{shown}'), which a chat cannot do"
                    )
                raise Unmappable(f"{where} uses the '{shown}' filter, which the bot cannot draw")
        if node.name in SPECIAL_FIELDS:
            continue
        if not node.name:
            raise Unmappable(f"{where} has an empty '{{{{}}}}' field reference")
        if node.name not in fields:
            raise Unmappable(f"{where} names a field '{node.name}' the note type does not have")
        if any(_filter_name(f) in ("cloze", "cloze-only") for f in node.filters):
            found.add(node.name)


@dataclass(frozen=True, slots=True)
class _Template:
    name: str
    front: tuple[_Node, ...]
    back: tuple[_Node, ...]


@dataclass(frozen=True, slots=True)
class CompiledNoteType:
    """A note type whose templates we can draw.

    Attributes:
        cloze_fields: a cloze note type's fields its question reads with ``cloze:``: the
            cloze numbers in them are the note's cards.
    """

    notetype: NoteType
    templates: Mapping[int, _Template]
    field_index: Mapping[str, int]
    cloze_fields: tuple[str, ...]

    @property
    def is_cloze(self) -> bool:
        return self.notetype.kind == "cloze"

    def ordinals(self, fields: Sequence[str]) -> tuple[int, ...]:
        """The card ordinals Anki makes for a note with these field values (before the
        empty-question check): a cloze note's cloze numbers less one; a standard note's
        template ordinals."""
        if self.is_cloze:
            return tuple(n - 1 for n in cloze_numbers(self._cloze_text(fields)))
        return tuple(sorted(self.templates))

    def _cloze_text(self, fields: Sequence[str]) -> str:
        return "\n".join(
            fields[self.field_index[name]]
            for name in self.cloze_fields
            if self.field_index[name] < len(fields)
        )

    def has_cloze(self, fields: Sequence[str], ordinal: int) -> bool:
        """Whether a cloze note has cloze number ``ordinal + 1``."""
        text = self._cloze_text(fields)
        return "{{c" in text and ordinal + 1 in _cloze_tree(text).numbers


def compile_notetype(notetype: NoteType) -> CompiledNoteType:
    """A note type's templates parsed and checked.

    Raises:
        Unmappable: a template uses what we cannot draw (the message names it), the note
            type is image occlusion, or it has no template.
    """
    if "image occlusion" in notetype.name.lower():
        raise Unmappable("image occlusion cards need their masks drawn over the image")
    if not notetype.templates:
        raise Unmappable("it has no card template")
    fields = frozenset(notetype.fields)
    cloze = notetype.kind == "cloze"
    templates: dict[int, _Template] = {}
    cloze_fields: set[str] = set()
    for template in notetype.templates:
        where = f"its template '{template.name}'"
        front = _parse(template.front, where)
        back = _parse(template.back, where)
        found: set[str] = set()
        _check(front, fields, cloze, where, found)
        if cloze and not templates:
            cloze_fields |= found
        _check(back, fields, cloze, where, set())
        templates[template.ord] = _Template(template.name, front, back)
    if cloze and not cloze_fields:
        raise Unmappable("its cloze template has no '{{cloze:...}}' field on the question")
    index: dict[str, int] = {}
    for k, name in enumerate(notetype.fields):
        index.setdefault(name, k)
    order = tuple(n for n in notetype.fields if n in cloze_fields)
    return CompiledNoteType(notetype, templates, index, order)


# --------------------------------------------------------------------------- cloze


@dataclass(frozen=True, slots=True)
class _Cloze:
    number: int
    parts: tuple[str | _Cloze, ...]
    hint: str | None = None


@dataclass(frozen=True, slots=True)
class _Parsed:
    """A field's text as text and clozes, and the cloze numbers in it."""

    parts: tuple[str | _Cloze, ...]
    numbers: frozenset[int]


@lru_cache(maxsize=256)
def _cloze_tree(text: str) -> _Parsed:
    """A field's text as text and clozes (nested as written; a ``}}`` with no cloze open
    and an unclosed ``{{cN::`` are text). Cached: a cloze note's cards read the same text."""
    root: list[str | _Cloze] = []
    # each open cloze: its number, its opening as written, its parts so far
    stack: list[tuple[int, str, list[str | _Cloze]]] = []
    numbers: set[int] = set()
    pos = 0

    def add(piece: str | _Cloze) -> None:
        (stack[-1][2] if stack else root).append(piece)

    for m in _CLOZE_TOKEN.finditer(text):
        if m.start() > pos:
            add(text[pos : m.start()])
        pos = m.end()
        if m.group(1) is not None:
            stack.append((int(m.group(1)), m.group(0), []))
        elif stack:
            number, _, parts = stack.pop()
            hint: str | None = None
            if parts and isinstance(parts[-1], str) and "::" in parts[-1]:
                parts[-1], hint = parts[-1].split("::", 1)
            add(_Cloze(number, tuple(parts), hint))
            numbers.add(number)
        else:
            add(m.group(0))
    if pos < len(text):
        add(text[pos:])
    # Never closed: each opening was text, followed by what came after it (in one pass,
    # outermost first: moving each level into the one below would be quadratic).
    for _, opening, parts in stack:
        root.append(opening)
        root.extend(parts)
    return _Parsed(tuple(root), frozenset(n for n in numbers if n >= 1))


def cloze_numbers(text: str) -> tuple[int, ...]:
    """The cloze numbers in a text, ascending, each once (numbers below 1 left out)."""
    if "{{c" not in text:
        return ()
    return tuple(sorted(_cloze_tree(text).numbers))


def _reveal(parts: Sequence[str | _Cloze], number: int, question: bool) -> str:
    out: list[str] = []
    for part in parts:
        if isinstance(part, str):
            out.append(part)
        elif part.number != number:
            out.append(_reveal(part.parts, number, question))
        elif question:
            out.append(f"[{part.hint}]" if part.hint else CLOZE_FRONT)
        else:
            out.append(f"<b>{_reveal(part.parts, number, question)}</b>")
    return "".join(out)


def _cloze(text: str, number: int, question: bool) -> str:
    """``cloze:``: the field with cloze ``number`` hidden (question) or bold (answer);
    empty when the field has no cloze of that number, as in Anki."""
    parsed = _cloze_tree(text)
    if number not in parsed.numbers:
        return ""
    return _reveal(parsed.parts, number, question)


def _cloze_only(text: str, number: int) -> str:
    """``cloze-only:``: the answers of cloze ``number``, comma-separated."""
    answers: list[str] = []

    def walk(parts: Sequence[str | _Cloze]) -> None:
        for part in parts:
            if isinstance(part, _Cloze):
                if part.number == number:
                    answers.append(_reveal(part.parts, number, False))
                else:
                    walk(part.parts)

    walk(_cloze_tree(text).parts)
    return ", ".join(answers)


# --------------------------------------------------------------------------- rendering


@dataclass(frozen=True, slots=True)
class Rendered:
    """One card drawn as HTML.

    Attributes:
        question: the question side.
        answer: the answer side (``afmt``, with the question in place of ``{{FrontSide}}``).
        has_content: the question reads a note field that is not empty (Anki makes a card
            only then); for a cloze card, its cloze number is in the note.
    """

    question: str
    answer: str
    has_content: bool


@dataclass(slots=True)
class _Context:
    fields: Mapping[str, str]
    cloze: bool
    number: int  # the cloze number: ord + 1
    question: bool
    tags: Sequence[str]
    deck: str
    card: str
    notetype: str
    front_side: str = ""
    used: bool = False  # a non-empty note field was drawn

    def special(self, name: str) -> str:
        """A special field's value (HTML), as Anki gives it."""
        if name == "FrontSide":
            return self.front_side
        if name == "Tags":
            return html.escape(" ".join(self.tags), quote=False)
        if name == "Deck":
            return html.escape(self.deck, quote=False)
        if name == "Subdeck":
            return html.escape(self.deck.rsplit("::", 1)[-1], quote=False)
        if name == "Card":
            return html.escape(self.card, quote=False)
        if name == "Type":
            return html.escape(self.notetype, quote=False)
        return ""  # CardFlag


def _apply(value: str, node: _Field, ctx: _Context) -> str:
    names = [_filter_name(f) for f in node.filters]
    if "type" in names:
        if ctx.question:
            return ""
        rest = [n for n in names if n not in ("type", "nc")]
        return _cloze_only(value, ctx.number) if "cloze" in rest else value
    for name in reversed(names):
        if name == "text":
            value = html.escape(plain_text(value), quote=False)
        elif name == "cloze":
            value = _cloze(value, ctx.number, ctx.question)
        elif name == "cloze-only":
            value = _cloze_only(value, ctx.number)
        # hint and edit show the field itself
    return value


def _draw(nodes: Sequence[_Node], ctx: _Context, out: list[str]) -> None:
    for node in nodes:
        if isinstance(node, _Text):
            out.append(node.text)
        elif isinstance(node, _Field):
            if node.name in SPECIAL_FIELDS:  # a special field overrides a field of its name
                out.append(_apply(ctx.special(node.name), node, ctx))
                continue
            value = ctx.fields.get(node.name, "")
            if ctx.question and not ctx.used and not field_is_empty(value):
                ctx.used = True
            out.append(_apply(value, node, ctx) if node.filters else value)
        else:
            if node.name in SPECIAL_FIELDS:
                present = not field_is_empty(ctx.special(node.name))
            elif node.name in ctx.fields:
                present = not field_is_empty(ctx.fields[node.name])
            else:
                m = _CLOZE_NUMBER.match(node.name)
                present = m is not None and int(m.group(1)) == ctx.number
            if present != node.negated:
                _draw(node.children, ctx, out)


def render(
    compiled: CompiledNoteType,
    fields: Sequence[str],
    ordinal: int,
    *,
    tags: Sequence[str] = (),
    deck: str = "",
) -> Rendered | None:
    """Draw card ``ordinal`` of a note (a template's ``ord``; a cloze note's cloze number
    less one). None when the note type has no such template."""
    nt = compiled.notetype
    cloze = compiled.is_cloze
    template = compiled.templates.get(0 if cloze else ordinal)
    if template is None:
        if not cloze:
            return None
        template = next(iter(compiled.templates.values()))
    values = {
        name: fields[k] if k < len(fields) else "" for name, k in compiled.field_index.items()
    }
    ctx = _Context(values, cloze, ordinal + 1, True, tags, deck, template.name, nt.name)
    out: list[str] = []
    _draw(template.front, ctx, out)
    question = "".join(out)
    ctx.front_side = question
    ctx.question = False
    out = []
    _draw(template.back, ctx, out)
    has_content = compiled.has_cloze(fields, ordinal) if cloze else ctx.used
    return Rendered(question, "".join(out), has_content)
