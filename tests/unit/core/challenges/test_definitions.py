"""Challenge-set files: the parser, its errors, the link checks and the shipped sets."""

from __future__ import annotations

import re
from collections import Counter

import pytest

from bot.core.challenges.definitions import (
    CHALLENGE_KINDS,
    DEFAULT_MINUTES,
    ChallengeSet,
    check_challenge_links,
    is_challenge_file,
    parse_challenge_set,
)
from bot.core.imagespec import parse_image_spec
from bot.deckfiles import SHIPPED_DECKS, load_decks

REFLECTION = SHIPPED_DECKS / "reflection"
CARD_DECKS = [SHIPPED_DECKS / "attention.md", SHIPPED_DECKS / "transformers.md"]


@pytest.fixture(scope="module")
def card_ids() -> set[str]:
    deck_set = load_decks(CARD_DECKS)
    assert deck_set.errors == (), "\n".join(map(str, deck_set.errors))
    return {c.id for c in deck_set.cards()}


@pytest.fixture(scope="module")
def shipped() -> list[ChallengeSet]:
    files = sorted(REFLECTION.glob("*.md"))
    assert files, f"no challenge files in {REFLECTION}"
    sets: list[ChallengeSet] = []
    for file in files:
        text = file.read_text(encoding="utf-8")
        assert is_challenge_file(text), file
        cset, errors = parse_challenge_set(text, str(file))
        assert errors == [], "\n".join(map(str, errors))
        assert cset is not None
        sets.append(cset)
    return sets


def _doc(*lines: str) -> str:
    return "\n".join(lines) + "\n"


# A valid file; its line numbers are used by the tests below.
GOOD = _doc(
    "# Challenge set: Warm-up",  # 1
    "id: warmup",  # 2
    "tags: attention, quick",  # 3
    "description: Two exercises.",  # 4
    "",  # 5
    "## Derive attention",  # 6
    "id: w-derive",  # 7
    "kind: derivation",  # 8
    "related: att-full-formula",  # 9
    "image: formula \\mathrm{softmax}\\left(\\frac{QK^T}{\\sqrt{d_k}}\\right)V",  # 10
    "",  # 11
    "### Prompt",  # 12
    "Write the formula.",  # 13
    "",  # 14
    "### Reference",  # 15
    "```text",  # 16
    "## not a heading",  # 17
    "### Rubric",  # 18
    "```",  # 19
    "The formula, with $\\sqrt{d_k}$.",  # 20
    "",  # 21
    "### Checkpoints",  # 22
    "- one",  # 23
    "  continued",  # 24
    "- two",  # 25
    "<!-- a comment -->",  # 26
    "- three",  # 27
    "",  # 28
    "### Rubric",  # 29
    "- The formula -> att-full-formula",  # 30
    "- Source -> target, both -> att-dot-variance, att-scale-sqrt-dk",  # 31
    "",  # 32
    "## Essay",  # 33
    "id: w-essay",  # 34
    "kind: essay",  # 35
    "minutes: 20",  # 36
    "",  # 37
    "### Prompt",  # 38
    "Why?",  # 39
    "### Reference",  # 40
    "Because.",  # 41
    "### Points",  # 42
    "- a",  # 43
    "- b",  # 44
    "### Rubric",  # 45
    "- Why -> tf-parallelism",  # 46
    "",  # 47
    "## Self-assessment",  # 48
    "<!-- rate each row -->",  # 49
    "- Attention -> att-full-formula, att-dot-variance",  # 50
)


