"""bot.platforms.telegram.formatting: core replies as Telegram HTML, checked with the same
strict parser the fake Bot API uses, split under the limits counted in UTF-16."""

from __future__ import annotations

import pytest

from bot.core.messages import Button, CardView, Reply
from bot.core.model import CardImage
from bot.platforms.telegram import formatting
from bot.platforms.telegram.formatting import (
    OPEN_WORKSPACE,
    TELEGRAM_CAPTION,
    TELEGRAM_MESSAGE,
    card_markdown,
    keyboard,
    prepare,
    reply_markdown,
    split_html,
    to_html,
    unwrap,
    workspace_url,
)
from tests.e2e.telegram.fake import parse_html, utf16


def visible(markup: str) -> str:
    return parse_html(markup)[0]


def test_everything_is_escaped_and_only_our_markup_becomes_tags() -> None:
    markup = to_html("**Bold** & *it* <script>alert(1)</script> `x < y` 2*3*4 a**b")
    assert markup == (
        "<b>Bold</b> &amp; <i>it</i> &lt;script&gt;alert(1)&lt;/script&gt; "
        "<code>x &lt; y</code> 2*3*4 a**b"
    )
    assert visible(markup) == "Bold & it <script>alert(1)</script> x < y 2*3*4 a**b"


def test_code_blocks_become_pre_and_keep_their_text() -> None:
    markup = to_html("Before\n```python\nif a < b and c > d:\n    **x**\n```\nafter")
    assert (
        '<pre><code class="language-python">if a &lt; b and c &gt; d:\n    **x**</code></pre>'
        in markup
    )
    assert visible(markup).startswith("Before\nif a < b")


def test_odd_emphasis_falls_back_to_plain_escaped_text() -> None:
    markup = to_html("**a *b** c* <d>")
    parse_html(markup)  # well formed
    assert "&lt;d&gt;" in markup


def test_math_becomes_unicode_and_tables_become_monospace() -> None:
    text = prepare(
        "Scores: $\\frac{QK^T}{\\sqrt{d_k}}$\n\n"
        "| operand | shape |\n|---|---|\n| $Q$ | $n \\times d_k$ |"
    )
    assert "QKᵀ/√d_k" in text
    assert "$" not in text
    markup = to_html(text)
    assert "<pre>operand | shape" in markup
    assert "Q       | n × d_k" in visible(markup)


def test_unwrap_joins_soft_breaks_but_keeps_lists_tables_and_code() -> None:
    text = (
        "one\ntwo\n\n- item\n- item\ncontinued\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nx\ny\n```"
    )
    assert unwrap(text) == (
        "one two\n\n- item\n- item continued\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n```\nx\ny\n```"
    )


@pytest.mark.parametrize("first", [TELEGRAM_CAPTION, TELEGRAM_MESSAGE])
def test_split_respects_the_limits_counted_in_utf16(first: int) -> None:
    paragraph = "Emoji 🙂 count twice in UTF-16 & so do 𝔼 letters; <tags> stay text. " * 9
    markdown = "\n\n".join(f"**{n}.** {paragraph}" for n in range(40))
    pieces = split_html(markdown, first)
    assert len(pieces) >= 4
    assert utf16(visible(pieces[0])) <= first
    assert all(utf16(visible(p)) <= TELEGRAM_MESSAGE for p in pieces)
    joined = "".join(visible(p) for p in pieces)
    assert joined.count("<tags>") == 40 * 9


def test_a_long_code_block_is_closed_and_reopened() -> None:
    code = "\n".join(f"line {i} <{i}>" for i in range(800))
    pieces = split_html(f"```\n{code}\n```", TELEGRAM_MESSAGE)
    assert len(pieces) >= 2
    for piece in pieces:
        assert piece.startswith("<pre>") and piece.endswith("</pre>")
        assert utf16(visible(piece)) <= TELEGRAM_MESSAGE


def test_a_card_reply_has_title_front_back_and_image_text_when_no_photo() -> None:
    card = CardView(
        card_id="c1",
        deck_title="Deck <1>",
        title="Keys & values",
        front="Shape of $K$?",
        back="$n \\times d_k$",
        mnemonic="K for keys",
        notes="See\nalso V.",
        back_image=CardImage("shape", "X[n,d] @ W_K[d,d_k] -> K[n,d_k]; n=6"),
    )
    reply = Reply(
        "back", "From the quiz", card=card, buttons=((Button("Good", "r:abcdefgh:3", "rate"),),)
    )
    markup = to_html(prepare(reply_markdown(reply, image_shown=False)))
    shown = visible(markup)
    assert shown.startswith("From the quiz\n\nKeys & values · Deck <1>\n\nShape of K?")
    # The back's image goes with the answer.
    assert "Answer\nX[n,d] · W_K[d,d_k] → K[n,d_k]  (n=6)\n\nn × d_k" in shown
    assert "Notes\nSee also V." in shown
    assert "X[n,d]" not in card_markdown(card, image_shown=True)
    [[button]] = keyboard(reply).inline_keyboard  # type: ignore[union-attr]
    assert (button.text, button.callback_data) == ("Good", "r:abcdefgh:3")
    assert keyboard(Reply("info", "x")) is None


