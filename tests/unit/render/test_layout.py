"""The layout model of shape diagrams, checked directly (no pixels)."""

from __future__ import annotations

import itertools
import math

import pytest

from bot.core.imagespec import parse_shape_spec
from bot.render.evaluate import evaluate
from bot.render.flatten import flatten
from bot.render.layout import (
    ShapeLayout,
    Widths,
    estimate_width,
    item_dims,
    layout_shape,
    place,
    size,
)
from bot.render.notation import neutral_cells
from bot.render.style import DEFAULT_STYLE, role_of


def lay(spec: str) -> ShapeLayout:
    return layout_shape(parse_shape_spec(spec))


def check_geometry(layout: ShapeLayout) -> None:
    """Every block is on the canvas, to scale, and the blocks do not overlap."""
    assert layout.width >= 800
    for b in layout.blocks:
        assert b.x >= 0 and b.x + b.width <= layout.width
        assert b.y >= 0 and b.top <= layout.height
        assert b.width == pytest.approx(b.cols.cells * layout.cell)
        assert b.height == pytest.approx(b.rows.cells * layout.cell)
    xs = sorted((b.x, b.x + b.width) for b in layout.blocks)
    for (_, right), (left, _) in itertools.pairwise(xs):
        assert right < left


def test_qkt_blocks_sizes_and_labels() -> None:
    layout = lay("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4")
    check_geometry(layout)
    assert [b.name for b in layout.blocks] == ["Q", "K^T", "S"]
    q, kt, s = layout.blocks
    assert (q.rows.size, q.cols.size) == (6, 4)
    assert (kt.rows.size, kt.cols.size) == (4, 6)
    assert (s.rows.size, s.cols.size) == (6, 6)
    assert s.is_result and not q.is_result
    # To scale: Q's width is 4/6 of S's, K^T's height is 4/6 of Q's.
    assert q.width / s.width == pytest.approx(4 / 6)
    assert kt.height / q.height == pytest.approx(4 / 6)
    assert q.x < kt.x < s.x
    # Blocks are centred on one line.
    assert {round(b.y + b.height / 2, 6) for b in layout.blocks} == {round(layout.midline, 6)}
    assert [b.label for b in layout.blocks] == ["$Q$", "$K^{T}$", "$S$"]
    assert q.rows.label == "$n = 6$" and q.cols.label == "$d_{k} = 4$"
    glyphs = [g.text for g in layout.glyphs]
    assert glyphs == [r"$\times$", "$=$"]
    assert q.x + q.width < layout.glyphs[0].x < kt.x
    assert kt.x + kt.width < layout.glyphs[1].x < s.x
    assert layout.notes == ()
    assert layout.parens == ()


def test_colours_follow_roles() -> None:
    layout = lay("X[n,d_model] @ W_K[d_model,d_k] -> K[n,d_k]; n=6, d_model=8, d_k=4")
    x, wk, k = layout.blocks
    assert (x.role, wk.role, k.role) == ("input", "k", "k")
    assert wk.weight and not k.weight
    assert role_of("W_Q") == role_of("Q") == role_of("q") == "q"
    assert role_of("K^T") == "k" and role_of("K_j^T") == "k"
    assert role_of("W_V") == role_of("V") == "v"
    assert role_of("S_ij") == role_of("A") == "score"
    assert role_of("Z") == role_of("W_O") == role_of("O") == "output"
    assert role_of("W_1") == "weight" and role_of("E") == "input"
    assert DEFAULT_STYLE.colour("q") != DEFAULT_STYLE.colour("k") != DEFAULT_STYLE.colour("v")


def test_unknown_sizes_are_symbolic_and_consistent() -> None:
    layout = lay("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]")
    q, kt, s = layout.blocks
    assert not q.rows.known and q.rows.label == "$n$"
    assert q.rows.size == s.cols.size == kt.cols.size
    assert q.cols.size == kt.rows.size
    check_geometry(layout)


