"""Image specs: the shape grammar, shape inference, options, errors, formulas."""

from __future__ import annotations

import re

import pytest

from bot.core.imagespec import (
    Block,
    Call,
    FormulaSpec,
    ImageSpecError,
    Number,
    Op,
    ShapeSpec,
    Sqrt,
    has_unknown,
    is_unknown,
    parse_image_spec,
    parse_shape_spec,
)
from bot.deckfiles import SHIPPED_DECKS, load_decks

# --------------------------------------------------------------------------- valid specs


@pytest.mark.parametrize(
    ("spec", "shape"),
    [
        ("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]", ("n", "n")),
        ("Q[n,d_k] @ K^T[d_k,n]", ("n", "n")),
        ("softmax(Q[n,d_k] @ K^T[d_k,n] / sqrt(d_k)) @ V[n,d_v] -> Z[n,d_v]", ("n", "d_v")),
        (
            "softmax(Q[n,d_k] @ K^T[d_k,n] / sqrt(d_k)) @ V[n,d_v] -> Z[n,d_v]; n=6, d_k=4, d_v=4",
            ("n", "d_v"),
        ),
        (
            "concat_heads(Z[n,d_v]) @ W_O[h*d_v,d_model] -> O[n,d_model]; heads=8",
            ("n", "d_model"),
        ),
        ("concat_heads(Z[n,d_v]) -> O[n,h*d_v]", ("n", "h*d_v")),
        ("A[m,k] @ x[k,1] + B[m,j] @ y[j,1] -> u[m,1]", ("m", "1")),
        ("X[n,8] @ W[d,4]; d=8", ("n", "4")),
        ("X[n,8] @ W[8,4] -> Y[n,4]", ("n", "4")),
        (
            "X[n,d_model] @ W[d_model,d_model/h] -> Y[n,d_k]; d_model=8, d_k=2, h=4",
            ("n", "d_model/h"),
        ),
        ("softmax(mask(Q[n,d_k] @ K^T[d_k,n] / sqrt(d_k))) -> A[n,n]; mask=causal", ("n", "n")),
        ("2 * X[n,d] + X[n,d]", ("n", "d")),
        ("(A[n,k] @ B[k,m]) @ C[m,p]", ("n", "p")),
        ("A[n,a] | B[n,b] -> C[n,c]; a=2, b=3, c=5", ("n", "a+b")),
        ("q[1,d_k] @ K^T[d_k,t] -> s[1,t]", ("1", "t")),
    ],
)
def test_valid_specs_infer_the_shape(spec: str, shape: tuple[str, str]) -> None:
    parsed = parse_shape_spec(spec)
    assert parsed.shape == shape
    assert parsed.source == spec
    assert parsed.kind == "shape"


def test_matrix_product_tree() -> None:
    spec = parse_shape_spec("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]")
    assert spec.expr == Op("@", Block("Q", "n", "d_k"), Block("K", "d_k", "n", transposed=True))
    assert spec.result == Block("S", "n", "n")
    assert [b.label for b in spec.blocks()] == ["Q", "K^T", "S"]


def test_full_attention_tree() -> None:
    spec = parse_shape_spec("softmax(Q[n,d_k] @ K^T[d_k,n] / sqrt(d_k)) @ V[n,d_v] -> Z[n,d_v]")
    q, kt = Block("Q", "n", "d_k"), Block("K", "d_k", "n", transposed=True)
    assert spec.expr == Op(
        "@",
        Call("softmax", Op("/", Op("@", q, kt), Sqrt("d_k"))),
        Block("V", "n", "d_v"),
    )
    assert [b.label for b in spec.blocks()] == ["Q", "K^T", "V", "Z"]
    assert spec.sizes == {}
    assert (spec.mask, spec.highlight, spec.heads, spec.show) == (None, None, None, "shape")


def test_at_binds_tighter_than_plus() -> None:
    spec = parse_shape_spec("A[m,k] @ x[k,1] + B[m,j] @ y[j,1] -> u[m,1]")
    assert spec.expr == Op(
        "+",
        Op("@", Block("A", "m", "k"), Block("x", "k", "1")),
        Op("@", Block("B", "m", "j"), Block("y", "j", "1")),
    )
    assert [b.name for b in spec.blocks()] == ["A", "x", "B", "y", "u"]


def test_products_are_left_to_right() -> None:
    spec = parse_shape_spec("2 * A[n,k] @ B[k,m]")
    assert spec.expr == Op("@", Op("*", Number("2"), Block("A", "n", "k")), Block("B", "k", "m"))


