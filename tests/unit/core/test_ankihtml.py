"""Tests for bot.core.ankihtml: Anki field HTML as our card markdown."""

from __future__ import annotations

import pytest

from bot.core.ankihtml import (
    IMAGE_MARK,
    convert,
    field_is_empty,
    finish,
    plain_line,
    plain_text,
    resolve_images,
)
from bot.text.latex import math_fallback
from bot.text.terminal import Terminal


def md(html: str) -> str:
    """The finished markdown of a piece of HTML with no images."""
    converted = convert(html)
    assert converted.images == ()
    return finish(converted.text)


# --------------------------------------------------------------------------- structure


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("one<br>two", "one  \ntwo"),
        ("one<br/>two<BR >three", "one  \ntwo  \nthree"),
        ("<div>one</div><div>two</div>", "one  \ntwo"),
        ("<div>one</div><div><br></div><div>two</div>", "one\n\ntwo"),
        ("<p>one</p><p>two</p>", "one\n\ntwo"),
        ("a\n  b\t\tc", "a b c"),
        ("<div>a</div>\n\n\n<br><br><br><br><div>b</div>", "a\n\nb"),
        ("<ul><li>one</li><li>two</li></ul>after", "- one\n- two  \nafter"),
        ("<ol><li>one</li><li>two</li></ol>", "1. one\n2. two"),
        ("<ul><li>a<ul><li>inner</li></ul></li></ul>", "- a\n  - inner"),
        ("<h2>Heading</h2>text", "**Heading**\n\ntext"),
        ("a<hr>b", "a\n\nb"),
    ],
)
def test_blocks_and_line_breaks(html: str, expected: str) -> None:
    assert md(html) == expected


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("<b>bold</b> and <strong>strong</strong>", "**bold** and **strong**"),
        ("<i>it</i> <em>em</em>", "*it* *em*"),
        ("<u>under</u>lined", "underlined"),
        ("<b> padded </b>x", "**padded** x"),
        ("<b>a<br>b</b>", "**a**  \n**b**"),
        ("<b><b>twice</b></b>", "**twice**"),
        ("<b></b>empty", "empty"),
        ("<b>open to the end", "**open to the end**"),
        ("stray</b> close", "stray close"),
        ('<a href="https://x.example">the link</a>', "the link"),
        ('<span style="color:red">red</span>', "red"),
    ],
)
def test_inline_markup(html: str, expected: str) -> None:
    assert md(html) == expected


def test_code_and_pre() -> None:
    assert md("run <code>x_y = 1</code> now") == "run `x_y = 1` now"
    assert md("<code>a`b</code>") == "a\\`b"
    assert md("<pre>def f():\n    return 1</pre>") == "```\ndef f():\n    return 1\n```"
    assert md("<pre>a<br>b</pre>") == "```\na\nb\n```"
    # Text inside code is not escaped, and no emphasis is read there.
    assert md("<code>*p</code>") == "`*p`"


def test_a_table_becomes_a_markdown_table() -> None:
    html = (
        "<table><tr><th>verb</th><th>past</th></tr>"
        "<tr><td>go</td><td>went</td></tr><tr><td>a|b</td><td><b>c</b></td></tr></table>"
    )
    assert md(html) == "| verb | past |\n|---|---|\n| go | went |\n| a\\|b | **c** |"


def test_script_style_and_media_are_dropped_with_their_content() -> None:
    html = (
        "<style>.card{color:red}</style>before<script>var x = '<b>';</script> after"
        "<audio src=x.mp3>no audio</audio><svg><text>svg text</text></svg>"
    )
    assert md(html) == "before after"


def test_entities_are_decoded_and_nbsp_is_a_space() -> None:
    assert md("caf&eacute; &amp; cr&#232;me&nbsp;&nbsp;br&ucirc;l&eacute;e &lt;tag&gt;") == (
        "café & crème brûlée <tag>"
    )


def test_html_comments_and_private_use_characters_are_dropped() -> None:
    assert md("a<!-- hidden -->b\U000f0001c") == "abc"


# --------------------------------------------------------------------------- escaping


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("It costs $5", "It costs \\$5"),
        ("$5 and $10", "\\$5 and \\$10"),
        ("2 * 3 * 4", "2 \\* 3 \\* 4"),
        ("__init__", "\\_\\_init\\_\\_"),
        ("snake_case", "snake_case"),
        ("a `tick`", "a \\`tick\\`"),
        ("# not a heading", "\\# not a heading"),
        ("> not a quote", "\\> not a quote"),
        ("C:\\path", "C:\\path"),
        ("ends with \\", "ends with \\\\"),
    ],
)
def test_literal_specials_are_escaped(html: str, expected: str) -> None:
    assert md(html) == expected


def test_an_escaped_dollar_is_never_read_as_math() -> None:
    text = md("Pay $5 now or $6 later, x$y$z")
    assert math_fallback(text) == text
    # The console shows the dollars themselves.
    shown = Terminal(width=None).markdown(text)
    assert shown == "Pay $5 now or $6 later, x$y$z"


# --------------------------------------------------------------------------- formulas