def test_dimension_arithmetic_in_a_layout() -> None:
    layout = lay("X[n,d_model] @ W_Q[d_model,d_model/h] -> Q[n,d_model/h]; n=6, d_model=8, h=2")
    assert layout.block("Q").cols.size == 4 and layout.block("Q").cols.known
    assert layout.block("Q").cols.label == "$d_{model}/h = 4$"


def test_highlight_row_is_query_against_every_key() -> None:
    layout = lay("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4, highlight=row:2")
    assert layout.block("Q").highlight == ("row", 2)
    assert layout.block("K^T").highlight is None
    assert layout.block("S").highlight == ("row", 2)
    assert len(layout.notes) == 1
    assert "row 2 of $Q$" in layout.notes[0] and "query 2 against every key" in layout.notes[0]


def test_highlight_column_goes_to_the_keys() -> None:
    layout = lay("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4, highlight=col:3")
    assert layout.block("Q").highlight is None
    assert layout.block("K^T").highlight == ("col", 3)
    assert "key 3 against every query" in layout.notes[0]


def test_softmax_and_scaling() -> None:
    layout = lay(
        "softmax(Q[n,d_k] @ K^T[d_k,n] / sqrt(d_k)) -> A[n,n]; n=6, d_k=4, highlight=row:2"
    )
    check_geometry(layout)
    kinds = [(g.kind, g.text) for g in layout.glyphs]
    assert ("func", r"$\mathrm{softmax}$") in kinds
    assert ("scalar", r"$/\,\sqrt{d_{k}}$") in kinds
    assert [p.side for p in layout.parens] == ["(", ")"]
    opening, closing = layout.parens
    q, kt = layout.block("Q"), layout.block("K^T")
    assert opening.x < q.x and closing.x > kt.x + kt.width
    assert opening.top > q.top and opening.bottom < q.y
    assert any("every row of $A$ sums to 1" in n for n in layout.notes)


def test_causal_mask_masks_the_upper_triangle_of_the_result() -> None:
    layout = lay(
        "softmax(mask(Q[n,d_k] @ K^T[d_k,n] / sqrt(d_k))) -> A[n,n]; n=6, d_k=4, mask=causal"
    )
    a = layout.result
    assert a.masked and not layout.block("Q").masked
    assert a.is_masked(0, 1) and a.is_masked(2, 5)
    assert not a.is_masked(1, 0) and not a.is_masked(3, 3)
    assert len(layout.parens) == 4  # softmax( mask( ... ) )
    outer, inner = layout.parens[2], layout.parens[0]
    assert outer.top > inner.top  # nested brackets grow
    assert any("Causal mask" in n or "mask:" in n for n in layout.notes)
    assert [g.text for g in layout.glyphs if g.kind == "func"] == [
        r"$\mathrm{softmax}$",
        r"$\mathrm{mask}$",
    ]


def test_concat_heads_splits_into_bands() -> None:
    layout = lay(
        "concat_heads(Z[n,d_v]) @ W_O[h*d_v,d_model] -> O[n,d_model]; "
        "n=4, d_v=2, d_model=16, heads=8"
    )
    check_geometry(layout)
    z, wo, o = layout.blocks
    assert z.heads == 8 and z.cols.size == 16 and z.cols.label == r"$h \cdot d_{v} = 16$"
    assert "Z_{1}" in z.label and "Z_{8}" in z.label
    assert wo.row_bands == 8 and wo.rows.size == 16
    assert o.heads == 1 and (o.rows.size, o.cols.size) == (4, 16)
    assert any("$h = 8$ heads" in n for n in layout.notes)


def test_values_are_computed_for_small_examples() -> None:
    layout = lay(
        "softmax(mask(Q[n,d_k] @ K^T[d_k,n] / sqrt(d_k))) -> A[n,n]; n=5, d_k=4, "
        "mask=causal, show=values"
    )
    assert layout.show == "values"
    a = layout.result
    assert a.values is not None and len(a.values) == 5
    for i, row in enumerate(a.values):
        assert math.fsum(row) == pytest.approx(1.0)
        assert all(v == 0.0 for v in row[i + 1 :])
    assert layout.cell >= 30  # room for the numbers
    q = layout.block("Q")
    assert q.values is not None and len(q.values) == 5 and len(q.values[0]) == 4
    # K^T's values are the transpose of the same K used everywhere.
    kt = layout.block("K^T")
    assert kt.values is not None and len(kt.values) == 4 and len(kt.values[0]) == 5


