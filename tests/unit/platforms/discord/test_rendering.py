"""bot.platforms.discord.rendering: who sees an outcome's replies, and a closed card's note."""

from __future__ import annotations

import bot.platforms.discord  # noqa: F401  (first: it imports discord.py without the audioop warning)

# isort: split
from types import SimpleNamespace
from typing import Any

from bot.core.messages import Reply
from bot.platforms.discord.rendering import hidden_for, noted

IN_SERVER: Any = SimpleNamespace(guild_id=1)
ELSEWHERE: Any = SimpleNamespace(guild_id=None)


def test_private_replies_are_always_hidden_and_ephemeral_ones_in_servers() -> None:
    for where in (IN_SERVER, ELSEWHERE):
        assert hidden_for(where, "private", chat_hidden=False)
    assert hidden_for(IN_SERVER, "ephemeral", chat_hidden=False)
    assert not hidden_for(ELSEWHERE, "ephemeral", chat_hidden=True)


def test_chat_replies_are_shown_as_the_handler_says() -> None:
    assert hidden_for(IN_SERVER, "chat", chat_hidden=True)
    assert not hidden_for(IN_SERVER, "chat", chat_hidden=False)


def test_a_note_starts_the_first_reply() -> None:
    assert noted(Reply("front"), "Good: see it again in 10m.").text == "Good: see it again in 10m."
    done = noted(Reply("done", "That was today's session."), "Good.")
    assert (done.kind, done.text) == ("done", "Good.\n\nThat was today's session.")
