"""bot.render.evaluate: example values of a shape diagram's matrices."""

from __future__ import annotations

import math

import pytest

from bot.core.imagespec import Block, Number, Op, Sqrt, parse_shape_spec
from bot.render.evaluate import Evaluator, Matrix, evaluate
from bot.render.flatten import flatten

SIZES = {"n": 3, "d_k": 2, "h": 2}


def value(expr: str) -> Matrix | float:
    return Evaluator(SIZES, None).value(parse_shape_spec(expr).expr)


def matrix(expr: str) -> Matrix:
    result = value(expr)
    assert isinstance(result, tuple)
    return result


def test_leaf_values_are_deterministic_small_and_shared() -> None:
    q = Evaluator(SIZES, None).leaf(Block("Q", "n", "d_k"))
    assert len(q) == 3 and all(len(row) == 2 for row in q)
    assert all(-1 <= v <= 1 and round(v, 1) == v for row in q for v in row)
    # The same name and size give the same values, in any evaluator.
    assert Evaluator({"n": 3, "d_k": 2, "m": 9}, 4).leaf(Block("Q", "n", "d_k")) == q
    assert Evaluator(SIZES, None).leaf(Block("V", "n", "d_k")) != q


def test_a_transpose_has_the_values_of_its_matrix() -> None:
    ev = Evaluator(SIZES, None)
    k = ev.leaf(Block("K", "n", "d_k"))
    kt = ev.leaf(Block("K", "d_k", "n", transposed=True))
    assert kt == tuple(zip(*k, strict=True))


def test_products_sums_and_scalars() -> None:
    ev = Evaluator(SIZES, None)
    q, k = ev.leaf(Block("Q", "n", "d_k")), ev.leaf(Block("K", "n", "d_k"))
    scores = matrix("Q[n,d_k] @ K^T[d_k,n]")
    for i in range(3):
        for j in range(3):
            assert scores[i][j] == pytest.approx(q[i][0] * k[j][0] + q[i][1] * k[j][1])
    assert matrix("Q[n,d_k] + Q[n,d_k]") == tuple(tuple(2 * v for v in row) for row in q)
    assert matrix("2 * Q[n,d_k]") == tuple(tuple(2 * v for v in row) for row in q)
    scaled = matrix("Q[n,d_k] / sqrt(d_k)")
    assert scaled[0][0] == pytest.approx(q[0][0] / math.sqrt(2))
    scalar = Evaluator(SIZES, None).value(Op("/", Number("2"), Sqrt("d_k")))
    assert scalar == pytest.approx(2 / math.sqrt(2))


def test_side_by_side_and_heads() -> None:
    ev = Evaluator(SIZES, None)
    q, k = ev.leaf(Block("Q", "n", "d_k")), ev.leaf(Block("K", "n", "d_k"))
    assert matrix("Q[n,d_k] | K[n,d_k]") == tuple(a + b for a, b in zip(q, k, strict=True))
    heads = matrix("concat_heads(Z[n,d_k])")
    assert len(heads) == 3 and len(heads[0]) == 4  # h = 2 heads of 2 columns
    assert Evaluator(SIZES, 3).concat(Block("Z", "n", "d_k"), 3)[0][:2] == heads[0][:2]


def test_softmax_and_the_causal_mask() -> None:
    masked = matrix("mask(Q[n,d_k] @ K^T[d_k,n])")
    assert masked[0][1] == -math.inf and masked[1][0] != -math.inf
    weights = matrix("softmax(mask(Q[n,d_k] @ K^T[d_k,n]))")
    for i, row in enumerate(weights):
        assert math.fsum(row) == pytest.approx(1.0)
        assert all(v == 0.0 for v in row[i + 1 :])


def test_evaluate_gives_values_per_item_of_a_row() -> None:
    spec = parse_shape_spec("softmax(Q[n,d_k] @ K^T[d_k,n]) -> A[n,n]; n=3, d_k=2, show=values")
    row = flatten(spec)
    values = evaluate(row, spec)
    assert len(values) == len(row.items)
    for item, v in zip(row.items, values, strict=True):
        assert (v is not None) == (item.kind == "block")
    assert values[-1] == Evaluator(spec.sizes, None).value(spec.expr)
    assert values[1] == Evaluator(spec.sizes, None).leaf(Block("Q", "n", "d_k"))
