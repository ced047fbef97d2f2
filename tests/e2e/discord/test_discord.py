"""The Discord adapter end to end: the real discord.py client, offline.

Only discord.py's HTTP layer is faked (tests/e2e/discord/discord_fakes.py); interactions
arrive as raw payloads, as Discord sends them, and the study loop runs on a
real SQLite database.
"""

from __future__ import annotations

import asyncio
import logging
import sqlite3
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.app import App, build_app, discord_platform
from bot.config import DiscordSettings, Secret, Settings, default_settings
from bot.core.delivery import PlatformAnnouncer
from bot.core.learners import Who
from bot.core.messages import Announcement, Reply
from bot.core.model import OutboxMessage
from bot.core.ports import Delivery, DeliveryRefused, DeliveryRetry
from bot.core.study import NO_DECKS_TEXT
from bot.platforms.discord import DiscordPlatform, sync_commands
from bot.platforms.discord.platform import ShardedStudyClient, StudyClient, make_client
from tests.e2e.discord.discord_fakes import (
    APP_ID,
    FakeDiscord,
    FakeRenderer,
    Place,
    Sent,
    dm_channel_id,
    tiny_png,
)
from tests.fakes.clock import FixedClock

REPO = Path(__file__).resolve().parents[3]
TOKEN = "discord-test-token-do-not-log"
ALICE = (111_111_111_111_111_111, "Alice")
BOB = (222_222_222_222_222_222, "Bob")
CAROL = (333_333_333_333_333_333, "Carol")
GUILD = 555_555_555_555_555_555
CHANNEL = 555_555_555_555_555_777
PNG = b"\x89PNG\r\n\x1a\n"
SIDES = REPO / "tests" / "data" / "image_sides"
#: The images of tests/data/image_sides: the question's and the answer's of sides-both,
#: and the answer's of sides-back.
ASKED = "Q[n,d_k] @ K^T[?,?] -> S[?,?]; n=6, d_k=4"
SHOWN = "Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4"
BACK_ONLY = "X[n,d_model] @ W_K[d_model,d_k] -> K[n,d_k]; n=6, d_model=8, d_k=4"


@dataclass
class Env:
    """A running bot against a fake Discord, and the ways to restart it."""

    fake: FakeDiscord
    settings: Settings
    clock: FixedClock
    app: App
    bot: DiscordPlatform
    stopped: list[DiscordPlatform] = field(default_factory=list)

    @property
    def db_path(self) -> str:
        return self.settings.database.url.split(":///", 1)[1]

    def rows(self, sql: str, *args: Any) -> list[tuple[Any, ...]]:
        with sqlite3.connect(self.db_path) as conn:
            return conn.execute(sql, args).fetchall()

    def learner_id(self, user: tuple[int, str]) -> int:
        (row,) = self.rows(
            "SELECT id FROM learners WHERE platform = 'discord' AND platform_user_id = ?",
            str(user[0]),
        )
        return int(row[0])

    async def send(self, payload: dict[str, Any]) -> list[Sent]:
        """Deliver one interaction; return the messages the bot created for it."""
        mark = self.fake.mark()
        await self.fake.dispatch(self.bot.client, payload)
        return self.fake.created_since(mark)

    async def command(
        self,
        name: str,
        user: tuple[int, str],
        place: Place,
        /,
        *,
        attachments: dict[str, tuple[str, str, bytes]] | None = None,
        **options: str,
    ) -> list[Sent]:
        return await self.send(
            self.fake.command(name, user, place, attachments=attachments, **options)
        )

    async def message(self, payload: dict[str, Any]) -> list[Sent]:
        """Deliver a message sent in the DMs (:meth:`FakeDiscord.dm_message`); return the
        messages the bot created for it."""
        mark = self.fake.mark()
        await self.fake.dispatch(self.bot.client, payload, event="MESSAGE_CREATE")
        return self.fake.created_since(mark)

    async def press(
        self, message: Sent, custom_id: str, user: tuple[int, str], place: Place
    ) -> list[Sent]:
        return await self.send(self.fake.component(message, custom_id, user, place))

    async def restart(self, *, new_app: bool = False) -> None:
        """Stop the client and start a new one (and a new App on the same database)."""
        await self.bot.stop()
        self.app.channels.detach(self.bot.name)
        self.stopped.append(self.bot)
        if new_app:
            await self.app.close()
            self.app = await start_app(self.settings, self.clock)
        self.bot = await start_bot(self.app)


async def start_app(settings: Settings, clock: FixedClock) -> App:
    """The App on the settings' database, drawing with the fake renderer."""
    return await build_app(settings, auto_upgrade=True, clock=clock, renderer=FakeRenderer())


