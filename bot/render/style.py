"""Colours, sizes and the renderer version: what every diagram shares.

Pure (no matplotlib), so the layout model and the cache key can use it.
Q, K and V (and the weights that make them, the scores and the outputs)
have one colour each across every diagram.
"""

from __future__ import annotations

import hashlib
import json
import re
from dataclasses import asdict, dataclass, field
from typing import Final, Literal

__all__ = [
    "DEFAULT_STYLE",
    "RENDERER_VERSION",
    "Role",
    "Style",
    "role_of",
]

#: Bump when the drawing code changes what an image looks like: it is part of
#: every cache key, so old cached images are not served again.
RENDERER_VERSION: Final = "1"

Role = Literal["q", "k", "v", "score", "output", "input", "weight"]

#: Hue per role: edges, labels and highlights. Tints are derived for fills.
PALETTE: Final[dict[str, str]] = {
    "q": "#2166ac",  # blue
    "k": "#c23b22",  # red
    "v": "#1b7837",  # green
    "score": "#762a83",  # purple
    "output": "#c98200",  # amber
    "input": "#5b6570",  # slate
    "weight": "#6f6258",  # taupe
}


@dataclass(frozen=True, slots=True)
class Style:
    """Sizes (pixels) and colours of every image.

    The defaults are made for phones: 1200 px wide (shown at ~400 pt, so
    text of 30+ px reads as 10+ pt), dark text on a warm light-grey page.
    """

    width: int = 1200
    max_width: int = 1800
    dpi: int = 100
    margin: int = 40
    background: str = "#f6f5f1"
    ink: str = "#22252a"
    muted: str = "#5f6670"
    grid: str = "#ffffff"
    masked: str = "#c9c9c9"
    #: What a front image asks for (a ``?`` dimension): its outline and its ``?``.
    unknown: str = "#d6336c"
    label_px: int = 38
    dim_px: int = 26
    op_px: int = 46
    func_px: int = 32
    note_px: int = 25
    value_px: int = 17
    formula_px: int = 60
    formula_min_px: int = 34
    text_px: int = 28
    code_px: int = 24
    max_cell_px: int = 64
    min_cell_px: int = 22
    palette: dict[str, str] = field(default_factory=lambda: dict(PALETTE))

    def colour(self, role: str) -> str:
        """The hue of a role (see :func:`role_of`)."""
        return self.palette.get(role, self.palette["input"])

    def digest(self) -> str:
        """A short hash of every setting: part of the cache key."""
        raw = json.dumps(asdict(self), sort_keys=True).encode()
        return hashlib.sha256(raw).hexdigest()[:16]


DEFAULT_STYLE: Final = Style()

_WEIGHT_TARGET: Final = {"Q": "q", "K": "k", "V": "v", "O": "output"}


def role_of(name: str) -> str:
    """The colour role of a matrix name.

    ``Q``/``q`` are queries, ``K`` keys, ``V`` values; ``W_Q``, ``W_K``,
    ``W_V`` and ``W_O`` take the colour of what they make (drawn as a lighter
    weight); ``S``/``A`` (and lower case) are scores and weights; ``Z``/``O``
    outputs; anything else (``X``, ``E``, ``W_1`` ...) is neutral.
    """
    base, _, sub = name.partition("_")
    sub = re.sub(r"\^T$", "", sub)
    base = re.sub(r"\^T$", "", base)
    if base in ("W", "U") and sub:
        return _WEIGHT_TARGET.get(sub.upper()[:1], "weight") if len(sub) == 1 else "weight"
    key = base.upper()
    if key == "Q":
        return "q"
    if key == "K":
        return "k"
    if key == "V":
        return "v"
    if key in ("S", "A"):
        return "score"
    if key in ("Z", "O"):
        return "output"
    return "input"


def is_weight(name: str) -> bool:
    """True for a weight matrix name (``W_Q``, ``W_1``, ``U_a``)."""
    base, _, sub = name.partition("_")
    return base in ("W", "U") and bool(sub)


def tint(hex_colour: str, amount: float) -> str:
    """Mix a colour with white: ``amount`` 0 keeps it, 1 gives white."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    mix = [round(c + (255 - c) * amount) for c in (r, g, b)]
    return "#{:02x}{:02x}{:02x}".format(*mix)


def shade(hex_colour: str, amount: float) -> str:
    """Mix a colour with black: ``amount`` 0 keeps it, 1 gives black."""
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    mix = [round(c * (1 - amount)) for c in (r, g, b)]
    return "#{:02x}{:02x}{:02x}".format(*mix)
