"""Tests for bot.text.terminal: markdown wrapped and styled for a terminal, or plain."""

from __future__ import annotations

import pytest

from bot.deckfiles import SHIPPED_DECKS, load_decks
from bot.text.markdown import display_width
from bot.text.terminal import Run, Terminal, inline_runs, strip_ansi, visible_width

PLAIN_80 = Terminal(width=80)
COLOUR_80 = Terminal(width=80, colour=True)
ESC = "\x1b["

DOT = r"The **dot product** $a \cdot b = \sum_i a_i b_i$"

PROSE = (
    "It lets the token gather information from the other tokens, mixing in more of the "
    "tokens it judges relevant and less of the rest: relevance is a similarity score, "
    "mixing is a weighted average over the values of every other token in the sequence."
)


def words(text: str) -> list[str]:
    return strip_ansi(text).split()


# --------------------------------------------------------------------------- inline


def test_the_dot_product_reads_as_unicode_plain() -> None:
    assert PLAIN_80.markdown(DOT) == "The dot product a · b = Σ_i a_i b_i"


def test_bold_italic_and_code_are_styled_on_a_terminal() -> None:
    text = COLOUR_80.markdown("A **bold** and *italic* `code` word.")
    assert text == "A \x1b[1mbold\x1b[0m and \x1b[3mitalic\x1b[0m \x1b[36mcode\x1b[0m word."
    assert strip_ansi(text) == PLAIN_80.markdown("A **bold** and *italic* `code` word.")


def test_plain_output_has_no_markers_and_no_escape_codes() -> None:
    text = PLAIN_80.markdown("A **bold** and *italic* `code` word, $QK^T$ too.")
    assert text == "A bold and italic code word, QKᵀ too."
    assert ESC not in text and "*" not in text and "`" not in text and "$" not in text


def test_the_dot_product_is_bold_on_a_terminal_with_its_math_as_unicode() -> None:
    text = COLOUR_80.markdown(DOT)
    assert "\x1b[1mdot product\x1b[0m" in text
    assert strip_ansi(text) == "The dot product a · b = Σ_i a_i b_i"


def test_emphasis_nests_and_math_inside_bold_is_bold() -> None:
    runs = inline_runs(r"**bold *both* and $\sqrt{d_k}$**")
    assert runs == [
        Run("bold ", frozenset({"bold"})),
        Run("both", frozenset({"bold", "italic"})),
        Run(" and ", frozenset({"bold"})),
        Run("√d_k", frozenset({"bold"})),
    ]


def test_code_and_math_are_not_read_as_emphasis() -> None:
    assert PLAIN_80.markdown("`a * b * c` and $a * b * c$") == "a * b * c and a * b * c"
    assert PLAIN_80.markdown(r"a \*literal\* star, \$5") == "a *literal* star, $5"


# --------------------------------------------------------------------------- wrapping


@pytest.mark.parametrize("width", [40, 80])
def test_wrapping_never_splits_a_word(width: int) -> None:
    term = Terminal(width=width)
    text = term.markdown(PROSE, "  ")
    lines = text.splitlines()
    assert len(lines) > 1
    assert all(display_width(line) <= width for line in lines)
    assert words(text) == PROSE.split()  # every word whole, in order
    assert "relevanc\n" not in text


@pytest.mark.parametrize("width", [40, 80])
def test_wrapping_every_shipped_card_keeps_every_word(width: int) -> None:
    """Every card side of the shipped decks, wrapped: no line over the width unless it
    is one word (or code, or a table), and no word cut."""
    term = Terminal(width=width, colour=True)
    plain = Terminal(width=None)
    for card in load_decks([SHIPPED_DECKS]).cards():
        for side in (card.front, card.back, card.notes or ""):
            text = term.markdown(side, "  ", join_lines=True)
            assert words(text) == words(plain.markdown(side, "  ", join_lines=True)), card.id
            for line in text.splitlines():
                if visible_width(line) > width:
                    assert "```" in side or "|" in side or len(words(line)) == 1, (card.id, line)


def test_a_styled_line_wraps_by_what_shows_not_by_its_escape_codes() -> None:
    text = Terminal(width=20, colour=True).markdown("**aaaa bbbb cccc dddd eeee** ffff")
    assert [strip_ansi(line) for line in text.splitlines()] == [
        "aaaa bbbb cccc dddd",
        "eeee ffff",
    ]


def test_a_word_longer_than_the_line_gets_a_line_of_its_own() -> None:
    long = "x" * 30
    text = Terminal(width=20).markdown(f"short {long} end")
    assert text.splitlines() == ["short", long, "end"]