def test_good_file_parses_completely() -> None:
    cset, errors = parse_challenge_set(GOOD, "good.md")
    assert errors == []
    assert cset is not None
    assert (cset.id, cset.title, cset.path) == ("warmup", "Warm-up", "good.md")
    assert (cset.tags, cset.description) == (("attention", "quick"), "Two exercises.")
    derive, essay = cset.challenges
    assert (derive.id, derive.set_id, derive.title, derive.kind) == (
        "w-derive",
        "warmup",
        "Derive attention",
        "derivation",
    )
    assert derive.minutes == DEFAULT_MINUTES["derivation"]
    assert derive.line == 6
    assert derive.prompt == "Write the formula."
    assert derive.reference.startswith("```text\n## not a heading\n### Rubric\n```")
    assert derive.checkpoints == ("one continued", "two", "three")
    assert derive.related == ("att-full-formula",)
    assert derive.image is not None and derive.image.kind == "formula"
    assert [(r.text, r.card_ids, r.line) for r in derive.rubric] == [
        ("The formula", ("att-full-formula",), 30),
        ("Source -> target, both", ("att-dot-variance", "att-scale-sqrt-dk"), 31),
    ]
    assert derive.card_ids == ("att-full-formula", "att-dot-variance", "att-scale-sqrt-dk")
    assert (essay.kind, essay.minutes, essay.points, essay.checkpoints) == (
        "essay",
        20,
        ("a", "b"),
        (),
    )
    assert [(r.text, r.card_ids, r.line) for r in cset.rubric] == [
        ("Attention", ("att-full-formula", "att-dot-variance"), 50)
    ]
    assert cset.challenge("w-essay") is essay
    assert cset.challenge("nope") is None


def test_set_id_defaults_to_the_file_name() -> None:
    text = GOOD.replace("id: warmup\n", "")
    cset, errors = parse_challenge_set(text, "decks/reflection/My Set.md")
    assert errors == []
    assert cset is not None and cset.id == "my-set"
    assert cset.challenges[0].line == 5


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("# Challenge set: x\n", True),
        ("\ufeff\n\n# Challenge set: x\n", True),
        ("# Challenge set:x\n", True),
        ("# Attention\nid: attention\n", False),
        ("# Flashcards: Transformers\n", False),
        ("intro\n# Challenge set: x\n", False),
        ("", False),
    ],
)
def test_is_challenge_file(text: str, expected: bool) -> None:
    assert is_challenge_file(text) is expected


def _replace(old: str, new: str) -> str:
    assert GOOD.count(old) == 1, old
    return GOOD.replace(old, new)


def _lines(text: str, line: int, new: list[str]) -> str:
    """``text`` with its 1-based ``line`` replaced by ``new`` (an empty list deletes it)."""
    rows = text.splitlines()
    rows[line - 1 : line] = new
    return "\n".join(rows) + "\n"


