"""Challenge definitions: timed "derive it from memory" exercises and their parser.

A challenge set is a markdown file among the decks whose first line is
``# Challenge set: <title>`` (the format is documented in ``bot/decks/README.md``,
section "Challenges"). Each ``## Heading`` is one challenge: a prompt the learner
answers from memory within a time limit, a reference answer shown afterwards, and
a rubric whose rows link to card ids. Self-assessing a row as "Need to re-study"
reschedules exactly the linked cards; that flow lives elsewhere, this module only
reads and checks the definitions.

Parsing is pure, like :mod:`bot.core.decks`: it takes text and a path used in
messages, and returns the parsed set plus a list of :class:`DeckError` with
file and 1-based line.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

from bot.core.decks import ID_RE, DeckError, lines_outside_fences, meta_line, slugify, split_list
from bot.core.imagespec import UNKNOWN, ImageSpec, ImageSpecError, has_unknown, parse_image_spec

__all__ = [
    "CHALLENGE_KEYS",
    "CHALLENGE_KINDS",
    "CHALLENGE_SECTIONS",
    "DEFAULT_MINUTES",
    "LIST_KINDS",
    "MAX_CHECKPOINTS",
    "MAX_MINUTES",
    "MAX_RUBRIC_ROWS",
    "MIN_CHECKPOINTS",
    "SELF_ASSESSMENT",
    "SET_KEYS",
    "SET_TITLE_PREFIX",
    "ChallengeDef",
    "ChallengeKind",
    "ChallengeSet",
    "RubricRow",
    "check_challenge_links",
    "is_challenge_file",
    "parse_challenge_set",
]

ChallengeKind = Literal["derivation", "drawing", "conceptual", "essay", "connection"]
CHALLENGE_KINDS: tuple[ChallengeKind, ...] = (
    "derivation",
    "drawing",
    "conceptual",
    "essay",
    "connection",
)
#: Kinds whose ``### Checkpoints`` section is required, with 3 to 6 items.
LIST_KINDS: tuple[ChallengeKind, ...] = ("derivation", "drawing")
#: Duration in minutes when a challenge has no ``minutes:`` line.
DEFAULT_MINUTES: dict[ChallengeKind, int] = {
    "derivation": 10,
    "drawing": 30,
    "conceptual": 5,
    "essay": 45,
    "connection": 5,
}
MAX_MINUTES = 180
MIN_CHECKPOINTS = 3
MAX_CHECKPOINTS = 6
#: Rubric rows a challenge may have: a member's grades are stored as one short text
#: (``3,2,1,…``, at most 64 characters), and a form rates them all.
MAX_RUBRIC_ROWS = 32

SET_TITLE_PREFIX = "# Challenge set:"
SELF_ASSESSMENT = "self-assessment"
SET_KEYS = ("id", "tags", "description")
CHALLENGE_KEYS = ("id", "kind", "minutes", "related", "image")
CHALLENGE_SECTIONS = ("prompt", "reference", "checkpoints", "points", "rubric")
_LIST_SECTIONS = ("checkpoints", "points", "rubric")

_KIND_BY_NAME: dict[str, ChallengeKind] = {k: k for k in CHALLENGE_KINDS}
_ITEM = re.compile(r"^\s{0,3}[-*+]\s+(.*)$")
_TITLE = re.compile(r"^#\s+Challenge set:(.*)$")
_SKIP = "<skip>"  # pseudo-section: swallow lines after a misplaced or unknown heading


@dataclass(frozen=True, slots=True)
class RubricRow:
    """One self-assessment row and the cards it covers.

    Attributes:
        text: what the learner rates themselves on (markdown).
        card_ids: the cards rescheduled by this row's rating, in file order.
        line: the 1-based line of the row in its file.
    """

    text: str
    card_ids: tuple[str, ...]
    line: int


@dataclass(frozen=True, slots=True)
class ChallengeDef:
    """A challenge as written in a challenge-set file.

    Attributes:
        id: stable challenge id (unique across all challenge files).
        set_id: the id of the set the challenge belongs to.
        title: the ``## Heading``.
        kind: derivation, drawing, conceptual, essay or connection.
        minutes: default duration of a timed run.
        prompt: the task, shown when the timer starts (markdown).
        reference: the reference answer, shown after the time is up (markdown).
        checkpoints: the steps a full answer goes through (the checklist of a drawing).
        points: the points a good answer makes (essays).
        rubric: self-assessment rows, each linked to cards.
        related: ids of cards the challenge draws on.
        image: an image shown with the reference, or None.
        line: the 1-based line of the heading.
    """

    id: str
    set_id: str
    title: str
    kind: ChallengeKind
    minutes: int
    prompt: str
    reference: str
    checkpoints: tuple[str, ...] = ()
    points: tuple[str, ...] = ()
    rubric: tuple[RubricRow, ...] = ()
    related: tuple[str, ...] = ()
    image: ImageSpec | None = None
    line: int = 0

    @property
    def card_ids(self) -> tuple[str, ...]:
        """Every card linked by the rubric rows, without repeats, in file order."""
        return tuple(dict.fromkeys(c for row in self.rubric for c in row.card_ids))


@dataclass(frozen=True, slots=True)
class ChallengeSet:
    """A parsed challenge-set file.

    Attributes:
        id: the set's id (from ``id:``, else the file name).
        title: the text after ``# Challenge set:``.
        path: the file's path.
        description: one line describing the set.
        tags: comma-separated tags of the header.
        challenges: the challenges in file order.
        rubric: the set-level ``## Self-assessment`` rows (empty when there is none).
    """

    id: str
    title: str
    path: str
    description: str = ""
    tags: tuple[str, ...] = ()
    challenges: tuple[ChallengeDef, ...] = ()
    rubric: tuple[RubricRow, ...] = ()

    def challenge(self, challenge_id: str) -> ChallengeDef | None:
        """The challenge with this id, or None."""
        return next((c for c in self.challenges if c.id == challenge_id), None)


def is_challenge_file(text: str) -> bool:
    """True when the first non-blank line of ``text`` is ``# Challenge set: ...``."""
    for line in text.removeprefix("\ufeff").splitlines():
        if line.strip():
            return _TITLE.match(line.rstrip()) is not None
    return False


