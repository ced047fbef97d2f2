"""The decks shipped in ``bot/decks/`` load cleanly and cover what they promise."""

from __future__ import annotations

import itertools
import math
import re
from typing import TYPE_CHECKING

import pytest

from bot.core.choices import OPTION_LIMIT, plain_text, poll_question
from bot.deckfiles import SHIPPED_DECKS, load_decks
from bot.text.split import utf16_len

if TYPE_CHECKING:
    from bot.core.challenges.definitions import ChallengeDef, ChallengeSet, RubricRow
    from bot.core.decks import CardDef, Deck, DeckSet
    from bot.core.imagespec import Block

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
    return load_decks([SHIPPED_DECKS])


def _deck(deck_set: DeckSet, deck_id: str) -> Deck:
    for deck in deck_set.decks:
        if deck.id == deck_id:
            return deck
    raise AssertionError(f"deck {deck_id!r} not found in {SHIPPED_DECKS}")


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
    text = (SHIPPED_DECKS / f"{deck_id}.md").read_text(encoding="utf-8")
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
    per_matrix, weights, biases = 512 * 512, 4 * 512 * 512, 4 * 512
    assert (per_matrix, weights, biases, weights + biases) == (262_144, 1_048_576, 2_048, 1_050_624)
    # The multi-head count, one step per card: one stacked matrix, four of them, the biases,
    # the sum.
    assert "512 \\times 512" in cards["att-mha-params"].back
    assert "262{,}144" in cards["att-mha-params"].back
    assert "1{,}048{,}576" in cards["att-mha-params-matrices"].back
    assert "2{,}048" in cards["att-mha-params-biases"].back
    for number in ("1{,}048{,}576", "2{,}048", "1{,}050{,}624"):
        assert number in cards["att-mha-params-total"].back
    ffn_weights, ffn_biases = 2 * 512 * 2048, 2048 + 512
    assert (ffn_weights, ffn_biases) == (2_097_152, 2_560)
    assert _thousands(ffn_weights) in cards["tf-ffn-params"].back
    assert _thousands(ffn_biases) in cards["tf-ffn-params-biases"].back
    assert _thousands(ffn_weights + ffn_biases) in cards["tf-ffn-params-total"].back
    assert "2048" in cards["tf-ffn-shapes"].back
    peak = 512**-0.5 * 4000**-0.5
    assert f"{peak:.1e}" == "7.0e-04"
    assert "7.0 \\times 10^{-4}" in cards["tf-lr-peak-value"].back
    assert "step = warmup = 4000" in cards["tf-lr-peak-step"].back
    assert "d_a(d_s + d_h + 1)" in cards["tf-bahdanau-param-count"].back


def _thousands(number: int) -> str:
    return f"{number:,}".replace(",", "{,}")


def _three_figures(value: float) -> str:
    """``value`` to three significant figures as a card writes it: 0.0900, 2.06 x 10^{-9}."""
    if value >= 1e-3:
        return f"{value:#.3g}"
    mantissa, exponent = f"{value:.2e}".split("e")
    return f"{mantissa} \\times 10^{{{int(exponent)}}}"


@pytest.mark.parametrize(
    ("scores", "expected"),
    [
        ((1, 2, 3), ("0.0900", "0.245", "0.665")),
        ((10, 20, 30), ("2.06 \\times 10^{-9}", "4.54 \\times 10^{-5}", "1.00")),
    ],
)
def test_softmax_example_is_computed_correctly(
    deck_set: DeckSet, scores: tuple[int, ...], expected: tuple[str, ...]
) -> None:
    """The card asks for three significant figures and gives exactly three, all correct."""
    exps = [math.exp(s - max(scores)) for s in scores]
    probs = [e / sum(exps) for e in exps]
    assert tuple(_three_figures(p) for p in probs) == expected
    card = next(c for c in deck_set.cards() if c.id == "att-saturation-example")
    assert "three significant figures" in card.front
    assert f"[{', '.join(map(str, scores))}] \\to [{', '.join(expected)}]" in card.back
    assert "0.99995" not in card.back and "0.090," not in card.back
    scaled = _challenge(deck_set, "refl-scaled-dot-product").reference
    assert f"[{', '.join(expected)}]" in scaled


# --- issue #13: one inferential step per card -------------------------------------------