async def start_bot(app: App) -> DiscordPlatform:
    bot = discord_platform(app)
    await bot.login()  # HTTP login and setup_hook; no gateway offline
    app.channels.attach(bot)  # announcements go through it
    return bot


@pytest.fixture
async def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Env]:
    async with running(tmp_path, monkeypatch) as environment:
        yield environment


@asynccontextmanager
async def running(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    *extra_decks: Path,
    shipped: bool = True,
    sessions: bool = False,
) -> AsyncIterator[Env]:
    """The bot over a fake Discord, with the shipped decks (none if ``shipped`` is false) and
    any extra ones; ``sessions``: faked at aiohttp's level (discord.py's requests run)."""
    fake = FakeDiscord()
    if sessions:
        fake.install_sessions(monkeypatch)
    else:
        fake.install(monkeypatch)
    await fake.cdn.start()
    try:
        base = default_settings(data_dir=tmp_path)
        settings = replace(
            base,
            discord=replace(base.discord, token=Secret(TOKEN)),
            decks=replace(base.decks, paths=(*(base.decks.paths if shipped else ()), *extra_decks)),
            study=replace(base.study, enable_fuzzing=False),
        )
        clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
        app = await start_app(settings, clock)
        bot = await start_bot(app)
        environment = Env(fake, settings, clock, app, bot)
        try:
            yield environment
        finally:
            await environment.bot.stop()
            await environment.app.close()
    finally:
        await fake.cdn.close()


def only(messages: list[Sent]) -> Sent:
    assert len(messages) == 1, [m.text() for m in messages]
    return messages[0]


async def rate(env: Env, back: Sent, label: str, user: tuple[int, str], place: Place) -> Sent:
    """Rate a card: it becomes the next one (or the session's end) in place, the rating's
    outcome on top; no new message."""
    assert await env.press(back, back.button(label), user, place) == []
    return env.fake.messages[back.id]


def image_of(message: Sent) -> bytes:
    """The PNG a card shows (in its embed, or its composed message's gallery), checked to
    be an attachment of the message."""
    shown = message.shown_images()
    assert shown, "the message shows no attached image"
    name = shown[0]
    assert name in [a["filename"] for a in message.payload["attachments"]]
    data = dict(message.files)[name]
    assert data.startswith(PNG)
    return data


# --------------------------------------------------------------------------- DM review


async def test_full_review_of_three_cards_in_dms_with_an_image(env: Env) -> None:
    dm = env.fake.dm(ALICE[0])
    chosen = only(await env.command("decks", ALICE, dm, topics="similarity"))
    assert chosen.content == "Studying similarity."
    assert not chosen.ephemeral

    card = only(await env.command("review", ALICE, dm))
    # The DM channel is stored, so a daily push needs one request.
    assert env.rows("SELECT dm_channel_id FROM learners") == [(str(dm_channel_id(ALICE[0])),)]
    seen_images = 0
    for rating in ("Good", "Easy", "Hard"):
        # One composed message (Components V2): the card is a container.
        assert card.composed and not card.embeds
        assert "### Attention, one step at a time · " in card.text()
        assert "**Answer**" not in card.text()
        assert [b["label"] for b in card.buttons()] == [
            "Show answer",
            "Bury until tomorrow",
            "Suspend",
        ]
        assert not card.shown_images(), "these cards' images belong to their backs"

        # Show answer: the same message becomes the back, with the four ratings.
        assert await env.press(card, card.button("Show answer"), ALICE, dm) == []
        back = env.fake.messages[card.id]
        assert back.composed and "**Answer**" in back.text()
        labels = [b["label"] for b in back.buttons()]
        assert [label.split()[0] for label in labels] == ["Again", "Hard", "Good", "Easy"]
        if back.shown_images():
            image_of(back)  # attached by the edit
            seen_images += 1

        # Rating: the same message becomes the next card, the rating's outcome on top.
        card = await rate(env, back, rating, ALICE, dm)
        assert card.id == back.id
        assert card.content.startswith(f"{rating}: see it again in ")
        assert not card.ephemeral
        env.clock.advance(timedelta(seconds=20))

    assert seen_images >= 2  # att-dot-angle and att-cosine carry formula images
    reviews = env.rows("SELECT card_id, rating, source FROM review_logs ORDER BY id")
    assert reviews == [
        ("att-dot-not-cross", 3, "dm"),
        ("att-dot-angle", 4, "dm"),
        ("att-cosine", 2, "dm"),
    ]
    # Every interaction was answered within the deadline's rules: deferred, then followed up.
    callbacks = [c for c in env.fake.callbacks if c["type"] in (5, 6)]
    assert len(callbacks) >= 7