def test_elementwise_sum_and_grouping() -> None:
    layout = lay("E[n,d_model] + P[n,d_model] -> X[n,d_model]; n=6, d_model=8")
    assert [g.text for g in layout.glyphs] == ["$+$", "$=$"]
    grouped = lay("(A[n,n] + B[n,n]) @ C[n,d]; n=3, d=2")
    assert [p.side for p in grouped.parens] == ["(", ")"]
    assert grouped.result.name == "" and grouped.result.cols.size == 2
    flat = lay(
        "(W_a[d_a,d_s] @ s[d_s,1]) + (U_a[d_a,d_h] @ h[d_h,1]) -> u[d_a,1]; d_a=4, d_s=6, d_h=5"
    )
    assert flat.parens == ()  # @ binds tighter than +: no brackets needed
    assert [b.name for b in flat.blocks] == ["W_a", "s", "U_a", "h", "u"]
    check_geometry(flat)


def test_huge_sizes_are_scaled_down_in_proportion() -> None:
    layout = lay("X[n,d_model] @ W_Q[d_model,d_k] -> Q[n,d_k]; n=128, d_model=512, d_k=64")
    x, _wq, q = layout.blocks
    assert x.cols.size == 512 and x.cols.cells <= 32
    assert x.width / q.width == pytest.approx(512 / 64, rel=0.1)
    assert layout.width <= DEFAULT_STYLE.max_width
    check_geometry(layout)


def test_wide_diagrams_grow_but_stay_bounded() -> None:
    layout = lay(
        "softmax(mask(Q[n,d_k] @ K^T[d_k,n] / sqrt(d_k))) @ V[n,d_v] -> Z[n,d_v]; "
        "n=12, d_k=8, d_v=8, mask=causal"
    )
    check_geometry(layout)
    assert DEFAULT_STYLE.width <= layout.width <= DEFAULT_STYLE.max_width
    assert layout.cell >= 2


def test_labels_lists_every_drawn_text() -> None:
    layout = lay("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4, highlight=row:1")
    labels = layout.labels()
    assert "$K^{T}$" in labels and "$n = 6$" in labels and layout.notes[0] in labels


# --------------------------------------------------------------------------- unknowns (?)


def test_an_unknown_dimension_is_drawn_at_a_neutral_size() -> None:
    """K^T[?,?] and S[?,?] are not drawn at their real sizes ([4,6] and [6,6]), but all
    at one size that no known dimension of the diagram has."""
    layout = lay("Q[n,d_k] @ K^T[?,?] -> S[?,?]; n=6, d_k=4")
    check_geometry(layout)
    q, kt, s = layout.blocks
    assert not (q.rows.unknown or q.cols.unknown)
    assert all(d.unknown and d.cells == 5 for d in (kt.rows, kt.cols, s.rows, s.cols))
    assert kt.width == kt.height == s.width == pytest.approx(5 * layout.cell)
    assert [kt.rows.label, s.cols.label] == ["$?$", "$?$"]
    # Whatever the answer ([d_k,d_k] here, [d_k,n] above), the unknown looks the same.
    w = lay("X[n,d_k] @ W[?,?] -> Y[n,d_k]; n=6, d_k=4").block("W")
    assert (w.rows.cells, w.cols.cells) == (kt.rows.cells, kt.cols.cells) == (5, 5)


def test_one_unknown_side_keeps_the_other_to_scale() -> None:
    layout = lay(
        "concat_heads(Z[n,d_v]) @ W_O[?,d_model] -> O[n,d_model]; n=4, d_v=2, heads=3, d_model=6"
    )
    wo = layout.block("W_O")
    assert wo.rows.unknown and wo.rows.cells == 5  # not h*d_v = 6
    assert not wo.cols.unknown and wo.cols.cells == 6
    assert wo.row_bands == 1, "no head bands count out the rows"