#: Cards split into chains of single steps: the first keeps the old id (and its learners'
#: schedule), every later step comes right after the one before and builds on it.
CHAINS: tuple[tuple[str, ...], ...] = (
    ("att-queries-from-x", "att-wq-shape"),
    ("att-values-from-x", "att-wv-shape"),
    ("att-softmax", "att-softmax-rules"),
    (
        "att-dot-variance",
        "att-dot-term-variance",
        "att-dot-sum-variance",
        "att-dot-typical-size",
    ),
    ("att-softmax-rows", "att-softmax-rows-why"),
    ("att-full-formula", "att-full-formula-rows"),
    ("att-causal-mask", "att-causal-mask-value"),
    ("att-mha-params", "att-mha-params-matrices", "att-mha-params-biases", "att-mha-params-total"),
    ("tf-bert-gpt-misconceptions", "tf-bert-not-generator"),
    ("tf-ffn-params", "tf-ffn-params-biases", "tf-ffn-params-total"),
    (
        "tf-bahdanau-params",
        "tf-bahdanau-wa-ua-shapes",
        "tf-bahdanau-va",
        "tf-bahdanau-param-count",
    ),
    ("tf-lr-schedule", "tf-lr-formula", "tf-lr-peak-step", "tf-lr-peak-value"),
)

#: A split card's image sits on the step whose answer it shows.
IMAGE_ON: dict[str, str] = {
    "att-wq-shape": "W_Q[d_model,d_k]",
    "att-wv-shape": "W_V[d_model,d_v]",
    "att-softmax": "\\mathrm{softmax}(s)_j",
    "att-dot-sum-variance": "\\mathrm{Var}(q \\cdot k) = d_k",
    "att-softmax-rows": "highlight=row:2",
    "att-full-formula": "\\mathrm{Attention}(Q, K, V)",
    "att-causal-mask": "mask=causal",
    "att-mha-params-total": "1050624",
    "tf-ffn-params-total": "2099712",
    "tf-bahdanau-wa-ua-shapes": "U_a[d_a,d_h]",
    "tf-lr-formula": "warmup^{-1.5}",
}

#: Cards added for what only the challenge references used to carry.
ADDED: tuple[str, ...] = (
    "att-one-query-output",
    "att-compression",
    "att-compression-learned",
    "tf-encoder-sublayers",
    "tf-encoder-stack",
    "tf-shifted-right",
    "tf-teacher-forcing",
    "tf-post-ln-count",
    "tf-final-layernorm",
    "tf-output-logits",
    "tf-output-softmax",
    "tf-next-token-loss",
    "tf-loss-code-length",
    "tf-ffn-expansion",
    "tf-bahdanau-precompute",
    "tf-scaling-hypothesis",
    "tf-scaling-power-law",
    "tf-scaling-enablers",
    "tf-retriever-training",
    "tf-quantization",
    "tf-speculative-decoding",
    "tf-speculative-exact",
    "tf-batching",
    "tf-long-qa-design",
)


def _order(deck_set: DeckSet) -> list[str]:
    return [c.id for deck_id in PREFIXES for c in _deck(deck_set, deck_id).cards]


def _challenge(deck_set: DeckSet, challenge_id: str) -> ChallengeDef:
    sets: tuple[ChallengeSet, ...] = deck_set.challenge_sets
    return next(c for s in sets for c in s.challenges if c.id == challenge_id)


def _rubric_rows(deck_set: DeckSet) -> list[RubricRow]:
    sets: tuple[ChallengeSet, ...] = deck_set.challenge_sets
    rows = [row for s in sets for c in s.challenges for row in c.rubric]
    return rows + [row for s in sets for row in s.rubric]


@pytest.mark.parametrize("chain", CHAINS, ids=lambda chain: chain[0])
def test_split_cards_are_chains_in_order(deck_set: DeckSet, chain: tuple[str, ...]) -> None:
    order = _order(deck_set)
    cards = {c.id: c for c in deck_set.cards()}
    first = order.index(chain[0])
    assert tuple(order[first : first + len(chain)]) == chain, "the steps must follow each other"
    for before, step in itertools.pairwise(chain):
        assert before in cards[step].related, f"{step} must build on {before}"


