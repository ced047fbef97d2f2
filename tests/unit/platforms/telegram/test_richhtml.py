"""Markdown as Telegram rich HTML: formulas, tables, escaping, hostile input; and what
counts as a server without ``sendRichMessage``."""

from __future__ import annotations

import pytest
from telegram.error import BadRequest, EndPointNotFound, InvalidToken

from bot.core.messages import Attachment, CardView, Reply
from bot.core.model import CardImage
from bot.platforms.telegram.rich import method_missing
from bot.platforms.telegram.richhtml import (
    RICH_LIMIT,
    reply_rich_html,
    rich_length,
    richable,
    to_rich_html,
)
from tests.e2e.telegram.fake import TelegramHTMLError, parse_rich_html


def test_inline_and_display_formulas() -> None:
    out = to_rich_html("The score is $q \\cdot k$, scaled:\n\n$$\\frac{QK^T}{\\sqrt{d_k}}$$")
    assert out == (
        "<p>The score is <tg-math>q \\cdot k</tg-math>, scaled:</p>"
        "<tg-math-block>\\frac{QK^T}{\\sqrt{d_k}}</tg-math-block>"
    )


def test_a_formula_keeps_its_backslashes_and_escapes_its_html() -> None:
    out = to_rich_html("Sets: $\\{x \\mid x < 1 \\& y > 2\\}$ and a matrix $a \\\\ b$.")
    assert "<tg-math>\\{x \\mid x &lt; 1 \\&amp; y &gt; 2\\}</tg-math>" in out
    assert "<tg-math>a \\\\ b</tg-math>" in out


def test_dollars_that_are_no_formula_stay_text() -> None:
    out = to_rich_html("It costs $5 and $6, or \\$7 for `echo $HOME`.")
    assert "tg-math" not in out
    assert out == "<p>It costs $5 and $6, or $7 for <code>echo $HOME</code>.</p>"


def test_emphasis_around_formulas() -> None:
    assert to_rich_html("**Bold $x_1$ and** *it $y$*") == (
        "<p><b>Bold <tg-math>x_1</tg-math> and</b> <i>it <tg-math>y</tg-math></i></p>"
    )


def test_a_table_becomes_a_table() -> None:
    out = to_rich_html("Shapes:\n\n| m | shape |\n|:--|--:|\n| $Q$ | **n** × d |\n| <V> | a & b |")
    assert out == (
        "<p>Shapes:</p><table><tr><th>m</th><th>shape</th></tr>"
        "<tr><td><tg-math>Q</tg-math></td><td><b>n</b> × d</td></tr>"
        "<tr><td>&lt;V&gt;</td><td>a &amp; b</td></tr></table>"
    )
    parse_rich_html(out)


def test_lists_quotes_headings_and_code() -> None:
    out = to_rich_html("# Title\n- one\n- two $x$\n1. first\n> said\n```python\nif a < b:\n```")
    assert out == (
        "<h3>Title</h3><ul><li>one</li><li>two <tg-math>x</tg-math></li></ul>"
        "<ol><li>first</li></ol><blockquote><p>said</p></blockquote>"
        '<pre><code class="language-python">if a &lt; b:</code></pre>'
    )
    parse_rich_html(out)  # a heading is a block Telegram takes


@pytest.mark.parametrize(
    "hostile",
    [
        "<script>alert(1)</script> & <b>bold</b>",
        "</p></table><tg-math>$x$",
        "$</tg-math><b>$ and $$</tg-math-block>$$",
        "** * _ __ ` ``` $ $$ \\",
        "| a |\n|---|\n| </td> |",
        "&amp; &lt; &#x41; &bogus;",
        "\x00\ue100 0\ue101 text",
        "an escaped \\<b\\>tag\\</p\\> and \\< alone",
        "| \\< |\n|---|\n| \\</td\\> |",
    ],
)
def test_hostile_input_is_text_and_parses(hostile: str) -> None:
    out = to_rich_html(hostile)
    text, _ = parse_rich_html(out)  # as Telegram reads it: never a parse error
    assert "<script>" not in out and "<b>bold</b>" not in out
    assert text.strip()