def test_unknowns_leave_the_scale_of_huge_matrices_alone() -> None:
    spec = parse_shape_spec("X[n,d_model] @ W_Q[?,?] -> Q[n,d_k]; n=512, d_model=512, d_k=64")
    dims, unit = item_dims(flatten(spec), spec)
    assert unit == 512 / 32
    w = dims[2]
    assert w is not None and w[0].cells == w[1].cells == neutral_cells({32, 4})


def test_no_highlight_or_mask_on_a_side_that_is_asked_for() -> None:
    hl = lay("Q[n,d_k] @ K^T[d_k,n] -> S[?,n]; n=6, d_k=4, highlight=row:2")
    assert hl.block("Q").highlight == ("row", 2)
    assert hl.result.highlight is None
    cols = lay("Q[n,d_k] @ K^T[d_k,n] -> S[n,?]; n=6, d_k=4, highlight=row:2")
    assert cols.result.highlight == ("row", 2), "its rows are known"
    masked = lay("softmax(mask(Q[n,d_k] @ K^T[d_k,n])) -> A[?,?]; n=5, d_k=3")
    assert not masked.result.masked
    assert not any("Causal mask" in note for note in masked.notes)


# --------------------------------------------------------------------------- the passes


def test_item_dims_scale_huge_matrices_down_in_proportion() -> None:
    small = parse_shape_spec("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4")
    dims, unit = item_dims(flatten(small), small)
    assert unit == 1.0
    assert [None if d is None else (d[0].cells, d[1].cells) for d in dims] == [
        (6, 4),
        None,
        (4, 6),
        None,
        (6, 6),
    ]
    huge = parse_shape_spec(
        "X[n,d_model] @ W_Q[d_model,d_k] -> Q[n,d_k]; n=128, d_model=512, d_k=64"
    )
    dims, unit = item_dims(flatten(huge), huge)
    assert unit == 512 / 32
    x = dims[0]
    assert x is not None and (x[0].size, x[1].size) == (128, 512)
    assert (x[0].cells, x[1].cells) == (8, 32)


def test_item_dims_give_a_concat_block_every_head() -> None:
    spec = parse_shape_spec(
        "concat_heads(Z[n,d_v]) -> O[n,d_model]; n=4, d_v=2, d_model=16, heads=8"
    )
    dims, _ = item_dims(flatten(spec), spec)
    z = dims[0]
    assert z is not None and z[1].size == 16 and z[1].symbol == "h*d_v"


def test_widths_add_up_to_the_row() -> None:
    spec = parse_shape_spec("softmax(Q[n,d_k] @ K^T[d_k,n]) -> A[n,n]; n=6, d_k=4")
    r = flatten(spec)
    dims, _ = item_dims(r, spec)
    widths = Widths(r.items, dims, DEFAULT_STYLE, estimate_width)
    assert widths.gaps[-1] == 0.0 and len(widths.gaps) == len(r.items)
    assert widths.span(1, 10.0) >= 4 * 10.0  # Q: four columns of cells
    assert widths.span(1, 30.0) == 4 * 30.0
    fixed = sum(widths.fixed(it) for it in r.items) + sum(widths.gaps)
    spans = sum(widths.span(k, 30.0) for k, it in enumerate(r.items) if it.kind == "block")
    assert widths.total(30.0) == pytest.approx(fixed + spans)


def test_size_fits_the_row_on_the_canvas() -> None:
    spec = parse_shape_spec("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4, highlight=row:2")
    sizes = size(flatten(spec), spec, DEFAULT_STYLE, estimate_width)
    assert sizes.width == DEFAULT_STYLE.width and sizes.unit == 1.0 and sizes.show == "shape"
    assert sizes.cell <= DEFAULT_STYLE.max_cell_px
    assert sizes.widths.total(sizes.cell) <= sizes.width - 2 * DEFAULT_STYLE.margin
    assert len(sizes.notes) == 1
    assert DEFAULT_STYLE.margin < sizes.notes_top < sizes.midline < sizes.height
    assert sizes.midline - 6 * sizes.cell / 2 > sizes.notes_top  # blocks sit above the notes