def test_concat_heads_with_heads_option() -> None:
    spec = parse_shape_spec("concat_heads(Z[n,d_v]) @ W_O[h*d_v,d_model] -> O[n,d_model]; heads=8")
    assert spec.heads == 8
    assert spec.sizes == {"h": 8}
    assert spec.expr == Op(
        "@", Call("concat_heads", Block("Z", "n", "d_v")), Block("W_O", "h*d_v", "d_model")
    )
    assert [b.label for b in spec.blocks()] == ["Z", "W_O", "O"]


def test_example_sizes_make_dimensions_equal() -> None:
    spec = parse_shape_spec("X[n,8] @ W[d,4]; d=8")
    assert spec.sizes == {"d": 8}
    with pytest.raises(ImageSpecError, match="inner dimensions 8 and d differ"):
        parse_shape_spec("X[n,8] @ W[d,4]")
    with pytest.raises(ImageSpecError, match="inner dimensions 8 and d differ"):
        parse_shape_spec("X[n,8] @ W[d,4]; d=7")
    result = parse_shape_spec("concat_heads(Z[n,d_v]) -> O[n,d_model]; h=8, d_v=64, d_model=512")
    assert result.shape == ("n", "h*d_v")
    with pytest.raises(ImageSpecError, match="declared result"):
        parse_shape_spec("concat_heads(Z[n,d_v]) -> O[n,d_model]; h=8, d_v=64, d_model=500")


def test_all_options_are_parsed_into_fields() -> None:
    spec = parse_shape_spec(
        "Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4, mask=causal, highlight=col:5, show=heat"
    )
    assert isinstance(spec, ShapeSpec)
    assert spec.sizes == {"n": 6, "d_k": 4}
    assert spec.mask == "causal"
    assert spec.highlight == ("col", 5)
    assert spec.heads is None
    assert spec.show == "heat"


@pytest.mark.parametrize(
    ("option", "field", "value"),
    [
        ("highlight=row:2", "highlight", ("row", 2)),
        ("highlight=col:0", "highlight", ("col", 0)),
        ("show=values", "show", "values"),
        ("show=shape", "show", "shape"),
        ("show=heat", "show", "heat"),
        ("mask=causal", "mask", "causal"),
        ("heads=2", "heads", 2),
    ],
)
def test_single_option(option: str, field: str, value: object) -> None:
    spec = parse_shape_spec(f"S[n,n]; n=6, {option}")
    assert getattr(spec, field) == value


def test_blocks_order_is_left_to_right_then_result() -> None:
    spec = parse_shape_spec(
        "softmax(mask(Q[n,d_k] @ K^T[d_k,n] / sqrt(d_k))) @ V[n,d_v] + B[n,d_v] -> Z[n,d_v]"
    )
    assert [b.label for b in spec.blocks()] == ["Q", "K^T", "V", "B", "Z"]
    assert parse_shape_spec("X[n,d]").blocks() == [Block("X", "n", "d")]


def test_whitespace_is_free() -> None:
    assert (
        parse_shape_spec("  Q[ n , d_k ]@K^T[d_k,n]->S[n,n];n=6,d_k=4  ").shape
        == parse_shape_spec("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4").shape
    )


# --------------------------------------------------------------------------- unknowns (?)


@pytest.mark.parametrize(
    ("spec", "shape"),
    [
        ("Q[n,d_k] @ K^T[?,?] -> S[?,?]; n=6, d_k=4", ("n", "?")),
        ("Q[n,d_k] @ K^T[d_k,n] -> S[?,?]", ("n", "n")),
        ("X[n,d_model] @ W_K[?,?] -> K[n,d_k]", ("n", "?")),
        ("concat_heads(Z[n,d_v]) @ W_O[?,d_model] -> O[n,d_model]; heads=8", ("n", "d_model")),
        ("concat_heads(Z[n,?]); heads=3", ("n", "h*?")),
        ("softmax(mask(Q[n,d_k] @ K^T[d_k,n] / sqrt(?))) -> A[n,n]", ("n", "n")),
        ("mask(S[n,?])", ("n", "?")),
        ("A[n,?] | B[n,b]", ("n", "?+b")),
        ("X[?,d] + Y[n,d]", ("?", "d")),
        ("S[n,?]; n=3, highlight=col:7", ("n", "?")),
    ],
)
def test_an_unknown_dimension_fits_anything(spec: str, shape: tuple[str, str]) -> None:
    parsed = parse_shape_spec(spec)
    assert parsed.shape == shape
    assert has_unknown(parsed)


