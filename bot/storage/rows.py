"""Text encodings of small values that several tables share.

A local time of day is stored as ``"HH:MM"`` and a list of small integers as
``"0,2,3"``; these read them back (cached: a handful of distinct values are
read many times over).
"""

from __future__ import annotations

from collections.abc import Iterable
from datetime import time
from functools import lru_cache


@lru_cache(maxsize=4096)
def hhmm(text: str | None) -> time | None:
    """The time of day an ``"HH:MM"`` column holds (None for NULL or empty)."""
    if not text:
        return None
    hh, mm = text.split(":")
    return time(int(hh), int(mm))


def hhmm_text(value: time) -> str:
    """How a time of day is stored: ``"HH:MM"`` (seconds are not kept)."""
    return value.strftime("%H:%M")


def int_list(text: str) -> tuple[int, ...]:
    """The integers of a comma-separated column (``""`` is none)."""
    return tuple(int(x) for x in text.split(",") if x)


def int_list_text(values: Iterable[int]) -> str:
    """How a list of integers is stored: ``"0,2,3"``."""
    return ",".join(str(v) for v in values)