# --- parsing -------------------------------------------------------------------------------

_Lines = list[tuple[int, str]]  # (1-based line number, text)


@dataclass
class _Draft:
    title: str
    line: int
    meta: dict[str, tuple[str, int]] = field(default_factory=dict)
    sections: dict[str, tuple[_Lines, int]] = field(default_factory=dict)


def _text(body: _Lines) -> str:
    return "\n".join(line for _, line in body).strip("\n").rstrip()


def _list_items(body: _Lines, where: str, err: Callable[[int, str], None]) -> _Lines:
    """Read ``- item`` lines; indented lines continue the item above them."""
    numbers: list[int] = []
    texts: list[str] = []
    in_comment = False
    for no, line in body:
        stripped = line.strip()
        if in_comment or stripped.startswith("<!--"):
            in_comment = "-->" not in stripped
            continue
        if not stripped:
            continue
        m = _ITEM.match(line)
        if m:
            numbers.append(no)
            texts.append(m.group(1).strip())
        elif texts and line[:1].isspace():
            texts[-1] = f"{texts[-1]} {stripped}"
        else:
            err(no, f"expected a list item '- ...' in {where}")
    return list(zip(numbers, texts, strict=True))


def _rubric_rows(
    body: _Lines, where: str, empty_line: int, err: Callable[[int, str], None]
) -> tuple[RubricRow, ...]:
    """Read ``- text -> card-id, ...`` rows; ``empty_line`` is blamed when there are none."""
    reported = 0

    def count(line_no: int, message: str) -> None:
        nonlocal reported
        reported += 1
        err(line_no, message)

    rows: list[RubricRow] = []
    for no, item in _list_items(body, f"the rubric of {where}", count):
        text, arrow, tail = item.rpartition("->")
        ids = split_list(tail) if arrow else ()
        if not ids:
            count(no, f"a rubric row of {where} links no cards: end it with '-> card-id, ...'")
            continue
        if not text.strip():
            count(no, f"a rubric row of {where} has no text before '->'")
            continue
        bad = [i for i in ids if not ID_RE.match(i)]
        for card_id in bad:
            count(no, f"bad card id {card_id!r} in a rubric row of {where}")
        if len(bad) < len(ids):
            rows.append(RubricRow(text.strip(), tuple(i for i in ids if i not in bad), no))
    if not rows and not reported:
        err(empty_line, f"the rubric of {where} has no rows: '- text -> card-id, ...'")
    if len(rows) > MAX_RUBRIC_ROWS:
        err(
            rows[MAX_RUBRIC_ROWS].line,
            f"the rubric of {where} has {len(rows)} rows; at most {MAX_RUBRIC_ROWS} are "
            "rated (the rest are left out)",
        )
        rows = rows[:MAX_RUBRIC_ROWS]
    return tuple(rows)