def _sources(card: CardDef) -> str:
    """Every image spec of a card, either side."""
    return " ".join(image.source for _, image in card.images())


def test_each_split_image_sits_on_the_step_it_answers(deck_set: DeckSet) -> None:
    """The answer's picture (the back image) sits on the step it answers, once per chain;
    another step of the chain may still pose its own question with a front image."""
    cards = {c.id: c for c in deck_set.cards()}
    for card_id, fragment in IMAGE_ON.items():
        back = cards[card_id].back_image
        assert back is not None and fragment in back.source, card_id
    for chain in CHAINS:
        assert sum(cards[step].back_image is not None for step in chain) <= 1, chain


def test_the_single_query_step_comes_between_one_query_and_all_queries(
    deck_set: DeckSet,
) -> None:
    order = _order(deck_set)
    cards = {c.id: c for c in deck_set.cards()}
    one = cards["att-one-query-output"]
    assert "\\mathrm{softmax}\\left(\\frac{q K^T}{\\sqrt{d_k}}\\right) V" in one.back
    assert order.index("att-q-kt") < order.index(one.id) < order.index("att-qkt-entry")
    assert order.index("att-scale-sqrt-dk") < order.index(one.id)
    assert one.id in cards["att-full-formula"].related


def test_added_cards_exist_and_build_on_earlier_ones(deck_set: DeckSet) -> None:
    order = _order(deck_set)
    cards = {c.id: c for c in deck_set.cards()}
    for card_id in ADDED:
        assert card_id in cards, card_id
        assert cards[card_id].related, f"{card_id} builds on nothing"
    assert "N = 6" in cards["tf-encoder-stack"].back
    for word in ("self-attention", "feed-forward"):
        assert word in cards["tf-encoder-sublayers"].back.lower()
    assert "2N" in cards["tf-post-ln-count"].back and "3N" in cards["tf-post-ln-count"].back
    assert "-\\log_2 p" in cards["tf-loss-code-length"].back
    assert order.index("tf-output-softmax") < order.index("tf-next-token-loss")


def test_fixed_errors_stay_fixed(deck_set: DeckSet) -> None:
    cards = {c.id: c for c in deck_set.cards()}
    # The key of "The" encodes its own position; only the query looks for the one before.
    match = cards["att-dog-the-match"].back
    assert "yours" not in match and "just before its own" in match
    # The front gives the width the answer uses.
    assert "d_{model} = 512" in cards["att-concat-heads"].front
    assert "n \\times 512" in cards["att-concat-heads"].back
    # Rows are counted from 0, as the highlighted diagram's caption counts them.
    row = cards["att-qkt-row"]
    assert "from 0" in row.front and "token 2" in row.front and "Row 2" in row.back
    assert "highlight=row:2" in _sources(row)
    # One LayerNorm per sublayer on the Post-LN path, not one per layer.
    post_ln = _challenge(deck_set, "refl-pre-vs-post-ln").reference
    assert "$N$ LayerNorm" not in post_ln
    assert "$2N$ in an encoder" in post_ln and "$3N$ in a decoder" in post_ln
    assert "every block's LayerNorm" not in cards["tf-pre-vs-post-gradient"].back


def test_per_head_matrices_are_written_one_way(deck_set: DeckSet) -> None:
    sets: tuple[ChallengeSet, ...] = deck_set.challenge_sets
    texts = [_text(c) for c in deck_set.cards()]
    texts += [
        "\n".join((c.prompt, c.reference, *c.checkpoints, *c.points)).lower()
        for s in sets
        for c in s.challenges
    ]
    assert not [t for t in texts if "^{(i)}" in t]
    cards = {c.id: c for c in deck_set.cards()}
    assert "W_i^Q" in cards["att-head-projection"].front
    assert "Q W_i^Q, K W_i^K, V W_i^V" in cards["att-multihead-formula"].back
    assert "Q W_i^Q, K W_i^K, V W_i^V" in _challenge(deck_set, "refl-multi-head").reference


def test_every_rubric_row_links_existing_cards(deck_set: DeckSet) -> None:
    ids = {c.id for c in deck_set.cards()}
    rows = _rubric_rows(deck_set)
    assert rows
    for row in rows:
        assert row.card_ids, row.text
        assert set(row.card_ids) <= ids, row.text