def test_a_front_shows_the_text_of_its_own_image_only() -> None:
    """Without a photo, the front's image text stands above the question; a back view
    carries only the back's image (here none), so the question's image text is gone."""
    image = CardImage("shape", "Q[n,d_k] @ K^T[?,?] -> S[?,?]")
    front = CardView("c1", "Deck", "Title", "Fill in the shapes.", front_image=image)
    shown = visible(to_html(prepare(card_markdown(front, image_shown=False))))
    assert shown == "Title · Deck\n\nQ[n,d_k] · Kᵀ[?,?] → S[?,?]\n\nFill in the shapes."
    assert card_markdown(front, image_shown=True) == "**Title** · *Deck*\n\nFill in the shapes."
    back = CardView("c1", "Deck", "Title", "Fill in the shapes.", back="[d_k,n] and [n,n].")
    assert "?" not in card_markdown(back, image_shown=False)


def test_an_imported_image_that_cannot_be_shown_is_its_file_name_as_code() -> None:
    """Its name is no markdown: ``my_cell_*.png`` stays as written."""
    image = CardImage("media", "4/my_cell_*.png")
    front = CardView("c1", "Deck", "Title", "Which organelle?", front_image=image)
    markup = to_html(prepare(card_markdown(front, image_shown=False)))
    assert "<code>[image: my_cell_*.png]</code>" in markup
    assert visible(markup) == "Title · Deck\n\n[image: my_cell_*.png]\n\nWhich organelle?"


def test_limits() -> None:
    assert (TELEGRAM_MESSAGE, TELEGRAM_CAPTION) == (4096, 1024)


def test_one_line_display_math_keeps_the_paragraphs_around_it() -> None:
    """A ``$$...$$`` line is not the start of a multi-line block (references use both)."""
    markdown = "Formula:\n\n$$a = b$$\n\n$c$ is\nnext.\n\nThen:\n\n$$\nd =\n  e\n$$\n\nend"
    assert unwrap(markdown) == "Formula:\n\n$$a = b$$\n\n$c$ is next.\n\nThen:\n\n$$d = e$$\n\nend"


def test_a_card_is_converted_once_and_anew_when_its_content_changes() -> None:
    formatting._card_markdown.cache_clear()
    formatting._split_html.cache_clear()
    card = CardView("c9", "Deck", "Softmax", "What does $\\sum_i p_i$ equal?", back="**One**.")

    def shown(view: CardView) -> list[str]:
        return split_html(card_markdown(view, image_shown=False), TELEGRAM_MESSAGE)

    first = shown(card)
    again = shown(card)
    assert again == first
    assert formatting._card_markdown.cache_info().hits == 1
    assert formatting._split_html.cache_info().hits == 1
    # The deck file changed the card: same id, new content, converted anew.
    edited = CardView("c9", "Deck", "Softmax", "What does $\\sum_i q_i$ equal?", back="**1**.")
    changed = shown(edited)
    assert "q" in changed[0] and "<b>1</b>" in changed[0]
    assert "<b>One</b>" not in changed[0]
    assert formatting._card_markdown.cache_info().misses == 2
    # What a caller does with the pieces does not change what the next caller gets.
    again.append("extra")
    assert shown(card) == first


def test_a_piece_left_with_markup_only_is_not_sent() -> None:
    """A run of backticks as long as a message (a fuzzed challenge answer) split into an
    empty ``<pre></pre>``, which Telegram refuses ("message text is empty")."""
    markdown = "Intro.\nYour answer:\n" + "`" * 4096 + "\n" + "word " * 300 + "\n\nThe end."
    pieces = split_html(markdown, TELEGRAM_MESSAGE)
    assert "<pre></pre>" not in pieces
    assert pieces[0] == "Intro.\nYour answer:" and "The end." in pieces[-1]


@pytest.mark.parametrize(
    ("markdown", "html_text"),
    [
        (r"costs \$5, not \$6", "costs $5, not $6"),
        (r"\*not italic\* and **bold**", "*not italic* and <b>bold</b>"),
        (r"\_\_init\_\_ and \`tick", "__init__ and `tick"),
        (r"a \\ b", "a \\ b"),
        (r"`a\*b` stays in code", r"<code>a\*b</code> stays in code"),
        (r"C:\path is not an escape", r"C:\path is not an escape"),
        (r"a \< b and \<b\>", "a &lt; b and &lt;b&gt;"),
    ],
)
def test_backslash_escapes_show_the_character_alone(markdown: str, html_text: str) -> None:
    """Our markdown's escapes (imported Anki text uses them for a literal ``$``, ``*``,
    backtick or ``__``) show the character without its backslash, outside code only;
    an escaped ``<`` or ``>`` stays text, never a tag."""
    assert to_html(markdown) == html_text
    parse_html(html_text)


# --------------------------------------------------------------------------- the workspace


def test_the_workspace_button_goes_last_and_only_into_a_private_chat() -> None:
    offer = Reply(
        "assess", "x", buttons=((Button("Apply", "p:1", "assessed"),),), workspace="challenge:T-1"
    )
    base = "https://study.example.org"
    url = workspace_url(base, offer, 42)
    assert url == f"{base}/app?open=challenge%3AT-1"
    assert workspace_url(base + "/", offer, 42) == url
    assert workspace_url(base, offer, -1001234567890) is None, "a group"
    assert workspace_url(None, offer, 42) is None, "[web] off"
    assert workspace_url(base, Reply("info", "x"), 42) is None, "nothing offered"
    markup = keyboard(offer, url)
    assert markup is not None
    *_, last = markup.inline_keyboard
    (button,) = last
    assert button.text == OPEN_WORKSPACE and button.web_app is not None
    assert button.web_app.url == url and button.callback_data is None
    plain = keyboard(offer)
    assert plain is not None and len(plain.inline_keyboard) == 1
    only = keyboard(Reply("stats", "x", workspace="stats"), f"{base}/app?open=stats")
    assert only is not None and len(only.inline_keyboard) == 1
