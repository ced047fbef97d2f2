"""LaTeX as plain Unicode, for places that cannot draw it.

:func:`formula_fallback` turns one formula into Unicode
(``\\frac{QK^T}{\\sqrt{d_k}}`` becomes ``QKᵀ/√d_k``), :func:`math_fallback` does
so for every ``$...$`` and ``$$...$$`` in markdown, and :func:`image_alt_text`
is the text shown instead of a card's image (a formula, a matrix-shape spec,
a diagram or an imported image) where no image can be sent.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Final

__all__ = ["formula_fallback", "image_alt_text", "math_fallback"]

_GREEK: Final = {
    "alpha": "α",
    "beta": "β",
    "gamma": "γ",
    "delta": "δ",
    "epsilon": "ε",
    "varepsilon": "ε",
    "zeta": "ζ",
    "eta": "η",
    "theta": "θ",
    "vartheta": "ϑ",
    "iota": "ι",
    "kappa": "κ",
    "lambda": "λ",
    "mu": "μ",
    "nu": "ν",
    "xi": "ξ",
    "pi": "π",
    "rho": "ρ",
    "sigma": "σ",
    "tau": "τ",
    "upsilon": "υ",
    "phi": "φ",
    "varphi": "φ",
    "chi": "χ",
    "psi": "ψ",
    "omega": "ω",
    "Gamma": "Γ",
    "Delta": "Δ",
    "Theta": "Θ",
    "Lambda": "Λ",
    "Xi": "Ξ",
    "Pi": "Π",
    "Sigma": "Σ",
    "Phi": "Φ",
    "Psi": "Ψ",
    "Omega": "Ω",
}

_SYMBOLS: Final = {
    "cdot": "·",
    "times": "×",
    "odot": "⊙",
    "otimes": "⊗",
    "oplus": "⊕",
    "div": "÷",
    "pm": "±",
    "mp": "∓",
    "sum": "Σ",
    "prod": "Π",
    "int": "∫",
    "partial": "∂",
    "nabla": "∇",
    "infty": "∞",
    "geq": "≥",
    "ge": "≥",
    "leq": "≤",
    "le": "≤",
    "neq": "≠",
    "ne": "≠",
    "approx": "≈",
    "sim": "∼",
    "propto": "∝",
    "equiv": "≡",
    "in": "∈",
    "notin": "∉",
    "subset": "⊂",
    "to": "→",
    "rightarrow": "→",
    "leftarrow": "←",
    "Rightarrow": "⇒",
    "mapsto": "↦",
    "ldots": "…",
    "dots": "…",
    "cdots": "⋯",
    "vdots": "⋮",
    "top": "ᵀ",
    "|": "‖",
    "lVert": "‖",
    "rVert": "‖",
    "Vert": "‖",
    "vert": "|",
    "lvert": "|",
    "rvert": "|",
    "langle": "⟨",
    "rangle": "⟩",
    "{": "{",
    "}": "}",
    "_": "_",
    "%": "%",
    "$": "$",
    "&": "&",
    "#": "#",
    ",": " ",
    ";": " ",
    ":": " ",
    "!": "",
    " ": " ",
    "quad": "\x01",
    "qquad": "\x01",
    "left": "",
    "right": "",
    "big": "",
    "Big": "",
    "bigg": "",
    "Bigg": "",
    "displaystyle": "",
    "limits": "",
    "nolimits": "",
}

_FUNCTION_NAMES: Final = frozenset(
    [
        "sin",
        "cos",
        "tan",
        "tanh",
        "sinh",
        "cosh",
        "exp",
        "log",
        "ln",
        "max",
        "min",
        "arg",
        "argmax",
        "argmin",
        "det",
        "dim",
        "lim",
        "sup",
        "inf",
        "softmax",
    ]
)

# Commands whose single argument is kept as plain text.
_TEXT_COMMANDS: Final = frozenset(
    [
        "mathrm",
        "mathit",
        "mathbf",
        "mathsf",
        "mathtt",
        "mathcal",
        "text",
        "textrm",
        "textit",
        "textbf",
        "operatorname",
        "boldsymbol",
        "bm",
        "mbox",
        "hat",
        "bar",
        "tilde",
        "vec",
        "overline",
        "underline",
        "widehat",
        "widetilde",
    ]
)

_BLACKBOARD: Final = {"R": "ℝ", "N": "ℕ", "Z": "ℤ", "Q": "ℚ", "C": "ℂ", "E": "𝔼"}

_SUPERSCRIPT: Final = str.maketrans(
    "0123456789+-=()niT",
    "⁰¹²³⁴⁵⁶⁷⁸⁹⁺⁻⁼⁽⁾ⁿⁱᵀ",
)
_SUPERSCRIPT_CHARS: Final = frozenset("0123456789+-=()niT")

_OPERATOR_CHARS: Final = frozenset(" +-·=,×/<>≤≥⊙")


class _Latex:
    """A tiny recursive reader of LaTeX math, producing plain Unicode."""

    def __init__(self, source: str) -> None:
        self.s = source
        self.i = 0

    def read(self, stop: str = "") -> str:
        out: list[str] = []
        while self.i < len(self.s):
            ch = self.s[self.i]
            if ch in stop:
                break
            if ch == "\\":
                out.append(self._command())
            elif ch == "{":
                self.i += 1
                out.append(self.read("}"))
                self.i += 1
            elif ch == "}":
                self.i += 1  # stray; ignore
            elif ch in "^_":
                self.i += 1
                arg = self._argument()
                out.append(_superscript(arg) if ch == "^" else _subscript(arg))
            elif ch == "~":
                out.append(" ")
                self.i += 1
            else:
                out.append(ch)
                self.i += 1
        return "".join(out)

    def _argument(self) -> str:
        """One argument: a braced group, a command, or a single character."""
        while self.i < len(self.s) and self.s[self.i] == " ":
            self.i += 1
        if self.i >= len(self.s):
            return ""
        ch = self.s[self.i]
        if ch == "{":
            self.i += 1
            text = self.read("}")
            self.i += 1
            return text
        if ch == "\\":
            return self._command()
        self.i += 1
        return ch

    def _command(self) -> str:
        self.i += 1  # the backslash
        m = re.compile(r"[A-Za-z]+").match(self.s, self.i)
        if m is None:
            if self.i >= len(self.s):
                return ""
            ch = self.s[self.i]
            self.i += 1
            return _SYMBOLS.get(ch, ch)
        name = m.group(0)
        self.i = m.end()
        if name == "frac" or name == "dfrac" or name == "tfrac":
            num, den = self._argument(), self._argument()
            return f"{_group(num)}/{_group(den)}"
        if name == "sqrt":
            if self.i < len(self.s) and self.s[self.i] == "[":
                end = self.s.find("]", self.i)
                self.i = end + 1 if end >= 0 else len(self.s)
            return f"√{_group(self._argument())}"
        if name in _TEXT_COMMANDS:
            return self._argument()
        if name in ("mathbb", "mathbbm"):
            arg = self._argument()
            return "".join(_BLACKBOARD.get(c, c) for c in arg)
        if name in _GREEK:
            return _GREEK[name]
        if name in _SYMBOLS:
            return _SYMBOLS[name]
        if name in _FUNCTION_NAMES:
            nxt = self.s[self.i : self.i + 1]
            return f"{name} " if nxt.isalnum() or nxt == "\\" else name
        return name


def _is_simple(text: str) -> bool:
    return not any(c in _OPERATOR_CHARS for c in text.strip())


def _group(text: str) -> str:
    text = text.strip()
    return text if _is_simple(text) else f"({text})"


def _superscript(arg: str) -> str:
    arg = arg.strip()
    if arg and all(c in _SUPERSCRIPT_CHARS for c in arg):
        return arg.translate(_SUPERSCRIPT)
    if len(arg) == 1:
        return f"^{arg}"
    return f"^({arg})"


def _subscript(arg: str) -> str:
    arg = arg.strip()
    if re.fullmatch(r"[A-Za-z0-9α-ω]*", arg):
        return f"_{arg}"
    if arg.startswith("(") and arg.endswith(")") and arg.count("(") == 1:
        return f"_{arg}"
    return f"_({arg})"


def formula_fallback(latex: str) -> str:
    """Plain Unicode for a LaTeX formula, for places that cannot show an image.

    ``\\mathrm{softmax}\\left(\\frac{QK^T}{\\sqrt{d_k}}\\right)V`` becomes
    ``softmax(QKᵀ/√d_k)V``: Greek letters and operators become their symbols,
    ``^T`` and digit powers become superscripts, subscripts stay as ``_k``,
    fractions become ``a/b`` (with parentheses around compound parts) and
    font commands such as ``\\mathrm`` are dropped.
    """
    text = _Latex(latex.strip().strip("$")).read()
    text = re.sub(r"\s+", " ", text)
    return re.sub(r" ?\x01[\x01 ]*", "  ", text).strip()


_INLINE_MATH: Final = re.compile(
    r"(?<!\\)\$\$(.+?)(?<!\\)\$\$|(?<!\\)\$(?![\s$])([^$\n]+?)(?<![\s\\])\$(?!\d)"
)


def math_fallback(markdown: str, *, each: Callable[[str], str] | None = None) -> str:
    """Replace every ``$...$`` and ``$$...$$`` in markdown by :func:`formula_fallback`.

    Args:
        markdown: the text with formulas.
        each: applied to each formula's Unicode (Discord escapes its markdown there,
            so ``d_k`` does not start italics); None leaves it as it is.
    """

    def formula(match: re.Match[str]) -> str:
        text = formula_fallback(match.group(1) if match.group(1) is not None else match.group(2))
        return text if each is None else each(text)

    return _INLINE_MATH.sub(formula, markdown)


#: The content prefix an imported image's stored name starts with (16 hex digits of its
#: SHA-256 and a dash, :func:`bot.core.personal.write_import`): not part of its name.
_CONTENT_PREFIX: Final = re.compile(r"^[0-9a-f]{16}-(?=.)")


def image_alt_text(kind: str | None, spec: str | None) -> str:
    """What to show instead of a card's image in a text-only place: an imported image
    (kind ``media``, spec ``"<owner_id>/<digest>-<name>"``) is ``[image: <name>]``."""
    if not kind or not spec:
        return ""
    if kind == "media":
        _, slash, name = spec.partition("/")
        name = _CONTENT_PREFIX.sub("", name.strip()) if slash and name.strip() else spec.strip()
        return f"[image: {name}]"
    if kind == "formula":
        return formula_fallback(spec)
    if kind == "diagram":
        return f"[diagram: the {spec.strip()} architecture]"
    shape, _, options = spec.partition(";")
    shape = re.sub(r"\^T", "ᵀ", shape.strip())
    shape = re.sub(r"sqrt\(([^()]*)\)", r"√\1", shape)
    shape = shape.replace(" @ ", " · ").replace("->", "→")
    return f"{shape}  ({options.strip()})" if options.strip() else shape
