"""Tests for bot.core.choices: the ``choices:`` syntax, its checks (as ``decks check``
reports them, file:line) and the poll a card makes."""

from __future__ import annotations

import re

import pytest

from bot.core.choices import (
    OPTION_LIMIT,
    QUESTION_LIMIT,
    SEE_ABOVE,
    Choices,
    clip,
    plain_text,
    poll_order,
    poll_question,
)
from bot.core.decks import CardDef, DeckError, check_deck_set, parse_deck
from bot.deckfiles import SHIPPED_DECKS
from bot.text.split import utf16_len


def deck(card_header: str, *, front: str = "Divide the scores by what?") -> str:
    return (
        "# Scaling\nid: scaling\n\n## Scale the scores\nid: scale\n"
        f"{card_header}\n\n### Front\n{front}\n\n### Back\nBy the square root of d_k.\n"
    )


def parse(card_header: str, **kw: str) -> tuple[CardDef | None, list[str]]:
    parsed, errors = parse_deck(deck(card_header, **kw), "scaling.md")
    checked = check_deck_set([parsed] if parsed else [], errors)
    cards = list(checked.cards())
    return (cards[0] if cards else None), [str(e) for e in checked.errors]


GOOD = "choices:\n- [ ] by $d_k$\n- [x] by $\\sqrt{d_k}$\n- [ ] by $d_{model}$"


def test_a_list_with_one_right_option_is_read_in_order() -> None:
    card, errors = parse(GOOD)
    assert errors == []
    assert card is not None
    assert card.choices == Choices(("by $d_k$", "by $\\sqrt{d_k}$", "by $d_{model}$"), 1)
    assert card.choices.answer == "by $\\sqrt{d_k}$"


def test_blank_lines_and_star_items_and_capital_x_are_fine() -> None:
    card, errors = parse("difficulty: easy\nchoices:\n\n* [X] right\n*   [ ]   wrong\ntags: t")
    assert errors == []
    assert card is not None and card.choices == Choices(("right", "wrong"), 0)
    assert card.difficulty == "easy" and "t" in card.tags


def test_a_card_without_choices_has_none() -> None:
    card, errors = parse("difficulty: hard")
    assert errors == [] and card is not None and card.choices is None


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        (
            "choices: a, b",
            "scaling.md:6: choices: takes a list on the lines below it, one option per line: "
            "'- [x] the right one' or '- [ ] a wrong one'",
        ),
        ("choices:\n- [x] only", "scaling.md:6: choices: has 1 option; a quiz poll takes 2 to 10"),
        ("choices:", "scaling.md:6: choices: has 0 options; a quiz poll takes 2 to 10"),
        (
            "choices:\n- [x] a\n- [ ] b\n- [x] c",
            "scaling.md:6: choices: has 2 options marked right '[x]' (lines 7, 9); "
            "mark exactly one",
        ),
        (
            "choices:\n- [ ] a\n- [ ] b",
            "scaling.md:6: choices: has 0 options marked right '[x]'; mark exactly one",
        ),
        (
            "choices:\n- [x] a\n- b",
            "scaling.md:8: mark each option right '[x]' or wrong '[ ]', as in '- [x] sqrt(d_k)'",
        ),
        ("choices:\n- [x] a\n- [ ]", "scaling.md:8: this option is empty"),
        ("choices:\n- [x] a\n- [ ] **  **", "scaling.md:8: this option is empty"),
        (
            "choices:\n- [x] Softmax\n- [ ] *softmax*",
            "scaling.md:8: this option repeats the one on line 7",
        ),
        (
            "choices:\n- [x] a\n- [ ] " + "b" * 101,
            "scaling.md:8: this option is 101 characters as a poll shows it; Telegram allows 100",
        ),
        (
            "- [x] a",
            "scaling.md:6: a list item in card 'Scale the scores' outside a 'choices:' list",
        ),
        (
            "choices:\n- [x] a\n- [ ] b\ndifficulty: easy\n- [ ] c",
            "scaling.md:10: a list item in card 'Scale the scores' outside a 'choices:' list",
        ),
    ],
)
def test_decks_check_names_the_line_of_each_problem(header: str, expected: str) -> None:
    _, errors = parse(header)
    assert errors == [expected]


