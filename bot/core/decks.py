"""Deck model and the markdown deck parser.

Two formats are read (both documented in ``bot/decks/README.md``): the native
format (``# Title``, ``## Card`` headings with ``key: value`` lines and
``### Front`` / ``### Back`` sections) and the generated "Flashcards" format
(``# Flashcards: Topic`` with ``### Card N of M | Easy`` headings).

Parsing is pure: it takes text and a path used in messages, and returns
decks plus a list of :class:`DeckError` with file and line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from bot.core.choices import Choices, parse_choices
from bot.core.imagespec import (
    UNKNOWN,
    DiagramSpec,
    ImageSpec,
    ImageSpecError,
    has_unknown,
    parse_image_spec,
)

Difficulty = Literal["easy", "medium", "hard"]
DIFFICULTIES: tuple[Difficulty, ...] = ("easy", "medium", "hard")
ID_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")

DECK_KEYS = ("id", "tags", "description")
CARD_KEYS = ("id", "tags", "difficulty", "related", "image", "front-image", "choices")
#: The side of a card an image is shown with: the question's or the answer's.
ImageSide = Literal["front", "back"]
#: The image keys of a card and the side each one is shown with.
IMAGE_KEYS: dict[str, ImageSide] = {"front-image": "front", "image": "back"}
SECTIONS = ("front", "back", "mnemonic", "notes")


@dataclass(frozen=True, slots=True)
class DeckError:
    """A problem in a deck file, with the 1-based line it is on."""

    path: str
    line: int
    message: str

    def __str__(self) -> str:
        return f"{self.path}:{self.line}: {self.message}"


@dataclass(frozen=True, slots=True)
class CardDef:
    """A card as written in a deck file."""

    id: str
    deck_id: str
    title: str
    front: str
    back: str
    tags: tuple[str, ...] = ()
    difficulty: Difficulty = "medium"
    mnemonic: str | None = None
    notes: str | None = None
    related: tuple[str, ...] = ()
    #: Shown with the question (``front-image:``); it marks what to recall with ``?``.
    front_image: ImageSpec | None = None
    #: Shown with the answer (``image:``).
    back_image: ImageSpec | None = None
    line: int = 0
    position: int = 0
    #: A multiple-choice form (``choices:``): a quiz poll on Telegram.
    choices: Choices | None = None

    def images(self) -> tuple[tuple[ImageSide, ImageSpec], ...]:
        """The card's images with their sides: the front's first, then the back's."""
        out: list[tuple[ImageSide, ImageSpec]] = []
        if self.front_image is not None:
            out.append(("front", self.front_image))
        if self.back_image is not None:
            out.append(("back", self.back_image))
        return tuple(out)


@dataclass(frozen=True, slots=True)
class Deck:
    """A parsed deck: its id, title, and cards in file order."""

    id: str
    title: str
    path: str
    cards: tuple[CardDef, ...]
    description: str = ""
    tags: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class DeckSet:
    """Every deck and challenge set found, and every problem found while reading them.

    ``challenge_sets`` holds :class:`bot.core.challenges.definitions.ChallengeSet` values
    (typed loosely here to keep this module free of that one).
    """

    decks: tuple[Deck, ...] = ()
    errors: tuple[DeckError, ...] = ()
    challenge_sets: tuple[Any, ...] = ()

    @property
    def ok(self) -> bool:
        return not self.errors

    def cards(self) -> Iterable[CardDef]:
        for deck in self.decks:
            yield from deck.cards

    def card(self, card_id: str) -> CardDef | None:
        for c in self.cards():
            if c.id == card_id:
                return c
        return None

    def topics(self) -> list[str]:
        """Every tag and deck id, sorted: what ``/quiz <topic>`` accepts."""
        names: set[str] = set()
        for deck in self.decks:
            names.add(deck.id)
            for card in deck.cards:
                names.update(card.tags)
        return sorted(names)