@pytest.mark.parametrize(
    ("row_start", "must_link", "must_not_link"),
    [
        (
            "Why deeper and bigger keeps helping",
            {"tf-scaling-hypothesis", "tf-scaling-power-law", "tf-scaling-enablers"},
            {"tf-pre-vs-post-gradient", "tf-residual-stream", "tf-parallelism"},
        ),
        (
            "Attention as selective compression",
            {"att-compression", "att-compression-learned"},
            {"att-weighted-average", "att-convex-hull"},
        ),
        (
            "Next-token prediction, and its loss read as a code length",
            {"tf-next-token-loss", "tf-loss-code-length"},
            {"att-softmax"},
        ),
    ],
)
def test_rubric_rows_link_the_cards_that_teach_them(
    deck_set: DeckSet, row_start: str, must_link: set[str], must_not_link: set[str]
) -> None:
    [row] = [r for r in _rubric_rows(deck_set) if r.text.startswith(row_start)]
    assert must_link <= set(row.card_ids), row.text
    assert not must_not_link & set(row.card_ids), row.text


def test_scaling_row_links_only_scaling_cards(deck_set: DeckSet) -> None:
    cards = {c.id: c for c in deck_set.cards()}
    [row] = [r for r in _rubric_rows(deck_set) if r.text.startswith("Why deeper and bigger")]
    assert all("scaling" in cards[card_id].tags for card_id in row.card_ids)


def test_a_challenge_that_links_a_chain_links_all_of_it(deck_set: DeckSet) -> None:
    """Rating a row reschedules whole chains: a split card's later steps are never left out."""
    sets: tuple[ChallengeSet, ...] = deck_set.challenge_sets
    rubrics = [list(c.rubric) for s in sets for c in s.challenges]
    rubrics += [list(s.rubric) for s in sets if s.rubric]
    for rows in rubrics:
        linked = {card_id for row in rows for card_id in row.card_ids}
        for chain in CHAINS:
            if chain[0] in linked:
                assert set(chain) <= linked, (chain, [r.text for r in rows])


# --- issue #13: a picture shown with the question must not give the answer away ---------

#: How many cards carried an image when images were given sides: moving each picture to
#: the side it belongs to must not lose any.
MIN_IMAGE_CARDS = 52

#: A card's front asks for a shape when it says so in these words.
ASKS_FOR_A_SHAPE = re.compile(
    r"\bwhat (?:is the )?shapes?\b|\bwhat are the shapes\b", re.IGNORECASE
)

#: Card -> the blocks its front image asks about, as drawn there: every size the card asks
#: for is ``?`` (the back shows it); a size the front keeps is one the question gives.
SHAPE_QUESTIONS: dict[str, tuple[str, ...]] = {
    "att-wk-shape": ("W_K[?,?]",),
    "att-wq-shape": ("W_Q[?,?]", "Q[?,?]"),
    "att-wv-shape": ("W_V[?,?]", "V[?,?]"),
    "att-qkt-shape": ("S[?,?]",),
    "att-full-shapes": ("Z[?,?]",),
    "att-head-projection": ("W_Q[?,?]", "Q[n,?]"),
    "att-cross-shapes": ("A[?,?]",),
    "tf-ffn-shapes": ("W_1[?,?]", "W_2[?,?]"),
    "tf-bahdanau-wa-ua-shapes": ("W_a[?,?]", "U_a[?,?]"),
    "tf-kv-cache-shapes": ("q[?,d_k]", "K^T[d_k,?]", "V[?,d_v]", "z[?,d_v]"),
}

#: Card -> what its formula front image asks for, which that image must not show.
FORMULA_QUESTIONS: dict[str, str] = {
    "att-scale-sqrt-dk": "\\sqrt{d_k}",
    "att-mha-params-total": "1050624",
    "tf-permutation-equivariance": "P \\, \\mathrm{SelfAttn}(X)",
    "tf-residual-gradient": "I + \\frac{\\partial F}{\\partial x_l}",
    "tf-ffn-params-total": "2099712",
    "tf-lr-peak-step": "4000",
}


def _deck_cards(deck_set: DeckSet) -> list[CardDef]:
    return [c for deck_id in PREFIXES for c in _deck(deck_set, deck_id).cards]