def test_eleven_options_are_too_many() -> None:
    items = "\n".join(f"- [{'x' if i == 0 else ' '}] option {i}" for i in range(11))
    _, errors = parse("choices:\n" + items)
    assert errors == ["scaling.md:6: choices: has 11 options; a quiz poll takes 2 to 10"]


def test_ten_options_of_a_hundred_characters_are_fine() -> None:
    items = "\n".join(f"- [{'x' if i == 0 else ' '}] {i}" + "o" * 99 for i in range(10))
    card, errors = parse("choices:\n" + items)
    assert errors == [] and card is not None and card.choices is not None
    assert all(utf16_len(o) == OPTION_LIMIT for o in card.choices.options)


def test_an_option_is_counted_as_a_poll_shows_it() -> None:
    """A formula counts as its Unicode (\\sqrt{d_k} is √d_k), not as its LaTeX."""
    long_latex = "$" + " ".join(["\\sqrt{d_k}"] * 12) + "$"  # 133 characters written, 59 shown
    card, errors = parse(f"choices:\n- [x] {long_latex}\n- [ ] b")
    assert errors == [] and card is not None


def test_deck_errors_are_deck_errors() -> None:
    parsed, errors = parse_deck(deck("choices:\n- [x] a"), "scaling.md")
    assert errors == [
        DeckError("scaling.md", 6, "choices: has 1 option; a quiz poll takes 2 to 10")
    ]
    assert parsed is not None and parsed.cards[0].choices is None


def test_stored_form_round_trips_and_refuses_what_it_cannot_read() -> None:
    choices = Choices(("a", "b", "c"), 2)
    assert Choices.from_json(choices.to_json()) == choices
    assert Choices.from_json(None) is None
    assert Choices.from_json("") is None
    assert Choices.from_json("not json") is None
    assert Choices.from_json('{"options": ["a"], "correct": 0}') is None
    assert Choices.from_json('{"options": ["a", "b"], "correct": 2}') is None


def test_plain_text_is_what_a_poll_can_show() -> None:
    assert plain_text("divide by $\\sqrt{d_k}$") == "divide by √d_k"
    assert plain_text("**bold**, *italic* and `code`") == "bold, italic and code"
    assert plain_text("a [link](https://x.y) and  spaces ") == "a link and spaces"
    assert plain_text("$QK^T$") == "QKᵀ"
    assert plain_text("a question written\nover two lines\n\nand a note") == (
        "a question written over two lines\nand a note"
    )


def test_the_shuffle_is_fixed_by_the_round_and_keeps_the_right_answer() -> None:
    choices = Choices(("a", "b", "c", "d", "e"), 3)
    orders = {poll_order(choices, f"token{i}").options for i in range(30)}
    assert len(orders) > 5  # the right answer does not sit in one place
    for i in range(30):
        order = poll_order(choices, f"token{i}")
        assert order == poll_order(choices, f"token{i}")
        assert sorted(order.options) == ["a", "b", "c", "d", "e"]
        assert order.options[order.correct] == "d"


def test_the_question_is_the_front_when_it_fits() -> None:
    assert poll_question("Divide by what, $d_k$?", False) == "Divide by what, d_k?"
    assert poll_question("x" * QUESTION_LIMIT, False) == "x" * QUESTION_LIMIT
    assert poll_question("x" * (QUESTION_LIMIT + 1), False) is None
    assert poll_question("Short", True) is None  # its picture goes above
    assert poll_question("| a | b |\n|---|---|\n| 1 | 2 |", False) is None
    assert poll_question("$$\nx^2\n$$", False) is None
    assert poll_question("```\ncode\n```", False) is None
    assert SEE_ABOVE and utf16_len(SEE_ABOVE) <= QUESTION_LIMIT


def test_clip() -> None:
    assert clip("short", 10) == "short"
    assert clip("a" * 20, 10) == "a" * 9 + "…"
    assert utf16_len(clip("😀" * 20, 10)) <= 10


def test_the_readme_example_is_valid() -> None:
    readme = (SHIPPED_DECKS / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Multiple choice: quiz polls", 1)[1]
    match = re.search(r"````markdown\n(.*?)````", section, re.DOTALL)
    assert match is not None
    text = "# Example\n\n" + match.group(1) + "\n### Back\nBy the square root.\n"
    parsed, errors = parse_deck(text, "README.md")
    assert errors == [] and parsed is not None
    (card,) = parsed.cards
    assert card.choices is not None and card.choices.answer == "by $\\sqrt{d_k}$"