def slugify(text: str) -> str:
    """Lower-case ``text`` and keep letters and digits joined by single dashes."""
    text = re.sub(r"[`*_$\\{}]", "", text.lower())
    slug = re.sub(r"[^a-z0-9]+", "-", text).strip("-")
    return slug[:48].rstrip("-") or "card"


def split_list(value: str) -> tuple[str, ...]:
    """Comma-separated values, stripped, without repeats, in order."""
    return tuple(dict.fromkeys(p.strip() for p in value.split(",") if p.strip()))


def meta_line(
    stripped: str,
    no: int,
    allowed: Sequence[str],
    where: str,
    hint: str,
    target: dict[str, tuple[str, int]],
    err: Callable[[int, str], None],
) -> None:
    """Read one ``key: value`` header line into ``target``, reporting what is wrong with it."""
    m = _KEYVAL.match(stripped)
    if m is None:
        err(no, f"unexpected text in {where}: expected 'key: value' or a '{hint}'")
        return
    key, value = m.group(1).strip().lower(), m.group(2).strip()
    if key not in allowed:
        side = re.fullmatch(r"(.+?)[ _-]image", key)
        if side is not None and "front-image" in allowed:
            if side.group(1) == "front":
                err(no, f"unknown key '{key}' in {where}: the front's image is 'front-image'")
            else:
                err(
                    no,
                    f"unknown image side '{side.group(1)}' in {where}: 'front-image' is "
                    "shown with the question, 'image' with the answer",
                )
            return
        err(no, f"unknown key '{key}' in {where} (known keys: {', '.join(allowed)})")
        return
    if key in target:
        err(no, f"key '{key}' is given twice in {where}")
    target[key] = (value, no)


_FENCE = re.compile(r"^\s{0,3}(`{3,}|~{3,})(.*)$")
_IGNORED = "\x00ignored"
_KEYVAL = re.compile(r"^([A-Za-z][A-Za-z_ -]*?)\s*:\s?(.*)$")


def lines_outside_fences(lines: Sequence[str]) -> list[bool]:
    """For each line, True when it is outside a fenced code block."""
    out: list[bool] = []
    fence: str | None = None
    for line in lines:
        m = _FENCE.match(line)
        if fence is None:
            out.append(m is None)
            if m:
                fence = m.group(1)
        else:
            out.append(False)
            # A fence closes on the same character, at least as long, with nothing after it.
            if (
                m
                and m.group(1)[0] == fence[0]
                and len(m.group(1)) >= len(fence)
                and not m.group(2).strip()
            ):
                fence = None
    return out


def _clean(block: list[str]) -> str:
    text = "\n".join(block).strip("\n")
    return text.rstrip()


@dataclass
class _CardDraft:
    title: str
    line: int
    meta: dict[str, tuple[str, int]] = field(default_factory=dict)
    sections: dict[str, tuple[list[str], int]] = field(default_factory=dict)
    extra_notes: list[str] = field(default_factory=list)
    #: The ``choices:`` list's items (text after the ``-``, line); open while reading it.
    choice_items: list[tuple[str, int]] = field(default_factory=list)
    in_choices: bool = False


def parse_deck(text: str, path: str) -> tuple[Deck | None, list[DeckError]]:
    """Parse one deck file.

    Args:
        text: the file's contents.
        path: the file's path, used as the default deck id and in errors.

    Returns:
        The deck (None when it is unusable) and the problems found.
    """
    lines = text.splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        return None, [DeckError(path, 1, "the file is empty: a deck starts with a '# Title' line")]
    if lines[first].startswith("# Flashcards:"):
        return _parse_flashcards(lines, path)
    return _parse_native(lines, path, first)


def _default_deck_id(path: str) -> str:
    name = re.split(r"[\\/]", path)[-1]
    stem = name[:-3] if name.endswith(".md") else name
    return stem if ID_RE.match(stem) else slugify(stem)