# (case name, file text, expected errors as (line, message fragment)); the set survives
# unless the text is not a challenge file at all.
ERROR_CASES: list[tuple[str, str, list[tuple[int, str]]]] = [
    ("empty file", "\n\n", [(1, "the file is empty")]),
    ("deck title", "\n# Attention\nid: a\n", [(2, "starts with '# Challenge set: <title>'")]),
    ("empty title", "# Challenge set:   \n", [(1, "no title")]),
    (
        "unknown set key",
        _lines(GOOD, 3, ["level: 3"]),
        [(3, "unknown key 'level' in the set header")],
    ),
    ("bad set id", _replace("id: warmup", "id: -bad"), [(2, "bad set id '-bad'")]),
    (
        "set header text",
        _lines(GOOD, 5, ["some words"]),
        [(5, "unexpected text in the set header")],
    ),
    (
        "section in header",
        _lines(GOOD, 5, ["### Prompt"]),
        [(5, "sections belong to a '## challenge'")],
    ),
    ("duplicate set key", _lines(GOOD, 5, ["tags: again"]), [(5, "key 'tags' is given twice")]),
    ("second title", _lines(GOOD, 11, ["# Another title"]), [(11, "only one '# ' title line")]),
    (
        "unknown challenge key",
        _replace("minutes: 20", "difficulty: hard"),
        [(36, "unknown key 'difficulty'")],
    ),
    (
        "challenge text",
        _lines(GOOD, 11, ["oops"]),
        [(11, "unexpected text in challenge 'Derive attention'")],
    ),
    (
        "duplicate challenge key",
        _lines(GOOD, 11, ["kind: derivation"]),
        [(11, "key 'kind' is given twice")],
    ),
    (
        "unknown section",
        _replace("### Points", "### Hints"),
        [(42, "unknown section '### Hints'"), (33, "an essay needs a '### Points'")],
    ),
    (
        "duplicate section",
        _lines(GOOD, 41, ["Because.", "### Prompt", "Again?"]),
        [(42, "'### Prompt' appears twice")],
    ),
    ("unknown kind", _replace("kind: essay", "kind: quiz"), [(35, "unknown kind 'quiz'")]),
    ("missing kind", _replace("kind: essay\n", ""), [(33, "has no 'kind:' line")]),
    ("missing id", _replace("id: w-essay\n", ""), [(33, "challenge 'Essay' has no 'id:' line")]),
    ("bad id", _replace("id: w-essay", "id: w essay"), [(34, "bad challenge id 'w essay'")]),
    (
        "missing prompt",
        _lines(GOOD, 38, []),
        [(33, "has no '### Prompt' section"), (38, "unexpected text")],
    ),
    ("empty prompt", _lines(GOOD, 39, [""]), [(38, "has an empty prompt")]),
    (
        "missing reference",
        _lines(_lines(GOOD, 41, []), 40, []),
        [(33, "has no '### Reference' section")],
    ),
    ("empty reference", _lines(GOOD, 41, [""]), [(40, "has an empty reference")]),
    (
        "two checkpoints",
        _lines(GOOD, 27, []),
        [(22, "3 to 6 checkpoints; challenge 'w-derive' has 2")],
    ),
    (
        "seven checkpoints",
        _lines(GOOD, 27, ["- three", "- 4", "- 5", "- 6", "- 7"]),
        [(22, "has 7")],
    ),
    (
        "no checkpoints",
        GOOD.replace(
            "### Checkpoints\n- one\n  continued\n- two\n<!-- a comment -->\n- three\n", ""
        ),
        [(6, "a derivation needs '### Checkpoints'")],
    ),
    (
        "drawing checkpoints",
        _replace("kind: derivation", "kind: drawing").replace("- three\n", ""),
        [(22, "a drawing has 3 to 6")],
    ),
    (
        "checkpoint not a list",
        _lines(GOOD, 26, ["plain text"]),
        [(26, "expected a list item '- ...' in the checkpoints")],
    ),
    (
        "empty points",
        _lines(_lines(GOOD, 44, []), 43, []),
        [(42, "'### Points' section of challenge 'w-essay' has no items")],
    ),
    ("row without arrow", _lines(GOOD, 46, ["- Why, no ids"]), [(46, "links no cards")]),
    ("row with empty ids", _lines(GOOD, 46, ["- Why -> , "]), [(46, "links no cards")]),
    (
        "row without text",
        _lines(GOOD, 46, ["- -> tf-parallelism"]),
        [(46, "has no text before '->'")],
    ),
    (
        "row with bad id",
        _lines(GOOD, 30, ["- The formula -> att-full-formula, not an id"]),
        [(30, "bad card id 'not an id'")],
    ),
    (
        "empty rubric",
        _lines(GOOD, 46, [""]),
        [(45, "the rubric of challenge 'w-essay' has no rows")],
    ),
    ("missing rubric", _lines(_lines(GOOD, 46, []), 45, []), [(33, "has no '### Rubric' section")]),
    (
        "zero minutes",
        _replace("minutes: 20", "minutes: 0"),
        [(36, "minutes must be a whole number from 1 to 180, not '0'")],
    ),
    ("too many minutes", _replace("minutes: 20", "minutes: 181"), [(36, "not '181'")]),
    ("minutes not a number", _replace("minutes: 20", "minutes: ten"), [(36, "not 'ten'")]),
    (
        "bad image kind",
        _replace("image: formula", "image: picture"),
        [(10, "bad image spec in challenge 'w-derive'")],
    ),
    (
        "bad formula",
        _replace("\\sqrt{d_k}}\\right)V", "\\sqrt{d_k}\\right)V"),
        [(10, "unbalanced '{'")],
    ),
    ("bad shape", _lines(GOOD, 10, ["image: shape Q[n,d_k] @ K[n,d_k]"]), [(10, "bad image spec")]),
    (
        "bad related id",
        _replace("related: att-full-formula", "related: att-full-formula, a b"),
        [(9, "bad card id 'a b' in 'related'")],
    ),
    (
        "duplicate challenge id",
        _replace("id: w-essay", "id: w-derive"),
        [(33, "duplicate challenge id 'w-derive' (first at line 6)")],
    ),
    (
        "self-assessment twice",
        GOOD + "## Self-assessment\n- More -> att-key\n",
        [(51, "'## Self-assessment' appears twice (first at line 48)")],
    ),
    (
        "self-assessment text",
        _lines(GOOD, 49, ["Rate yourself."]),
        [(49, "expected a list item '- ...' in the rubric of the self-assessment")],
    ),
    (
        "self-assessment section",
        _lines(GOOD, 49, ["### Rubric"]),
        [(49, "in the self-assessment: sections belong")],
    ),
    (
        "empty self-assessment",
        _lines(GOOD, 50, []),
        [(48, "the rubric of the self-assessment has no rows")],
    ),
    (
        "33 rubric rows",
        _lines(GOOD, 46, [f"- Why {n} -> tf-parallelism" for n in range(33)]),
        [(78, "has 33 rows; at most 32 are rated")],
    ),
    ("no challenges", "# Challenge set: Empty\nid: empty\n", [(1, "has no challenges")]),
    ("empty heading", _replace("## Essay", "## "), [(33, "the challenge heading is empty")]),
]