def test_no_width_means_no_wrapping() -> None:
    assert Terminal(width=None).markdown(PROSE) == PROSE


def test_hard_wrapped_card_text_is_joined_then_wrapped() -> None:
    card = "The first line of a paragraph\nand its second line.\n\nA second paragraph."
    text = PLAIN_80.markdown(card, "  ", join_lines=True)
    assert text == "  The first line of a paragraph and its second line.\n\n  A second paragraph."


def test_message_lines_are_kept_unless_joining() -> None:
    text = PLAIN_80.markdown("Due today: 3\nReviewed today: 1")
    assert text == "Due today: 3\nReviewed today: 1"


def test_a_hard_line_break_is_kept_when_joining() -> None:
    assert PLAIN_80.markdown("one  \ntwo", join_lines=True) == "one\ntwo"


# --------------------------------------------------------------------------- blocks


def test_list_items_keep_their_indent_when_wrapped() -> None:
    md = (
        "- Sum to one: each exponential is divided by the total of all of them, so the\n"
        "  weights add up to exactly 1.\n"
        "- Short.\n"
        "12. A numbered item that is long enough to wrap onto a second line here."
    )
    text = Terminal(width=40).markdown(md, "  ", join_lines=True)
    assert text.splitlines() == [
        "  • Sum to one: each exponential is",
        "    divided by the total of all of them,",
        "    so the weights add up to exactly 1.",
        "  • Short.",
        "  12. A numbered item that is long",
        "      enough to wrap onto a second line",
        "      here.",
    ]


def test_an_indented_paragraph_keeps_its_indent() -> None:
    md = "Intro.\n\n    an indented paragraph that is long enough to wrap at forty"
    text = Terminal(width=40).markdown(md, join_lines=True)
    assert text.splitlines()[2:] == [
        "    an indented paragraph that is long",
        "    enough to wrap at forty",
    ]


def test_a_quote_keeps_its_bar_on_every_line() -> None:
    text = Terminal(width=30).markdown("> a quote long enough to wrap onto two lines")
    assert text.splitlines() == ["│ a quote long enough to wrap", "│ onto two lines"]


def test_a_heading_is_bold_without_its_hashes() -> None:
    assert PLAIN_80.markdown("## Heading") == "Heading"
    assert COLOUR_80.markdown("## Heading") == "\x1b[1mHeading\x1b[0m"


def test_code_blocks_are_never_rewrapped() -> None:
    long = "x = some_function(argument_one, argument_two, argument_three)  # a comment"
    md = f"Run this:\n\n```python\n{long}\n    indented()\n```\n\nDone."
    text = Terminal(width=40).markdown(md, "  ")
    assert text.splitlines() == [
        "  Run this:",
        "",
        f"    {long}",
        "        indented()",
        "",
        "  Done.",
    ]
    coloured = Terminal(width=40, colour=True).markdown(md)
    assert f"\x1b[36m{long}\x1b[0m" in coloured


TABLE = """\
| name | shape | params |
|------|:-----:|------:|
| $W_Q$ | $d \\times d_k$ | **262144** |
| the output projection $W_O$ | `d x d` | 1 |
"""


def test_tables_are_aligned_and_never_rewrapped() -> None:
    text = Terminal(width=20).markdown(TABLE, "  ")
    assert text.splitlines() == [
        "  name                      |  shape  | params",
        "  --------------------------+---------+-------",
        "  W_Q                       | d × d_k | 262144",
        "  the output projection W_O |  d x d  |      1",
    ]


def test_a_table_header_is_bold_on_a_terminal() -> None:
    text = Terminal(width=80, colour=True).markdown(TABLE)
    first, rule = text.splitlines()[:2]
    assert first.startswith("\x1b[1mname") and rule.startswith("\x1b[2m---")


def test_display_math_gets_a_line_of_its_own() -> None:
    md = "The rule:\n\n$$\n\\mathrm{softmax}(s)_j = \\frac{e^{s_j}}{\\sum_k e^{s_k}}\n$$\n\nDone."
    text = PLAIN_80.markdown(md, join_lines=True)
    assert text.splitlines() == [
        "The rule:",
        "",
        "  softmax(s)_j = e^(s_j)/(Σ_k e^(s_k))",
        "",
        "Done.",
    ]


def test_text_wraps_plain_text_without_reading_markdown() -> None:
    assert Terminal(width=12).text("a *b* c d e f g", "  ") == "  a *b* c d\n  e f g"
