"""The deck parser: errors with file and line, the seed Flashcards format, the native format."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from bot.core.decks import CardDef, Deck, parse_deck, slugify
from bot.deckfiles import SHIPPED_DECKS, load_decks

ROOT = Path(__file__).resolve().parents[3]
DATA = ROOT / "tests" / "data"
BAD = DATA / "bad_decks"
GOOD = DATA / "good_decks"
SEED = GOOD / "flashcards-transformers.md"
NATIVE = GOOD / "native-deck.md"


# --------------------------------------------------------------------------- bad decks

# (what to load, the file the error is in, its line, a substring of the message)
BAD_CASES: list[tuple[str, str, int, str]] = [
    (
        "duplicate-id.md",
        "duplicate-id.md",
        12,
        f"duplicate card id 'dup-card' (first at {BAD / 'duplicate-id.md'}:3)",
    ),
    (
        "duplicate-across",
        "duplicate-across/b.md",
        4,
        f"duplicate card id 'shared-card' (first at {BAD / 'duplicate-across' / 'a.md'}:3)",
    ),
    ("missing-front.md", "missing-front.md", 3, "card 'no-front' has no '### Front' section"),
    ("missing-back.md", "missing-back.md", 3, "card 'no-back' has no '### Back' section"),
    ("empty-back.md", "empty-back.md", 9, "card 'empty-back' has an empty back"),
    ("unknown-card-key.md", "unknown-card-key.md", 5, "unknown key 'colour' in card"),
    ("unknown-deck-key.md", "unknown-deck-key.md", 2, "unknown key 'author' in the deck header"),
    ("unknown-section.md", "unknown-section.md", 9, "unknown section '### Answer'"),
    (
        "image-mismatch.md",
        "image-mismatch.md",
        5,
        "bad image spec in card 'scores-no-transpose': cannot multiply [n,d_k] @ [n,d_k]: "
        "inner dimensions d_k and n differ",
    ),
    (
        "image-syntax.md",
        "image-syntax.md",
        5,
        "bad image spec in card 'unclosed-bracket': expected ']', found '@'",
    ),
    (
        "image-kind.md",
        "image-kind.md",
        5,
        "an image spec starts with 'shape' or 'formula', not 'picture'",
    ),
    ("formula-braces.md", "formula-braces.md", 5, "unbalanced '{' in the formula"),
    (
        "front-image-no-unknown.md",
        "front-image-no-unknown.md",
        5,
        "bad front-image spec in card 'front-shows-answer': it shows the answer; mark what "
        "the learner must recall with '?'",
    ),
    (
        "image-side.md",
        "image-side.md",
        5,
        "unknown image side 'answer' in card 'Where the keys come from': 'front-image' is "
        "shown with the question, 'image' with the answer",
    ),
    (
        "bad-difficulty.md",
        "bad-difficulty.md",
        5,
        "difficulty must be easy, medium or hard, not 'extreme'",
    ),
    (
        "missing-related.md",
        "missing-related.md",
        3,
        "card 'builds-on-nothing' is related to 'no-such-card', which does not exist",
    ),
    ("bad-card-id.md", "bad-card-id.md", 4, "bad card id 'my card!'"),
    ("bad-deck-id.md", "bad-deck-id.md", 2, "bad deck id 'my deck'"),
    ("header-text.md", "header-text.md", 3, "unexpected text in the deck header"),
    ("empty.md", "empty.md", 1, "the file is empty"),
    ("no-title.md", "no-title.md", 2, "a deck starts with a '# Title' line"),
]


@pytest.mark.parametrize(
    ("target", "error_file", "line", "message"),
    BAD_CASES,
    ids=[case[0] for case in BAD_CASES],
)
def test_bad_deck_reports_one_error_with_path_and_line(
    target: str, error_file: str, line: int, message: str
) -> None:
    result = load_decks([BAD / target])

    assert not result.ok
    assert len(result.errors) == 1, "\n".join(map(str, result.errors))
    error = result.errors[0]
    assert error.path == str(BAD / error_file)
    assert error.line == line
    assert message in error.message
    assert str(error) == f"{BAD / error_file}:{line}: {error.message}"


def test_every_bad_deck_file_is_in_the_table() -> None:
    covered = {BAD / error_file for _, error_file, _, _ in BAD_CASES}
    files = set(BAD.rglob("*.md")) - {BAD / "duplicate-across" / "a.md"}
    assert files == covered


def test_the_whole_bad_folder_reports_every_problem() -> None:
    result = load_decks([BAD])
    reported = {(e.path, e.line) for e in result.errors}
    for _, error_file, line, _ in BAD_CASES:
        assert (str(BAD / error_file), line) in reported
    assert [(e.path, e.line) for e in result.errors] == sorted(
        (e.path, e.line) for e in result.errors
    )


# --------------------------------------------------------------------------- image keys

# (the card's image lines, a substring of the one error, on the card's 5th line)
IMAGE_KEY_CASES: list[tuple[str, str]] = [
    (
        "front-image: shape Q[n,d_k] @ K^T[d_k,n] -> S[n,n]",
        "bad front-image spec in card 'c': it shows the answer; mark what the learner must "
        "recall with '?', as in K^T[?,?] or \\mathrm{Attention}(Q,K,V) = ?",
    ),
    (
        "front-image: formula \\mathrm{Attention}(Q,K,V) = \\mathrm{softmax}(QK^T)V",
        "bad front-image spec in card 'c': it shows the answer",
    ),
    (
        "front-image: diagram transformer",
        "bad front-image spec in card 'c': a diagram has no unknowns, so it cannot be a front "
        "image (use image: to show it with the answer)",
    ),
    (
        "front-image: shape Q[n,d_k] @ K^T[?,n] -> S[n,n]; n=6, show=values",
        "bad front-image spec in card 'c': show=values would give the unknown ? away",
    ),
    (
        "front-image: shape W_O[h*?,d_model]",
        "bad front-image spec in card 'c': ? stands for a whole dimension",
    ),
    (
        "front-image: shape Q[n,d_k] @ K^T[?,n",
        "bad front-image spec in card 'c': expected ']'",
    ),
    (
        "image: shape Q[n,d_k] @ K^T[?,?] -> S[?,?]",
        "bad image spec in card 'c': '?' marks an unknown: use front-image (image: is shown "
        "with the answer)",
    ),
    ("image: formula a \\cdot b = ?", "bad image spec in card 'c': '?' marks an unknown"),
    # Imported images (kind media) come from an Anki import only, never a deck file.
    ("image: media 1/cat.png", "bad image spec in card 'c': an image spec starts with 'shape'"),
    ("front-image: media 1/cat.png", "bad front-image spec in card 'c': an image spec starts"),
    (
        "back-image: formula a \\cdot b",
        "unknown image side 'back' in card 'A card': 'front-image' is shown with the "
        "question, 'image' with the answer",
    ),
    ("question image: formula a = ?", "unknown image side 'question' in card 'A card'"),
    (
        "front_image: formula a = ?",
        "unknown key 'front_image' in card 'A card': the front's image is 'front-image'",
    ),
    (
        "front-image: formula a = ?\nfront-image: formula b = ?",
        "key 'front-image' is given twice in card 'A card'",
    ),
]


@pytest.mark.parametrize(
    ("lines", "message"), IMAGE_KEY_CASES, ids=[case[0] for case in IMAGE_KEY_CASES]
)
def test_image_keys_report_one_error_on_their_line(lines: str, message: str) -> None:
    text = f"# Deck\n\n## A card\nid: c\n{lines}\n\n### Front\nQ?\n\n### Back\nA.\n"
    deck, errors = parse_deck(text, "deck.md")
    assert [str(e) for e in errors] == [f"deck.md:{errors[0].line}: {errors[0].message}"]
    assert errors[0].line == 5 + lines.count("\n")
    assert message in errors[0].message
    assert deck is not None and [c.id for c in deck.cards] == ["c"], "the card itself stays"


def test_each_side_gets_its_own_image() -> None:
    text = (
        "# Deck\n\n## A card\nid: c\n"
        "front-image: shape Q[n,d_k] @ K^T[?,?] -> S[?,?]; n=6, d_k=4\n"
        "image: shape Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4\n"
        "\n### Front\nFill in the shapes.\n\n### Back\nSee the picture.\n"
    )
    deck, errors = parse_deck(text, "deck.md")
    assert errors == [] and deck is not None
    (card,) = deck.cards
    assert card.front_image is not None and card.back_image is not None
    assert card.front_image.source == "Q[n,d_k] @ K^T[?,?] -> S[?,?]; n=6, d_k=4"
    assert card.back_image.source == "Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4"
    assert card.images() == (("front", card.front_image), ("back", card.back_image))


def test_a_formula_front_image_asks_with_a_question_mark() -> None:
    text = (
        "# Deck\n\n## A card\nid: c\nfront-image: formula \\mathrm{Attention}(Q,K,V) = ?\n"
        "\n### Front\nWrite it.\n\n### Back\nsoftmax.\n"
    )
    deck, errors = parse_deck(text, "deck.md")
    assert errors == [] and deck is not None
    assert [(side, spec.kind) for side, spec in deck.cards[0].images()] == [("front", "formula")]


def test_the_readme_example_deck_is_valid() -> None:
    readme = (SHIPPED_DECKS / "README.md").read_text(encoding="utf-8")
    match = re.search(r"````markdown\n(.*?)````", readme, re.DOTALL)
    assert match is not None
    deck, errors = parse_deck(match.group(1), "README.md")
    assert errors == [], "\n".join(map(str, errors))
    assert deck is not None
    qkt = next(c for c in deck.cards if c.id == "att-qkt-shape")
    assert [side for side, _ in qkt.images()] == ["front", "back"]


def test_a_missing_path_is_reported() -> None:
    result = load_decks([BAD / "no-such-deck.md"])
    assert [(e.path, e.line, e.message) for e in result.errors] == [
        (str(BAD / "no-such-deck.md"), 0, "no such file or folder")
    ]


def test_a_bad_card_is_dropped_but_its_deck_still_loads() -> None:
    result = load_decks([BAD / "missing-back.md"])
    assert [d.id for d in result.decks] == ["missing-back"]
    assert result.decks[0].cards == ()


def test_a_bad_difficulty_keeps_the_card_at_medium() -> None:
    result = load_decks([BAD / "bad-difficulty.md"])
    (card,) = result.cards()
    assert card.id == "very-hard"
    assert card.difficulty == "medium"


def test_the_body_of_an_unknown_section_is_not_read_as_card_keys() -> None:
    text = (
        "# Deck\n\n## Card\nid: c1\n\n### Front\nQ?\n\n"
        "### Answer\nAnswer: forty-two\nmore text\n\n### Back\nB.\n"
    )
    _, errors = parse_deck(text, "deck.md")
    assert [(e.line, e.message.split(" (")[0]) for e in errors] == [
        (9, "unknown section '### Answer'")
    ]


# ---------------------------------------------------------------- the seed Flashcards file

SEED_IDS = [
    "flashcards-transformers.self-attention-and-multi-head-attention",
    "flashcards-transformers.encoder-vs-decoder-architecture",
    "flashcards-transformers.bert-vs-gpt",
    "flashcards-transformers.positional-encoding",
    "flashcards-transformers.complete-transformer-system-design",
]


@pytest.fixture(scope="module")
def seed_deck() -> Deck:
    result = load_decks([SEED])
    assert result.errors == (), "\n".join(map(str, result.errors))
    (deck,) = result.decks
    return deck


def _all_text(card: CardDef) -> str:
    return "\n".join([card.title, card.front, card.back, card.mnemonic or "", card.notes or ""])


def test_seed_deck_identity(seed_deck: Deck) -> None:
    assert seed_deck.id == "flashcards-transformers"
    assert seed_deck.title == "Flashcards: Transformers"
    assert seed_deck.path == str(SEED)
    assert seed_deck.tags == ("transformers",)


def test_seed_has_five_cards_titled_by_concept(seed_deck: Deck) -> None:
    assert [c.title for c in seed_deck.cards] == [
        "Self-Attention and Multi-Head Attention",
        "Encoder vs Decoder Architecture",
        "BERT vs GPT",
        "Positional Encoding",
        "Complete Transformer System Design",
    ]
    assert [c.id for c in seed_deck.cards] == SEED_IDS
    assert [c.position for c in seed_deck.cards] == [0, 1, 2, 3, 4]
    assert [c.difficulty for c in seed_deck.cards] == ["easy", "easy", "medium", "medium", "hard"]


def test_seed_cards_have_text_and_the_topic_tag(seed_deck: Deck) -> None:
    for card in seed_deck.cards:
        assert card.front.strip(), card.id
        assert card.back.strip(), card.id
        assert card.tags == ("transformers",), card.id
        assert card.deck_id == "flashcards-transformers"
        assert card.images() == ()
        assert card.related == ()
        for text in (card.front, card.back, card.notes or "", card.mnemonic or ""):
            assert text == text.strip(), card.id
            assert not text.endswith("---"), card.id
            assert "#### " not in text, card.id
    assert seed_deck.cards[0].front.startswith("What is self-attention in transformers")
    assert seed_deck.cards[0].back.startswith("**Self-Attention** computes")
    assert seed_deck.cards[0].back.endswith("- Same total computation as single large head")


def test_seed_tables_are_kept_intact(seed_deck: Deck) -> None:
    card2, card3 = seed_deck.cards[1], seed_deck.cards[2]
    table2 = "\n".join(
        [
            "| Aspect | Encoder | Decoder |",
            "|--------|---------|---------|",
            "| **Attention** | Bidirectional (all-to-all) | Causal (past only) |",
            "| **Masking** | No mask | Upper triangular mask |",
            "| **Context** | Sees full input | Only sees previous tokens |",
            "| **Use case** | Understanding tasks | Generation tasks |",
        ]
    )
    assert card2.back.startswith(table2 + "\n\n**Encoder (BERT-style):**")
    assert card3.back.startswith("| Aspect | BERT | GPT |\n|--------|------|-----|\n")
    assert (
        "| **Pre-training** | Masked Language Modeling (15% tokens masked) "
        "| Causal Language Modeling (predict next token) |"
    ) in card3.back.splitlines()
    # The bold "Key Insight:" paragraph is part of card 3's back, not a section.
    assert "**Key Insight:**\n- BERT: Better at understanding" in card3.back


def test_seed_code_block_is_kept(seed_deck: Deck) -> None:
    back = seed_deck.cards[3].back
    block = (
        "```\nPE(pos, 2i) = sin(pos / 10000^(2i/d))\nPE(pos, 2i+1) = cos(pos / 10000^(2i/d))\n```"
    )
    assert block in back
    assert "permutation equivariant—shuffling" in back
    assert back.endswith("- Excellent extrapolation to longer sequences")


def test_seed_box_drawing_diagram_is_kept(seed_deck: Deck) -> None:
    back = seed_deck.cards[4].back
    lines = back.splitlines()
    assert "┌─────────────────────────────────────────────────────────┐" in lines
    assert "│                   QA System                              │" in lines
    assert "│  Question → Embedder ────────────→ Retriever            │" in lines
    assert back.endswith("└─────────────────────────────────────────────────────────┘\n```")
    assert "| **KV Cache** | Reuse key/value computations for autoregressive generation |" in lines
    assert "Question → Retrieve top-10 chunks → Concat with question" in back


def test_seed_mnemonics(seed_deck: Deck) -> None:
    assert [c.mnemonic for c in seed_deck.cards] == [
        '**"QKV + Scale + Softmax = Attention"**',
        '**"Encoder = Understanding, Decoder = Generating"**',
        None,
        None,
        None,
    ]


def test_seed_extra_sections_become_notes(seed_deck: Deck) -> None:
    c1, c2, c3, c4, c5 = seed_deck.cards
    assert c1.notes is None and c2.notes is None
    assert c3.notes is not None and c4.notes is not None and c5.notes is not None
    assert "Common Misconceptions" in c3.notes
    assert (
        "- GPT CAN do classification (via prompting), just not optimally designed for it"
        in c3.notes
    )
    assert "- BERT CANNOT generate text naturally (no causal structure)" in c3.notes
    assert "Key Insight" in c4.notes
    assert "Modern models (Llama, Mistral) use **RoPE**" in c4.notes
    assert "Key Trade-offs" in c5.notes
    assert "- Hybrid: Hierarchical summarization + retrieval for best of both" in c5.notes
    # Notes are not also left in the back.
    assert "Common Misconceptions" not in c3.back
    assert "Modern models (Llama, Mistral)" not in c4.back
    assert "Key Trade-offs" not in c5.back


def test_seed_trailing_tables_are_not_cards(seed_deck: Deck) -> None:
    for card in seed_deck.cards:
        text = _all_text(card)
        for phrase in (
            "Review Schedule",
            "First Review",
            "Day 14",
            "Cross-References",
            "Study Notes Section",
            "Concept Map Node",
            "Practice Problem",
            "**Source:**",
        ):
            assert phrase not in text, (card.id, phrase)


def test_seed_ids_are_stable_across_parses() -> None:
    text = SEED.read_text(encoding="utf-8")
    first, errors1 = parse_deck(text, "a/flashcards.md")
    second, errors2 = parse_deck(text, "b/other-name.md")
    assert errors1 == errors2 == []
    assert first is not None and second is not None
    assert [c.id for c in first.cards] == [c.id for c in second.cards] == SEED_IDS
    assert first.cards == second.cards
    assert load_decks([SEED]).decks == load_decks([SEED]).decks


def test_seed_card_ids_follow_the_concept_not_the_text() -> None:
    text = SEED.read_text(encoding="utf-8")
    edited = text.replace("Compare BERT and GPT", "Contrast BERT with GPT").replace(
        "| **Output** | Contextual embeddings | Generated tokens |\n", ""
    )
    assert edited != text
    deck, errors = parse_deck(edited, str(SEED))
    assert errors == []
    assert deck is not None
    assert [c.id for c in deck.cards] == SEED_IDS
    assert deck.cards[2].front.startswith("Contrast BERT with GPT")


# --------------------------------------------------------------------------- the native format


@pytest.fixture(scope="module")
def native() -> Deck:
    result = load_decks([NATIVE])
    assert result.errors == (), "\n".join(map(str, result.errors))
    (deck,) = result.decks
    return deck


def test_native_deck_header(native: Deck) -> None:
    assert native.id == "native-deck"  # no id: line, so the file name
    assert native.title == "Native format, every feature"
    assert native.description == "One file that uses every part of the native deck format."
    assert native.tags == ("attention", "sample")
    assert native.path == str(NATIVE)
    assert [c.title for c in native.cards] == [
        "Dot product as a similarity",
        "Scores of every query against every key",
        "Softmax of one row",
    ]
    assert [c.line for c in native.cards] == [10, 37, 64]
    assert [c.position for c in native.cards] == [0, 1, 2]


def test_native_ids_explicit_and_derived(native: Deck) -> None:
    assert [c.id for c in native.cards] == [
        "native-deck.dot-product-as-a-similarity",
        "native-qkt",
        "native-deck.softmax-of-one-row",
    ]
    assert all(c.deck_id == "native-deck" for c in native.cards)


def test_native_tags_are_merged_without_duplicates(native: Deck) -> None:
    assert [c.tags for c in native.cards] == [
        ("attention", "sample", "linear-algebra"),
        ("attention", "sample", "shapes"),
        ("attention", "sample"),
    ]


def test_native_difficulty_related_and_images(native: Deck) -> None:
    dot, qkt, softmax = native.cards
    assert [c.difficulty for c in native.cards] == ["easy", "hard", "medium"]
    assert dot.related == ()
    assert qkt.related == ("native-deck.dot-product-as-a-similarity",)
    assert softmax.related == ("native-qkt", "native-deck.dot-product-as-a-similarity")
    assert dot.images() == ()
    assert qkt.front_image is None and softmax.front_image is None
    assert qkt.back_image is not None and qkt.back_image.kind == "shape"
    assert qkt.back_image.source == "Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4, highlight=row:2"
    assert softmax.back_image is not None and softmax.back_image.kind == "formula"
    assert softmax.back_image.source == r"\mathrm{softmax}(s)_j = \frac{e^{s_j}}{\sum_k e^{s_k}}"


def test_native_mnemonic_and_notes(native: Deck) -> None:
    dot, qkt, softmax = native.cards
    assert dot.mnemonic == 'Dot = "do they agree?"'
    assert dot.notes is None
    assert qkt.mnemonic is None
    assert qkt.notes == "Quadratic in $n$.\n\n~~~text\n### Back\n# not a title either\n~~~"
    assert softmax.mnemonic is None and softmax.notes is None


def test_native_latex_and_tables_kept_verbatim(native: Deck) -> None:
    dot = native.cards[0]
    assert dot.front == (
        "Two vectors $a$ and $b$ have the same length. Which product of the two grows\n"
        "when they point the same way?"
    )
    assert dot.back == (
        "The **dot product** $a \\cdot b = \\sum_i a_i b_i$.\n"
        "\n"
        "$$\n"
        "\\cos\\theta = \\frac{a \\cdot b}{\\|a\\| \\, \\|b\\|}\n"
        "$$\n"
        "\n"
        "| operand | shape |\n"
        "|---------|-------|\n"
        "| $Q$ | $n \\times d_k$ |\n"
        "| $K^T$ | $d_k \\times n$ |"
    )
    assert native.cards[2].back.startswith(
        "$$\\mathrm{softmax}(s)_j = \\frac{e^{s_j}}{\\sum_k e^{s_k}}$$\n\n"
    )


def test_native_headings_inside_code_blocks_are_text(native: Deck) -> None:
    qkt = native.cards[1]
    assert qkt.front == "What is the shape of $QK^T$ for $n$ tokens?"
    assert qkt.back == (
        "$n \\times n$: row $i$ holds query $i$'s scores.\n"
        "\n"
        "```python\n"
        "## a comment, not a card heading\n"
        "### Front\n"
        "scores = Q @ K.T\n"
        "```"
    )
    assert len(native.cards) == 3


def test_a_long_fence_is_not_closed_by_a_shorter_one() -> None:
    text = (
        "# Deck\n\n## Writing a card\n\n### Front\nHow is a card written?\n\n"
        "### Back\n````markdown\n```\n## Not a card\n### Front\n```\n````\n"
    )
    deck, errors = parse_deck(text, "deck.md")
    assert errors == []
    assert deck is not None
    (card,) = deck.cards
    assert card.back == "````markdown\n```\n## Not a card\n### Front\n```\n````"


def test_native_derived_ids_survive_text_edits() -> None:
    text = NATIVE.read_text(encoding="utf-8")
    original, _ = parse_deck(text, str(NATIVE))
    edited_text = text.replace(
        "Two vectors $a$ and $b$ have the same length. Which product of the two grows\n"
        "when they point the same way?",
        "Which product tells whether they agree?",
    ).replace("Every weight is positive and the row sums to one.", "Weights sum to 1.")
    assert edited_text != text
    edited, errors = parse_deck(edited_text, str(NATIVE))
    assert errors == []
    assert original is not None and edited is not None
    assert [c.id for c in edited.cards] == [c.id for c in original.cards]
    assert edited.cards[0].front == "Which product tells whether they agree?"
    assert edited.cards[2].back.endswith("Weights sum to 1.")


def test_native_renamed_heading_changes_a_derived_id_only() -> None:
    text = NATIVE.read_text(encoding="utf-8")
    renamed = text.replace("## Softmax of one row", "## Softmax, row by row").replace(
        "## Scores of every query against every key", "## Query-key scores"
    )
    deck, errors = parse_deck(renamed, str(NATIVE))
    assert errors == []
    assert deck is not None
    assert [c.id for c in deck.cards] == [
        "native-deck.dot-product-as-a-similarity",
        "native-qkt",  # explicit ids do not follow the heading
        "native-deck.softmax-row-by-row",
    ]


def test_deck_id_defaults_to_the_file_name_and_is_used_in_derived_ids() -> None:
    text = NATIVE.read_text(encoding="utf-8")
    deck, errors = parse_deck(text, "some/folder/my-other-deck.md")
    assert errors == []
    assert deck is not None
    assert deck.id == "my-other-deck"
    assert deck.cards[0].id == "my-other-deck.dot-product-as-a-similarity"
    explicit, _ = parse_deck(text.replace("tags: attention, sample\n", "id: chosen\n", 1), "x.md")
    assert explicit is not None
    assert explicit.id == "chosen"
    assert explicit.cards[0].id == "chosen.dot-product-as-a-similarity"


def test_a_deck_file_with_a_byte_order_mark_loads(tmp_path: Path) -> None:
    path = tmp_path / "native-deck.md"
    path.write_bytes(NATIVE.read_text(encoding="utf-8").encode("utf-8-sig"))
    result = load_decks([path])
    assert result.errors == (), "\n".join(map(str, result.errors))
    assert [c.id for c in result.cards()] == [c.id for c in load_decks([NATIVE]).cards()]


def test_good_decks_folder_loads_cleanly() -> None:
    result = load_decks([GOOD])
    assert result.ok, "\n".join(map(str, result.errors))
    assert sorted(d.id for d in result.decks) == ["flashcards-transformers", "native-deck"]


@pytest.mark.parametrize(
    ("text", "slug"),
    [
        ("Dot product as a similarity", "dot-product-as-a-similarity"),
        ("Self-Attention and Multi-Head Attention", "self-attention-and-multi-head-attention"),
        ("Why $\\sqrt{d_k}$?", "why-sqrtdk"),
        ("  --  ", "card"),
        ("x" * 60, "x" * 48),
    ],
)
def test_slugify(text: str, slug: str) -> None:
    assert slugify(text) == slug


def test_native_choices(native: Deck) -> None:
    dot, qkt, softmax = native.cards
    assert dot.choices is not None and dot.choices.correct == 0
    assert dot.choices.answer == r"the dot product $a \cdot b$"
    assert len(dot.choices.options) == 3
    assert qkt.choices is None and softmax.choices is None
