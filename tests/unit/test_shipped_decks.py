"""The decks shipped in ``decks/`` load cleanly and cover what they promise."""

from __future__ import annotations

import importlib.util
import math
import sys
from pathlib import Path
from typing import TYPE_CHECKING

import pytest

if TYPE_CHECKING:
    from bot.core.decks import CardDef, Deck, DeckSet

ROOT = Path(__file__).resolve().parents[2]
DECKS_DIR = ROOT / "decks"
PREFIXES = {"attention": "att-", "transformers": "tf-"}
MIN_CARDS = 30
MAX_BACK_CHARS = 900

# Topic -> phrases; a topic is covered when some card's text contains one of its phrases
# (case-insensitive).
ATTENTION_TOPICS: dict[str, tuple[str, ...]] = {
    "dot product": ("dot product",),
    "cross product": ("cross product",),
    "cosine similarity": ("cosine",),
    "weighted average": ("weighted average",),
    "weights sum to one": ("sum to one", "sums to 1", "sum_j a_j = 1"),
    "query": ("query",),
    "key": ("key",),
    "value": ("value",),
    "K from X": ("X W_K",),
    "Q from X": ("X W_Q",),
    "V from X": ("X W_V",),
    "vectorised q K^T": ("q K^T",),
    "QK^T": ("QK^T",),
    "softmax per row": ("each **row**", "row by row"),
    "scaling": ("sqrt{d_k}",),
    "variance argument": ("Var",),
    "saturation example": ("[10, 20, 30]", "0.665", "0.99995"),
    "full formula": ("\\mathrm{Attention}(Q, K, V)",),
    "causal mask": ("causal",),
    "multi-head": ("multi-head", "MultiHead"),
    "head width": ("512}{8} = 64",),
    "W_O": ("W_O",),
    "parameter count": ("1{,}050{,}624", "1050624"),
    "self-attention": ("self-attention", "**self**-attention"),
    "cross-attention": ("cross-attention",),
    "dog attends to The": ('"dog"',),
}
TRANSFORMERS_TOPICS: dict[str, tuple[str, ...]] = {
    "encoder": ("encoder",),
    "decoder": ("decoder",),
    "cross-attention": ("cross-attention",),
    "BERT": ("BERT",),
    "GPT": ("GPT",),
    "masked language modelling": ("masked language model",),
    "permutation equivariance": ("permutation equivariant",),
    "sinusoidal": ("10000^{2i/d_{model}}",),
    "learned positions": ("learned absolute position",),
    "RoPE": ("RoPE",),
    "ALiBi": ("ALiBi",),
    "residual": ("residual",),
    "gradient distribution": ("both branches", "distributor"),
    "LayerNorm": ("LayerNorm",),
    "BatchNorm": ("BatchNorm",),
    "Pre-LN / Post-LN": ("Pre-LN",),
    "FFN": ("FFN",),
    "4x expansion": ("2048",),
    "linear in V": ("linear in $V$",),
    "Bahdanau": ("Bahdanau",),
    "Bahdanau energy": ("v_a^T \\tanh(W_a s_{i-1} + U_a h_j)",),
    "Bahdanau context": ("c_i = \\sum_j \\alpha_{ij} h_j",),
    "path length": ("path",),
    "parallelism": ("at once",),
    "warmup": ("warmup",),
    "label smoothing": ("label smoothing",),
    "Adam betas": ("0.98",),
    "KV cache": ("KV cache",),
    "flash attention": ("flash attention",),
    "chunking and retrieval": ("retriev",),
    "sparse attention": ("sparse attention",),
    "hierarchical summarisation": ("hierarchical summarisation",),
}


@pytest.fixture(scope="module")
def deck_set() -> DeckSet:
    if importlib.util.find_spec("bot") is None:  # run from a checkout without an install
        sys.path.insert(0, str(ROOT))
    from bot.deckfiles import load_decks

    return load_decks([DECKS_DIR])


def _deck(deck_set: DeckSet, deck_id: str) -> Deck:
    for deck in deck_set.decks:
        if deck.id == deck_id:
            return deck
    raise AssertionError(f"deck {deck_id!r} not found in {DECKS_DIR}")


def _text(card: CardDef) -> str:
    parts = [card.title, card.front, card.back, card.notes or "", card.mnemonic or ""]
    parts.extend(image.source for _, image in card.images())
    return "\n".join(parts).lower()


def test_decks_load_without_errors(deck_set: DeckSet) -> None:
    assert deck_set.errors == (), "\n".join(map(str, deck_set.errors))


@pytest.mark.parametrize("deck_id", sorted(PREFIXES))
def test_deck_has_enough_cards(deck_set: DeckSet, deck_id: str) -> None:
    assert len(_deck(deck_set, deck_id).cards) >= MIN_CARDS


@pytest.mark.parametrize("deck_id", sorted(PREFIXES))
def test_deck_is_tagged_with_its_id(deck_set: DeckSet, deck_id: str) -> None:
    deck = _deck(deck_set, deck_id)
    assert deck.tags == (deck_id,)
    untagged = [c.id for c in deck.cards if deck_id not in c.tags]
    assert not untagged, f"cards not tagged {deck_id!r}: {untagged}"


