"""Group challenges on Discord end to end: the real discord.py client, offline.

Only discord.py's HTTP layer is faked (tests/e2e/discord/discord_fakes.py); commands,
button presses and submitted forms arrive as raw interaction payloads, the
clock stands still until a test moves it, and the core runs on a real SQLite
file (a restart is a new App and a new client on the same file).
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.config import Secret, default_settings
from bot.platforms.discord import sync_commands
from bot.platforms.discord.interactions import DOWNLOAD_FAILED
from tests.e2e.discord.discord_fakes import (
    APP_ID,
    FakeDiscord,
    Place,
    Sent,
    dm_channel_id,
    modal_problems,
)
from tests.e2e.discord.test_discord import (
    ALICE,
    BOB,
    CAROL,
    CHANNEL,
    GUILD,
    PNG,
    TOKEN,
    Env,
    image_of,
    only,
    start_app,
    start_bot,
)
from tests.fakes.clock import FixedClock

#: Manage Server (and View Channel): a server admin as far as challenges go.
MANAGE_GUILD = 1 << 5 | 1 << 10
ANSWER = "Your answer, from memory"
SCALED = "refl-scaled-dot-product"
START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


@pytest.fixture
async def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Env]:
    fake = FakeDiscord()
    fake.install(monkeypatch)
    await fake.cdn.start()  # photo answers are downloaded when sent
    fake.permissions[ALICE[0]] = MANAGE_GUILD
    base = default_settings(data_dir=tmp_path)
    settings = replace(
        base,
        discord=replace(base.discord, token=Secret(TOKEN)),
        study=replace(base.study, enable_fuzzing=False),
    )
    clock = FixedClock(START)
    app = await start_app(settings, clock)
    bot = await start_bot(app)
    environment = Env(fake, settings, clock, app, bot)
    try:
        yield environment
    finally:
        await environment.bot.stop()
        await environment.app.close()
        await fake.cdn.close()


# --------------------------------------------------------------------------- helpers


async def challenge(
    env: Env,
    name: str,
    user: tuple[int, str],
    place: Place,
    /,
    *,
    attachments: dict[str, tuple[str, str, bytes]] | None = None,
    **options: str | int,
) -> list[Sent]:
    """``/challenge <name>`` with options; the messages the bot created."""
    payload = env.fake.subcommand(
        "challenge", name, user, place, attachments=attachments, **options
    )
    return await env.send(payload)


async def open_form(env: Env, post: Sent, user: tuple[int, str], place: Place) -> dict[str, Any]:
    """Tap "Submit my answer": nothing is posted, a form opens for this member."""
    before = len(env.fake.modals)
    assert await env.press(post, post.button("Submit my answer"), user, place) == []
    assert len(env.fake.modals) == before + 1
    return env.fake.modals[-1]


async def send_form(
    env: Env, form: dict[str, Any], text: str, user: tuple[int, str], place: Place
) -> Sent:
    """Submit an answer form; the bot's one (private) answer."""
    reply = only(await env.send(env.fake.modal_submit(form, {ANSWER: text}, user, place)))
    assert reply.ephemeral
    return reply


async def press_in_place(
    env: Env, message: Sent, label: str, user: tuple[int, str], place: Place
) -> Sent:
    """Press a button that edits its message in place; the message as it is now."""
    current = env.fake.messages[message.id].snapshot()
    assert await env.press(current, current.button(label), user, place) == []
    return env.fake.messages[message.id].snapshot()


FORM_BUTTON = "Rate every row"


async def open_assessment(
    env: Env, message: Sent, user: tuple[int, str], place: Place
) -> dict[str, Any]:
    """Tap "Rate every row" on a self-assessment: nothing is posted, a form opens."""
    current = env.fake.messages[message.id].snapshot()
    before = len(env.fake.modals)
    assert await env.press(current, current.button(FORM_BUTTON), user, place) == []
    assert len(env.fake.modals) == before + 1
    form = env.fake.modals[-1]
    assert modal_problems(form) == []
    return form


