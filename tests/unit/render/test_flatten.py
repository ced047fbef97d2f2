"""bot.render.flatten: a shape spec's expression as a row of items, and its notes."""

from __future__ import annotations

from bot.core.imagespec import Block, parse_shape_spec
from bot.render.flatten import Item, Row, flatten, notes_for


def row(spec: str) -> Row:
    return flatten(parse_shape_spec(spec))


def kinds(r: Row) -> list[str]:
    return [it.kind if it.kind != "glyph" else it.text for it in r.items]


def test_a_product_ends_with_equals_and_the_result() -> None:
    r = row("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]")
    assert kinds(r) == ["block", r"$\times$", "block", "$=$", "block"]
    assert [it.block.label for it in r.items if it.block is not None] == ["Q", "K^T", "S"]
    assert r.items[-1].is_result and r.result == Block("S", "n", "n")
    assert [it.label for it in r.items] == ["$Q$", "", "$K^{T}$", "", "$S$"]
    assert (r.funcs, r.sources, r.concat, r.masked) == ((), (), None, False)


def test_an_undeclared_result_is_unnamed() -> None:
    r = row("A[n,k] @ B[k,m]")
    assert r.result == Block("", "n", "m")
    assert r.items[-1].label == ""


def test_brackets_only_where_precedence_needs_them() -> None:
    assert "open" not in kinds(row("A[n,k] @ B[k,m] @ C[m,p]"))
    assert "open" not in kinds(row("A[m,k] @ x[k,1] + B[m,j] @ y[j,1]"))
    assert kinds(row("(A[n,n] + B[n,n]) @ C[n,d]"))[:5] == [
        "open",
        "block",
        "$+$",
        "block",
        "close",
    ]
    assert kinds(row("A[n,k] @ (B[k,m] @ C[m,p])"))[2] == "open"


def test_functions_open_a_named_bracket_and_scalars_join_their_operator() -> None:
    r = row("softmax(Q[n,d_k] @ K^T[d_k,n] / sqrt(d_k)) -> A[n,n]")
    assert r.items[0] == Item("open", text=r"$\mathrm{softmax}$", glyph_kind="func")
    assert Item("glyph", text=r"$/\,\sqrt{d_{k}}$", glyph_kind="scalar") in r.items
    assert kinds(r)[-3:] == ["close", "$=$", "block"]
    assert r.funcs == ("softmax",)
    assert row("2 * A[n,k] @ B[k,m]").items[0] == Item("glyph", text="$2$", glyph_kind="scalar")
    assert row("A[n,k] * B[n,k]").items[1].text == r"$\odot$"


def test_concat_heads_is_one_block_of_heads() -> None:
    r = row("concat_heads(Z[n,d_v]) @ W_O[h*d_v,d_model] -> O[n,d_model]; heads=8")
    z = r.items[0]
    assert z.kind == "block" and z.heads == 8
    assert z.label == r"$Z_{1} | \cdots | Z_{8}$"
    assert r.concat == (Block("Z", "n", "d_v"), 8)


def test_a_highlight_follows_the_operands_it_runs_through() -> None:
    by_row = row("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; highlight=row:2")
    assert [it.highlight for it in by_row.items if it.kind == "block"] == [
        ("row", 2),
        None,
        ("row", 2),
    ]
    assert by_row.sources == ((Block("Q", "n", "d_k"), ("row", 2)),)
    by_col = row("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; highlight=col:3")
    assert [it.highlight for it in by_col.items if it.kind == "block"][:2] == [None, ("col", 3)]
    # Side by side, a column index moves into the operand that holds that column.
    joined = row("A[n,a] | B[n,b] -> C[n,c]; a=2, b=3, c=5, highlight=col:3")
    assert [it.highlight for it in joined.items if it.kind == "block"] == [
        None,
        ("col", 1),
        ("col", 3),
    ]
    assert row("softmax(Q[n,d_k] @ K^T[d_k,n]) -> A[n,n]; highlight=col:2").col_through_softmax


def test_a_causal_mask_needs_a_square_result() -> None:
    assert row("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; mask=causal").masked
    assert row("mask(Q[n,d_k] @ K^T[d_k,n]) -> S[n,n]").masked
    assert not row("Q[n,d_k] @ K^T[d_k,m] -> S[n,m]; n=6, m=4, d_k=2, mask=causal").masked


def test_notes_explain_what_the_spec_uses() -> None:
    spec = parse_shape_spec(
        "softmax(mask(Q[n,d_k] @ K^T[d_k,n] / sqrt(d_k))) -> A[n,n]; highlight=row:1"
    )
    notes = notes_for(spec, flatten(spec))
    assert notes[0] == "Row 1 of $A$ uses only row 1 of $Q$: query 1 against every key"
    assert notes[1] == "softmax works along each row: every row of $A$ sums to 1"
    assert notes[2].startswith("Causal mask:")
    assert len(notes) == 3
    plain = parse_shape_spec("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]")
    assert notes_for(plain, flatten(plain)) == []
    # A column highlight through softmax spreads to every column: no claim about it.
    spread = parse_shape_spec("softmax(Q[n,d_k] @ K^T[d_k,n]) -> A[n,n]; highlight=col:2")
    assert notes_for(spread, flatten(spread)) == [
        "softmax works along each row: every row of $A$ sums to 1"
    ]
