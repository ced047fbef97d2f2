"""Fuzzing every way in on Telegram: commands, text in every state, buttons' callback data.

Seeded random input (:mod:`tests.e2e.fuzz_inputs`) goes to every text entry point
(each command with arguments, in the private chat and in a group; plain text when
nothing is asked, during onboarding, at each settings question, with a challenge
joined and with a deletion to confirm; /settings values) and every callback
(random data, and the bot's own payloads damaged). Whatever comes in: every
callback query is answered, Telegram never refuses a message for its length, its
HTML or its buttons (the fake enforces 4096 / 1024 / 64 bytes / 200), nobody gets
"Sorry, something went wrong", and nothing is logged with a traceback.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import pytest

from bot.platforms.telegram.errors import SORRY
from tests.e2e.fuzz_inputs import CORNERS, Inputs
from tests.e2e.telegram.fake import TgUser
from tests.e2e.telegram.harness import GROUP, Harness, telegram_bot

ANA = TgUser(101, "Ana", "ana")
BEN = TgUser(102, "Ben")
COMMANDS = (
    "start",
    "help",
    "review",
    "stats",
    "settings",
    "decks",
    "undo",
    "unsuspend",
    "pause",
    "resume",
    "export",
    "forget",
    "quiz",
    "challenge",
    "nosuchcommand",
)
CHALLENGE_WORDS = (
    "list",
    "start",
    "status",
    "cancel",
    "reveal",
    "schedule",
    "unschedule",
    "timezone",
    "permissions",
)
SETTING_KEYS = (
    "timezone",
    "push",
    "new",
    "retention",
    "quiet",
    "days_off",
    "per_push",
    "easy_days",
    "x",
)


def buttons(message: dict[str, Any]) -> list[str]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [str(b["callback_data"]) for row in rows for b in row if "callback_data" in b]


class Fuzzer:
    def __init__(self, bot: Harness, inputs: Inputs) -> None:
        self.bot = bot
        self.inputs = inputs
        self.fed = 0
        self.queries: list[str] = []

    async def text(self, user: TgUser, text: str, chat_id: int | None = None) -> None:
        self.fed += 1
        await self.bot.send(user, text, chat_id)

    async def command(self, user: TgUser, chat_id: int | None = None) -> None:
        name = self.inputs.choice(COMMANDS)
        if self.inputs.random.random() < 0.2:  # a command no version has, of any length
            name = "x" + self.inputs.word(max_len=4090)
        r = self.inputs.random
        arg = self.inputs.text(max_len=4096) if r.random() < 0.5 else self.inputs.args()
        if name == "challenge":
            arg = f"{self.inputs.choice(CHALLENGE_WORDS)} {arg}"
        if name == "settings":
            arg = f"{self.inputs.choice(SETTING_KEYS)} {arg}"
        await self.text(user, f"/{name} {arg}".rstrip()[:4096], chat_id)

    async def tap(self, user: TgUser, message: dict[str, Any], data: str) -> None:
        self.fed += 1
        self.queries.append(await self.bot.tap_data(user, message, data))

    async def taps(self, user: TgUser, chat_id: int, count: int) -> None:
        """Random and damaged callback data on the chat's newest messages with buttons."""
        with_buttons = [m for m in self.bot.api.messages_in(chat_id) if buttons(m)]
        for _ in range(count):
            message = self.inputs.random.choice(with_buttons[-5:])
            real = self.inputs.choice(buttons(message))
            data = self.inputs.mutate(real, max_len=64)
            if not data.encode()[:64]:
                data = "x"
            data = data.encode()[:64].decode(errors="ignore") or "x"
            await self.tap(user, message, data)