async def submit_assessment(
    env: Env,
    message: Sent,
    form: dict[str, Any],
    choices: dict[str, str | list[str] | None],
    user: tuple[int, str],
    place: Place,
    *,
    extra: list[dict[str, Any]] | None = None,
) -> list[Sent]:
    """Submit a self-assessment form opened from ``message``; the messages created for
    the member (a summary in the server channel left out)."""
    current = env.fake.messages[message.id].snapshot()
    payload = env.fake.form_submit(form, choices, user, place, current, extra=extra)
    return [m for m in await env.send(payload) if m.channel_id != CHANNEL]


def inputs(form: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """A form's inputs by custom id (each with its label's text as ``label``)."""
    return {
        c["component"]["custom_id"]: {**c["component"], "label": c["label"]}
        for c in form["components"]
    }


def value_of(form: dict[str, Any], custom_id: str, option_start: str) -> str:
    """The value of the option of one input whose label starts with ``option_start``."""
    for option in inputs(form)[custom_id]["options"]:
        if option["label"].startswith(option_start):
            return str(option["value"])
    raise AssertionError(f"no option {option_start!r} in {custom_id}")


async def sweep(env: Env) -> list[Sent]:
    """What the scheduler's challenge sweep does now; the messages it created."""
    mark = env.fake.mark()
    await env.app.challenges.sweep()
    return env.fake.created_since(mark)


def starts(messages: list[Sent]) -> list[Sent]:
    return [m for m in messages if m.embeds and m.embeds[0].get("title") == "Group challenge"]


def run_rows(env: Env) -> list[tuple[Any, ...]]:
    return env.rows(
        "SELECT id, challenge_id, started_at, deadline, revealed_at, cancelled_at "
        "FROM challenge_runs ORDER BY id"
    )


def challenge_reviews(env: Env, user: tuple[int, str]) -> dict[str, int]:
    rows = env.rows(
        "SELECT card_id, rating FROM review_logs WHERE learner_id = ? AND source = 'challenge'",
        env.learner_id(user),
    )
    return dict(rows)


# --------------------------------------------------------------------------- the whole flow


async def test_three_members_a_restart_the_reveal_and_self_assessment(env: Env) -> None:
    room = env.fake.server(GUILD, CHANNEL)

    # Autocomplete offers the challenges by id and title.
    await env.send(
        env.fake.subcommand_autocomplete("challenge", "start", "challenge", "scaled", BOB, room)
    )
    choices = env.fake.callbacks[-1]["data"]["choices"]
    assert choices[0]["value"] == SCALED and choices[0]["name"].startswith(f"{SCALED}: ")

    # Only admins may start by default: Bob is told privately; nothing starts.
    refused = only(await challenge(env, "start", BOB, room, challenge=SCALED))
    assert refused.ephemeral and "Only the group's admins" in refused.content
    assert run_rows(env) == []

    post = only(await challenge(env, "start", ALICE, room, challenge=SCALED, minutes=10))
    assert post.channel_id == CHANNEL and not post.ephemeral
    embed = post.embeds[0]
    assert embed["title"] == "Group challenge"
    assert "Scaled dot-product attention" in embed["description"]
    assert "$" not in embed["description"]  # formulas shown as Unicode
    assert "09:10" in embed["description"] and "/challenge submit" in embed["footer"]["text"]
    assert len(run_rows(env)) == 1
    assert post.button("Submit my answer").startswith("j:")

    # Alice opens her form before a restart and sends it after: the form still works.
    alice_form = await open_form(env, post, ALICE, room)
    assert alice_form["custom_id"] == "jm:" + post.button("Submit my answer")[2:]
    assert alice_form["title"] == "Your answer"
    env.clock.advance(timedelta(minutes=2))
    await env.restart(new_app=True)  # a new process between the start and the deadline
    got = await send_form(env, alice_form, "softmax(QK^T/sqrt(d_k))V, var = d_k", ALICE, room)
    assert got.content.startswith("Got your answer")

    # Bob answers, then resubmits: the second answer replaces the first.
    bob_form = await open_form(env, post, BOB, room)
    assert (await send_form(env, bob_form, "first try", BOB, room)).content.startswith("Got")
    bob_form = await open_form(env, post, BOB, room)
    replaced = await send_form(env, bob_form, "second try: Var(q.k) = d_k", BOB, room)
    assert replaced.content.startswith("Replaced your earlier answer")

    # Carol joins but answers after the deadline: refused politely, nothing kept.
    carol_form = await open_form(env, post, CAROL, room)

    # Status names who answered, never what; privately.
    status = only(await challenge(env, "status", CAROL, room))
    assert status.ephemeral
    assert "2 submitted" in status.content and "Alice" in status.content
    assert "Bob" in status.content and "Carol" in status.content  # Carol: still writing
    assert "try" not in status.content and "sqrt" not in status.content

    # Bob may not reveal (not an admin, not the starter): a private refusal, nothing revealed.
    mark = env.fake.mark()
    no = only(await challenge(env, "reveal", BOB, room))
    assert no.ephemeral and "Only the group's admins or whoever started it" in no.content
    assert run_rows(env)[0][4] is None
    assert env.fake.created_since(mark) == [no]

    env.clock.set(START + timedelta(minutes=10, seconds=30))
    late = await send_form(env, carol_form, "too late", CAROL, room)
    assert late.content.startswith("Sorry, time is up")
    texts = env.rows("SELECT display_name, text FROM challenge_submissions ORDER BY display_name")
    assert texts == [
        ("Alice", "softmax(QK^T/sqrt(d_k))V, var = d_k"),
        ("Bob", "second try: Var(q.k) = d_k"),
        ("Carol", None),
    ]

    # The deadline timer reveals the run, once, even when it runs twice.
    mark = env.fake.mark()
    assert await env.app.challenges.reveal_overdue() == 1
    assert await env.app.challenges.reveal_overdue() == 0
    revealed = env.fake.created_since(mark)
    assert run_rows(env)[0][4] is not None
    public = [m for m in revealed if m.channel_id == CHANNEL]
    reference = only(public)
    assert reference.content.startswith("Time is up! 2 answered.")
    assert reference.embeds[0]["title"].startswith("Challenge · Scaled dot-product")
    assert "**Answer**" in reference.embeds[0]["description"]
    assert image_of(reference).startswith(PNG)  # the rendered formula, attached
    private = {m.channel_id: m for m in revealed if m.channel_id != CHANNEL}
    assert set(private) == {dm_channel_id(ALICE[0]), dm_channel_id(BOB[0])}  # not Carol
    alice_dm, bob_dm = env.fake.dm(ALICE[0]), env.fake.dm(BOB[0])
    alice_sa = private[dm_channel_id(ALICE[0])]
    bob_sa = private[dm_channel_id(BOB[0])]
    assert bob_sa.embeds[0]["title"] == "Self-assessment"
    assert "second try" in bob_sa.embeds[0]["description"]
    assert "first try" not in bob_sa.embeds[0]["description"]
    # One button opens the whole self-assessment as a form (no button per rubric row).
    labels = [b["label"] for b in bob_sa.buttons()]
    assert labels == [FORM_BUTTON, "Name me in the summary", "Share my answer"]
    assert (
        "4. Softmax saturation and its gradients: not rated yet"
        in (bob_sa.embeds[0]["description"])
    )

    # Bob sends his form leaving a row unrated: told privately, nothing applied.
    bob_form = await open_assessment(env, bob_sa, BOB, bob_dm)
    three: dict[str, str | list[str] | None] = {"r0": "3", "r1": "3", "r2": "3"}
    [left] = await submit_assessment(env, bob_sa, bob_form, three, BOB, bob_dm)
    assert left.ephemeral and left.content.startswith("Saved. 1 row still to rate (4)")
    assert challenge_reviews(env, BOB) == {}

    # Alice ticks a checkpoint and rates every row in one form; the message becomes the
    # cards that moved.
    form = await open_assessment(env, alice_sa, ALICE, alice_dm)
    alice_choices: dict[str, str | list[str] | None] = {
        "k0-5": [value_of(form, "k0-5", "1. Wrote")],
        "r0": "3",
        "r1": "2",
        "r2": "1",
        "r3": "3",
    }
    mark = env.fake.mark()
    assert await submit_assessment(env, alice_sa, form, alice_choices, ALICE, alice_dm) == []
    applied = env.fake.messages[alice_sa.id].snapshot()
    assert applied.content.startswith("Applied to your schedule. The cards that moved:")
    assert applied.embeds == []
    assert [b["label"] for b in applied.buttons()] == ["Share my answer"]
    assert env.fake.created_since(mark) == []  # Bob has not assessed: no summary yet

    # Reviews, source "challenge", on exactly the cards linked to the rows, as rated.
    assert challenge_reviews(env, ALICE) == {
        "att-one-query-output": 3,
        "att-full-formula": 3,
        "att-full-formula-rows": 3,
        "att-qkt-entry": 3,
        "att-softmax-rows": 3,
        "att-softmax-rows-why": 3,
        "att-weights-times-values": 3,
        "att-dot-variance": 2,
        "att-dot-term-variance": 2,
        "att-dot-sum-variance": 2,
        "att-dot-typical-size": 1,
        "att-scale-sqrt-dk": 1,
        "att-saturation-example": 3,
        "att-saturation-gradient": 3,
    }

    # Bob agrees to be named, opens the form again (his ratings kept), rates the last row:
    # the summary goes to the channel once.
    named = await press_in_place(env, bob_sa, "Name me in the summary", BOB, bob_dm)
    assert named.button("Name me in the summary ✓")
    bob_form = await open_assessment(env, bob_sa, BOB, bob_dm)
    assert [o["default"] for o in inputs(bob_form)["r0"]["options"]] == [True, False, False]
    current = env.fake.messages[bob_sa.id].snapshot()
    mark = env.fake.mark()
    await env.send(env.fake.form_submit(bob_form, {"r3": "1"}, BOB, bob_dm, current))
    summary = only(env.fake.created_since(mark))
    assert env.fake.messages[bob_sa.id].content.startswith("Applied to your schedule.")
    assert summary.channel_id == CHANNEL and not summary.ephemeral
    assert "2 answered, 2 assessed" in summary.content
    assert "Bob could help the 1 who want to re-study this" in summary.content
    heat = image_of(summary)
    assert heat.startswith(PNG) and summary.embeds[0]["title"].endswith("self-assessment")
    assert len(summary.payload["attachments"]) == 1
    assert challenge_reviews(env, BOB) == {
        "att-one-query-output": 3,
        "att-full-formula": 3,
        "att-full-formula-rows": 3,
        "att-qkt-entry": 3,
        "att-softmax-rows": 3,
        "att-softmax-rows-why": 3,
        "att-weights-times-values": 3,
        "att-dot-variance": 3,
        "att-dot-term-variance": 3,
        "att-dot-sum-variance": 3,
        "att-dot-typical-size": 3,
        "att-scale-sqrt-dk": 3,
        "att-saturation-example": 1,
        "att-saturation-gradient": 1,
    }
    assert env.rows("SELECT DISTINCT source FROM review_logs") == [("challenge",)]
    assert challenge_reviews(env, CAROL) == {}

    # Later sweeps post nothing more about this run.
    env.clock.advance(timedelta(hours=1))
    assert await sweep(env) == []

    # After the reveal Alice shares her answer with the group (from her applied message).
    # The core posts it before the press is answered.
    posted, shared = await env.press(applied, applied.button("Share my answer"), ALICE, alice_dm)
    assert shared.ephemeral and shared.content == "Shared with the group."
    assert posted.channel_id == CHANNEL and not posted.ephemeral
    assert posted.content.startswith("Alice shares their answer:")
    assert "softmax(QK^T/sqrt(d\\_k))V" in posted.content


# --------------------------------------------------------------------------- photos, permissions


async def test_a_drawing_answered_with_a_photo_and_everyone_allowed_to_run(env: Env) -> None:
    room = env.fake.server(GUILD, CHANNEL)
    dm = env.fake.dm(CAROL[0])

    # Outside a server: the group commands say where they work; the list works anywhere.
    where = only(await challenge(env, "start", CAROL, dm, challenge="refl-draw-transformer"))
    assert where.ephemeral and "is for study servers" in where.content
    listing = only(await challenge(env, "list", CAROL, dm))
    assert not listing.ephemeral and "refl-draw-transformer" in listing.content
    assert only(await challenge(env, "list", CAROL, room)).ephemeral

    # Only admins change the settings; then everyone may run challenges here.
    no = only(await challenge(env, "permissions", BOB, room, who="everyone"))
    assert no.ephemeral and "Only the group's admins" in no.content
    saved = only(await challenge(env, "permissions", ALICE, room, who="everyone"))
    assert not saved.ephemeral and "everyone can run them" in saved.content

    post = only(await challenge(env, "start", BOB, room, challenge="refl-draw-transformer"))
    assert "30 minutes" in post.embeds[0]["description"]

    # A photo needs the member to have joined (tap the button; the form may stay unsent).
    photo = {"photo": ("page.png", "image/png", PNG + b"drawing")}
    first = only(await challenge(env, "submit", CAROL, dm, attachments=photo))
    assert first.ephemeral and "Tap “Submit my answer”" in first.content
    await open_form(env, post, CAROL, room)
    pdf = {"photo": ("page.pdf", "application/pdf", b"%PDF-1.7")}
    wrong = only(await challenge(env, "submit", CAROL, dm, attachments=pdf))
    assert wrong.ephemeral and "Attach a photo" in wrong.content
    got = only(await challenge(env, "submit", CAROL, dm, attachments=photo))
    assert got.ephemeral and got.content.startswith("Got your answer")
    (ref,) = env.rows("SELECT photo_ref FROM challenge_submissions")
    assert ref[0].startswith(env.fake.cdn.base + "/attachments/") and ref[0].endswith("page.png")
    assert env.rows("SELECT size, mime FROM challenge_photos") == [
        (len(PNG + b"drawing"), "image/png")
    ]

    # The starter reveals early: the reference diagram to the channel, the checklist with it.
    # The core posts the reveal before the command is answered.
    *new, ok = await challenge(env, "reveal", BOB, room)
    assert ok.ephemeral and ok.content == "Revealed early."
    reference = only([m for m in new if m.channel_id == CHANNEL])
    assert "Draw the whole transformer" in reference.embeds[0]["title"]
    assert image_of(reference).startswith(PNG)  # the rendered reference diagram
    # The wide ASCII drawing and the checklist under it come as an image too.
    assert "shown in the image below" in reference.embeds[0]["description"]
    names = [e["image"]["url"].removeprefix("attachment://") for e in reference.embeds]
    assert len(set(names)) == 2 == len(reference.files)
    own, assessment = [m for m in new if m.channel_id == dm_channel_id(CAROL[0])]
    assert own.files == [("answer.png", PNG + b"drawing")]  # her page, as she sent it
    assert assessment.embeds[0]["title"] == "Self-assessment"
    assert ref[0] not in assessment.text() and not assessment.files  # not posted again
    # Six checkpoints and five rows: one form, the rows as a pair of checkbox groups.
    assert next(b["label"] for b in assessment.buttons()) == FORM_BUTTON
    form = await open_assessment(env, assessment, CAROL, dm)
    assert list(inputs(form)) == ["k0-6", "c0-5", "s0-5"]

    # Carol shares her page: the channel sees the photo itself.
    mark = env.fake.mark()
    await env.press(assessment, assessment.button("Share my answer"), CAROL, dm)
    (shared,) = [m for m in env.fake.created_since(mark) if m.channel_id == CHANNEL]
    assert shared.content.startswith("Carol shares their answer:")
    assert shared.embeds[0]["image"]["url"] == "attachment://answer.png"
    assert shared.files == [("answer.png", PNG + b"drawing")]

    # Cancelling: nothing is revealed.
    await challenge(env, "start", BOB, room, challenge="refl-causal-mask")
    cancelled = only(await challenge(env, "cancel", BOB, room))
    assert not cancelled.ephemeral and "cancelled" in cancelled.content
    assert run_rows(env)[-1][4] is None and run_rows(env)[-1][5] is not None


# --------------------------------------------------------------------------- schedules


async def test_a_weekly_challenge_fires_at_local_time_across_the_dst_change(env: Env) -> None:
    room = env.fake.server(GUILD, CHANNEL)
    env.clock.set(datetime(2026, 3, 21, 12, 0, tzinfo=UTC))  # a Saturday, Paris on CET (UTC+1)

    await env.send(
        env.fake.subcommand_autocomplete("challenge", "timezone", "name", "Europe/Pa", ALICE, room)
    )
    assert env.fake.callbacks[-1]["data"]["choices"][0]["value"] == "Europe/Paris"
    denied = only(await challenge(env, "timezone", BOB, room, name="Europe/Paris"))
    assert denied.ephemeral and "Only the group's admins" in denied.content
    zone = only(await challenge(env, "timezone", ALICE, room, name="Europe/Paris"))
    assert "challenges here use Europe/Paris" in zone.content
    weekly = only(
        await challenge(
            env,
            "schedule",
            ALICE,
            room,
            challenge="refl-causal-mask",
            weekday="sunday",
            time="09:00",
        )
    )
    assert not weekly.ephemeral
    assert weekly.content.startswith("Every Sunday at 09:00 (Europe/Paris)")
    assert "First on Sun 22 Mar 09:00" in weekly.content

    # Sunday 22 March, 09:00 in Paris is 08:00 UTC.
    env.clock.set(datetime(2026, 3, 22, 7, 59, tzinfo=UTC))
    assert starts(await sweep(env)) == []
    env.clock.set(datetime(2026, 3, 22, 8, 0, tzinfo=UTC))
    first = only(starts(await sweep(env)))
    assert first.channel_id == CHANNEL and first.button("Submit my answer")
    assert "before 09:05 (Europe/Paris)" in first.embeds[0]["description"]
    env.clock.set(datetime(2026, 3, 22, 8, 6, tzinfo=UTC))
    assert any(m.content.startswith("Time is up!") for m in await sweep(env))

    await env.restart(new_app=True)  # the schedule is in the database

    # Paris springs forward on 29 March: 09:00 is now 07:00 UTC.
    env.clock.set(datetime(2026, 3, 29, 6, 59, tzinfo=UTC))
    assert starts(await sweep(env)) == []
    env.clock.set(datetime(2026, 3, 29, 7, 0, tzinfo=UTC))
    second = only(starts(await sweep(env)))
    assert "before 09:05 (Europe/Paris)" in second.embeds[0]["description"]
    assert starts(await sweep(env)) == []  # once
    started = [(r[1], r[2]) for r in run_rows(env)]
    assert started == [
        ("refl-causal-mask", "2026-03-22 08:00:00.000000"),
        ("refl-causal-mask", "2026-03-29 07:00:00.000000"),
    ]

    env.clock.set(datetime(2026, 3, 29, 7, 6, tzinfo=UTC))
    await sweep(env)
    stopped = only(await challenge(env, "unschedule", ALICE, room))
    assert stopped.content == "Removed 1 weekly challenge."
    env.clock.set(datetime(2026, 4, 5, 7, 0, tzinfo=UTC))
    assert starts(await sweep(env)) == []


# --------------------------------------------------------------------------- publishing


async def test_the_challenge_group_is_published_with_its_subcommands(env: Env) -> None:
    await sync_commands(env.settings.discord, guild_id=GUILD)
    (put,) = [c for c in env.fake.calls if c.method == "PUT"]
    assert put.path == f"/applications/{APP_ID}/guilds/{GUILD}/commands"
    group = next(c for c in put.json if c["name"] == "challenge")
    # Servers the bot was added to, and its DM (list, submit); no user install: it posts.
    assert sorted(group["contexts"]) == [0, 1]
    assert group["integration_types"] == [0]
    subs = {o["name"]: o for o in group["options"]}
    assert sorted(subs) == sorted(
        [
            "list",
            "start",
            "status",
            "cancel",
            "reveal",
            "schedule",
            "unschedule",
            "timezone",
            "permissions",
            "submit",
        ]
    )
    start = {o["name"]: o for o in subs["start"]["options"]}
    assert start["challenge"]["autocomplete"] is True
    assert (
        start["minutes"]["type"],
        start["minutes"]["min_value"],
        start["minutes"]["max_value"],
    ) == (4, 1, 180)
    submit = {o["name"]: o for o in subs["submit"]["options"]}
    assert submit["photo"]["type"] == 11 and not submit["photo"].get("required")
    assert [
        c["value"] for c in {o["name"]: o for o in subs["permissions"]["options"]}["who"]["choices"]
    ] == [
        "admins",
        "everyone",
    ]


# --------------------------------------------------------------------------- photos that keep


async def test_a_photo_answer_is_shown_from_storage_after_its_link_expired(env: Env) -> None:
    room = env.fake.server(GUILD, CHANNEL)
    dm = env.fake.dm(CAROL[0])
    post = only(await challenge(env, "start", ALICE, room, challenge=SCALED))
    await open_form(env, post, CAROL, room)
    page = PNG + b"my derivation, photographed"
    got = only(await challenge(env, "submit", CAROL, dm, attachments={"photo": page_of(page)}))
    assert got.content.startswith("Got your answer")
    assert len(env.fake.cdn.downloads) == 1  # downloaded when sent, once
    (ref,) = env.rows("SELECT photo_ref FROM challenge_submissions")

    # A day later Discord's link is dead; the deadline passes and the sweep reveals.
    env.fake.cdn.expire()
    env.clock.set(env.clock.now() + timedelta(days=1))
    async with aiohttp.ClientSession() as http, http.get(ref[0]) as dead:
        assert dead.status == 404
    new = await sweep(env)
    own, assessment = [m for m in new if m.channel_id == dm_channel_id(CAROL[0])]
    assert own.content.startswith("Your answer, as you sent it")
    assert own.embeds[0]["image"]["url"] == "attachment://answer.png"
    assert own.files == [("answer.png", page)]  # uploaded from storage, not the dead URL
    assert ref[0] not in str(own.payload) and assessment.embeds[0]["title"] == "Self-assessment"

    # Shared with the channel: uploaded again from storage.
    mark = env.fake.mark()
    await env.press(assessment, assessment.button("Share my answer"), CAROL, dm)
    (shared,) = [m for m in env.fake.created_since(mark) if m.channel_id == CHANNEL]
    assert shared.files == [("answer.png", page)] and ref[0] not in str(shared.payload)
    assert len(env.fake.cdn.downloads) == 2  # our look above; the bot never went back

    # Thirty days after the reveal, housekeeping drops it.
    env.clock.set(env.clock.now() + timedelta(days=31))
    assert (await env.app.housekeeping.prune())[2] == 1
    assert env.rows("SELECT count(*) FROM challenge_photos") == [(0,)]


async def test_a_photo_over_the_limit_is_refused_before_it_is_downloaded(env: Env) -> None:
    room = env.fake.server(GUILD, CHANNEL)
    dm = env.fake.dm(CAROL[0])
    post = only(await challenge(env, "start", ALICE, room, challenge=SCALED))
    await open_form(env, post, CAROL, room)
    huge = PNG + bytes(8 * 1024 * 1024)  # over the 8 MB kept
    refused = only(await challenge(env, "submit", CAROL, dm, attachments={"photo": page_of(huge)}))
    assert refused.ephemeral and "I keep photos of up to 8 MB" in refused.content
    assert env.fake.cdn.downloads == []
    assert env.rows("SELECT submitted_at FROM challenge_submissions") == [(None,)]

    # Bytes that say image/png but are not a picture: downloaded, refused, not kept.
    fake_png = {"photo": ("page.png", "image/png", b"<html>not a picture</html>")}
    wrong = only(await challenge(env, "submit", CAROL, dm, attachments=fake_png))
    assert "couldn't read that as a picture" in wrong.content
    assert len(env.fake.cdn.downloads) == 1
    assert env.rows("SELECT count(*) FROM challenge_photos") == [(0,)]


async def test_a_photo_whose_link_died_before_the_download_is_told(env: Env) -> None:
    room = env.fake.server(GUILD, CHANNEL)
    dm = env.fake.dm(CAROL[0])
    post = only(await challenge(env, "start", ALICE, room, challenge=SCALED))
    await open_form(env, post, CAROL, room)
    payload = env.fake.subcommand(
        "challenge", "submit", CAROL, dm, attachments={"photo": page_of(PNG)}
    )
    env.fake.cdn.expire()
    told = only(await env.send(payload))
    assert told.ephemeral and told.content == DOWNLOAD_FAILED
    assert env.rows("SELECT submitted_at FROM challenge_submissions") == [(None,)]


def page_of(data: bytes) -> tuple[str, str, bytes]:
    return ("page.png", "image/png", data)