def _default_set_id(path: str) -> str:
    name = re.split(r"[\\/]", path)[-1]
    return slugify(name[:-3] if name.endswith(".md") else name)


def parse_challenge_set(text: str, path: str) -> tuple[ChallengeSet | None, list[DeckError]]:
    """Parse one challenge-set file.

    Args:
        text: the file's contents.
        path: the file's path, used as the default set id and in errors.

    Returns:
        The set (None when the file is not a usable challenge set) and the problems
        found. Challenges with a fatal problem (no id, kind, prompt, reference or
        rubric) are left out of the set; every problem is reported either way.
    """
    errors: list[DeckError] = []

    def err(line_no: int, message: str) -> None:
        errors.append(DeckError(path, line_no, message))

    lines = text.removeprefix("\ufeff").splitlines()
    first = next((i for i, line in enumerate(lines) if line.strip()), None)
    if first is None:
        err(1, f"the file is empty: a challenge set starts with '{SET_TITLE_PREFIX} <title>'")
        return None, errors
    head = _TITLE.match(lines[first].rstrip())
    if head is None:
        err(first + 1, f"a challenge set starts with '{SET_TITLE_PREFIX} <title>'")
        return None, errors
    title = head.group(1).strip()
    if not title:
        err(first + 1, "the challenge set has no title after 'Challenge set:'")
        return None, errors

    outside = lines_outside_fences(lines)
    set_meta: dict[str, tuple[str, int]] = {}
    drafts: list[_Draft] = []
    assessment: _Lines | None = None
    assessment_line = 0
    current: _Draft | None = None
    section: str | None = None
    in_comment = False

    for idx in range(first + 1, len(lines)):
        line, no = lines[idx], idx + 1
        if outside[idx] and line.startswith("## "):
            name = line[3:].strip()
            section = None
            if name.lower() == SELF_ASSESSMENT:
                if assessment is not None:
                    err(no, f"'## Self-assessment' appears twice (first at line {assessment_line})")
                assessment, assessment_line, current = [], no, None
            else:
                current = _Draft(name, no)
                drafts.append(current)
            continue
        if outside[idx] and line.startswith("### "):
            name = line[4:].strip()
            if current is None:
                where = "the self-assessment" if assessment is not None else "the set header"
                err(no, f"section '### {name}' in {where}: sections belong to a '## challenge'")
                # In the header, skip the misplaced section's text; the self-assessment
                # goes on reading its rows.
                section = _SKIP if assessment is None else None
                continue
            key = name.lower()
            if key not in CHALLENGE_SECTIONS:
                known = ", ".join(s.capitalize() for s in CHALLENGE_SECTIONS)
                err(no, f"unknown section '### {name}' (known sections: {known})")
                section = _SKIP
                continue
            if key in current.sections:
                err(no, f"section '### {name}' appears twice in challenge '{current.title}'")
            current.sections[key] = ([], no)
            section = key
            continue
        if outside[idx] and line.startswith("# "):
            err(no, "only one '# ' title line per file; challenges start with '## '")
            continue
        if section == _SKIP:
            continue
        if section is not None and current is not None:
            current.sections[section][0].append((no, line))
            continue
        if current is None and assessment is not None:
            assessment.append((no, line))
            continue
        # Header lines: set metadata before the first challenge, challenge metadata after.
        stripped = line.strip()
        if in_comment or stripped.startswith("<!--"):
            in_comment = "-->" not in stripped
            continue
        if not stripped:
            continue
        if current is None:
            meta_line(
                stripped, no, SET_KEYS, "the set header", "## Challenge heading", set_meta, err
            )
        else:
            where = f"challenge '{current.title}'"
            meta_line(stripped, no, CHALLENGE_KEYS, where, "### Prompt", current.meta, err)

    set_id = set_meta["id"][0] if "id" in set_meta else _default_set_id(path)
    if not ID_RE.match(set_id):
        err(set_meta["id"][1] if "id" in set_meta else first + 1, f"bad set id {set_id!r}")
    tags = split_list(set_meta["tags"][0]) if "tags" in set_meta else ()
    description = set_meta["description"][0] if "description" in set_meta else ""
    if not drafts:
        err(first + 1, "the challenge set has no challenges: each starts with a '## Heading' line")

    challenges: list[ChallengeDef] = []
    first_line: dict[str, int] = {}
    for d in drafts:
        challenge = _finish(d, set_id, err)
        if challenge is None:
            continue
        if challenge.id in first_line:
            earlier = first_line[challenge.id]
            err(
                challenge.line, f"duplicate challenge id '{challenge.id}' (first at line {earlier})"
            )
            continue
        first_line[challenge.id] = challenge.line
        challenges.append(challenge)

    rubric: tuple[RubricRow, ...] = ()
    if assessment is not None:
        rubric = _rubric_rows(assessment, "the self-assessment", assessment_line, err)

    errors.sort(key=lambda e: e.line)
    return ChallengeSet(set_id, title, path, description, tags, tuple(challenges), rubric), errors