def test_what_has_an_unknown() -> None:
    assert not has_unknown(parse_shape_spec("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]"))
    assert has_unknown(parse_shape_spec("Q[n,d_k] @ K^T[d_k,n] / sqrt(?)"))
    assert has_unknown(parse_image_spec(r"formula \mathrm{Attention}(Q,K,V) = ?"))
    assert not has_unknown(parse_image_spec(r"formula \frac{a}{b}"))
    assert not has_unknown(parse_image_spec("diagram transformer"))
    assert [is_unknown(d) for d in ("?", "h*?", "?+b", "d_k")] == [True, True, True, False]


@pytest.mark.parametrize(
    ("spec", "message", "column"),
    [
        (
            "Q[n,d_k] @ K^T[?,n]; n=6, d_k=4, show=values",
            "show=values would give the unknown ? away: a spec with an unknown shows shapes only",
            33,
        ),
        ("S[?,?]; show=heat", "show=heat would give the unknown ? away", 8),
        ("W_O[h*?,d_model]", "? stands for a whole dimension: write [?,d] or [n,?]", 6),
        ("W_O[?*h,d_model]", "? stands for a whole dimension", 5),
        ("?[n,d]", "expected a matrix like Q[n,d_k], found '?'", 0),
        ("X[n,d]; n=?", "option n needs a value", 10),
    ],
)
def test_unknowns_are_whole_dimensions_and_shown_as_shapes_only(
    spec: str, message: str, column: int
) -> None:
    with pytest.raises(ImageSpecError) as info:
        parse_shape_spec(spec)
    assert message in info.value.message
    assert info.value.column == column


# --------------------------------------------------------------------------- errors


@pytest.mark.parametrize(
    ("spec", "message"),
    [
        (
            "Q[n,d_k] @ K[n,d_k]",
            "cannot multiply [n,d_k] @ [n,d_k]: inner dimensions d_k and n differ",
        ),
        (
            "Q[n,d_k] @ K^T[d_k,n] -> S[n,d_k]",
            "declared result S[n,d_k] but the expression gives [n,n]",
        ),
        ("relu(X[n,d])", "unknown function 'relu'"),
        ("X[n,d]; foo=3", "unknown option 'foo'"),
        ("X[n,d]; n=3, colour=red", "unknown option 'colour'"),
        ("mask(X[n,d])", "a causal mask needs a square matrix, got [n,d]"),
        ("mask(X[n,d]); n=4, d=5", "a causal mask needs a square matrix"),
        ("S[n,n]; n=3, highlight=row:3", "highlight row:3 is outside a result of 3 rows"),
        (
            "Q[n,d_k] @ K^T[d_k,n]; n=6, d_k=4, highlight=col:6",
            "highlight col:6 is outside a result of 6 cols",
        ),
        ("S[n,n]; highlight=diag:1", "highlight must be row:I or col:J"),
        ("S[n,n]; n=0", "size n must be a positive whole number, not '0'"),
        ("S[n,n]; n=abc", "size n must be a positive whole number, not 'abc'"),
        ("S[n,n]; n=2.5", "size n must be a positive whole number, not '2.5'"),
        ("S[n,n]; n=3, n=4", "option n is given twice"),
        ("S[n,n]; mask=full", "mask must be 'causal', not 'full'"),
        ("S[n,n]; show=bogus", "show must be one of shape, values, heat"),
        ("S[n,n]; heads=0", "heads must be a positive whole number"),
        ("S[n,n]; n=", "option n needs a value"),
        ("", "the shape spec is empty"),
        ("   ", "the shape spec is empty"),
        ("X[n,n] )", "unexpected ')'"),
        ("X[n,n] X[n,n]", "unexpected 'X'"),
        ("X[n,n] $", "unexpected character '$'"),
        ("Q @ K", "matrix Q needs its shape, like Q[n,d_k]"),
        ("X[n,d] -> Y", "matrix Y needs its shape"),
        ("Q[n,d_k @ K^T[d_k,n]", "expected ']', found '@'"),
        ("X[n]", "expected ',', found ']'"),
        ("X[n,1.5]", "a dimension must be a whole number"),
        ("X[n,d] + Y[n,e]", "+ needs equal shapes, got [n,d] and [n,e]"),
        ("X[n,d] | Y[m,e]", "cannot concatenate [n,d] | [m,e]: row counts differ"),
        ("X[n,d] / Y[n,d]", "/ divides by a number such as sqrt(d_k), not by a matrix"),
        ("X[n,n] @ 3", "@ multiplies two matrices"),
        ("softmax(2)", "softmax() needs a matrix, not a number"),
        ("sqrt(d)", "the spec has no matrix in it"),
        ("(X[n,d]", "expected ')', found the end of the spec"),
    ],
)
def test_bad_specs_are_rejected(spec: str, message: str) -> None:
    with pytest.raises(ImageSpecError) as info:
        parse_shape_spec(spec)
    assert message in str(info.value)