@pytest.mark.parametrize(
    ("html", "expected"),
    [
        ("area \\(\\pi r^2\\) here", "area $\\pi r^2$ here"),
        ("\\( x &lt; y \\)", "$x < y$"),
        ("\\(a<br>b\\)", "$a b$"),
        ("see \\[\\sum_i x_i\\] done", "see\n$$\\sum_i x_i$$\ndone"),
        ("[latex]$x^2$[/latex]", "$x^2$"),
        ("[latex]$$x^2$$[/latex]", "$$x^2$$"),
        ("[latex]\\begin{displaymath}y\\end{displaymath}[/latex]", "$$y$$"),
        ("[latex]E = mc^2[/latex]", "$E = mc^2$"),
        ("[$]a_1[/$] and [$$]b[/$$]", "$a_1$ and\n$$b$$"),
        ("\\(x\\)2", "$x$ 2"),
        ("\\(\\)", ""),
    ],
)
def test_formulas(html: str, expected: str) -> None:
    assert md(html) == expected


def test_a_formula_with_a_dollar_stays_text_as_written() -> None:
    text = md("\\(\\text{\\$5}\\)")
    assert math_fallback(text) == text
    assert Terminal(width=None).markdown(text) == "\\(\\text{\\$5}\\)"


def test_a_formula_keeps_its_backslashes_and_stars_unescaped() -> None:
    assert md("\\(a * b \\cdot c\\)") == "$a * b \\cdot c$"


def test_a_formula_reads_as_one_in_our_markdown() -> None:
    text = md("\\(\\alpha + \\beta\\)")
    assert math_fallback(text) == "α + β"


# --------------------------------------------------------------------------- sounds, images


def test_sounds_are_dropped_and_counted() -> None:
    converted = convert("word [sound:word.mp3] and [SOUND:x.ogg]")
    assert finish(converted.text) == "word and"
    assert converted.sounds == 2
    spoken = convert("hola [anki:tts lang=es_ES]hola[/anki:tts] amigo")
    assert (finish(spoken.text), spoken.sounds) == ("hola amigo", 1)


def test_images_are_marked_in_order_with_decoded_names() -> None:
    converted = convert(
        '<img src="a%20b.png"> text <img src=\'c&amp;d.jpg\'><img src=e.gif /><img alt="no src">'
    )
    assert converted.images == ("a b.png", "c&d.jpg", "e.gif")
    assert converted.text == f"{chr(IMAGE_MARK)} text {chr(IMAGE_MARK + 1)}{chr(IMAGE_MARK + 2)}"


def test_resolving_images_drops_a_space_with_a_mark_that_becomes_nothing() -> None:
    converted = convert('before <img src="a.png"> after <img src="b.png">')
    text = resolve_images(converted.text, lambda i: "" if i == 0 else f"[image: {i}]")
    assert finish(text) == "before after [image: 1]"


def test_an_image_is_kept_out_of_emphasis() -> None:
    converted = convert('<b>bold <img src="a.png"></b>')
    assert finish(resolve_images(converted.text, lambda i: "")) == "**bold**"


# --------------------------------------------------------------------------- helpers


def test_plain_text() -> None:
    assert plain_text("<div>Hello&nbsp;<b>world</b></div><div>again</div>") == "Hello world again"
    assert plain_text("a<script>x()</script>b") == "a b"
    assert plain_text("  ") == ""


@pytest.mark.parametrize(
    ("value", "empty"),
    [
        ("", True),
        (" <br> &nbsp; <div></div><br/>", True),
        ("x", False),
        ('<img src="a.png">', False),
    ],
)
def test_field_is_empty(value: str, empty: bool) -> None:
    assert field_is_empty(value) is empty


def test_plain_line_for_titles() -> None:
    assert plain_line("- **Bold** and `code` with $\\alpha$ \\$5") == "Bold and code with α $5"
    long = plain_line("word " * 40)
    assert len(long) == 80 and long.endswith("…")


def test_malformed_html_does_not_raise() -> None:
    for html in ["<", "<<b>", "<div", "</>", "<b><i>x</b></i>", "<table><td>x", "<pre>", "&#xZZ;"]:
        convert(html)


#: Fields built to make a backtracking pattern take exponential or quadratic time (each
#: of these took from seconds to days before): each must convert in one pass. 100,000
#: characters each, so a quadratic pattern shows as a suite that does not finish.
HOSTILE = {
    "a tag that never closes": "if a<b" + "c" * 100_000,
    "many tag openings": "<a" * 50_000,
    "many declarations": "<!" * 50_000,
    "an unclosed quote in each tag": '<a "' * 25_000,
    "inline formulas never closed": "\\(" * 50_000,
    "display formulas never closed": "\\[" * 50_000,
    "[latex] never closed": "[latex]" * 15_000,
    "speech never closed": "[anki:tts]" * 10_000,
    "scripts never closed": "<script " * 12_500,
}


@pytest.mark.parametrize("text", HOSTILE.values(), ids=HOSTILE.keys())
def test_hostile_fields_convert_in_one_pass(text: str) -> None:
    converted = convert(text)
    assert len(converted.text) <= 3 * len(text)
    assert len(plain_text(text)) <= len(text)
