"""Tests for bot.core.ankitemplates: Anki card templates drawn as HTML."""

from __future__ import annotations

import pytest

from bot.core.ankifile import NoteType, Template
from bot.core.ankitemplates import (
    Rendered,
    Unmappable,
    cloze_numbers,
    compile_notetype,
    render,
)


def standard(front: str, back: str, fields: tuple[str, ...] = ("Front", "Back")) -> NoteType:
    return NoteType(1, "Custom", "standard", fields, (Template("Card 1", 0, front, back),))


def cloze_type(
    front: str = "{{cloze:Text}}", back: str = "{{cloze:Text}}<br>{{Extra}}"
) -> NoteType:
    return NoteType(2, "Cloze", "cloze", ("Text", "Extra"), (Template("Cloze", 0, front, back),))


def draw(nt: NoteType, fields: tuple[str, ...], ordinal: int = 0, **kw: object) -> Rendered:
    rendered = render(compile_notetype(nt), fields, ordinal, **kw)  # type: ignore[arg-type]
    assert rendered is not None
    return rendered


# --------------------------------------------------------------------------- fields


def test_fields_and_front_side() -> None:
    nt = standard("Q: {{Front}}", "{{FrontSide}}<hr id=answer>A: {{ Back }}")
    card = draw(nt, ("one", "two"))
    assert card.question == "Q: one"
    assert card.answer == "Q: one<hr id=answer>A: two"
    assert card.has_content


def test_special_fields() -> None:
    nt = standard("{{Front}}", "{{Tags}}|{{Deck}}|{{Subdeck}}|{{Card}}|{{Type}}|{{CardFlag}}")
    card = draw(nt, ("x", "y"), tags=("verb", "a&b"), deck="Lang::Spanish::Verbs")
    assert card.answer == "verb a&amp;b|Lang::Spanish::Verbs|Verbs|Card 1|Custom|"


def test_a_question_that_draws_no_filled_field_has_no_content() -> None:
    nt = standard("Q: {{Front}}{{Tags}}", "{{Back}}")
    assert not draw(nt, ("", "answer"), tags=("t",)).has_content
    assert not draw(nt, ("<br><div>&nbsp;</div>", "answer")).has_content
    assert draw(nt, ('<img src="a.png">', "answer")).has_content


def test_fewer_field_values_than_fields_read_as_empty() -> None:
    nt = standard("{{Front}}", "{{Back}}")
    assert draw(nt, ("only front",)).answer == ""


# --------------------------------------------------------------------------- sections


def test_conditionals() -> None:
    nt = standard(
        "{{Front}}{{#Hint}} (hint: {{Hint}}){{/Hint}}{{^Hint}} (no hint){{/Hint}}",
        "{{Back}}",
        ("Front", "Back", "Hint"),
    )
    assert draw(nt, ("Q", "A", "starts with P")).question == "Q (hint: starts with P)"
    assert draw(nt, ("Q", "A", "")).question == "Q (no hint)"
    assert draw(nt, ("Q", "A", "<br>")).question == "Q (no hint)"


def test_nested_conditionals_and_special_fields_in_them() -> None:
    nt = standard(
        "{{#Front}}{{#Tags}}[{{Tags}}] {{/Tags}}{{Front}}{{/Front}}",
        "{{Back}}",
    )
    assert draw(nt, ("Q", "A"), tags=("x",)).question == "[x] Q"
    assert draw(nt, ("Q", "A")).question == "Q"


# --------------------------------------------------------------------------- filters


def test_text_filter_strips_html_and_escapes() -> None:
    nt = standard("{{text:Front}}", "{{Back}}")
    assert draw(nt, ("<b>a</b> &lt;b&gt;", "")).question == "a &lt;b&gt;"


def test_hint_and_edit_show_the_field() -> None:
    nt = standard("{{edit:Front}}", "{{hint:Back}}")
    card = draw(nt, ("q", "the hint"))
    assert card.question == "q" and card.answer == "the hint"


def test_type_is_dropped_from_the_question_and_shows_the_answer_on_the_back() -> None:
    nt = standard("{{Front}}<br>{{type:Back}}", "{{Front}}<hr id=answer>{{type:nc:Back}}")
    card = draw(nt, ("Q", "A"))
    assert card.question == "Q<br>"
    assert card.answer == "Q<hr id=answer>A"


def test_filters_apply_right_to_left() -> None:
    nt = cloze_type("{{text:cloze:Text}}", "{{cloze:Text}}")
    assert draw(nt, ("<i>{{c1::x}}</i> y", "")).question == "[…] y"


# --------------------------------------------------------------------------- cloze


NOTE = "{{c1::Paris}} is the capital of {{c2::France::country}}, on the {{c3::Seine}}."


