"""A learner who added the app to their own Discord account (a user install).

Interactions arrive as Discord sends them for a user install: in the bot's DM with no
server (context 1) and ``authorizing_integration_owners`` ``{"1": <user>}``; in a server
the bot was not added to (context 0, no ``"0"`` key), where it may answer but never post;
in a group DM (context 2). The registered commands are read back from the bulk
overwrite, and the fake says where Discord would offer each (:meth:`FakeDiscord.offered`).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.core.learners import Who
from bot.core.messages import Reply
from bot.core.outcomes import Outcome
from bot.core.ports import Delivery
from bot.platforms.discord import sync_commands
from bot.platforms.discord.challenges import NOT_INSTALLED
from bot.platforms.discord.commands import QUIZ_NOT_INSTALLED
from tests.e2e.discord.discord_fakes import APP_ID, Place, dm_channel_id
from tests.e2e.discord.test_discord import (
    ALICE,
    BOB,
    CHANNEL,
    GUILD,
    Env,
    env,
    only,
    only_file,
    rate,
)

__all__ = ["env"]  # the fixture, imported

pytestmark = pytest.mark.asyncio

#: A server the bot was not added to, where Alice uses the app she installed.
ELSEWHERE = 777_777_777_777_777_777
ELSEWHERE_CHANNEL = 777_777_777_777_777_778
GROUP_DM = 888_888_888_888_888_888

PERSONAL = ("review", "stats", "settings", "export", "decks", "exam", "cram", "pause", "import")


def alice_dm(env: Env) -> Place:
    """Alice's DM with the bot, the app on her account and no server shared."""
    return env.fake.user_installed(env.fake.dm(ALICE[0]), ALICE[0])


async def test_the_review_loop_and_personal_commands_in_the_bot_dm_of_a_user_install(
    env: Env,
) -> None:
    dm = alice_dm(env)
    # No server at all: the learner is made on first contact there.
    card = only(await env.command("review", ALICE, dm))
    assert not card.ephemeral and card.button("Show answer")
    # Its DM channel is stored: the daily push is one request (below).
    assert env.rows("SELECT dm_channel_id FROM learners") == [(str(dm_channel_id(ALICE[0])),)]
    for rating in ("Good", "Easy"):
        assert await env.press(card, card.button("Show answer"), ALICE, dm) == []
        back = env.fake.messages[card.id]
        assert "**Answer**" in back.text()  # one composed message (or its embed)
        card = await rate(env, back, rating, ALICE, dm)
        assert card.content.startswith(f"{rating}: ")
    assert env.rows("SELECT COUNT(*) FROM review_logs") == [(2,)]

    stats = await env.command("stats", ALICE, dm)
    assert stats and not any(m.ephemeral for m in stats)
    assert stats[0].embeds[0]["title"] == "Your stats" and "2" in stats[0].text()
    panel = only(await env.command("settings", ALICE, dm))
    assert panel.embeds[0]["title"] == "Your settings" and not panel.ephemeral
    # Its menus work there too.
    saved = only(
        await env.send(env.fake.component(panel, "set:timezone", ALICE, dm, ["Europe/Berlin"]))
    )
    assert "Europe/Berlin" in saved.text()
    # ... and its form (a modal submitted from the bot's DM).
    await env.press(panel, "set:type", ALICE, dm)
    fields = {"Daily reminder time (HH:MM, your time)": "07:45"}
    typed = only(await env.send(env.fake.modal_submit(env.fake.modals[-1], fields, ALICE, dm)))
    assert "push: 07:45" in typed.content
    # /undo takes the last rating back there too.
    undone = only(await env.command("undo", ALICE, dm))
    assert undone.button("Show answer")
    assert env.rows("SELECT COUNT(*) FROM review_logs WHERE undone_at IS NULL") == [(1,)]
    name, data = only_file(only(await env.command("export", ALICE, dm)))
    assert name.endswith(".csv") and data.count(b"\n") >= 2  # a header and a review

    # The daily push goes to the stored DM channel: one request, and its buttons work.
    alice = await env.app.study.learner(Who("discord", str(ALICE[0]), "Alice"))
    mark = len(env.fake.calls)
    assert await env.bot.push(alice, Reply("info", "Time to review")) == Delivery(reached=True)
    assert [(c.method, c.path) for c in env.fake.calls[mark:]] == [
        ("POST", f"/channels/{dm_channel_id(ALICE[0])}/messages")
    ]
    assert not env.fake.violations
    assert not env.fake.unanswered()


