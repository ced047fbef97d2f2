"""A member whose direct messages are closed at the reveal: the server channel is told,
the summary does not wait, and their self-assessment comes once they are back. Over
the fake Discord, as test_discord_challenges.py."""

from __future__ import annotations

from datetime import timedelta

from bot.core.delivery import NOT_REACHED
from tests.e2e.discord.discord_fakes import dm_channel_id
from tests.e2e.discord.test_discord import ALICE, BOB, CHANNEL, GUILD, PNG, Env
from tests.e2e.discord.test_discord_challenges import (
    SCALED,
    START,
    challenge,
    challenge_reviews,
    env,
    open_assessment,
    open_form,
    send_form,
    submit_assessment,
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
    form = await open_assessment(env, alice_sa, ALICE, alice_dm)
    current = env.fake.messages[alice_sa.id].snapshot()
    mark = env.fake.mark()
    every_row = {"r0": "3", "r1": "3", "r2": "3", "r3": "3"}
    await env.send(env.fake.form_submit(form, dict(every_row), ALICE, alice_dm, current))
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

    # The self-assessment sent again opens the same form, which applies his ratings.
    bob_dm = env.fake.dm(BOB[0])
    form = await open_assessment(env, bob_sa, BOB, bob_dm)
    bob_rows = {"r0": "2", "r1": "2", "r2": "1", "r3": "1"}
    assert await submit_assessment(env, bob_sa, form, dict(bob_rows), BOB, bob_dm) == []
    assert env.fake.messages[bob_sa.id].content.startswith("Applied to your schedule.")
    assert challenge_reviews(env, BOB)["att-scale-sqrt-dk"] == 1
    assert env.fake.violations == []


async def test_a_photo_answer_comes_again_before_the_self_assessment_sent_late(
    env: Env,
) -> None:
    """As at the reveal: Bob's page, as he sent it, then his self-assessment."""
    room = env.fake.server(GUILD, CHANNEL)
    [post] = await challenge(env, "start", ALICE, room, challenge=SCALED, minutes=10)
    await send_form(env, await open_form(env, post, ALICE, room), "softmax", ALICE, room)
    await open_form(env, post, BOB, room)
    page = {"photo": ("page.png", "image/png", PNG + b"bob's page")}
    [got] = await challenge(env, "submit", BOB, env.fake.dm(BOB[0]), attachments=page)
    assert got.content.startswith("Got your answer")
    env.fake.refuse[dm_channel_id(BOB[0])] = (403, 50007)  # Bob closed his DMs

    env.clock.set(START + timedelta(minutes=10, seconds=30))
    assert await env.app.challenges.reveal_overdue() == 1

    del env.fake.refuse[dm_channel_id(BOB[0])]
    await env.command("stats", BOB, env.fake.dm(BOB[0]))
    mark = env.fake.mark()
    assert await env.app.pushes.drain("discord", env.bot.push) == 1
    own, bob_sa = env.fake.created_since(mark)
    assert own.channel_id == bob_sa.channel_id == dm_channel_id(BOB[0])
    assert own.files == [("answer.png", PNG + b"bob's page")]  # the stored bytes
    assert own.embeds[0]["image"]["url"] == "attachment://answer.png"
    assert bob_sa.embeds[0]["title"] == "Self-assessment" and not bob_sa.files
    assert "the photo of your page you sent" in bob_sa.embeds[0]["description"]
    assert env.rows("SELECT parts_sent, sent_at IS NOT NULL FROM outbox") == [(0, True)]
    assert env.fake.violations == []