def _parse_native(lines: list[str], path: str, first: int) -> tuple[Deck | None, list[DeckError]]:
    errors: list[DeckError] = []

    def err(line_no: int, message: str) -> None:
        errors.append(DeckError(path, line_no, message))

    head = lines[first]
    if not head.startswith("# "):
        err(first + 1, "a deck starts with a '# Title' line")
        return None, errors
    title = head[2:].strip()
    deck_meta: dict[str, tuple[str, int]] = {}
    drafts: list[_CardDraft] = []
    outside = lines_outside_fences(lines)
    current: _CardDraft | None = None
    section: str | None = None
    in_comment = False

    for idx in range(first + 1, len(lines)):
        line = lines[idx]
        no = idx + 1
        if outside[idx] and line.startswith("## "):
            current = _CardDraft(line[3:].strip(), no)
            drafts.append(current)
            section = None
            continue
        if outside[idx] and line.startswith("### ") and current is not None:
            name = line[4:].strip()
            key = name.lower()
            if key not in SECTIONS:
                err(no, f"unknown section '### {name}' (expected Front, Back, Mnemonic or Notes)")
                section = _IGNORED  # skip its body rather than read it as keys
                current.sections.setdefault(section, ([], no))
                continue
            if key in current.sections:
                err(no, f"section '### {name}' appears twice in card '{current.title}'")
            current.sections[key] = ([], no)
            section = key
            continue
        if outside[idx] and line.startswith("# "):
            err(no, "only one '# Title' line per deck file; cards start with '## '")
            continue
        if section is not None and current is not None:
            current.sections[section][0].append(line)
            continue
        # Header lines: deck metadata before the first card, card metadata after it.
        stripped = line.strip()
        if in_comment or stripped.startswith("<!--"):
            in_comment = "-->" not in stripped
            continue
        if not stripped:
            continue
        if current is None:
            meta_line(stripped, no, DECK_KEYS, "the deck header", "## Card heading", deck_meta, err)
        elif _read_choice_item(current, stripped, no, err):
            continue
        else:
            where = f"card '{current.title}'"
            meta_line(stripped, no, CARD_KEYS, where, "### Front", current.meta, err)
            named = _KEYVAL.match(stripped)
            current.in_choices = named is not None and named.group(1).strip().lower() == "choices"

    deck_id = deck_meta["id"][0] if "id" in deck_meta else _default_deck_id(path)
    if not ID_RE.match(deck_id):
        err(deck_meta["id"][1] if "id" in deck_meta else first + 1, f"bad deck id {deck_id!r}")
    deck_tags = split_list(deck_meta["tags"][0]) if "tags" in deck_meta else ()
    description = deck_meta.get("description", ("", 0))[0]
    if not drafts:
        err(first + 1, "the deck has no cards: each card starts with a '## Heading' line")

    cards: list[CardDef] = []
    for pos, d in enumerate(drafts):
        card = _finish_card(d, deck_id, deck_tags, pos, err)
        if card is not None:
            cards.append(card)
    deck = Deck(deck_id, title, path, tuple(cards), description, deck_tags)
    return deck, errors


