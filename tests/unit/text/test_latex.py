"""bot.text.latex: formulas and inline math as Unicode, and the text instead of an image."""

from __future__ import annotations

import pytest

from bot.text.latex import formula_fallback, image_alt_text, math_fallback


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


def test_math_fallback_passes_each_formula_through_each() -> None:
    md = r"Scale by $\sqrt{d_k}$, not by $5 or $d$."
    assert math_fallback(md, each=lambda f: f"[{f}]") == "Scale by [√d_k], not by $5 or [d]."


def test_image_alt_text() -> None:
    assert image_alt_text(None, None) == ""
    assert image_alt_text("formula", r"\frac{a}{b}") == "a/b"
    assert image_alt_text("diagram", " transformer ") == "[diagram: the transformer architecture]"
    # An imported image (kind media, "<owner>/<name>") is its file's name.
    assert image_alt_text("media", "12/heart diagram.png") == "[image: heart diagram.png]"
    assert image_alt_text("media", "12/a/b.gif") == "[image: a/b.gif]"
    assert image_alt_text("media", "odd.svg") == "[image: odd.svg]"
    alt = image_alt_text("shape", "Q[n,d_k] @ K^T[d_k,n] / sqrt(d_k) -> S[n,n]; n=6")
    assert alt == "Q[n,d_k] · Kᵀ[d_k,n] / √d_k → S[n,n]  (n=6)"