def test_size_grows_a_wide_row_and_wraps_its_notes() -> None:
    spec = parse_shape_spec(
        "softmax(mask(Q[n,d_k] @ K^T[d_k,n] / sqrt(d_k))) @ V[n,d_v] -> Z[n,d_v]; "
        "n=12, d_k=8, d_v=8, mask=causal, show=values"
    )
    sizes = size(flatten(spec), spec, DEFAULT_STYLE, estimate_width)
    assert DEFAULT_STYLE.width < sizes.width <= DEFAULT_STYLE.max_width
    assert sizes.show == "values" and sizes.cell >= 2
    max_chars = int((sizes.width - 2 * DEFAULT_STYLE.margin) / (0.5 * DEFAULT_STYLE.note_px))
    assert all(len(line) <= max_chars for line in sizes.notes)


def test_size_shows_only_shapes_when_scaled_down() -> None:
    spec = parse_shape_spec(
        "X[n,d_model] @ W_Q[d_model,d_k] -> Q[n,d_k]; n=128, d_model=512, d_k=64, show=values"
    )
    sizes = size(flatten(spec), spec, DEFAULT_STYLE, estimate_width)
    assert sizes.unit > 1 and sizes.show == "shape"


def test_place_puts_items_left_to_right_on_the_midline() -> None:
    spec = parse_shape_spec("softmax(Q[n,d_k] @ K^T[d_k,n]) -> A[n,n]; n=5, d_k=4, show=values")
    r = flatten(spec)
    sizes = size(r, spec, DEFAULT_STYLE, estimate_width)
    values = evaluate(r, spec)
    blocks, glyphs, parens = place(r, sizes, values, spec)
    assert [b.name for b in blocks] == ["Q", "K^T", "A"]
    assert [b.values for b in blocks] == [v for v in values if v is not None]
    assert [g.text for g in glyphs] == [r"$\mathrm{softmax}$", r"$\times$", "$=$"]
    assert [p.side for p in parens] == ["(", ")"]
    # softmax ( Q x K^T ) = A, in that order.
    order = [
        glyphs[0].x,
        parens[0].x,
        blocks[0].center_x,
        glyphs[1].x,
        blocks[1].center_x,
        parens[1].x,
        glyphs[2].x,
        blocks[2].center_x,
    ]
    assert order == sorted(order) and len(set(order)) == len(order)
    assert all(g.y == sizes.midline for g in glyphs)
    left = min(b.x for b in blocks)
    right = max(b.x + b.width for b in blocks)
    assert left > 0 and right < sizes.width


def test_place_scales_a_highlight_with_the_cells() -> None:
    spec = parse_shape_spec("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=128, d_k=64, highlight=row:64")
    r = flatten(spec)
    sizes = size(r, spec, DEFAULT_STYLE, estimate_width)
    assert sizes.unit == 4.0
    blocks, _, _ = place(r, sizes, [None] * len(r.items), spec)
    assert [b.highlight for b in blocks] == [("row", 16), None, ("row", 16)]


def test_layout_shape_is_the_passes_in_order() -> None:
    spec = parse_shape_spec("Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=3, d_k=2, show=heat")
    r = flatten(spec)
    sizes = size(r, spec, DEFAULT_STYLE, estimate_width)
    blocks, glyphs, parens = place(r, sizes, evaluate(r, spec), spec)
    layout = layout_shape(spec)
    assert (layout.blocks, layout.glyphs, layout.parens) == (blocks, glyphs, parens)
    assert (layout.width, layout.height) == (round(sizes.width), round(sizes.height))
    assert (layout.cell, layout.notes, layout.show) == (sizes.cell, sizes.notes, "heat")