async def test_in_a_server_without_the_bot_answers_are_private_and_group_commands_refuse(
    env: Env,
) -> None:
    room = env.fake.user_installed(env.fake.server(ELSEWHERE, ELSEWHERE_CHANNEL), ALICE[0])
    for name in ("stats", "settings", "decks", "exam", "pause", "help"):
        answers = await env.command(name, ALICE, room)
        assert answers and all(m.ephemeral for m in answers), name
    # /review and /export point to the bot's DM, privately; nothing was posted here.
    for name in ("review", "export"):
        pointer = only(await env.command(name, ALICE, room))
        assert pointer.ephemeral and "direct messages" in pointer.content
    # A group command (only offered where the bot was added, but an older registration
    # may still show it) says, privately, that the server must add the bot.
    refused = only(await env.command("quiz", ALICE, room, topic="attention"))
    assert refused.ephemeral and refused.content == QUIZ_NOT_INSTALLED
    assert "Ask a server admin to add me" in refused.content
    start = env.fake.subcommand("challenge", "start", ALICE, room, challenge="refl-causal-mask")
    challenge = only(await env.send(start))
    assert challenge.ephemeral and challenge.content == NOT_INSTALLED
    assert env.rows("SELECT COUNT(*) FROM quiz_participants") == [(0,)]
    # The bot never tried to post in the channel, and never remembered it for a notice.
    assert not [c for c in env.fake.calls if c.path == f"/channels/{ELSEWHERE_CHANNEL}/messages"]
    assert str(ALICE[0]) not in env.bot.places.last_server_channel
    assert not env.fake.violations
    assert not env.fake.unanswered()


async def test_a_server_that_disallows_external_apps_gets_private_answers_only(env: Env) -> None:
    """Discord shows a user-installed app's answers only to the person there; the bot's
    own answers were private already, and the review loop waits in the bot's DM."""
    room = env.fake.user_installed(
        env.fake.server(ELSEWHERE, ELSEWHERE_CHANNEL), ALICE[0], external_apps=False
    )
    payload = env.fake.command("stats", ALICE, room)
    assert int(payload["member"]["permissions"]) & (1 << 50) == 0  # no USE_EXTERNAL_APPS
    assert payload["authorizing_integration_owners"] == {"1": str(ALICE[0])}
    assert payload["context"] == 0 and payload["guild_id"] == str(ELSEWHERE)
    stats = await env.send(payload)
    assert stats and all(m.ephemeral for m in stats)
    assert stats[0].embeds[0]["title"] == "Your stats"
    panel = only(await env.command("settings", ALICE, room))
    assert panel.ephemeral
    changed = only(
        await env.send(env.fake.component(panel, "set:timezone", ALICE, room, ["Asia/Tokyo"]))
    )
    assert changed.ephemeral and "Asia/Tokyo" in changed.text()
    assert only(await env.command("quiz", ALICE, room, topic="attention")).ephemeral
    assert not env.fake.violations


async def test_a_group_dm_answers_privately(env: Env) -> None:
    place = env.fake.group_dm(GROUP_DM, ALICE[0])
    payload = env.fake.command("stats", ALICE, place)
    assert "guild_id" not in payload and payload["context"] == 2
    stats = await env.send(payload)
    assert stats and all(m.ephemeral for m in stats)
    pointer = only(await env.command("review", ALICE, place))
    assert pointer.ephemeral and "direct messages" in pointer.content
    # Not the bot's DM: its channel is not stored as one.
    assert env.rows("SELECT dm_channel_id FROM learners") == [(None,)]
    assert not env.fake.violations


async def test_a_learner_met_only_in_a_foreign_server_gets_the_daily_dm(env: Env) -> None:
    """No DM channel stored: the push opens one (Discord lets an app DM the person who
    added it to their account). When Discord refuses, nobody is told in that server:
    the bot is not in it."""
    room = env.fake.user_installed(env.fake.server(ELSEWHERE, ELSEWHERE_CHANNEL), ALICE[0])
    await env.command("stats", ALICE, room)
    alice = await env.app.study.learner(Who("discord", str(ALICE[0]), "Alice"))
    assert alice.dm_channel_id is None
    mark = len(env.fake.calls)
    reached = await env.bot.push(alice, Reply("info", "Time to review"))
    assert reached == Delivery(reached=True, dm_channel=str(dm_channel_id(ALICE[0])))
    assert [(c.method, c.path) for c in env.fake.calls[mark:]] == [
        ("POST", "/users/@me/channels"),
        ("POST", f"/channels/{dm_channel_id(ALICE[0])}/messages"),
    ]

    env.fake.refuse[dm_channel_id(ALICE[0])] = (403, 50007)
    mark = len(env.fake.calls)
    refused = await env.bot.push(alice, Reply("info", "Time to review"))
    assert not refused.reached
    assert not [c for c in env.fake.calls[mark:] if str(ELSEWHERE_CHANNEL) in c.path]
    assert not env.fake.violations


async def test_both_installs(env: Env) -> None:
    """Someone who shares a server with the bot and also added it to their account:
    Discord sends both keys; the review and the quiz work as ever."""
    dm = env.fake.both_installed_dm(BOB[0])
    payload = env.fake.command("review", BOB, dm)
    assert payload["authorizing_integration_owners"] == {"0": "0", "1": str(BOB[0])}
    card = only(await env.send(payload))
    assert await env.press(card, card.button("Show answer"), BOB, dm) == []
    # In a server the bot was added to, Bob's own install changes nothing: /quiz posts.
    server = env.fake.server(GUILD, CHANNEL)
    both = Place(server.channel, GUILD, 0, {"0": str(GUILD), "1": str(BOB[0])})
    post = only(await env.command("quiz", BOB, both, topic="attention"))
    assert not post.ephemeral and post.button("Reveal")
    assert env.bot.places.last_server_channel[str(BOB[0])] == CHANNEL
    assert not env.fake.violations


