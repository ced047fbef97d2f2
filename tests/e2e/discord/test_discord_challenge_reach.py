"""A member whose direct messages are closed at the reveal: the server channel is told,
the summary does not wait, and their self-assessment comes once they are back. Over
the fake Discord, as test_discord_challenges.py."""

from __future__ import annotations

from datetime import timedelta

from bot.core.delivery import NOT_REACHED
from tests.e2e.discord.discord_fakes import dm_channel_id
from tests.e2e.discord.test_discord import ALICE, BOB, CHANNEL, GUILD, Env
from tests.e2e.discord.test_discord_challenges import (
    SCALED,
    START,
    challenge,
    env,
    open_form,
    press_in_place,
    send_form,
)

__all__ = ["env"]  # the fixture, imported


async def test_a_member_who_cannot_be_reached_gets_their_self_assessment_when_back(
    env: Env,
) -> None:
    room = env.fake.server(GUILD, CHANNEL)
    [post] = await challenge(env, "start", ALICE, room, challenge=SCALED, minutes=10)
    for member, text in ((ALICE, "softmax(QK^T/sqrt(d_k))V"), (BOB, "Var(q.k) = d_k")):
        form = await open_form(env, post, member, room)
        await send_form(env, form, text, member, room)
    env.fake.refuse[dm_channel_id(BOB[0])] = (403, 50007)  # Bob closed his DMs

    env.clock.set(START + timedelta(minutes=10, seconds=30))
    mark = env.fake.mark()
    assert await env.app.challenges.reveal_overdue() == 1
    public = [m.content for m in env.fake.created_since(mark) if m.channel_id == CHANNEL]
    assert public[0].startswith("Time is up! 2 answered.")
    assert public[1] == NOT_REACHED.format(name="Bob")

    # Alice applies: the summary goes out without Bob.
    alice_sa = next(
        m
        for m in env.fake.created_since(mark)
        if m.channel_id == dm_channel_id(ALICE[0]) and m.embeds
    )
    alice_dm = env.fake.dm(ALICE[0])
    await press_in_place(env, alice_sa, "1. Confident", ALICE, alice_dm)
    current = env.fake.messages[alice_sa.id].snapshot()
    mark = env.fake.mark()
    await env.press(current, current.button("Apply"), ALICE, alice_dm)
    [summary] = [m for m in env.fake.created_since(mark) if m.channel_id == CHANNEL]
    assert "2 answered, 1 assessed" in summary.content

    # Bob opens his DMs and uses the bot again: his self-assessment comes.
    del env.fake.refuse[dm_channel_id(BOB[0])]
    await env.command("stats", BOB, env.fake.dm(BOB[0]))
    mark = env.fake.mark()
    assert await env.app.pushes.drain("discord", env.bot.push) == 1
    [bob_sa] = env.fake.created_since(mark)
    assert bob_sa.channel_id == dm_channel_id(BOB[0])
    assert bob_sa.embeds[0]["title"] == "Self-assessment"
    assert "Var(q.k) = d_k" in bob_sa.embeds[0]["description"]
