"""Seeded random input for the fuzz tests of every platform: reproducible, and hostile.

:class:`Inputs` draws text from a fixed menu of what breaks naive code (very long
text, combining marks, emoji sequences, ``²``, zero-width and direction marks,
right-to-left scripts, markup characters, nothing at all) and random mixes of it;
:meth:`Inputs.mutate` damages a real payload. Set ``STUDYBOT_FUZZ_SEED`` to replay
a failure (each test prints its seed on failure through the assertion message).
"""

from __future__ import annotations

import os
import random
import string
from collections.abc import Sequence
from typing import Final

#: Pieces that each broke a chat bot somewhere.
PIECES: Final = (
    "",
    " ",
    "\n\n",
    "e\u0301\u0301\u0301",  # combining marks
    "\u0301",  # a combining mark with no base
    "👨\u200d👩\u200d👧\u200d👦",  # a ZWJ emoji sequence
    "🏳️\u200d🌈",
    "²³¹",  # digits that are not decimal
    "٣٤",  # Arabic-Indic digits
    "\u200b\u200c\u200d\ufeff",  # zero-width
    "\u202e\u2066\u200f",  # direction overrides and marks
    "مرحبا بالعالم",  # right to left
    "שלום",
    "<b>&amp;</b>&lt;",
    "*_`~|[x](http://a)",
    "```",
    "$$x^2$$",
    "\\",
    "%s%d{}",
    "'\";--",
    "\x00\x07",
    "Europe/Paris",
    "9pm",
    "90%",
    "-1",
    "99999999999999999999",
    "attention",
    "all",
)
#: Short values for every argument position: numbers that are not, empties, marks.
CORNERS: Final = (
    "²",
    "٣",
    "𝟗",
    "\u200b",
    "-1",
    "0",
    "99999999999999999999",
    "9pm",
    "25:61",
    "e\u0301",
    "مرحبا",
    "🙂",
)
SEED: Final = int(os.environ.get("STUDYBOT_FUZZ_SEED", "20261206"))


class Inputs:
    """Random input, reproducible from ``seed``."""

    def __init__(self, seed: int = SEED) -> None:
        self.seed = seed
        self.random = random.Random(seed)

    def text(self, *, max_len: int = 4096) -> str:
        """One hostile text: a piece, a long run, or a mix (at most ``max_len`` characters)."""
        r = self.random
        kind = r.randrange(6)
        if kind == 0:
            out = r.choice(PIECES)
        elif kind == 1:
            out = r.choice(PIECES[1:]) * r.randint(50, 2000)
        elif kind == 2:
            out = "".join(r.choice(PIECES) for _ in range(r.randint(2, 8)))
        elif kind == 3:
            out = "".join(chr(r.randint(0x20, 0x2FFF)) for _ in range(r.randint(1, 60)))
        elif kind == 4:
            out = "".join(r.choice(string.printable) for _ in range(r.randint(1, 200)))
        else:
            out = r.choice(PIECES) + "y" * r.randint(4000, 6000)
        return out[:max_len]

    def word(self, *, max_len: int = 4096) -> str:
        """Text without whitespace (a command's first word, an id)."""
        return "".join(self.text(max_len=max_len).split())

    def args(self) -> str:
        """A few short arguments (pieces, words, numbers), as a command's rest."""
        r = self.random
        words = [
            r.choice((r.choice(PIECES), self.word(max_len=30), str(r.randint(-5, 500))))
            for _ in range(r.randint(0, 4))
        ]
        return " ".join(words)

    def mutate(self, payload: str, *, max_len: int = 100) -> str:
        """A real payload, damaged: cut, grown, a character changed, or swapped for junk."""
        r = self.random
        kind = r.randrange(5)
        if kind == 0 and payload:
            out = payload[: r.randrange(len(payload))]
        elif kind == 1:
            out = payload + r.choice(PIECES)
        elif kind == 2 and payload:
            i = r.randrange(len(payload))
            out = payload[:i] + r.choice(string.printable + "²é🙂") + payload[i + 1 :]
        elif kind == 3:
            out = payload.split(":", 1)[0] + ":" + self.word(max_len=40)
        else:
            out = self.word(max_len=max_len)
        return out[:max_len]

    def choice(self, items: Sequence[str]) -> str:
        return self.random.choice(list(items))
