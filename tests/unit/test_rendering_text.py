"""The pure text helpers of bot.core.rendering: formula fallback, splitting, tables."""

from __future__ import annotations

import pytest

from bot.core.rendering import (
    DISCORD_MESSAGE,
    TELEGRAM_CAPTION,
    TELEGRAM_MESSAGE,
    formula_fallback,
    image_alt_text,
    math_fallback,
    needs_image,
    split_message,
    table_to_monospace,
    utf16_len,
)


@pytest.mark.parametrize(
    ("latex", "text"),
    [
        (r"\mathrm{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V", "softmax(QKᵀ/√d_k)V"),
        (r"a \cdot b = \|a\| \, \|b\| \cos\theta", "a · b = ‖a‖ ‖b‖ cos θ"),
        (r"\cos\theta = \frac{a \cdot b}{\|a\| \, \|b\|}", "cos θ = (a · b)/(‖a‖ ‖b‖)"),
        (r"z = \sum_j a_j v_j", "z = Σ_j a_j v_j"),
        (r"a_j \geq 0, \quad \sum_j a_j = 1", "a_j ≥ 0,  Σ_j a_j = 1"),
        (r"s_{ij} = q_i \cdot k_j", "s_ij = q_i · k_j"),
        (r"d_k = \frac{d_{model}}{h} = \frac{512}{8} = 64", "d_k = d_model/h = 512/8 = 64"),
        (r"4 d_{model}^2", "4 d_model²"),
        (r"\sqrt{\sigma^2 + \epsilon}", "√(σ² + ε)"),
        (
            r"\alpha_{ij} = \frac{\exp(e_{ij})}{\sum_k \exp(e_{ik})}",
            "α_ij = exp(e_ij)/(Σ_k exp(e_ik))",
        ),
        (r"x_{l+1} = x_l + F(x_l)", "x_(l+1) = x_l + F(x_l)"),
        (r"lr = d_{model}^{-0.5}", "lr = d_model^(-0.5)"),
        (r"\gamma \odot x", "γ ⊙ x"),
        (r"(R_m q)^T (R_n k)", "(R_m q)ᵀ (R_n k)"),
        (r"\mathbb{R}^{n \times d}", "ℝ^(n × d)"),
        (r"$x^2$", "x²"),
    ],
)
def test_formula_fallback(latex: str, text: str) -> None:
    assert formula_fallback(latex) == text


def test_math_fallback_replaces_inline_math_only() -> None:
    md = r"The score $QK^T$ costs $5 and $$\sqrt{d_k}$$ scales it."
    assert math_fallback(md) == "The score QKᵀ costs $5 and √d_k scales it."


def test_image_alt_text() -> None:
    assert image_alt_text(None, None) == ""
    assert image_alt_text("formula", r"\frac{a}{b}") == "a/b"
    alt = image_alt_text("shape", "Q[n,d_k] @ K^T[d_k,n] / sqrt(d_k) -> S[n,n]; n=6")
    assert alt == "Q[n,d_k] · Kᵀ[d_k,n] / √d_k → S[n,n]  (n=6)"


def test_limits() -> None:
    assert (TELEGRAM_MESSAGE, TELEGRAM_CAPTION, DISCORD_MESSAGE) == (4096, 1024, 2000)


# --------------------------------------------------------------------------- needs_image

TABLE = """Shapes:

| operand | shape |
|---------|------:|
| $Q$ | $n \\times d_k$ |
| **$K^T$** | $d_k \\times n$ |

After the table."""


def test_needs_image_for_tables_and_wide_code_only() -> None:
    assert needs_image(TABLE)
    assert not needs_image("a | b is not a table\nno separator")
    assert not needs_image("```\nshort = 1\n```")
    assert needs_image("```\n" + "x = " + "1 + " * 20 + "1\n```")
    # A table inside a code block is code, and narrow code is fine.
    assert not needs_image("```\n| a | b |\n|---|---|\n```")


def test_table_to_monospace_aligns_columns() -> None:
    out = table_to_monospace(TABLE)
    lines = out.splitlines()
    start = lines.index("```")
    body = lines[start + 1 : lines.index("```", start + 1)]
    assert body == [
        "operand |   shape",
        "--------+--------",
        "Q       | n × d_k",
        "Kᵀ      | d_k × n",
    ]
    assert lines[0] == "Shapes:" and lines[-1] == "After the table."


def test_table_to_monospace_leaves_other_text_alone() -> None:
    text = "No table here.\n\n```\n| a | b |\n|---|---|\n```"
    assert table_to_monospace(text) == text


# --------------------------------------------------------------------------- split_message


def test_short_text_is_one_message() -> None:
    assert split_message("hello", 10) == ["hello"]
    assert split_message("   ", 10) == []


def test_split_at_paragraphs_and_pack_greedily() -> None:
    paras = [f"paragraph {i} " + "x" * 30 for i in range(10)]
    text = "\n\n".join(paras)
    parts = split_message(text, 100)
    assert all(len(p) <= 100 for p in parts)
    assert "\n\n".join(parts) == text
    assert len(parts) == 5  # two paragraphs of 43 characters fit in each


def test_long_paragraph_splits_between_lines_then_at_spaces() -> None:
    lines = [f"line {i} " + "y" * 20 for i in range(8)]
    parts = split_message("\n".join(lines), 60)
    assert all(len(p) <= 60 for p in parts)
    assert "\n".join(parts) == "\n".join(lines)
    words = " ".join(["word"] * 100)
    parts = split_message(words, 50)
    assert all(len(p) <= 50 for p in parts)
    assert " ".join(parts).split() == words.split()
    hard = "z" * 125
    assert split_message(hard, 50) == ["z" * 50, "z" * 50, "z" * 25]


def test_code_block_is_kept_whole_when_it_fits() -> None:
    code = "```python\n" + "\n".join(f"x{i} = {i}" for i in range(6)) + "\n```"
    text = "Intro " + "a" * 40 + "\n\n" + code + "\n\nOutro."
    parts = split_message(text, len(code) + 5)
    assert code in parts
    # The blank line inside a code block is not a paragraph boundary.
    gap = "```\nfirst\n\nsecond\n```"
    assert split_message("p " * 10 + "\n\n" + gap, len(gap) + 2)[-1] == gap


def test_long_code_block_is_split_into_closed_fences() -> None:
    code = "```python\n" + "\n".join(f"value_{i} = {i} * {i}" for i in range(40)) + "\n```"
    parts = split_message(code, 200)
    assert len(parts) > 1
    for part in parts:
        assert len(part) <= 200
        assert part.startswith("```python\n") and part.endswith("\n```")
    body = [line for p in parts for line in p.splitlines()[1:-1]]
    assert body == code.splitlines()[1:-1]


def test_split_counts_utf16_for_telegram() -> None:
    text = "😀" * 30  # 2 UTF-16 units each
    assert utf16_len(text) == 60
    parts = split_message(text, 20, length=utf16_len)
    assert all(utf16_len(p) <= 20 for p in parts)
    assert "".join(parts) == text


def test_split_rejects_a_non_positive_limit() -> None:
    with pytest.raises(ValueError):
        split_message("x", 0)
