"""Deterministic prompt tokens (the ``TokenSource`` port)."""

from __future__ import annotations


class SequentialTokens:
    """Deterministic prompt tokens: ``t0000001``, ``t0000002``, ... (8+ URL-safe chars)."""

    def __init__(self, prefix: str = "t") -> None:
        self.prefix = prefix
        self.count = 0
        self.issued: list[str] = []

    def __call__(self) -> str:
        self.count += 1
        token = f"{self.prefix}{self.count:07d}"
        self.issued.append(token)
        return token