def _finish_card(
    d: _CardDraft,
    deck_id: str,
    deck_tags: tuple[str, ...],
    position: int,
    err: Callable[[int, str], None],
) -> CardDef | None:
    ok = True
    if not d.title:
        err(d.line, "the card heading is empty")
        ok = False
    if "id" in d.meta:
        card_id, id_line = d.meta["id"]
        if not ID_RE.match(card_id):
            err(id_line, f"bad card id {card_id!r}: use letters, digits, '-', '_' or '.'")
            ok = False
    else:
        card_id = f"{deck_id}.{slugify(d.title)}"
    difficulty: Difficulty = "medium"
    if "difficulty" in d.meta:
        value, line = d.meta["difficulty"]
        if value.lower() in DIFFICULTIES:
            difficulty = value.lower()  # type: ignore[assignment]
        else:
            err(line, f"difficulty must be easy, medium or hard, not {value!r}")
    front_image = _side_image(d, "front-image", card_id, err)
    back_image = _side_image(d, "image", card_id, err)
    choices = None
    if "choices" in d.meta:
        value, line = d.meta["choices"]
        choices = parse_choices(value, line, d.choice_items, err)
    d.sections.pop(_IGNORED, None)
    texts: dict[str, str] = {}
    for name in SECTIONS:
        if name in d.sections:
            texts[name] = _clean(d.sections[name][0])
    for name in ("front", "back"):
        if name not in d.sections:
            err(d.line, f"card '{card_id}' has no '### {name.capitalize()}' section")
            ok = False
        elif not texts[name]:
            err(d.sections[name][1], f"card '{card_id}' has an empty {name}")
            ok = False
    if not ok:
        return None
    tags = tuple(dict.fromkeys((*deck_tags, *split_list(d.meta.get("tags", ("", 0))[0]))))
    notes = texts.get("notes") or None
    if d.extra_notes:
        notes = "\n\n".join([*([notes] if notes else []), *d.extra_notes])
    return CardDef(
        id=card_id,
        deck_id=deck_id,
        title=d.title,
        front=texts["front"],
        back=texts["back"],
        tags=tags,
        difficulty=difficulty,
        mnemonic=texts.get("mnemonic") or None,
        notes=notes,
        related=split_list(d.meta.get("related", ("", 0))[0]),
        front_image=front_image,
        back_image=back_image,
        line=d.line,
        position=position,
        choices=choices,
    )


def _side_image(
    d: _CardDraft, key: str, card_id: str, err: Callable[[int, str], None]
) -> ImageSpec | None:
    """The card's image for one side (``front-image`` or ``image``), checked for that side.

    A front image must ask for something (a ``?``); a back image must not.
    """
    if key not in d.meta:
        return None
    value, line = d.meta[key]
    try:
        image = parse_image_spec(value)
    except ImageSpecError as exc:
        err(line, f"bad {key} spec in card '{card_id}': {exc}")
        return None
    if IMAGE_KEYS[key] == "back":
        if has_unknown(image):
            err(
                line,
                f"bad image spec in card '{card_id}': '{UNKNOWN}' marks an unknown: use "
                "front-image (image: is shown with the answer)",
            )
            return None
        return image
    if isinstance(image, DiagramSpec):
        err(
            line,
            f"bad front-image spec in card '{card_id}': a diagram has no unknowns, so it "
            "cannot be a front image (use image: to show it with the answer)",
        )
        return None
    if not has_unknown(image):
        err(
            line,
            f"bad front-image spec in card '{card_id}': it shows the answer; mark what the "
            f"learner must recall with '{UNKNOWN}', as in K^T[{UNKNOWN},{UNKNOWN}] or "
            f"\\mathrm{{Attention}}(Q,K,V) = {UNKNOWN}",
        )
        return None
    return image


_ITEM = re.compile(r"^[-*]\s+(.*)$")


def _read_choice_item(
    d: _CardDraft, stripped: str, no: int, err: Callable[[int, str], None]
) -> bool:
    """Take a list line of the card's header: an option of its ``choices:`` list when
    that list is open, else an error. False for any other line."""
    m = _ITEM.match(stripped)
    if m is None:
        return False
    if d.in_choices:
        d.choice_items.append((m.group(1), no))
    else:
        err(no, f"a list item in card '{d.title}' outside a 'choices:' list")
    return True


_CARD_HEAD = re.compile(r"^###\s+Card\s+\d+\s+of\s+\d+\s*\|\s*(\w+)\s*$", re.IGNORECASE)
_CONCEPT = re.compile(r"^\*\*Concept:\*\*\s*(.+)$")