async def test_fuzz_every_telegram_entry_point(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING)
    inputs = Inputs()
    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        fuzz = Fuzzer(bot, inputs)
        # Hundreds of messages: Telegram's pacing (30/s, 20/min a group) would wait in
        # real time. It is tested on its own; here it is off.
        limiter: Any = bot.platform.application.bot.rate_limiter
        limiter._base_limiter, limiter._group_max_rate = None, 0
        bot.api.set_member(GROUP, ANA.id, "creator")
        # Commands with arguments, privately and in the group.
        for _ in range(60):
            await fuzz.command(ANA)
            await fuzz.command(BEN, GROUP)
        # Every subcommand and setting with corner values in each argument position.
        for corner in CORNERS:
            for word in CHALLENGE_WORDS:
                await fuzz.text(ANA, f"/challenge {word} refl-bahdanau {corner} {corner}", GROUP)
            for key in SETTING_KEYS:
                await fuzz.text(ANA, f"/settings {key} {corner}")
        # Text when nothing is asked, then at each onboarding question.
        for _ in range(10):
            await fuzz.text(ANA, inputs.text())
        await fuzz.text(ANA, "/start")
        for _ in range(15):  # the time zone question, the reminder, the decks
            await fuzz.text(ANA, inputs.text())
            await fuzz.taps(ANA, ANA.id, 1)
        # Each settings question, answered with junk.
        await fuzz.text(ANA, "/settings")
        menu = bot.api.last_message(ANA.id)
        for data in buttons(menu):
            await fuzz.tap(ANA, menu, data)
            for _ in range(3):
                await fuzz.text(ANA, inputs.text())
        # Reviewing: random taps on a card's buttons, and text between them.
        await fuzz.text(ANA, "/review")
        await fuzz.taps(ANA, ANA.id, 30)
        # A challenge joined: junk answers, then junk on the assessment's buttons.
        await fuzz.text(ANA, "/challenge start refl-bahdanau", GROUP)
        start = bot.api.message_with_button(GROUP, "Submit my answer")
        await fuzz.tap(ANA, start, buttons(start)[0])
        for _ in range(10):
            await fuzz.text(ANA, inputs.text())
        await fuzz.taps(BEN, GROUP, 20)
        await fuzz.text(ANA, "/challenge reveal", GROUP)
        await fuzz.taps(ANA, ANA.id, 30)
        # A deletion to confirm: junk text, then junk taps.
        await fuzz.text(ANA, "/forget")
        for _ in range(5):
            await fuzz.text(ANA, inputs.text())
        # Pure junk callback data.
        quiz_menu = bot.api.messages_in(ANA.id)[-1]
        for _ in range(40):
            data = inputs.word(max_len=64).encode()[:64].decode(errors="ignore") or "x"
            await fuzz.tap(BEN, quiz_menu, data)
        # /exam and /cram with junk arguments, from inputs of their own (the stream above
        # stays as it was), then junk taps on what they showed.
        extra = Inputs(inputs.seed + 1)
        for _ in range(20):
            for command in ("exam", "exam target", "cram"):
                arg = extra.text(max_len=200) if extra.random.random() < 0.5 else extra.args()
                await fuzz.text(ANA, f"/{command} {arg}".rstrip())
            await fuzz.text(BEN, f"/exam {extra.args()}".rstrip(), GROUP)
        for corner in CORNERS:
            await fuzz.text(ANA, f"/exam {corner} {corner}")
            await fuzz.text(ANA, f"/cram {corner}")
        await fuzz.text(ANA, "/cram")
        await fuzz.taps(ANA, ANA.id, 20)

        seed = f"seed {inputs.seed}"
        assert fuzz.fed >= 300, fuzz.fed
        unanswered = [q for q in fuzz.queries if q not in bot.api.answered]
        assert not unanswered, (seed, unanswered)
        assert not bot.api.violations, (seed, bot.api.violations)
        sorry = [c.plain for c in bot.api.sent("sendMessage") if SORRY in c.plain]
        toasts = [
            c for c in bot.api.sent("answerCallbackQuery") if SORRY in str(c.params.get("text"))
        ]
        assert not sorry and not toasts, seed
    failures = [
        f"{r.name}: {r.getMessage()}"
        for r in caplog.records
        if r.levelno >= logging.WARNING and r.exc_info
    ]
    assert not failures, (seed, failures)
