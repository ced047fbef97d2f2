"""The challenge self-assessment as one Discord form (modal components of discord.py 2.7).

On Discord the self-assessment message has one "Rate every row" button instead of a
row of buttons per rubric row (a message holds at most 25 buttons). It opens a modal
that rates every row and ticks the checkpoints, and its one submit goes to the core as
one call (:meth:`~bot.core.challenges.service.ChallengeService.assess`).

A modal holds at most :data:`MODAL_LABELS` top-level components (here each a
``Label`` wrapping one input), a radio or checkbox group at most :data:`GROUP_OPTIONS`
options. So the form is laid out by size (:func:`layout`):

- Rows that fit one label each get a ``RadioGroup`` each (Confident, Shaky, Need to
  re-study; required, so Discord asks for every row): up to 4 rows beside the
  checkpoints, 5 without.
- More rows are rated with pairs of ``CheckboxGroup``s, ten rows a pair: "Confident"
  and "Shaky", a row ticked in neither needs re-study. Two pairs fit beside the
  checkpoints: :data:`ROWS_PER_FORM` (20) rows in one form. A longer rubric is a form
  in parts of 20 rows; each part's submit is kept, and the last one applies.
- The checkpoints (the first :data:`GROUP_OPTIONS`) are one ``CheckboxGroup`` on the
  first part.

Nothing is kept in memory: the modal's custom id carries the submission token
(``ja:<token>``), each group's custom id the rows it rates, so a form opened before a
restart is read the same after it (:func:`assessment_values`).
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Final

import discord

from bot.core.challenges.assessment import GRADE_NAMES, one_line
from bot.core.outcomes import AssessmentForm

#: The self-assessment form: ``ja:<submission token>``.
ASSESS_MODAL: Final = re.compile(r"ja:(?P<token>[A-Za-z0-9_-]{8,22})")
#: Discord: top-level components of a modal, options of a radio or checkbox group, and
#: the characters of a modal title or label, a label's description, an option's label.
MODAL_LABELS: Final = 5
GROUP_OPTIONS: Final = 10
LABEL_TEXT: Final = 45
LABEL_DESCRIPTION: Final = 100
OPTION_TEXT: Final = 100
#: Rubric rows rated in one form (two pairs of checkbox groups beside the checkpoints).
ROWS_PER_FORM: Final = GROUP_OPTIONS * ((MODAL_LABELS - 1) // 2)
#: A radio group's choices: (label, grade), best first, named as the message names them.
GRADE_CHOICES: Final = tuple((GRADE_NAMES[grade], grade) for grade in (3, 2, 1))
#: What a submission that cannot be read is turned into: a row no challenge has, which
#: the core answers as a form that does not match (nothing changed).
UNREADABLE: Final = (-1, 0)

_RADIO = re.compile(r"r(?P<row>\d{1,3})")
#: A submitted value: ASCII digits only (``str.isdigit`` also takes "²", which int() refuses).
_NUMBER = re.compile(r"[0-9]{1,3}")
_GROUP = re.compile(r"(?P<kind>[csk])(?P<start>\d{1,3})-(?P<end>\d{1,3})")


@dataclass(frozen=True, slots=True)
class Part:
    """One form: the rows it rates (``rows``), as radio groups or checkbox pairs, and
    whether it ticks the checkpoints; ``number`` of ``parts``, counted from 1."""

    rows: range
    radios: bool
    checkpoints: bool
    number: int
    parts: int


def layout(rows: int, checkpoints: int, start: int = 0) -> Part:
    """The part of the form holding row ``start`` of ``rows`` (0-based), with
    ``checkpoints`` checkpoints to tick."""
    first_free = MODAL_LABELS - (1 if checkpoints else 0)
    if rows <= first_free:
        return Part(range(rows), True, checkpoints > 0, 1, 1)
    parts = -(-rows // ROWS_PER_FORM)
    index = min(max(start, 0), rows - 1) // ROWS_PER_FORM
    span = range(index * ROWS_PER_FORM, min(rows, (index + 1) * ROWS_PER_FORM))
    free = first_free if index == 0 else MODAL_LABELS
    return Part(span, len(span) <= free, index == 0 and checkpoints > 0, index + 1, parts)


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def _row_label(form: AssessmentForm, row: int) -> tuple[str, str | None]:
    """A row's label (numbered) and, when it does not fit, its text as the description."""
    text = one_line(form.rows[row])
    label = f"{row + 1}. {text}"
    if len(label) <= LABEL_TEXT:
        return label, None
    return _cut(label, LABEL_TEXT), _cut(text, LABEL_DESCRIPTION)


def _radio(form: AssessmentForm, row: int) -> discord.ui.Label[Any]:
    grade = form.grades[row] if row < len(form.grades) else None
    group: discord.ui.RadioGroup[Any] = discord.ui.RadioGroup(
        custom_id=f"r{row}",
        required=True,
        options=[
            discord.RadioGroupOption(label=label, value=str(value), default=grade == value)
            for label, value in GRADE_CHOICES
        ],
    )
    text, description = _row_label(form, row)
    return discord.ui.Label(text=text, description=description, component=group)


def _checkboxes(
    custom_id: str, items: Sequence[tuple[int, str, bool]]
) -> discord.ui.CheckboxGroup[Any]:
    """A checkbox group of (index, text, ticked) items, none of them required."""
    return discord.ui.CheckboxGroup(
        custom_id=custom_id,
        required=False,
        min_values=0,
        max_values=len(items),
        options=[
            discord.CheckboxGroupOption(
                label=_cut(f"{index + 1}. {one_line(text)}", OPTION_TEXT),
                value=str(index),
                default=ticked,
            )
            for index, text, ticked in items
        ],
    )