def _parse_flashcards(lines: list[str], path: str) -> tuple[Deck | None, list[DeckError]]:
    """Read the generated ``# Flashcards: Topic`` format."""
    errors: list[DeckError] = []

    def err(line_no: int, message: str) -> None:
        errors.append(DeckError(path, line_no, message))

    first = next(i for i, line in enumerate(lines) if line.strip())
    topic = lines[first].split(":", 1)[1].strip()
    deck_id = slugify(f"flashcards {topic}")
    topic_tag = slugify(topic)
    outside = lines_outside_fences(lines)
    drafts: list[_CardDraft] = []
    current: _CardDraft | None = None
    section: str | None = None
    for idx in range(first + 1, len(lines)):
        line, no = lines[idx], idx + 1
        if outside[idx] and line.startswith("## "):
            # "## Easy Cards" groups cards; anything else ends the card area.
            current, section = None, None
            continue
        if outside[idx] and line.startswith("### "):
            m = _CARD_HEAD.match(line)
            if m is None:
                current, section = None, None
                continue
            current = _CardDraft("", no)
            current.meta["difficulty"] = (m.group(1), no)
            drafts.append(current)
            section = None
            continue
        if current is None:
            continue
        if outside[idx] and line.startswith("#### "):
            name = line[5:].strip()
            key = name.lower()
            section = key if key in ("front", "back", "mnemonic") else f"extra:{name}"
            current.sections[section] = ([], no)
            continue
        if section is None:
            m2 = _CONCEPT.match(line.strip())
            if m2:
                current.title = m2.group(1).strip()
            continue
        if outside[idx] and line.strip() == "---":
            section = None
            continue
        current.sections[section][0].append(line)

    cards: list[CardDef] = []
    for pos, d in enumerate(drafts):
        if not d.title:
            err(d.line, "card has no **Concept:** line")
            continue
        for key in [k for k in d.sections if k.startswith("extra:")]:
            body, _ = d.sections.pop(key)
            text = _clean(body)
            if text:
                d.extra_notes.append(f"**{key[6:]}**\n{text}")
        d.meta["id"] = (f"{deck_id}.{slugify(d.title)}", d.line)
        d.meta["tags"] = (topic_tag, d.line)
        card = _finish_card(d, deck_id, (), pos, err)
        if card is not None:
            cards.append(card)
    if not cards and not errors:
        err(first + 1, "no '### Card N of M | Difficulty' cards found")
    return Deck(deck_id, lines[first][2:].strip(), path, tuple(cards), "", (topic_tag,)), errors


def check_deck_set(decks: Sequence[Deck], errors: Iterable[DeckError] = ()) -> DeckSet:
    """Check ids across decks: duplicate deck and card ids, dangling related ids."""
    found = list(errors)
    deck_ids: dict[str, Deck] = {}
    kept: list[Deck] = []
    for deck in decks:
        if deck.id in deck_ids:
            found.append(
                DeckError(
                    deck.path, 1, f"duplicate deck id '{deck.id}' (also {deck_ids[deck.id].path})"
                )
            )
            continue
        deck_ids[deck.id] = deck
        kept.append(deck)
    seen: dict[str, CardDef] = {}
    paths = {d.id: d.path for d in kept}
    final: list[Deck] = []
    for deck in kept:
        cards: list[CardDef] = []
        for card in deck.cards:
            if card.id in seen:
                other = seen[card.id]
                found.append(
                    DeckError(
                        deck.path,
                        card.line,
                        f"duplicate card id '{card.id}' "
                        f"(first at {paths[other.deck_id]}:{other.line})",
                    )
                )
                continue
            seen[card.id] = card
            cards.append(card)
        final.append(
            Deck(deck.id, deck.title, deck.path, tuple(cards), deck.description, deck.tags)
        )
    for deck in final:
        for card in deck.cards:
            for rel in card.related:
                if rel not in seen:
                    found.append(
                        DeckError(
                            deck.path,
                            card.line,
                            f"card '{card.id}' is related to '{rel}', which does not exist",
                        )
                    )
    found.sort(key=lambda e: (e.path, e.line))
    return DeckSet(tuple(final), tuple(found))
