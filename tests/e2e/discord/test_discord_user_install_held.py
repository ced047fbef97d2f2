"""The held last follow-up of a user-installed interaction, refused as Components V2.

Discord takes 5 new follow-ups for an interaction only a user install is behind, and the
bot holds the last one back until it knows whether more come (see
:class:`~bot.platforms.discord.interactions.Answer`). A composed card Discord refuses
(400) goes in its embed form when sent at once; held back and sent at the end, it does
too, instead of the whole answer failing.
"""

from __future__ import annotations

import logging

import pytest

from bot.core.learners import Who
from bot.core.messages import CardView, Reply
from bot.core.outcomes import Outcome
from bot.core.rendering import Renderer
from bot.platforms.discord import layout
from bot.platforms.discord.interactions import SORRY, TOO_MANY_HERE
from bot.platforms.discord.messages import Outgoing, to_messages
from tests.e2e.discord.test_discord import ALICE, Env, env

__all__ = ["env"]  # the fixture, imported

pytestmark = pytest.mark.asyncio

ELSEWHERE = 777_777_777_777_777_777
ELSEWHERE_CHANNEL = 777_777_777_777_777_778


def card(mark: str) -> Reply:
    return Reply("front", mark, card=CardView("c1", "Deck", "Title", f"What is {mark}?"))


async def six_parts(who: Who) -> Outcome:
    """Part 1 fills "thinking", then 5 new follow-ups: the card is the held one."""
    return Outcome(replies=(*(Reply("info", f"part {n}") for n in range(1, 6)), card("last")))


@pytest.mark.parametrize("refused", [False, True])
async def test_a_held_composed_follow_up_discord_refuses_goes_as_an_embed(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, refused: bool
) -> None:
    monkeypatch.setattr(env.app.study, "stats", six_parts)
    env.fake.refuse_v2 = refused
    room = env.fake.user_installed(env.fake.server(ELSEWHERE, ELSEWHERE_CHANNEL), ALICE[0])
    with caplog.at_level(logging.WARNING):
        got = await env.command("stats", ALICE, room)
    assert [m.content for m in got[:5]] == [f"part {n}" for n in range(1, 6)]
    assert len(got) == 6 and all(m.ephemeral for m in got)
    last = got[-1]
    assert "What is last?" in last.text()
    assert last.composed is not refused and bool(last.embeds) is refused
    assert not any(SORRY in m.text() for m in got)
    assert env.fake.refused_composed == (["Components V2 refused here"] if refused else [])
    if refused:
        assert "refused a composed last follow-up" in caplog.text
    assert not env.fake.unanswered()


async def test_a_held_card_whose_embed_form_takes_two_messages_says_where_to_see_it(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """One follow-up is left and the embed form takes two: the last one says where to see
    everything, as when more replies come than Discord takes."""
    real = to_messages  # what layout uses for the embed form

    async def longer(
        reply: Reply, renderer: Renderer | None, *, file_limit: int | None = None
    ) -> list[Outgoing]:
        out = await real(reply, renderer, file_limit=file_limit)
        return [*out, Outgoing(content="and more")] if reply.kind == "front" else out

    monkeypatch.setattr(layout, "to_messages", longer)
    monkeypatch.setattr(env.app.study, "stats", six_parts)
    env.fake.refuse_v2 = True
    room = env.fake.user_installed(env.fake.server(ELSEWHERE, ELSEWHERE_CHANNEL), ALICE[0])
    with caplog.at_level(logging.WARNING):
        got = await env.command("stats", ALICE, room)
    assert [m.content for m in got[:5]] == [f"part {n}" for n in range(1, 6)]
    assert len(got) == 6
    assert got[-1].content == TOO_MANY_HERE.format(command="/stats")
    assert "left out 2 embed messages" in caplog.text
    assert not env.fake.unanswered()
