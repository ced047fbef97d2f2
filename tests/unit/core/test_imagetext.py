"""Tests for bot.core.imagetext: a card image as one line of text, which asks what its
picture asks and never says what the back answers."""

from __future__ import annotations

import re

import pytest

from bot.core.decks import CardDef
from bot.core.imagespec import Block, ShapeSpec, is_unknown, parse_shape_spec
from bot.core.imagetext import image_text, shape_line
from bot.deckfiles import SHIPPED_DECKS, load_decks
from bot.text.latex import formula_fallback, math_fallback


def shape(spec: str) -> str:
    return shape_line(parse_shape_spec(spec))


def test_a_product_with_its_result() -> None:
    assert (
        shape("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4") == "Q [n×d_k] · Kᵀ [d_k×n] → S [n×n]"
    )


def test_the_unknowns_stay_question_marks() -> None:
    assert shape("Q[n,d_k] @ K^T[?,?] -> S[?,?]; n=6, d_k=4") == "Q [n×d_k] · Kᵀ [?×?] → S [?×?]"
    assert shape("X[n,d_model] @ W_Q[?,?] -> Q[n,?]; n=6") == "X [n×d_model] · W_Q [?×?] → Q [n×?]"
    assert shape("A[n,d] / sqrt(?)") == "A [n×d] / √?"


def test_functions_roots_and_compound_dimensions() -> None:
    assert shape("softmax(mask(Q[n,d_k] @ K^T[d_k,n] / sqrt(d_k))) -> A[n,n]") == (
        "softmax(mask(Q [n×d_k] · Kᵀ [d_k×n] / √d_k)) → A [n×n]"
    )
    assert shape("concat_heads(Z[n,d_v]) @ W_O[h*d_v,d] -> O[n,d]; heads=8") == (
        "concat_heads(Z [n×d_v]) · W_O [h·d_v×d] → O [n×d]  (8 heads)"
    )
    assert shape("A[n,d] / sqrt(d_model/h)") == "A [n×d] / √(d_model/h)"


def test_parentheses_only_where_the_grouping_needs_them() -> None:
    assert shape("(A[n,d] + B[n,d]) @ W[d,k]") == "(A [n×d] + B [n×d]) · W [d×k]"
    assert shape("A[n,d] + B[n,d] @ W[d,d]") == "A [n×d] + B [n×d] · W [d×d]"
    assert shape("A[n,d] @ (B[d,d] @ C[d,k])") == "A [n×d] · (B [d×d] · C [d×k])"
    assert shape("A[n,d] | B[n,k]") == "A [n×d] | B [n×k]"
    assert shape("2 * A[n,d]") == "2 × A [n×d]"


def test_what_the_picture_marks_follows_in_words_but_never_the_example_sizes() -> None:
    assert shape("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4, highlight=row:2") == (
        "Q [n×d_k] · Kᵀ [d_k×n] → S [n×n]  (row 2 highlighted)"
    )
    assert shape("mask(S[n,n]) -> A[n,n]; mask=causal, highlight=col:1, n=5") == (
        "mask(S [n×n]) → A [n×n]  (causal mask, column 1 highlighted)"
    )


def test_a_spec_that_asks_marks_nothing_in_words() -> None:
    """Its picture draws no highlight across an unknown side; the text says none."""
    assert shape("mask(S[n,n]) -> A[?,?]; mask=causal, highlight=row:0, n=5") == (
        "mask(S [n×n]) → A [?×?]"
    )


def test_image_text_by_kind() -> None:
    assert image_text(None, None) == ""
    assert image_text("formula", r"\mathrm{Attention}(Q,K,V) = ?") == "Attention(Q,K,V) = ?"
    assert image_text("shape", "Q[n,d] @ K^T[d,?]") == "Q [n×d] · Kᵀ [d×?]"
    assert image_text("diagram", "transformer") == (
        "the transformer architecture, encoder and decoder"
    )
    # A spec that does not parse is shown as written (it never reaches a learner: decks
    # with one are refused).
    assert image_text("shape", "Q[n,") == "Q[n,"
    # An imported image: its file's name (the console prints it; the platforms show it
    # when the image cannot be drawn).
    assert image_text("media", "3/cell_membrane.jpg") == "[image: cell_membrane.jpg]"


# --------------------------------------------------------------------------- shipped cards

DECKS = load_decks([SHIPPED_DECKS])
FRONTS = [c for c in DECKS.cards() if c.front_image is not None]


def tokens(text: str) -> set[str]:
    """Names and numbers: ``d_model``, ``W_K``, ``1050624`` (the Unicode around them apart)."""
    return set(re.findall(r"[A-Za-z0-9_]+", text))


def written(block: Block) -> str:
    """A block as :func:`shape_line` writes it."""
    return shape_line(ShapeSpec("", block, None, (block.rows, block.cols)))


def unknowns(spec: ShapeSpec) -> int:
    return sum(is_unknown(d) for b in spec.blocks() for d in (b.rows, b.cols))


def test_every_shipped_image_has_a_text() -> None:
    for card in DECKS.cards():
        for side, spec in card.images():
            assert image_text(spec.kind, spec.source).strip(), (card.id, side)
    for challenge_set in DECKS.challenge_sets:
        for challenge in challenge_set.challenges:
            if challenge.image is not None:
                text = image_text(challenge.image.kind, challenge.image.source)
                assert text.strip(), challenge.id


def test_there_are_front_images_of_both_kinds() -> None:
    kinds = {c.front_image.kind for c in FRONTS if c.front_image is not None}
    assert kinds == {"shape", "formula"}


@pytest.mark.parametrize("card", FRONTS, ids=[c.id for c in FRONTS])
def test_a_front_images_text_says_nothing_only_the_back_says(card: CardDef) -> None:
    """The text shown for a front image keeps every ``?`` of its picture, shows an asked
    block as asked (never the back's size for it), and holds no name or number that only
    the back shows (its text, its image, its notes)."""
    front = card.front_image
    assert front is not None
    text = image_text(front.kind, front.source)
    back_texts = [card.back, card.notes or "", card.mnemonic or ""]
    if card.back_image is not None:
        back_texts.append(image_text(card.back_image.kind, card.back_image.source))
    front_texts = [card.title, card.front, front.source, math_fallback(card.front)]
    if isinstance(front, ShapeSpec):
        assert text.count("?") == unknowns(front)
        assert "=" not in text  # the example sizes are not given
        back = card.back_image
        answers = {b.label: b for b in back.blocks()} if isinstance(back, ShapeSpec) else {}
        for block in front.blocks():
            if not is_unknown(block.rows + block.cols):
                continue
            assert written(block) in text, (card.id, block)
            answer = answers.get(block.label)
            if answer is not None and answer != block:
                assert written(answer) not in text, (card.id, answer)
    else:
        assert text == formula_fallback(front.source)
        assert text.count("?") == front.source.count("?")
        front_texts.append(text)
    only_on_back = tokens(" ".join(back_texts) + " " + math_fallback(card.back)) - tokens(
        " ".join(front_texts)
    )
    assert not tokens(text) & only_on_back, (card.id, tokens(text) & only_on_back)