@pytest.mark.parametrize(
    ("text", "expected"), [c[1:] for c in ERROR_CASES], ids=[c[0] for c in ERROR_CASES]
)
def test_errors_have_exact_lines(text: str, expected: list[tuple[int, str]]) -> None:
    cset, errors = parse_challenge_set(text, "bad.md")
    assert all(e.path == "bad.md" for e in errors)
    got = [(e.line, e.message) for e in errors]
    assert len(got) == len(expected), got
    for (line, fragment), (got_line, message) in zip(sorted(expected), sorted(got), strict=True):
        assert (got_line, fragment in message) == (line, True), (got_line, message)
    assert str(errors[0]).startswith(f"bad.md:{errors[0].line}: ")
    if cset is not None:
        assert cset.path == "bad.md"


def test_fatal_problems_drop_only_that_challenge() -> None:
    cset, errors = parse_challenge_set(_replace("kind: essay", "kind: quiz"), "bad.md")
    assert errors and cset is not None
    assert [c.id for c in cset.challenges] == ["w-derive"]
    assert cset.rubric  # the self-assessment is still read


def test_minor_problems_keep_the_challenge() -> None:
    cset, errors = parse_challenge_set(_replace("minutes: 20", "minutes: 0"), "bad.md")
    assert len(errors) == 1 and cset is not None
    essay = cset.challenge("w-essay")
    assert essay is not None and essay.minutes == DEFAULT_MINUTES["essay"]


def test_non_challenge_files_give_no_set() -> None:
    assert parse_challenge_set("# Attention\n", "a.md")[0] is None
    assert parse_challenge_set("", "a.md")[0] is None


# --- links across files ------------------------------------------------------------------


def _parsed(text: str, path: str) -> ChallengeSet:
    cset, errors = parse_challenge_set(text, path)
    assert errors == [] and cset is not None
    return cset