def _finish(d: _Draft, set_id: str, err: Callable[[int, str], None]) -> ChallengeDef | None:
    """Check one drafted challenge; None when it is unusable (every problem is reported)."""
    ok = True
    if not d.title:
        err(d.line, "the challenge heading is empty")
        ok = False
    name = d.title
    challenge_id = ""
    if "id" in d.meta:
        challenge_id, id_line = d.meta["id"]
        if ID_RE.match(challenge_id):
            name = challenge_id
        else:
            err(id_line, f"bad challenge id {challenge_id!r}: use letters, digits, '-', '_' or '.'")
            ok = False
    else:
        err(d.line, f"challenge '{d.title}' has no 'id:' line")
        ok = False
    where = f"challenge '{name}'"

    kind: ChallengeKind | None = None
    if "kind" in d.meta:
        value, line = d.meta["kind"]
        kind = _KIND_BY_NAME.get(value.lower())
        if kind is None:
            err(line, f"unknown kind {value!r} in {where} (expected {', '.join(CHALLENGE_KINDS)})")
    else:
        err(d.line, f"{where} has no 'kind:' line ({', '.join(CHALLENGE_KINDS)})")
    minutes = DEFAULT_MINUTES[kind] if kind is not None else 0
    if "minutes" in d.meta:
        value, line = d.meta["minutes"]
        if value.isdigit() and 1 <= int(value) <= MAX_MINUTES:
            minutes = int(value)
        else:
            err(line, f"minutes must be a whole number from 1 to {MAX_MINUTES}, not {value!r}")

    related: tuple[str, ...] = ()
    if "related" in d.meta:
        value, line = d.meta["related"]
        related = split_list(value)
        for card_id in related:
            if not ID_RE.match(card_id):
                err(line, f"bad card id {card_id!r} in 'related' of {where}")
        related = tuple(r for r in related if ID_RE.match(r))
    image: ImageSpec | None = None
    if "image" in d.meta:
        value, line = d.meta["image"]
        try:
            image = parse_image_spec(value)
        except ImageSpecError as exc:
            err(line, f"bad image spec in {where}: {exc}")
        if image is not None and has_unknown(image):
            err(
                line,
                f"bad image spec in {where}: '{UNKNOWN}' marks an unknown, and a challenge's "
                "image is shown with the reference",
            )
            image = None

    texts: dict[str, str] = {}
    for key in ("prompt", "reference"):
        if key not in d.sections:
            err(d.line, f"{where} has no '### {key.capitalize()}' section")
            ok = False
            continue
        body, line = d.sections[key]
        texts[key] = _text(body)
        if not texts[key]:
            err(line, f"{where} has an empty {key}")
            ok = False

    lists: dict[str, tuple[str, ...]] = {}
    for key in ("checkpoints", "points"):
        if key not in d.sections:
            continue
        body, line = d.sections[key]
        items = tuple(t for _, t in _list_items(body, f"the {key} of {where}", err))
        lists[key] = items
        if not items and kind not in LIST_KINDS:
            err(line, f"the '### {key.capitalize()}' section of {where} has no items")
    if kind in LIST_KINDS:
        found = lists.get("checkpoints")
        if found is None:
            err(d.line, f"a {kind} needs '### Checkpoints' ({where})")
        elif not MIN_CHECKPOINTS <= len(found) <= MAX_CHECKPOINTS:
            err(
                d.sections["checkpoints"][1],
                f"a {kind} has {MIN_CHECKPOINTS} to {MAX_CHECKPOINTS} checkpoints; "
                f"{where} has {len(found)}",
            )
    if kind == "essay" and "points" not in d.sections:
        err(d.line, f"an essay needs a '### Points' section ({where})")

    rubric: tuple[RubricRow, ...] = ()
    if "rubric" in d.sections:
        body, line = d.sections["rubric"]
        rubric = _rubric_rows(body, where, line, err)
        if not rubric:
            ok = False
    else:
        err(d.line, f"{where} has no '### Rubric' section")
        ok = False

    if not ok or kind is None:
        return None
    return ChallengeDef(
        id=challenge_id,
        set_id=set_id,
        title=d.title,
        kind=kind,
        minutes=minutes,
        prompt=texts["prompt"],
        reference=texts["reference"],
        checkpoints=lists.get("checkpoints", ()),
        points=lists.get("points", ()),
        rubric=rubric,
        related=related,
        image=image,
        line=d.line,
    )


