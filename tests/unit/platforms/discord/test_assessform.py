"""Tests for bot.platforms.discord.assessform: how the self-assessment form is laid out
within Discord's limits, and how a submission is read."""

from __future__ import annotations

import pytest

from bot.core.outcomes import AssessmentForm
from bot.platforms.discord.assessform import (
    MODAL_LABELS,
    ROWS_PER_FORM,
    UNREADABLE,
    AssessmentModal,
    assessment_values,
    layout,
)
from tests.e2e.discord.discord_fakes import modal_problems

TOKEN = "AbCdEfGh12"


def form(rows: int, checkpoints: int, start: int = 0, text: str = "Row") -> AssessmentForm:
    return AssessmentForm(
        token=TOKEN,
        title="Scaled dot-product attention: derive $\\sqrt{d_k}$",
        checkpoints=tuple(f"Checkpoint {n + 1}" for n in range(checkpoints)),
        rows=tuple(f"{text} {n + 1}" for n in range(rows)),
        grades=tuple((n % 3) + 1 if n % 4 else None for n in range(rows)),
        checks=(0,) if checkpoints else (),
        start=start,
    )


def test_twenty_rows_fit_one_form() -> None:
    assert ROWS_PER_FORM == 20
    assert layout(4, 5).radios and layout(4, 5).rows == range(4)
    assert layout(5, 0).radios and not layout(5, 0).checkpoints
    five = layout(5, 6)  # one label for the checkpoints leaves four: checkbox pairs
    assert not five.radios and five.rows == range(5) and five.parts == 1
    assert layout(20, 10).rows == range(20) and layout(20, 10).parts == 1
    second = layout(27, 5, start=20)
    assert (second.rows, second.number, second.parts, second.checkpoints) == (
        range(20, 27),
        2,
        2,
        False,
    )
    tail = layout(43, 0, start=41)  # three rows left: a radio group each
    assert tail.rows == range(40, 43) and tail.radios and tail.number == 3
    assert layout(27, 5, start=99).number == 2  # a start past the end: the last part


@pytest.mark.parametrize("checkpoints", [0, 1, 5, 10, 12])
@pytest.mark.parametrize("rows", [1, 2, 4, 5, 6, 10, 11, 19, 20, 21, 33, 60])
def test_every_layout_is_one_discord_accepts(rows: int, checkpoints: int) -> None:
    covered: list[int] = []
    start = 0
    while start < rows:
        modal = AssessmentModal(form(rows, checkpoints, start, "A long rubric row " * 8))
        payload = modal.to_dict()
        assert modal_problems(dict(payload)) == []
        assert len(payload["components"]) <= MODAL_LABELS
        part = layout(rows, min(checkpoints, 10), start)
        covered.extend(part.rows)
        start = part.rows.stop
    assert covered == list(range(rows))


def test_the_form_is_filled_in_with_what_was_rated() -> None:
    modal = AssessmentModal(form(3, 2)).to_dict()
    checks, *radios = modal["components"]
    assert checks["component"]["custom_id"] == "k0-2"
    assert [o["default"] for o in checks["component"]["options"]] == [True, False]
    assert "√" in checks["description"] and "$" not in checks["description"]
    # Row 1 not rated (no default); row 2 Shaky; row 3 Confident.
    defaults = [[o["default"] for o in r["component"]["options"]] for r in radios]
    assert defaults == [[False, False, False], [False, True, False], [True, False, False]]


def _label(component: dict[str, object]) -> dict[str, object]:
    return {"type": 18, "id": 1, "component": component}


def test_a_submission_is_read_as_row_grades_and_checks() -> None:
    data = {
        "custom_id": f"ja:{TOKEN}",
        "components": [
            _label({"type": 22, "custom_id": "k0-5", "values": ["0", "3"]}),
            _label({"type": 21, "custom_id": "r0", "value": "3"}),
            _label({"type": 21, "custom_id": "r1", "value": None}),
            _label({"type": 21, "custom_id": "r2", "value": "1"}),
        ],
    }
    assert assessment_values(data) == ([(0, 3), (2, 1)], [0, 3])
    pairs = {
        "components": [
            _label({"type": 22, "custom_id": "c0-4", "values": ["0", "2"]}),
            _label({"type": 22, "custom_id": "s0-4", "values": ["2", "3"]}),
        ]
    }
    grades, checks = assessment_values(pairs)
    assert checks is None
    assert grades == [(0, 3), (1, 1), (2, 3), (2, 2), (3, 2)]  # row 3 ticked twice


@pytest.mark.parametrize(
    "component",
    [
        {"type": 21, "custom_id": "r0", "value": "high"},
        {"type": 21, "custom_id": "r0", "value": "33"},
        {"type": 22, "custom_id": "c0-4", "values": ["7"]},  # outside its rows
        {"type": 22, "custom_id": "k0-4", "values": "0"},  # not a list
        {"type": 22, "custom_id": "c0-4", "values": ["0"]},  # half a pair
        {"type": 4, "custom_id": "answer", "value": "hello"},  # an input it never had
        {"type": 21, "custom_id": "x0", "value": "3"},
        {"type": 21, "custom_id": "r0", "value": "²"},  # a digit to str, not to int()
        {"type": 22, "custom_id": "k0-4", "values": ["¹"]},
    ],
)
def test_what_cannot_be_read_is_marked_unreadable(component: dict[str, object]) -> None:
    grades, _ = assessment_values({"components": [_label(component)]})
    assert UNREADABLE in grades


def test_a_pair_of_one_row_names_that_row() -> None:
    # Eleven rows beside the checkpoints: rows 1-10, then row 11 alone in its pair.
    payload = AssessmentModal(form(11, 3)).to_dict()
    labels = [c["label"] for c in payload["components"][1:]]
    assert labels == [
        "Confident: rows 1-10",
        "Shaky: rows 1-10",
        "Confident: row 11",
        "Shaky: row 11",
    ]