def test_errors_carry_the_column_when_known() -> None:
    with pytest.raises(ImageSpecError) as info:
        parse_shape_spec("X[n,d]; foo=3")
    assert info.value.column == 8
    assert str(info.value).endswith("(at column 9)")
    with pytest.raises(ImageSpecError) as info:
        parse_shape_spec("Q[n,d_k] @ K[n,d_k]")
    assert info.value.column is None


def test_image_spec_error_is_a_value_error() -> None:
    assert issubclass(ImageSpecError, ValueError)


# ---------------------------------------------------------------- parse_image_spec and formulas


def test_parse_image_spec_shape() -> None:
    spec = parse_image_spec("shape Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4")
    assert isinstance(spec, ShapeSpec)
    assert spec.kind == "shape"
    assert spec.source == "Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4"


def test_parse_image_spec_formula() -> None:
    source = r"\mathrm{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V"
    spec = parse_image_spec(f"formula {source}  ")
    assert spec == FormulaSpec(source)
    assert spec.kind == "formula"
    assert parse_image_spec(r"formula \{a\}").source == r"\{a\}"


@pytest.mark.parametrize(
    ("formula", "message"),
    [
        (r"\frac{a}{b", "unbalanced '{' in the formula"),
        (r"a}", "unbalanced '}' in the formula"),
        (r"\frac{a}}{b{", "unbalanced '}' in the formula"),
        ("$x^2$", "write the formula without the surrounding $ signs"),
        ("$x^2", "without the surrounding $ signs"),
        ("x^2$", "without the surrounding $ signs"),
        ("", "the formula is empty"),
        ("   ", "the formula is empty"),
    ],
)
def test_bad_formulas_are_rejected(formula: str, message: str) -> None:
    with pytest.raises(ImageSpecError, match=re.escape(message)):
        parse_image_spec(f"formula {formula}")


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("picture attention.png", "'picture'"),
        ("Shape X[n,n]", "'Shape'"),
        ("latex x^2", "'latex'"),
        # An imported image's kind: only an import makes one, never a deck file.
        ("media 1/cat.png", "'media'"),
        ("", "''"),
    ],
)
def test_unknown_image_kind_is_rejected(text: str, kind: str) -> None:
    with pytest.raises(
        ImageSpecError, match=re.escape(f"starts with 'shape' or 'formula', not {kind}")
    ):
        parse_image_spec(text)


def test_shape_kind_without_a_spec_is_rejected() -> None:
    with pytest.raises(ImageSpecError, match="the shape spec is empty"):
        parse_image_spec("shape")


# --------------------------------------------------------------------------- shipped decks and docs


def test_every_image_spec_in_the_shipped_decks_parses() -> None:
    result = load_decks([SHIPPED_DECKS])
    image_errors = [e for e in result.errors if "image" in e.message]
    assert image_errors == [], "\n".join(map(str, image_errors))
    images = [image for c in result.cards() for _, image in c.images()]
    images += [
        ch.image for cs in result.challenge_sets for ch in cs.challenges if ch.image is not None
    ]
    assert images, "the shipped decks carry no images"
    assert {i.kind for i in images} == {"shape", "formula", "diagram"}
    # Every image line in the files made it into a card.
    lines = [
        line
        for path in sorted(SHIPPED_DECKS.rglob("*.md"))
        if path.name.lower() != "readme.md"
        for line in path.read_text(encoding="utf-8").splitlines()
        if line.startswith(("image: ", "front-image: "))
    ]
    assert len(images) == len(lines)
    for image in images:
        again = parse_image_spec(f"{image.kind} {image.source}")
        assert again.kind == image.kind
        assert again.source == image.source


def test_image_examples_in_the_readme_parse() -> None:
    """Every ``image:`` example shows, and every ``front-image:`` example asks."""
    readme = (SHIPPED_DECKS / "README.md").read_text(encoding="utf-8")
    examples = [m.group(1) for m in re.finditer(r"^\s*image: (.+)$", readme, re.MULTILINE)]
    assert len(examples) >= 3
    for example in examples:
        assert not has_unknown(parse_image_spec(example)), example
    fronts = re.findall(r"^\s*front-image: (.+)$", readme, re.MULTILINE)
    assert {f.split()[0] for f in fronts} == {"shape", "formula"}
    for example in fronts:
        assert has_unknown(parse_image_spec(example)), example
