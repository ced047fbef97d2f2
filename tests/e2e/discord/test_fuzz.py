"""Fuzzing every way in on Discord: commands and their options, buttons, menus and forms.

Seeded random input (:mod:`tests.e2e.fuzz_inputs`) goes to every slash command's
string options (in DMs and in a server channel), every autocomplete, every custom
id parser (the bot's own ids damaged, random ids, ``jm:`` form ids with random
tokens), the /settings menus (random values) and both forms (the typed settings,
a challenge answer). Whatever comes in: every interaction is answered (Discord
would show "This interaction failed"), Discord never refuses a message for its
limits (the fake enforces 2000 characters of content, embeds, 100-character
custom ids, modals), nobody gets "Sorry, something went wrong", and nothing is
logged with a traceback.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import discord
import pytest

from bot.platforms.discord.interactions import SORRY
from tests.e2e.discord.discord_fakes import Place, Sent, _inputs
from tests.e2e.discord.test_discord import ALICE, BOB, CHANNEL, GUILD, Env, running
from tests.e2e.fuzz_inputs import CORNERS, Inputs

#: Discord's limit on a string option's value.
OPTION_MAX = 6000
#: The settings form's inputs: label start -> the max_length Discord enforces.
SETTINGS_FORM = {"Time zone": 64, "Daily reminder": 5, "Quiet hours": 11, "Days": 40, "Cards": 3}


@pytest.fixture
async def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> AsyncIterator[Env]:
    async with running(tmp_path, monkeypatch) as environment:
        yield environment


class Fuzzer:
    def __init__(self, env: Env, inputs: Inputs) -> None:
        self.env = env
        self.inputs = inputs
        self.fed = 0

    async def send(self, payload: dict[str, Any]) -> list[Sent]:
        self.fed += 1
        return await self.env.send(payload)

    def value(self) -> str:
        r = self.inputs.random
        if r.random() < 0.3:
            return r.choice(CORNERS)
        text = self.inputs.text(max_len=OPTION_MAX)
        return text if text.strip() else "x"  # Discord sends no empty required option

    async def commands(self, user: tuple[int, str], place: Place) -> None:
        fake, value = self.env.fake, self.value
        for name in ("review", "stats", "settings", "undo", "pause", "resume", "help"):
            await self.send(fake.command(name, user, place))
        await self.send(fake.command("decks", user, place, topics=value()))
        await self.send(fake.command("quiz", user, place, topic=value()))
        await self.send(fake.command("exam", user, place, date=value(), topic=value()))
        await self.send(fake.command("exam", user, place, target=value()))
        await self.send(fake.command("cram", user, place, topic=value()))
        await self.send(fake.autocomplete("exam", "topic", value(), user, place))
        await self.send(fake.autocomplete("quiz", "topic", value(), user, place))
        sub = fake.subcommand
        await self.send(sub("challenge", "list", user, place))
        await self.send(sub("challenge", "start", user, place, challenge=value()))
        await self.send(sub("challenge", "start", user, place, challenge=value(), minutes=180))
        await self.send(sub("challenge", "status", user, place))
        await self.send(sub("challenge", "timezone", user, place, name=value()))
        await self.send(
            sub(
                "challenge",
                "schedule",
                user,
                place,
                challenge=value(),
                weekday="monday",
                time=value(),
            )
        )
        await self.send(sub("challenge", "unschedule", user, place, challenge=value()))
        await self.send(sub("challenge", "submit", user, place, text=value()))
        for option in ("challenge",):
            await self.send(
                fake.subcommand_autocomplete("challenge", "start", option, value(), user, place)
            )
        await self.send(
            fake.subcommand_autocomplete("challenge", "timezone", "name", value(), user, place)
        )

    async def presses(self, message: Sent, user: tuple[int, str], place: Place, count: int) -> None:
        """Damaged and random custom ids on one of the bot's messages."""
        real = message.custom_ids() or ["r:AAAAAAAAAAAA:3"]
        for _ in range(count):
            custom_id = self.inputs.mutate(self.inputs.choice(real), max_len=100) or "x"
            await self.send(self.env.fake.component(message, custom_id, user, place))

    async def form(
        self, modal: dict[str, Any], user: tuple[int, str], place: Place, limits: dict[str, int]
    ) -> None:
        values: dict[str, str] = {}
        for component in _inputs(modal):
            label = str(component["label"])
            limit = next((n for start, n in limits.items() if label.startswith(start)), 4000)
            values[label] = self.value()[:limit]
        await self.send(self.env.fake.modal_submit(modal, values, user, place))


async def test_fuzz_every_discord_entry_point(env: Env, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.WARNING)
    inputs = Inputs()
    fuzz = Fuzzer(env, inputs)
    fake = env.fake
    dm, room = fake.dm(ALICE[0]), fake.server(GUILD, CHANNEL)
    fake.permissions[ALICE[0]] = discord.Permissions(administrator=True).value

    for _ in range(6):
        await fuzz.commands(ALICE, dm)
        await fuzz.commands(BOB, room)

    # A card's buttons, damaged, and random ids.
    card = next(m for m in await fuzz.send(fake.command("review", ALICE, dm)) if m.custom_ids())
    await fuzz.presses(card, ALICE, dm, 40)

    # /settings: random menu values, random presses, the typed form.
    panel = (await fuzz.send(fake.command("settings", ALICE, dm)))[0]
    for key in ("timezone", "new", "retention"):
        for _ in range(5):
            await fuzz.send(fake.component(panel, f"set:{key}", ALICE, dm, values=[fuzz.value()]))
    await fuzz.presses(panel, ALICE, dm, 20)
    for _ in range(15):
        await fuzz.send(fake.component(panel, "set:type", ALICE, dm))
        await fuzz.form(fake.modals[-1], ALICE, dm, SETTINGS_FORM)

    # A challenge: its post's buttons damaged, the answer form with junk, forged form ids.
    start = await fuzz.send(
        fake.subcommand("challenge", "start", ALICE, room, challenge="refl-bahdanau")
    )
    post = next(m for m in start if m.custom_ids())
    for user in (ALICE, BOB):
        await fuzz.send(fake.component(post, post.button("Submit my answer"), user, room))
        for _ in range(10):
            await fuzz.form(fake.modals[-1], user, room, {})
    real_form = fake.modals[-1]
    for _ in range(20):
        forged = {**real_form, "custom_id": inputs.mutate(real_form["custom_id"], max_len=100)}
        await fuzz.form(forged, BOB, room, {})
    await fuzz.presses(post, BOB, room, 20)
    await fuzz.send(fake.subcommand("challenge", "reveal", ALICE, room))
    for message in [m for m in fake.created if m.custom_ids()][-3:]:
        await fuzz.presses(message, ALICE, dm, 10)

    seed = f"seed {inputs.seed}"
    assert fuzz.fed >= 300, fuzz.fed
    assert fake.unanswered() == [], (seed, fake.unanswered())
    assert fake.violations == [], (seed, fake.violations)
    assert not [m.content for m in fake.created if m.content == SORRY], seed
    failures = [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.exc_info
    ]
    assert not failures, (seed, failures)