LINK_CARDS = {"att-full-formula", "att-dot-variance", "att-scale-sqrt-dk", "tf-parallelism"}


def test_links_to_existing_cards_are_fine() -> None:
    assert check_challenge_links([_parsed(GOOD, "a.md")], LINK_CARDS) == []


def test_missing_cards_are_reported_where_they_are_linked() -> None:
    cset = _parsed(GOOD, "a.md")
    errors = check_challenge_links([cset], LINK_CARDS - {"att-full-formula", "tf-parallelism"})
    assert [(e.path, e.line) for e in errors] == [
        ("a.md", 6),
        ("a.md", 30),
        ("a.md", 46),
        ("a.md", 50),
    ]
    assert "related to card 'att-full-formula'" in errors[0].message
    assert "challenge 'w-derive' links card 'att-full-formula'" in errors[1].message
    assert "challenge 'w-essay' links card 'tf-parallelism'" in errors[2].message
    assert "self-assessment links card 'att-full-formula'" in errors[3].message


def test_duplicate_ids_across_files() -> None:
    first = _parsed(GOOD, "a.md")
    second = _parsed(GOOD.replace("id: warmup", "id: other").replace("w-derive", "w-other"), "b.md")
    errors = check_challenge_links([first, second], LINK_CARDS)
    assert [(e.path, e.line) for e in errors] == [("b.md", 33)]
    assert "duplicate challenge id 'w-essay' (first at a.md:33)" in errors[0].message

    same_set = _parsed(GOOD.replace("w-", "x-"), "c.md")
    errors = check_challenge_links([first, same_set], LINK_CARDS)
    assert [(e.path, e.line, e.message) for e in errors] == [
        ("c.md", 1, "duplicate set id 'warmup' (also a.md)")
    ]


def test_seen_ids_are_shared_between_calls() -> None:
    seen: dict[str, str] = {}
    assert check_challenge_links([_parsed(GOOD, "a.md")], LINK_CARDS, seen) == []
    assert seen == {"w-derive": "a.md:6", "w-essay": "a.md:33"}
    again = check_challenge_links([_parsed(GOOD, "a.md")], LINK_CARDS, seen)
    assert again == []  # the same definition is not a duplicate of itself
    other = _parsed(GOOD.replace("id: warmup", "id: other"), "b.md")
    errors = check_challenge_links([other], LINK_CARDS, seen)
    assert [(e.path, e.line) for e in errors] == [("b.md", 6), ("b.md", 33)]


# --- the shipped challenge sets ----------------------------------------------------------


def test_shipped_links_exist(shipped: list[ChallengeSet], card_ids: set[str]) -> None:
    errors = check_challenge_links(shipped, card_ids)
    assert errors == [], "\n".join(map(str, errors))
    for cset in shipped:
        for challenge in cset.challenges:
            assert challenge.rubric, challenge.id
            assert all(row.card_ids for row in challenge.rubric), challenge.id


def test_shipped_counts(shipped: list[ChallengeSet]) -> None:
    challenges = [c for s in shipped for c in s.challenges]
    kinds = Counter(c.kind for c in challenges)
    assert set(kinds) <= set(CHALLENGE_KINDS)
    assert kinds["derivation"] == 3
    assert kinds["drawing"] == 1
    assert kinds["conceptual"] == 6
    assert kinds["essay"] == 1
    assert kinds["connection"] >= 1
    for c in challenges:
        if c.kind in ("derivation", "drawing"):
            assert 3 <= len(c.checkpoints) <= 6, c.id
        if c.kind == "essay":
            assert len(c.points) == 5, c.id
        assert 1 <= c.minutes <= 180
    assert len({c.id for c in challenges}) == len(challenges)