def _written(block: Block) -> str:
    """A block as a spec writes it: ``K^T[d_k,n]``."""
    return f"{block.label}[{block.rows},{block.cols}]"


def test_at_least_as_many_cards_carry_an_image_as_before(deck_set: DeckSet) -> None:
    with_image = [c.id for c in _deck_cards(deck_set) if c.images()]
    assert len(with_image) >= MIN_IMAGE_CARDS, with_image


def test_every_front_image_has_an_unknown(deck_set: DeckSet) -> None:
    """A front image marks what the learner recalls, and is not the back's picture again."""
    from bot.core.imagespec import has_unknown

    fronts = {c.id: c.front_image for c in deck_set.cards() if c.front_image is not None}
    assert fronts
    for card_id, front in fronts.items():
        assert has_unknown(front), f"{card_id}: a front image must mark what to recall with ?"
    for card in deck_set.cards():
        back = card.back_image
        if card.front_image is not None and back is not None:
            assert card.front_image.source != back.source, card.id


def test_cards_that_ask_for_a_shape_pose_it_with_unknowns(deck_set: DeckSet) -> None:
    """Every card whose front asks for a shape is in SHAPE_QUESTIONS, so the test below
    checks its front image."""
    asking = {c.id for c in _deck_cards(deck_set) if ASKS_FOR_A_SHAPE.search(c.front)}
    assert asking == set(SHAPE_QUESTIONS)


@pytest.mark.parametrize(
    ("card_id", "asked"), sorted(SHAPE_QUESTIONS.items()), ids=sorted(SHAPE_QUESTIONS)
)
def test_a_shape_front_does_not_hold_the_backs_answer(
    deck_set: DeckSet, card_id: str, asked: tuple[str, ...]
) -> None:
    """The blocks a front asks about carry ``?`` where the back gives their size, never the
    size itself: pasting the back's spec as the front's, or filling in one of its ``?``,
    fails here."""
    from bot.core.imagespec import UNKNOWN, ShapeSpec, is_unknown

    card = next(c for c in deck_set.cards() if c.id == card_id)
    front, back = card.front_image, card.back_image
    assert isinstance(front, ShapeSpec) and isinstance(back, ShapeSpec), card_id
    shown = [b for b in front.blocks() if is_unknown(b.rows + b.cols)]
    assert sorted(map(_written, shown)) == sorted(asked), card_id
    answers = {b.label: b for b in back.blocks()}
    for block in shown:
        answer = answers[block.label]
        assert not is_unknown(answer.rows + answer.cols), f"{card_id}: the back answers {block}"
        assert _written(answer) not in front.source, (card_id, _written(answer))
        for dim, answer_dim in ((block.rows, answer.rows), (block.cols, answer.cols)):
            assert dim in (UNKNOWN, answer_dim), (card_id, _written(block), answer_dim)


def test_a_formula_front_does_not_hold_the_answer(deck_set: DeckSet) -> None:
    """Every formula front is listed with its answer, which its back shows and it does not."""
    cards = {c.id: c for c in _deck_cards(deck_set)}
    asking = {i for i, c in cards.items() if c.front_image and c.front_image.kind == "formula"}
    assert asking == set(FORMULA_QUESTIONS)
    for card_id, answer in FORMULA_QUESTIONS.items():
        card = cards[card_id]
        assert card.front_image is not None and answer not in card.front_image.source, card_id
        assert answer in card.back or answer in _sources(card), f"{card_id}: not its answer"


def test_multiple_choice_cards(deck_set: DeckSet) -> None:
    """At least ten shipped cards have choices, in both decks, and each makes a poll
    Telegram takes (the options as shown, distinct, at most 100 characters)."""
    with_choices = [c for c in deck_set.cards() if c.choices is not None]
    assert len(with_choices) >= 10
    assert {c.deck_id for c in with_choices} == {"attention", "transformers"}
    for card in with_choices:
        assert card.choices is not None
        shown = [plain_text(o) for o in card.choices.options]
        assert 2 <= len(shown) <= 10 and len(set(shown)) == len(shown), card.id
        assert all(0 < utf16_len(o) <= OPTION_LIMIT for o in shown), card.id
        question = poll_question(card.front, card.front_image is not None)
        assert question is None or "\n" not in question, card.id