def test_blank_text_is_nothing() -> None:
    assert to_rich_html("") == ""
    assert to_rich_html("\n\n  \n") == ""


def card(**kwargs: object) -> CardView:
    fields: dict[str, object] = {
        "card_id": "c",
        "deck_title": "Deck & co",
        "title": "Scaled <scores>",
        "front": "Why divide by $\\sqrt{d_k}$?",
    }
    fields.update(kwargs)
    return CardView(**fields)  # type: ignore[arg-type]


def test_a_card_with_a_formula_picture_is_rich_and_typesets_it() -> None:
    front = card(front_image=CardImage("formula", "x = ?"))
    html = reply_rich_html(Reply("front", card=front))
    assert html == (
        "<p><b>Scaled &lt;scores&gt;</b> · <i>Deck &amp; co</i></p>"
        "<tg-math-block>x = ?</tg-math-block>"
        "<p>Why divide by <tg-math>\\sqrt{d_k}</tg-math>?</p>"
    )
    back = card(back="Variance.", back_image=CardImage("formula", "x = 1"), notes="Long notes.")
    html = reply_rich_html(Reply("back", "Good: soon.", card=back))
    assert html is not None
    assert html.startswith("<p>Good: soon.</p>")
    assert "<p><b>Answer</b></p><tg-math-block>x = 1</tg-math-block><p>Variance.</p>" in html
    assert html.endswith("<details><summary>Notes</summary><p>Long notes.</p></details>")
    parse_rich_html(html)


def test_only_plain_cards_and_formula_pictures_go_rich() -> None:
    assert not richable(Reply("info", "no card"))
    assert not richable(Reply("back", card=card(back="b", back_image=CardImage("diagram", "t"))))
    assert not richable(Reply("front", card=card(), photo_ref="file-id"))
    assert not richable(Reply("front", card=card(), photo=Attachment("answer.jpg", b"x")))
    assert richable(Reply("front", card=card()))


def test_a_text_with_a_stored_photo_is_no_rich_edit() -> None:
    """A tapped rich message is never edited into a reply's text alone: its stored photo
    (a member's challenge answer) would be lost."""
    photo = Attachment("answer.jpg", b"\xff\xd8\xff")
    assert reply_rich_html(Reply("info", "Your answer:", photo=photo), text=True) is None
    assert reply_rich_html(Reply("info", "Your answer:"), text=True) == "<p>Your answer:</p>"


def test_a_card_over_the_limit_goes_as_text() -> None:
    long = card(back="word " * (RICH_LIMIT // 5 + 10))
    assert reply_rich_html(Reply("back", card=long)) is None
    fits = reply_rich_html(Reply("back", card=card(back="word " * 5000)))
    assert fits is not None and rich_length(fits) <= RICH_LIMIT


def test_the_limit_counts_utf16_units() -> None:
    """Math letters and emoji take two UTF-16 units: counted so, a card that Telegram
    might count either way is never sent over its limit."""
    assert rich_length("<p>𝒳 &lt; 😀</p>") == 7
    wide = card(back="𝒳" * (RICH_LIMIT // 2 + 10))
    assert reply_rich_html(Reply("back", card=wide)) is None  # fits in characters only


def test_the_fake_refuses_what_telegram_would() -> None:
    for bad in ("<p>a<p>b</p>", "<td>x</td>", "<b><p>x</p></b>", "<p>a < b</p>", "<div>x</div>"):
        with pytest.raises(TelegramHTMLError):
            parse_rich_html(bad)


def test_what_counts_as_a_missing_method() -> None:
    assert method_missing(EndPointNotFound("Endpoint 'sendRichMessage' not found in Bot API"))
    not_found = InvalidToken("Not Found: method not found")
    assert method_missing(not_found)
    assert method_missing(BadRequest("Method not found"))
    assert not method_missing(InvalidToken("Unauthorized"))
    assert not method_missing(BadRequest("Can't parse entities: unexpected end tag"))