# --- checks across files -------------------------------------------------------------------


def check_challenge_links(
    sets: Sequence[ChallengeSet],
    card_ids: Collection[str],
    challenge_ids_seen: MutableMapping[str, str] | None = None,
) -> list[DeckError]:
    """Check what a single file cannot: links to cards and ids shared between files.

    Args:
        sets: parsed challenge sets.
        card_ids: the ids of every loaded card.
        challenge_ids_seen: challenge ids already taken, mapped to ``path:line`` of their
            definition. When given it is updated with the ids of ``sets``, so several calls
            (one per batch of files) can share it.

    Returns:
        Problems sorted by file and line: rubric rows and ``related`` lines naming cards
        that do not exist, challenge ids defined in more than one file, and set ids used
        by more than one file.
    """
    seen: MutableMapping[str, str] = {} if challenge_ids_seen is None else challenge_ids_seen
    set_paths: dict[str, str] = {}
    found: list[DeckError] = []
    for cset in sets:
        if cset.id in set_paths and set_paths[cset.id] != cset.path:
            found.append(
                DeckError(cset.path, 1, f"duplicate set id '{cset.id}' (also {set_paths[cset.id]})")
            )
        set_paths.setdefault(cset.id, cset.path)
        for ch in cset.challenges:
            where = f"{cset.path}:{ch.line}"
            if ch.id in seen and seen[ch.id] != where:
                found.append(
                    DeckError(
                        cset.path,
                        ch.line,
                        f"duplicate challenge id '{ch.id}' (first at {seen[ch.id]})",
                    )
                )
            else:
                seen[ch.id] = where
            for rel in ch.related:
                if rel not in card_ids:
                    found.append(
                        DeckError(
                            cset.path,
                            ch.line,
                            f"challenge '{ch.id}' is related to card '{rel}', which does not exist",
                        )
                    )
            for row in ch.rubric:
                found.extend(_missing(cset.path, row, f"challenge '{ch.id}'", card_ids))
        for row in cset.rubric:
            found.extend(_missing(cset.path, row, "the self-assessment", card_ids))
    found.sort(key=lambda e: (e.path, e.line))
    return found


def _missing(path: str, row: RubricRow, where: str, card_ids: Collection[str]) -> list[DeckError]:
    return [
        DeckError(path, row.line, f"a rubric row of {where} links card '{c}', which does not exist")
        for c in row.card_ids
        if c not in card_ids
    ]