def _pair(form: AssessmentForm, rows: range) -> list[discord.ui.Label[Any]]:
    """Ten rows or fewer as "Confident" and "Shaky" checkbox groups."""
    first, last = rows.start + 1, rows.stop
    which = f"rows {first}-{last}" if last > first else f"row {first}"

    def items(level: int) -> list[tuple[int, str, bool]]:
        return [(r, form.rows[r], form.grades[r] == level) for r in rows]

    return [
        discord.ui.Label(
            text=f"Confident: {which}",
            description="Tick the rows you could explain to someone now.",
            component=_checkboxes(f"c{rows.start}-{rows.stop}", items(3)),
        ),
        discord.ui.Label(
            text=f"Shaky: {which}",
            description="A row ticked in neither is marked “need to re-study”.",
            component=_checkboxes(f"s{rows.start}-{rows.stop}", items(2)),
        ),
    ]


class AssessmentModal(discord.ui.Modal):
    """The self-assessment form (the part of it holding ``form.start``).

    Built already stopped, like the answer form: discord.py does not keep it, and the
    submission is routed by its custom id (also after a restart).
    """

    def __init__(self, form: AssessmentForm) -> None:
        checkpoints = form.checkpoints[:GROUP_OPTIONS]
        part = layout(len(form.rows), len(checkpoints), form.start)
        title = "Self-assessment"
        if part.parts > 1:
            title += f" ({part.number} of {part.parts})"
        super().__init__(title=title, custom_id=f"ja:{form.token}", timeout=None)
        if part.checkpoints:
            items = [(i, text, i in form.checks) for i, text in enumerate(checkpoints)]
            self.add_item(
                discord.ui.Label(
                    text="Checkpoints you got",
                    description=_cut(f"“{one_line(form.title)}”: tick each step you had.", 100),
                    component=_checkboxes(f"k0-{len(checkpoints)}", items),
                )
            )
        if part.radios:
            for row in part.rows:
                self.add_item(_radio(form, row))
        else:
            for start in range(part.rows.start, part.rows.stop, GROUP_OPTIONS):
                for label in _pair(form, range(start, min(part.rows.stop, start + GROUP_OPTIONS))):
                    self.add_item(label)
        self.stop()  # not stored: route_modal_submit handles the submission


def _inputs(data: Mapping[str, Any]) -> list[dict[str, Any]]:
    """The inputs of a submitted modal, in order (labels and rows unwrapped)."""
    found: list[dict[str, Any]] = []
    pending: list[Any] = list(data.get("components") or [])
    while pending:
        component = pending.pop(0)
        if not isinstance(component, dict):
            continue
        if isinstance(component.get("component"), dict):  # a label wraps one input
            pending.insert(0, component["component"])
        elif component.get("type") == 1:
            pending[:0] = list(component.get("components") or [])
        else:
            found.append(component)
    return found


def _numbers(values: object) -> list[int] | None:
    """A checkbox group's values as numbers (None: not a list of numbers)."""
    if not isinstance(values, list):
        return None
    out: list[int] = []
    for value in values:
        if not isinstance(value, str) or not _NUMBER.fullmatch(value):
            return None
        out.append(int(value))
    return out


def assessment_values(
    data: Mapping[str, Any],
) -> tuple[list[tuple[int, int]], list[int] | None]:
    """A submitted self-assessment form (raw ``interaction.data``): the ``(row, grade)``
    pairs and the ticked checkpoints (None: the form had none).

    A radio group left empty rates nothing (the core asks for the row); a row ticked
    both "Confident" and "Shaky" gives both (the core leaves it unrated and asks).
    Anything that cannot be read (a value that is no number, a row outside its group,
    half a pair) gives :data:`UNREADABLE`, so the core changes nothing and says so.
    """
    grades: list[tuple[int, int]] = []
    checks: list[int] | None = None
    pairs: dict[tuple[int, int], dict[str, list[int]]] = {}
    for component in _inputs(data):
        custom_id = str(component.get("custom_id") or "")
        radio = _RADIO.fullmatch(custom_id)
        group = _GROUP.fullmatch(custom_id)
        if component.get("type") == 21 and radio is not None:
            value = component.get("value")
            if value is None:
                continue
            if not isinstance(value, str) or len(value) != 1 or not _NUMBER.fullmatch(value):
                grades.append(UNREADABLE)
            else:
                grades.append((int(radio["row"]), int(value)))
        elif component.get("type") == 22 and group is not None:
            start, end = int(group["start"]), int(group["end"])
            picked = _numbers(component.get("values"))
            if picked is None or any(not start <= p < end for p in picked):
                grades.append(UNREADABLE)
            elif group["kind"] == "k":
                checks = sorted(set(checks or []) | set(picked))
            else:
                pairs.setdefault((start, end), {})[group["kind"]] = picked
        else:
            grades.append(UNREADABLE)  # an input this form never had
    for (start, end), kinds in pairs.items():
        if set(kinds) != {"c", "s"}:
            grades.append(UNREADABLE)
            continue
        confident, shaky = set(kinds["c"]), set(kinds["s"])
        for row in range(start, end):
            if row in confident:
                grades.append((row, 3))
            if row in shaky:
                grades.append((row, 2))
            if row not in confident and row not in shaky:
                grades.append((row, 1))
    return grades, checks