async def test_a_button_from_before_a_restart_still_works(env: Env) -> None:
    dm = env.fake.dm(ALICE[0])
    card = only(await env.command("review", ALICE, dm))
    reveal = card.button("Show answer")

    await env.restart(new_app=True)  # a new process: new client, new App, same database
    assert env.bot.client.studybot is env.bot

    assert await env.press(card, reveal, ALICE, dm) == []
    back = env.fake.messages[card.id].snapshot()
    assert back.composed and "**Answer**" in back.text()
    await env.restart()
    nxt = await rate(env, back, "Good", ALICE, dm)
    assert nxt.content.startswith("Good: see it again in ")
    assert env.rows("SELECT card_id, rating FROM review_logs") == [("att-purpose", 3)]

    # The same old button again: stale, so nothing changes and only the presser sees why.
    stale = only(await env.press(back, back.button("Good"), ALICE, dm))
    assert stale.ephemeral
    assert stale.content.startswith("This button has expired.")
    assert len(env.rows("SELECT id FROM review_logs")) == 1

    # Forged custom ids that fit the template change nothing either.
    for custom_id in ("r:AAAAAAAAAAAAAAAA:3", "a:AAAAAAAAAAAAAAAA"):
        button = {"type": 2, "style": 1, "label": "Good", "custom_id": custom_id}
        forged = Sent({**back.payload, "components": [{"type": 1, "components": [button]}]})
        reply = only(await env.press(forged, custom_id, ALICE, dm))
        assert reply.ephemeral and reply.content.startswith("This button has expired.")
    assert len(env.rows("SELECT id FROM review_logs")) == 1