async def test_at_most_five_follow_ups_for_a_user_install(
    env: Env, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    """Discord takes 5 new follow-up messages for an interaction only a user install is
    behind. In the bot's DM the rest are posted there; elsewhere the bot may not post, so
    the last one it may send says where to see everything, and the rest are left out."""
    parts = 7

    async def stats(who: Who) -> Outcome:
        return Outcome(replies=tuple(Reply("info", f"part {n}") for n in range(1, parts + 1)))

    monkeypatch.setattr(env.app.study, "stats", stats)
    got = await env.command("stats", ALICE, alice_dm(env))
    assert [m.content for m in got] == [f"part {n}" for n in range(1, 8)]
    webhooks = [c for c in env.fake.calls if c.path.startswith("/webhooks/")]
    posts = [c for c in env.fake.calls if c.path == f"/channels/{dm_channel_id(ALICE[0])}/messages"]
    assert len(webhooks) == 6 and len(posts) == 1  # "thinking" filled, 5 new, 1 posted

    room = env.fake.user_installed(env.fake.server(ELSEWHERE, ELSEWHERE_CHANNEL), ALICE[0])
    with caplog.at_level(logging.WARNING):
        got = await env.command("stats", ALICE, room)
    assert [m.content for m in got[:-1]] == [f"part {n}" for n in range(1, 6)]
    assert got[-1].content == (
        "There is more than Discord lets me show here: send /stats in our direct messages "
        "to see all of it."
    )
    assert all(m.ephemeral for m in got)
    assert "left out a message past Discord's 5 follow-ups" in caplog.text
    # Exactly as many as Discord takes: the one held back goes out at the end.
    parts = 6
    got = await env.command("stats", ALICE, room)
    assert [m.content for m in got] == [f"part {n}" for n in range(1, 7)]
    # A server install has no such limit.
    parts = 7
    got = await env.command("stats", ALICE, env.fake.server(GUILD, CHANNEL))
    assert len(got) == 7
    assert not env.fake.violations
    assert not env.fake.unanswered()


async def test_registered_commands_are_offered_where_they_work(env: Env) -> None:
    await sync_commands(env.settings.discord)
    (put,) = [c for c in env.fake.calls if c.method == "PUT"]
    assert put.path == f"/applications/{APP_ID}/commands"
    by_name: dict[str, dict[str, Any]] = {c["name"]: c for c in put.json}
    for name in PERSONAL:
        assert by_name[name]["integration_types"] == [0, 1], name
        assert sorted(by_name[name]["contexts"]) == [0, 1, 2], name
    assert (by_name["quiz"]["integration_types"], by_name["quiz"]["contexts"]) == ([0], [0])
    assert by_name["challenge"]["integration_types"] == [0]
    assert sorted(by_name["challenge"]["contexts"]) == [0, 1]

    fake = env.fake
    dm = alice_dm(env)
    elsewhere = fake.user_installed(fake.server(ELSEWHERE, ELSEWHERE_CHANNEL), ALICE[0])
    group_dm = fake.group_dm(GROUP_DM, ALICE[0])
    server = fake.server(GUILD, CHANNEL)
    for name in PERSONAL:
        for place in (dm, elsewhere, group_dm, server, fake.dm(BOB[0])):
            assert fake.offered(name, place), (name, place.context)
    for name in ("quiz", "challenge"):
        assert fake.offered(name, server)
        assert not fake.offered(name, elsewhere) and not fake.offered(name, group_dm)
        assert not fake.offered(name, dm)  # a user install alone does not bring it
    assert fake.offered("challenge", fake.dm(BOB[0])) and not fake.offered("quiz", fake.dm(BOB[0]))


async def test_a_registration_discord_would_refuse_is_refused(env: Env) -> None:
    """The fake checks the bulk overwrite as Discord does (its values, not just keys)."""
    command = {"name": "x", "description": "x", "integration_types": [2], "contexts": [0]}
    with pytest.raises(Exception, match="Invalid Form Body"):
        await env.fake._http("PUT", f"/applications/{APP_ID}/commands", [command], None, None)
    assert env.fake.violations == ["/x integration_types [2]"]


async def test_a_whole_day_of_reviews_in_the_bot_dm_of_a_user_install(env: Env) -> None:
    """Every tap is its own interaction with its own follow-up budget: a day's reviews
    (until "Done for today") run in place with no follow-up past Discord's five."""
    dm = alice_dm(env)
    card = only(await env.command("review", ALICE, dm))
    reviews = 0
    while any(b.get("label") == "Show answer" for b in card.buttons()):
        assert await env.press(card, card.button("Show answer"), ALICE, dm) == []
        card = await rate(
            env, env.fake.messages[card.id], "Again" if reviews % 3 else "Good", ALICE, dm
        )
        reviews += 1
    assert reviews >= 40 and "Done for today" in card.text()
    assert env.rows("SELECT COUNT(*) FROM review_logs") == [(reviews,)]
    assert not env.fake.violations
    assert not env.fake.unanswered()