def test_shipped_self_assessment_covers_the_areas(shipped: list[ChallengeSet]) -> None:
    rubrics = [s.rubric for s in shipped if s.rubric]
    assert len(rubrics) == 1
    rows = rubrics[0]
    assert len(rows) == 8
    text = " ".join(r.text for r in rows).lower()
    for area in (
        "bahdanau",
        "scaled dot-product",
        "multi-head",
        "architecture",
        "pre-ln",
        "rope",
        "warmup",
        "rnn",
    ):
        assert area in text, area


def test_shipped_images_parse(shipped: list[ChallengeSet]) -> None:
    images = [c.image for s in shipped for c in s.challenges if c.image is not None]
    for image in images:
        assert parse_image_spec(f"{image.kind} {image.source}") == image
        if image.kind == "formula":
            assert "\\text" not in image.source and "\\begin" not in image.source
    derivations = [c for s in shipped for c in s.challenges if c.kind == "derivation"]
    assert all(c.image is not None and c.image.kind == "formula" for c in derivations)


def test_shipped_numbers_and_formulas(shipped: list[ChallengeSet]) -> None:
    by_id = {c.id: c for s in shipped for c in s.challenges}
    weights, biases = 4 * 512 * 512, 4 * 512
    assert (weights, biases, weights + biases, 512 // 8) == (1_048_576, 2_048, 1_050_624, 64)
    mha = by_id["refl-multi-head"].reference
    for number in ("1{,}048{,}576", "2{,}048", "1{,}050{,}624", "\\frac{512}{8} = 64"):
        assert number in mha
    bahdanau = by_id["refl-bahdanau"].reference
    for formula in ("v_a^T \\tanh(W_a s_{i-1} + U_a h_j)", "c_i = \\sum_j \\alpha_{ij} h_j"):
        assert formula in bahdanau
    scaled = by_id["refl-scaled-dot-product"].reference
    assert "\\mathrm{Var}(q \\cdot k) = d_k" in scaled
    assert "\\mathrm{softmax}\\left(\\frac{QK^T}{\\sqrt{d_k}}\\right) V" in scaled


def test_shipped_files_are_not_read_as_decks_by_mistake() -> None:
    for file in REFLECTION.glob("*.md"):
        assert file.read_text(encoding="utf-8").startswith("# Challenge set: "), file


def test_readme_example_is_valid(card_ids: set[str]) -> None:
    readme = (SHIPPED_DECKS / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("\n## Challenges\n") :]
    match = re.search(r"````markdown\n(.*?)````", section, re.DOTALL)
    assert match is not None
    cset, errors = parse_challenge_set(match.group(1), "README.md")
    assert errors == [], "\n".join(map(str, errors))
    assert cset is not None and len(cset.challenges) == 2 and cset.rubric
    assert check_challenge_links([cset], card_ids) == []


def test_a_longer_fence_is_not_closed_by_a_shorter_one() -> None:
    """````markdown may hold ``` lines and headings: all of it stays in the reference."""
    text = GOOD.replace(
        "```text\n## not a heading\n### Rubric\n```\n",
        "````markdown\n```\n## not a heading\n```\n### Rubric\n````\n",
    )
    assert text != GOOD
    cset, errors = parse_challenge_set(text, "good.md")
    assert errors == []
    assert cset is not None
    reference = cset.challenges[0].reference
    assert "## not a heading" in reference and "### Rubric" in reference


def test_a_challenge_image_cannot_ask_for_anything() -> None:
    """A challenge's image is shown with the reference: a ``?`` there is an error too."""
    text = (
        "# Challenge set: S\n\n## One\nid: one\nkind: conceptual\n"
        "image: formula a = ?\n\n### Prompt\nP\n\n### Reference\nR\n\n"
        "### Rubric\n- Area -> c\n"
    )
    challenge_set, errors = parse_challenge_set(text, "set.md")
    assert [(e.line, e.message) for e in errors] == [
        (
            6,
            "bad image spec in challenge 'one': '?' marks an unknown, and a challenge's "
            "image is shown with the reference",
        )
    ]
    assert challenge_set is not None and challenge_set.challenges[0].image is None