async def test_each_side_of_a_card_shows_its_own_image(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The embed's image follows the side: the question's with the front; on reveal the
    edit attaches the answer's instead, or no image when the back has none."""
    async with running(tmp_path, monkeypatch, SIDES) as env:
        drawn = env.app.renderer
        assert isinstance(drawn, FakeRenderer)
        dm = env.fake.dm(ALICE[0])
        only(await env.command("decks", ALICE, dm, topics="sides"))

        # Both sides.
        card = only(await env.command("review", ALICE, dm))
        assert image_of(card) == tiny_png(f"shape:{ASKED}")
        assert drawn.card_images == [("shape", ASKED)], "nothing of the back is drawn yet"
        assert await env.press(card, card.button("Show answer"), ALICE, dm) == []
        back = env.fake.messages[card.id]
        assert "**Answer**" in back.text()
        assert image_of(back) == tiny_png(f"shape:{SHOWN}")
        assert [name for name, _ in back.files] == [
            a["filename"] for a in back.payload["attachments"]
        ], "the question's image is no longer attached"

        # The front's image only: the back shows none.
        card = await rate(env, back, "Good", ALICE, dm)
        assert image_of(card) == tiny_png(r"formula:\mathrm{Attention}(Q,K,V) = ?")
        assert await env.press(card, card.button("Show answer"), ALICE, dm) == []
        back = env.fake.messages[card.id]
        assert "**Answer**" in back.text()
        assert not back.shown_images() and back.payload["attachments"] == []

        # The back's image only.
        card = await rate(env, back, "Good", ALICE, dm)
        assert not card.shown_images() and card.payload["attachments"] == []
        assert await env.press(card, card.button("Show answer"), ALICE, dm) == []
        back = env.fake.messages[card.id]
        assert image_of(back) == tiny_png(f"shape:{BACK_ONLY}")
        assert drawn.card_images == [
            ("shape", ASKED),
            ("shape", SHOWN),
            ("formula", r"\mathrm{Attention}(Q,K,V) = ?"),
            ("shape", BACK_ONLY),
        ]


async def test_review_without_any_deck_says_so(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(tmp_path, monkeypatch, shipped=False) as env:
        dm = env.fake.dm(ALICE[0])
        answer = only(await env.command("review", ALICE, dm))
        assert answer.content == NO_DECKS_TEXT


# --------------------------------------------------------------------------- servers


async def test_quiz_in_a_server_with_three_members(env: Env) -> None:
    room = env.fake.server(GUILD, CHANNEL)

    # Autocomplete offers the catalogue's topics.
    await env.send(env.fake.autocomplete("quiz", "topic", "att", ALICE, room))
    choices = env.fake.callbacks[-1]
    assert choices["type"] == 8
    assert choices["data"]["choices"][0] == {"name": "attention", "value": "attention"}

    unknown = only(await env.command("quiz", ALICE, room, topic="cooking"))
    assert unknown.ephemeral and "I have no cards on" in unknown.content

    post = only(await env.command("quiz", ALICE, room, topic="attention"))
    assert not post.ephemeral
    assert post.channel_id == CHANNEL
    assert "Quiz on attention" in post.content
    assert post.composed and "**Answer**" not in post.text()
    reveal = post.button("Reveal")

    backs: dict[str, Sent] = {}
    for member in (ALICE, BOB, CAROL):
        back = only(await env.press(post, reveal, member, room))
        assert back.ephemeral  # the back and the ratings are for this member alone
        assert "**Answer**" in back.text()
        backs[member[1]] = back
    assert env.fake.messages[post.id].buttons()  # the public post keeps its Reveal button

    # Bob presses Alice's rating button: the core says "expired"; nothing changes.
    alice_good = backs["Alice"].button("Good")
    refused = only(await env.press(backs["Alice"], alice_good, BOB, room))
    assert refused.ephemeral
    assert refused.content.startswith("This button has expired.")
    assert env.rows("SELECT COUNT(*) FROM review_logs") == [(0,)]
    assert env.fake.messages[backs["Alice"].id].buttons()

    for member, rating in ((ALICE, "Good"), (BOB, "Hard"), (CAROL, "Good")):
        back = backs[member[1]]
        mark = env.fake.mark()
        await env.fake.dispatch(
            env.bot.client, env.fake.component(back, back.button(rating), member, room)
        )
        new = env.fake.created_since(mark)
        mine = [m for m in new if m.ephemeral]
        assert len(mine) == 1
        assert mine[0].content.startswith(f"{rating}: see it again in ")
        assert "Counted in your own schedule" in mine[0].content
        assert env.fake.messages[back.id].buttons() == []
    # Everyone rated: the answer and the tally go to the channel, once (posted by the
    # core before the rating's own answer).
    answer = only([m for m in new if not m.ephemeral])
    assert answer.channel_id == CHANNEL
    assert answer.content.startswith("Quiz answer. 3 took part")
    assert "Hard 1 · Good 2" in answer.content
    assert answer.composed and "**Answer**" in answer.text()
    assert any(c.path == f"/channels/{CHANNEL}/messages" for c in env.fake.calls)
    sources = env.rows("SELECT source, COUNT(*) FROM review_logs GROUP BY source")
    assert sources == [("quiz", 3)]

    # /quiz in DMs, /review in a server: a clear private answer, nothing changes.
    in_dm = only(await env.command("quiz", BOB, env.fake.dm(BOB[0]), topic="attention"))
    assert in_dm.ephemeral and "Quizzes are for study servers" in in_dm.content
    in_server = only(await env.command("review", BOB, room))
    assert in_server.ephemeral and "direct messages" in in_server.content
    assert env.rows("SELECT COUNT(*) FROM prompts WHERE source = 'dm'") == [(0,)]


async def test_the_settings_button_shows_what_each_retention_costs(env: Env) -> None:
    dm = env.fake.dm(ALICE[0])
    panel = only(await env.command("settings", ALICE, dm))
    costs = only(await env.press(panel, "set:costs", ALICE, dm))
    text = costs.text()
    assert "What each desired retention costs" in text
    assert "retention: reviews a day · minutes a day · minutes per card remembered" in text
    assert "90%: " in text and "← yours" in text and "Suggestion: " in text
    assert costs.files, "the chart is attached"


async def test_settings_menus_and_an_invalid_timezone(env: Env) -> None:
    dm = env.fake.dm(ALICE[0])
    panel = only(await env.command("settings", ALICE, dm))
    assert panel.embeds[0]["title"] == "Your settings"
    assert "timezone: UTC" in panel.embeds[0]["description"]
    assert panel.custom_ids() == [
        "set:timezone",
        "set:new",
        "set:retention",
        "set:easy_days",
        "set:type",
        "set:pause",
        "set:resume",
        "set:costs",
    ]

    chosen = only(
        await env.send(
            env.fake.component(panel, "set:timezone", ALICE, dm, values=["Europe/Paris"])
        )
    )
    assert chosen.ephemeral and "timezone: Europe/Paris" in chosen.content
    new = only(await env.send(env.fake.component(panel, "set:new", ALICE, dm, values=["5"])))
    assert "new: 5 new cards a day" in new.content
    easy = only(
        await env.send(
            env.fake.component(panel, "set:easy_days", ALICE, dm, values=["sat 50% sun 50%"])
        )
    )
    # (Discord's markdown shows the escaped underscore as easy_days)
    assert easy.ephemeral and r"easy\_days: sat 50%, sun 50% (of a normal day's" in easy.content
    assert env.rows("SELECT easy_days FROM learner_settings") == [("1.0,1.0,1.0,1.0,1.0,0.5,0.5",)]

    # The button opens a modal; a typed time zone that does not exist changes nothing.
    await env.press(panel, "set:type", ALICE, dm)
    modal = env.fake.modals[-1]
    assert modal["title"] == "Your settings"
    submit = env.fake.modal_submit(modal, {"Time zone (IANA name)": "Mars/Olympus_Mons"}, ALICE, dm)
    error = only(await env.send(submit))
    assert error.ephemeral
    assert "is not a time zone I know" in error.content
    tz = env.rows("SELECT timezone FROM learner_settings")
    assert tz == [("Europe/Paris",)]

    await env.press(panel, "set:type", ALICE, dm)
    submit = env.fake.modal_submit(
        env.fake.modals[-1],
        {
            "Time zone (IANA name)": "America/New_York",
            "Daily reminder time (HH:MM, your time)": "07:45",
        },
        ALICE,
        dm,
    )
    saved = only(await env.send(submit))
    assert "push: 07:45" in saved.content
    assert env.rows("SELECT timezone FROM learner_settings") == [("America/New_York",)]

    # Quiet hours, days off and the session size for the daily push, from the same modal.
    await env.press(panel, "set:type", ALICE, dm)
    submit = env.fake.modal_submit(
        env.fake.modals[-1],
        {
            "Quiet hours (HH:MM-HH:MM, or off)": "22:00-07:00",
            "Days without a reminder (or none)": "sat, sun",
            "Cards in a daily session": "15",
        },
        ALICE,
        dm,
    )
    saved = only(await env.send(submit))
    assert "quiet: 22:00-07:00" in saved.content
    assert "15 cards in a daily session" in saved.content
    assert env.rows(
        "SELECT quiet_start, quiet_end, days_off, max_cards_per_push FROM learner_settings"
    ) == [("22:00", "07:00", "56", 15)]

    # In a server, /settings answers privately.
    room = env.fake.server(GUILD, CHANNEL)
    assert only(await env.command("settings", BOB, room)).ephemeral


# --------------------------------------------------------------------------- pushes


async def test_push_to_a_learner_whose_dms_are_closed(env: Env) -> None:
    room = env.fake.server(GUILD, CHANNEL)
    # Bob was last seen in this channel; the numbers, then predicted vs actual recall.
    stats, model = await env.command("stats", BOB, room)
    assert stats.ephemeral and stats.embeds[0]["title"] == "Your stats"
    assert model.ephemeral and "Predicted vs actual recall" in model.text()
    bob = await env.app.study.learner(Who("discord", str(BOB[0]), "Bob"))
    assert bob.dm_channel_id is None
    env.fake.refuse[dm_channel_id(BOB[0])] = (403, 50007)

    (reply,) = (await env.app.study.next(Who("discord", str(BOB[0]), "Bob"), "push")).replies
    mark = len(env.fake.calls)
    # Sent as the core sends a private message (the outbox does the same): the platform
    # reports the refusal, the core records that Bob cannot be reached.
    announcer = PlatformAnnouncer(env.app.db, env.app.channels)
    await announcer.post([Announcement("discord", "", reply, learner_id=bob.id)])
    assert env.rows("SELECT unreachable FROM learners WHERE platform_user_id = ?", str(BOB[0])) == [
        (1,)
    ]
    told = [c for c in env.fake.calls[mark:] if c.path == f"/channels/{CHANNEL}/messages"]
    assert len(told) == 1
    assert told[0].json["content"].startswith(f"<@{BOB[0]}> ")
    assert "direct messages are closed" in told[0].json["content"]
    assert told[0].json["allowed_mentions"]["users"] == [BOB[0]]

    # Once: a second refused push says nothing more in the server.
    mark = len(env.fake.calls)
    refused = Delivery(reached=False, dm_channel=str(dm_channel_id(BOB[0])))
    assert await env.bot.push(bob, reply) == refused
    assert not [c for c in env.fake.calls[mark:] if c.path.startswith(f"/channels/{CHANNEL}")]

    # A learner whose DM channel is stored gets a push with ONE request.
    await env.command("help", ALICE, env.fake.dm(ALICE[0]))
    alice = await env.app.study.learner(Who("discord", str(ALICE[0]), "Alice"))
    assert alice.dm_channel_id == str(dm_channel_id(ALICE[0]))
    mark = len(env.fake.calls)
    (card,) = (await env.app.study.next(Who("discord", str(ALICE[0]), "Alice"), "push")).replies
    assert await env.bot.push(alice, card) == Delivery(reached=True)
    calls = env.fake.calls[mark:]
    assert [(c.method, c.path) for c in calls] == [
        ("POST", f"/channels/{dm_channel_id(ALICE[0])}/messages")
    ]
    pushed = env.fake.created[-1]
    assert pushed.button("Show answer")
    # ... and its button works like any other.
    assert await env.press(pushed, pushed.button("Show answer"), ALICE, env.fake.dm(ALICE[0])) == []
    assert pushed.composed and "**Answer**" in env.fake.messages[pushed.id].text()


async def test_a_slow_dm_holds_up_only_its_own_push(env: Env) -> None:
    """Discord is slow to take Alice's DM (its route rate-limited, say): Bob's push, due
    at the same time, goes out meanwhile; Alice's follows once Discord answers."""
    for user in (ALICE, BOB):
        await env.command("help", user, env.fake.dm(user[0]))
    [(card,)] = [env.rows("SELECT id FROM cards ORDER BY id LIMIT 1")[0]]
    now = env.clock.now()
    rows = [
        OutboxMessage(
            "discord", env.learner_id(user), "push", "1 card", now, now, card, f"token00{n}", 1
        )
        for n, user in enumerate((ALICE, BOB))
    ]
    await env.app.db.run(lambda tx: tx.pushes.add_outbox(rows))
    alice, bob = dm_channel_id(ALICE[0]), dm_channel_id(BOB[0])
    slow = env.fake.slow[alice] = asyncio.Event()
    bob_got_it = env.fake.arrived[bob] = asyncio.Event()
    mark = env.fake.mark()

    def delivered_to(channel: int) -> bool:
        return any(m.channel_id == channel for m in env.fake.created_since(mark))

    drain = asyncio.ensure_future(env.app.pushes.drain("discord", env.bot.push))
    await asyncio.wait_for(bob_got_it.wait(), 5)
    assert not delivered_to(alice) and not drain.done()
    slow.set()
    assert await asyncio.wait_for(drain, 5) == 2
    assert delivered_to(alice)
    assert env.rows("SELECT count(*) FROM outbox WHERE sent_at IS NOT NULL") == [(2,)]


async def test_a_dm_still_rate_limited_is_tried_again_after_discords_wait(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    await env.command("help", ALICE, env.fake.dm(ALICE[0]))
    alice = await env.app.study.learner(Who("discord", str(ALICE[0]), "Alice"))
    env.fake.refuse[dm_channel_id(ALICE[0])] = (429, 0)
    with caplog.at_level(logging.INFO), pytest.raises(DeliveryRetry) as limited:
        await env.bot.push(alice, Reply("info", "hello"))
    assert limited.value.retry_after == 7.5
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING or r.exc_info]


async def test_a_push_session_of_n_cards_ends_after_n_without_a_further_card(env: Env) -> None:
    """/settings per_push 2: the daily push's session ends after two reviews, with the
    session's summary and NOT the next card (four cards are due)."""
    dm = env.fake.dm(ALICE[0])
    panel = only(await env.command("settings", ALICE, dm))
    await env.press(panel, "set:type", ALICE, dm)
    submit = env.fake.modal_submit(
        env.fake.modals[-1], {"Cards in a daily session": "2"}, ALICE, dm
    )
    assert "2 cards in a daily session" in only(await env.send(submit)).content
    card = only(await env.command("review", ALICE, dm))
    for _ in range(4):  # four new cards, each seen again a minute later
        await env.press(card, card.button("Show answer"), ALICE, dm)
        back = env.fake.messages[card.id]
        card = await rate(env, back, "Again", ALICE, dm)
    alice = await env.app.study.learner(Who("discord", str(ALICE[0]), "Alice"))
    assert alice.next_push_at is not None
    env.clock.set(alice.next_push_at)  # tomorrow's push: the four cards are due

    mark = env.fake.mark()
    assert await env.app.pushes.tick(["discord"]) == 1
    assert await env.app.pushes.drain("discord", env.bot.push) == 1
    pushed = only(env.fake.created_since(mark))
    assert pushed.content == "4 cards due. Today's session: 2, about 1 minute."
    mark = env.fake.mark()
    card = pushed
    for n in (1, 2):
        assert await env.press(card, card.button("Show answer"), ALICE, dm) == []
        back = env.fake.messages[card.id]
        card = await rate(env, back, "Good", ALICE, dm)
        assert card.content.startswith("Good: see it again in ")
        if n == 1:
            assert card.button("Show answer")  # the session's second card
    # The second rating ends the session: its summary, and no card with it or after it.
    assert "That was today's session of 2 cards. Well done!" in card.content
    assert card.embeds == [] and card.buttons() == []
    assert card.id == pushed.id and env.fake.created_since(mark) == []
    assert env.rows("SELECT COUNT(*) FROM review_logs WHERE source = 'push'") == [(2,)]
    # The cards withheld are still there for /review.
    assert only(await env.command("review", ALICE, dm)).button("Show answer")


async def test_a_push_that_breaks_off_resumes_after_what_was_delivered(env: Env) -> None:
    """A reply of three messages: Discord takes the first, then fails with a 500; the
    outbox's retry sends the second and third only."""
    await env.command("help", ALICE, env.fake.dm(ALICE[0]))
    alice = await env.app.study.learner(Who("discord", str(ALICE[0]), "Alice"))
    channel = dm_channel_id(ALICE[0])
    paragraphs = [f"Part {n}: " + "x" * 1500 for n in range(3)]
    reply = Reply("info", "\n\n".join(paragraphs))
    env.fake.refuse[channel] = (500, 0)
    env.fake.allow[channel] = 1
    mark = len(env.fake.created)
    with pytest.raises(DeliveryRetry) as failed:
        await env.bot.push(alice, reply)
    assert failed.value.delivered == 1
    del env.fake.refuse[channel]
    assert await env.bot.push(alice, reply, skip=failed.value.delivered) == Delivery(reached=True)
    texts = [m.content or "" for m in env.fake.created[mark:]]
    assert [t.split(":")[0] for t in texts] == ["Part 0", "Part 1", "Part 2"]


async def test_a_push_discord_will_never_take_fails_once_and_the_learner_stays_reachable(
    env: Env,
) -> None:
    """A 400 (say, a message too long) is not tried again, and nobody is marked unreachable."""
    await env.command("help", ALICE, env.fake.dm(ALICE[0]))
    alice = await env.app.study.learner(Who("discord", str(ALICE[0]), "Alice"))
    env.fake.refuse[dm_channel_id(ALICE[0])] = (400, 50035)
    with pytest.raises(DeliveryRefused):
        await env.bot.push(alice, Reply("info", "You have 3 cards due."))
    assert env.rows(
        "SELECT unreachable FROM learners WHERE platform_user_id = ?", str(ALICE[0])
    ) == [(0,)]


# --------------------------------------------------------------------------- your data


async def test_forget_deletes_everything_after_a_confirmation(env: Env) -> None:
    dm = env.fake.dm(ALICE[0])
    room = env.fake.server(GUILD, CHANNEL)
    card = only(await env.command("review", ALICE, dm))
    await env.press(card, card.button("Show answer"), ALICE, dm)
    await env.press(card, env.fake.messages[card.id].button("Good"), ALICE, dm)
    post = only(await env.command("quiz", ALICE, room, topic="transformers"))
    back = only(await env.press(post, post.button("Reveal"), ALICE, room))
    await env.press(back, back.button("Easy"), ALICE, room)
    await env.command("review", BOB, env.fake.dm(BOB[0]))  # someone else, who stays
    alice = env.learner_id(ALICE)
    tables = (
        ("learners", "id"),
        ("learner_settings", "learner_id"),
        ("card_states", "learner_id"),
        ("review_logs", "learner_id"),
        ("prompts", "learner_id"),
        ("quiz_participants", "learner_id"),
    )
    for table, column in tables:
        assert env.rows(f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", alice) != [(0,)]

    # In a server: a private pointer to the DMs; nothing is deleted.
    pointer = only(await env.command("forget", ALICE, room))
    assert pointer.ephemeral and "/forget" in pointer.content and not pointer.buttons()

    ask = only(await env.command("forget", ALICE, dm))
    assert "cannot be undone" in ask.content
    # The answer replaces the question, buttons and all.
    assert await env.press(ask, ask.button("No, keep it"), ALICE, dm) == []
    kept = env.fake.messages[ask.id]
    assert kept.content == "Nothing was deleted." and kept.buttons() == []

    ask = only(await env.command("forget", ALICE, dm))
    assert await env.press(ask, ask.button("Yes, delete everything"), ALICE, dm) == []
    done = env.fake.messages[ask.id]
    assert done.content.startswith("Done: I deleted your settings")
    assert done.buttons() == []

    for table, column in tables:
        assert env.rows(f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", alice) == [(0,)], table
    assert env.rows("SELECT platform_user_id FROM learners") == [(str(BOB[0]),)]


async def test_export_sends_the_history_as_csv(env: Env) -> None:
    dm = env.fake.dm(ALICE[0])
    card = only(await env.command("review", ALICE, dm))
    await env.press(card, card.button("Show answer"), ALICE, dm)
    await env.press(card, env.fake.messages[card.id].button("Again"), ALICE, dm)
    export = only(await env.command("export", ALICE, dm))
    name, data = only_file(export)
    assert name == "studybot-reviews.csv"
    lines = data.decode().splitlines()
    assert lines[0].startswith("reviewed_at,card_id,rating")
    assert ",att-purpose,1,Again,dm," in lines[1]


def only_file(message: Sent) -> tuple[str, bytes]:
    assert len(message.files) == 1
    return message.files[0]


# --------------------------------------------------------------------------- errors, sync


async def test_one_error_handler_logs_ids_answers_and_keeps_running(
    env: Env, caplog: pytest.LogCaptureFixture
) -> None:
    async def broken(who: Who) -> Any:
        raise RuntimeError("the database went away")

    room = env.fake.server(GUILD, CHANNEL)
    with caplog.at_level(logging.ERROR), pytest.MonkeyPatch.context() as patch:
        patch.setattr(env.app.study, "decks", broken)
        sorry = only(await env.command("decks", BOB, room))
    assert sorry.ephemeral and sorry.content.startswith("Sorry, something went wrong")
    record = next(r for r in caplog.records if "Discord interaction failed" in r.getMessage())
    text = record.getMessage()
    assert str(GUILD) in text and str(CHANNEL) in text and str(BOB[0]) in text
    assert TOKEN not in caplog.text

    # A button whose handling fails gets the same answer; the bot keeps running.
    dm = env.fake.dm(ALICE[0])
    card = only(await env.command("review", ALICE, dm))

    async def press_fails(who: Who, payload: str, *, typed_answer: str | None = None) -> Any:
        raise RuntimeError("boom")

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(env.app.inputs, "press", press_fails)
        failed = only(await env.press(card, card.button("Show answer"), ALICE, dm))
    assert failed.ephemeral and failed.content.startswith("Sorry, something went wrong")
    assert only(await env.command("help", ALICE, dm)).content.startswith("I help you remember")


async def test_sync_commands_publishes_every_command_for_servers_and_dms(
    env: Env,
) -> None:
    names = await sync_commands(env.settings.discord, guild_id=GUILD)
    assert sorted(names) == sorted(
        [
            "review",
            "quiz",
            "challenge",
            "stats",
            "settings",
            "decks",
            "exam",
            "cram",
            "undo",
            "pause",
            "resume",
            "export",
            "import",
            "forget",
            "help",
        ]
    )
    (put,) = [c for c in env.fake.calls if c.method == "PUT"]
    assert put.path == f"/applications/{APP_ID}/guilds/{GUILD}/commands"
    # Personal commands for both installs, everywhere; group ones where the bot was added.
    # (tests/e2e/discord/test_discord_user_install.py checks where each is offered.)
    for command in put.json:
        group = command["name"] in ("quiz", "challenge")
        assert sorted(command["integration_types"]) == ([0] if group else [0, 1])
        assert 2 not in command["contexts"] if group else sorted(command["contexts"]) == [0, 1, 2]
    quiz = next(c for c in put.json if c["name"] == "quiz")
    assert quiz["options"][0]["autocomplete"] is True
    exam = next(c for c in put.json if c["name"] == "exam")
    assert [(o["name"], o.get("autocomplete", False)) for o in exam["options"]] == [
        ("date", False),
        ("topic", True),
        ("target", False),
    ]
    cram = next(c for c in put.json if c["name"] == "cram")
    assert cram["options"][0]["autocomplete"] is True
    assert TOKEN not in repr(env.settings)


def test_shards_from_config_make_an_auto_sharded_client() -> None:
    sharded = make_client(DiscordSettings(Secret(TOKEN), shard_count=4, shard_ids=(2, 3)), None)
    assert isinstance(sharded, ShardedStudyClient)  # a discord.AutoShardedClient
    assert sharded.shard_count == 4 and sharded.shard_ids == [2, 3]
    plain = make_client(DiscordSettings(Secret(TOKEN)), None)
    assert isinstance(plain, StudyClient)


async def test_export_anki_attaches_a_package(env: Env) -> None:
    pytest.importorskip("anki")
    dm = env.fake.dm(ALICE[0])
    card = only(await env.command("review", ALICE, dm))
    await env.press(card, card.button("Show answer"), ALICE, dm)
    await env.press(card, env.fake.messages[card.id].button("Good"), ALICE, dm)
    export = only(await env.command("export", ALICE, dm, format="anki"))
    name, data = only_file(export)
    assert name == "studybot.apkg" and data.startswith(b"PK")