@pytest.mark.parametrize(
    ("ordinal", "question", "answer"),
    [
        (
            0,
            "[…] is the capital of France, on the Seine.",
            "<b>Paris</b> is the capital of France, on the Seine.",
        ),
        (
            1,
            "Paris is the capital of [country], on the Seine.",
            "Paris is the capital of <b>France</b>, on the Seine.",
        ),
        (
            2,
            "Paris is the capital of France, on the […].",
            "Paris is the capital of France, on the <b>Seine</b>.",
        ),
    ],
)
def test_cloze_cards(ordinal: int, question: str, answer: str) -> None:
    card = draw(cloze_type(), (NOTE, "extra"), ordinal)
    assert card.question == question
    assert card.answer == answer + "<br>extra"
    assert card.has_content


def test_a_cloze_number_the_note_lacks_makes_no_card() -> None:
    card = draw(cloze_type(), (NOTE, ""), 5)
    assert card.question == "" and not card.has_content


def test_the_same_number_twice_and_nested_clozes() -> None:
    text = "{{c1::a}} and {{c1::b}}; {{c2::outer {{c3::inner}} end}}"
    assert draw(cloze_type(), (text, ""), 0).question == "[…] and […]; outer inner end"
    assert draw(cloze_type(), (text, ""), 1).question == "a and b; […]"
    assert draw(cloze_type(), (text, ""), 2).question == "a and b; outer […] end"
    assert draw(cloze_type(), (text, ""), 1).answer == "a and b; <b>outer inner end</b><br>"


def test_cloze_only_and_the_cn_conditional() -> None:
    nt = cloze_type("{{cloze:Text}}{{#c2}} (second){{/c2}}", "{{cloze-only:Text}}")
    second = draw(nt, ("{{c1::a}} {{c2::b}} {{c2::c}}", ""), 1)
    assert second.question == "a […] […] (second)"
    assert second.answer == "b, c"
    assert draw(nt, ("{{c1::a}} {{c2::b}}", ""), 0).question == "[…] b"


def test_cloze_numbers() -> None:
    assert cloze_numbers(NOTE) == (1, 2, 3)
    assert cloze_numbers("{{c2::te}}{{c1::s}}t{{") == (1, 2)
    assert cloze_numbers("{{c0::zero}} {{c1::one") == ()
    assert cloze_numbers("no cloze") == ()


def test_a_cloze_note_types_ordinals_are_its_numbers_less_one() -> None:
    compiled = compile_notetype(cloze_type())
    assert compiled.ordinals(("{{c1::a}} {{c3::b}}", "{{c7::not read by cloze:}}")) == (0, 2)


def test_an_unclosed_cloze_is_text() -> None:
    assert draw(cloze_type(), ("{{c1::a}} {{c2::open", ""), 0).question == "[…] {{c2::open"


# --------------------------------------------------------------------------- unmappable


@pytest.mark.parametrize(
    ("nt", "reason"),
    [
        (standard("{{furigana:Front}}", "{{Back}}"), "'furigana' filter"),
        (standard("{{Front}}", "{{kana:Back}}"), "'kana' filter"),
        (standard("{{tts en_US:Front}}", "{{Back}}"), "reads text aloud"),
        (standard("{{Front}}", "{{Extra}}"), "field 'Extra'"),
        (standard("{{#Extra}}x{{/Extra}}{{Front}}", "{{Back}}"), "field 'Extra'"),
        (standard("{{#Front}}x", "{{Back}}"), "never closes"),
        (standard("{{Front}}{{/Front}}", "{{Back}}"), "no such section is open"),
        (standard("{{=<% %>=}}", "{{Back}}"), "template syntax"),
        (standard("{{}}", "{{Back}}"), "empty"),
        (
            NoteType(
                9,
                "Image Occlusion",
                "cloze",
                ("Occlusion", "Image"),
                (Template("IO", 0, "{{cloze:Occlusion}}{{Image}}", "{{cloze:Occlusion}}"),),
            ),
            "image occlusion",
        ),
        (
            cloze_type("{{image-occlusion:Text}}", "{{Extra}}"),
            "image occlusion",
        ),
        (cloze_type("{{Text}}", "{{Extra}}"), "no '{{cloze:...}}'"),
        (NoteType(3, "Empty", "standard", ("F",), ()), "no card template"),
    ],
)
def test_what_we_cannot_draw_is_named(nt: NoteType, reason: str) -> None:
    with pytest.raises(Unmappable, match=reason.replace("{", r"\{").replace(".", r"\.")):
        compile_notetype(nt)


def test_a_missing_template_ordinal_draws_nothing() -> None:
    assert render(compile_notetype(standard("{{Front}}", "{{Back}}")), ("a", "b"), 3) is None


def test_a_hundred_thousand_unclosed_clozes_are_text() -> None:
    """Each ``{{c1::`` never closed is text, read in one pass (moving each open level
    into the one below it took 19 s for 120 KB)."""
    text = "{{c1::" * 20_000
    assert cloze_numbers(text) == ()