@pytest.mark.parametrize("deck_id", sorted(PREFIXES))
def test_cards_are_well_formed(deck_set: DeckSet, deck_id: str) -> None:
    deck = _deck(deck_set, deck_id)
    text = (DECKS_DIR / f"{deck_id}.md").read_text(encoding="utf-8")
    for card in deck.cards:
        assert card.id.startswith(PREFIXES[deck_id]), card.id
        assert f"\nid: {card.id}\n" in text, f"{card.id} has no explicit id line"
        assert card.front.strip(), f"{card.id} has an empty front"
        assert card.back.strip(), f"{card.id} has an empty back"
        assert len(card.back) <= MAX_BACK_CHARS, f"{card.id}: back is {len(card.back)} chars"
        assert card.tags, f"{card.id} has no tags"
        assert len(card.tags) >= 2, f"{card.id} has only the deck tag"


@pytest.mark.parametrize("deck_id", sorted(PREFIXES))
def test_difficulties_are_mixed(deck_set: DeckSet, deck_id: str) -> None:
    levels = {c.difficulty for c in _deck(deck_set, deck_id).cards}
    assert levels == {"easy", "medium", "hard"}


def test_related_ids_exist_and_point_backwards(deck_set: DeckSet) -> None:
    seen: set[str] = set()
    all_ids = {c.id for c in deck_set.cards()}
    for deck_id in ("attention", "transformers"):
        for card in _deck(deck_set, deck_id).cards:
            for rel in card.related:
                assert rel in all_ids, f"{card.id} is related to missing {rel!r}"
                assert rel in seen, f"{card.id} builds on {rel!r}, which comes later"
            seen.add(card.id)


def test_cards_about_shapes_carry_a_shape_image(deck_set: DeckSet) -> None:
    for deck_id in PREFIXES:
        for card in _deck(deck_set, deck_id).cards:
            if "shape" in card.front.lower():
                kinds = [image.kind for _, image in card.images()]
                assert kinds, f"{card.id} asks about shapes but has no image"
                assert "shape" in kinds, f"{card.id} needs a shape image"


def test_formula_images_also_appear_in_the_back(deck_set: DeckSet) -> None:
    for deck_id in PREFIXES:
        for card in _deck(deck_set, deck_id).cards:
            if card.back_image is not None and card.back_image.kind == "formula":
                assert "$" in card.back, f"{card.id}: write the formula in the back too"


def test_every_deck_has_shape_and_formula_images(deck_set: DeckSet) -> None:
    for deck_id in PREFIXES:
        kinds = [i.kind for c in _deck(deck_set, deck_id).cards for _, i in c.images()]
        assert kinds.count("shape") >= 3, deck_id
        assert kinds.count("formula") >= 5, deck_id


def test_causal_mask_images_use_the_mask_option(deck_set: DeckSet) -> None:
    sources = {
        c.id: image.source
        for c in deck_set.cards()
        for _, image in c.images()
        if image.kind == "shape" and "mask(" in image.source
    }
    assert sources
    for card_id, source in sources.items():
        assert "mask=causal" in source, card_id


@pytest.mark.parametrize(
    ("deck_id", "topics"),
    [("attention", ATTENTION_TOPICS), ("transformers", TRANSFORMERS_TOPICS)],
)
def test_required_topics_are_covered(
    deck_set: DeckSet, deck_id: str, topics: dict[str, tuple[str, ...]]
) -> None:
    texts = [_text(c) for c in _deck(deck_set, deck_id).cards]
    missing = [
        topic
        for topic, phrases in topics.items()
        if not any(p.lower() in t for p in phrases for t in texts)
    ]
    assert not missing, f"{deck_id} deck does not cover: {missing}"


def test_key_numbers_are_right(deck_set: DeckSet) -> None:
    cards = {c.id: c for c in deck_set.cards()}
    assert "= 64" in cards["att-head-width"].back
    weights, biases = 4 * 512 * 512, 4 * 512
    assert (weights, biases, weights + biases) == (1_048_576, 2_048, 1_050_624)
    for number in ("1{,}048{,}576", "2{,}048", "1{,}050{,}624"):
        assert number in cards["att-mha-params"].back
    ffn = 2 * 512 * 2048 + 2048 + 512
    assert f"{ffn:,}".replace(",", "{,}") in cards["tf-ffn-params"].back
    assert "2048" in cards["tf-ffn-shapes"].back


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ((1, 2, 3), ((0.0900, "0.090"), (0.2447, "0.245"), (0.6652, "0.665"))),
        ((10, 20, 30), ((2.061e-9, "2.1"), (4.540e-5, "4.5"), (0.99995, "0.99995"))),
    ],
)
def test_softmax_example_is_computed_correctly(
    deck_set: DeckSet, scores: tuple[int, ...], expected: tuple[tuple[float, str], ...]
) -> None:
    exps = [math.exp(s - max(scores)) for s in scores]
    probs = [e / sum(exps) for e in exps]
    back = next(c for c in deck_set.cards() if c.id == "att-saturation-example").back
    for prob, (value, text) in zip(probs, expected, strict=True):
        assert prob == pytest.approx(value, rel=1e-3)
        assert text in back
