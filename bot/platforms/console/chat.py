"""The console: a chat with the study bot in a terminal, a third platform over the same core.

Every line typed is one message. Buttons are shown with the key that presses
them (Enter for "Show answer", 1-4 for the ratings), through the same payload
path as Telegram and Discord. A script on standard input (one message per
line) drives it in tests.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import sys
import textwrap
from collections.abc import Callable
from typing import TextIO

from bot.core.inputs import Inputs
from bot.core.learners import Who
from bot.core.messages import Button, Reply
from bot.core.model import ReviewSource
from bot.core.outcomes import Outcome
from bot.core.study import StudyService

log = logging.getLogger(__name__)

HELP = """\
Commands:
  /review            show your next card
  Enter or /reveal   show the answer (type an answer first if you like)
  1 2 3 4            rate it: Again, Hard, Good, Easy
  /undo              undo your last rating
  /bury  /suspend    bury the card until tomorrow / suspend it
  /unsuspend         bring suspended cards back
  /stats             due today, reviewed today, streak, retention
  /settings [KEY VALUE]   show or change: timezone, retention, new, max_reviews, push,
                          quiet (22:00-07:00 or off), days_off (sat,sun or none), per_push
  /pause  /resume    stop or restart the daily reminders (on Telegram and Discord)
  /decks [TOPIC ...]      list decks, or study only these decks/topics ("all" for every deck)
  /help  /quit"""

RULE = "─" * 60
#: The key that presses a button, by what the button does (ratings are numbered instead).
_KEYS = {"reveal": "Enter", "bury": "/bury", "suspend": "/suspend"}


def _indent(text: str) -> str:
    return textwrap.indent(text, "  ")


def format_reply(reply: Reply) -> str:
    """A reply as terminal text, with its buttons and the keys that press them."""
    parts: list[str] = []
    if reply.text:
        parts.append(reply.text)
    card = reply.card
    if card is not None:
        parts.append(f"{RULE}\n{card.deck_title} · {card.title}")
        if card.front_image is not None:
            parts.append(f"  [{card.front_image.kind}: {card.front_image.spec}]")
        parts.append(_indent(card.front))
        if card.back is not None:
            if card.typed_answer:
                parts.append("Your answer:\n" + _indent(card.typed_answer))
            parts.append("Answer:")
            if card.back_image is not None:
                parts.append(f"  [{card.back_image.kind}: {card.back_image.spec}]")
            parts.append(_indent(card.back))
            if card.mnemonic:
                parts.append("Mnemonic: " + card.mnemonic)
            if card.notes:
                parts.append("Notes:\n" + _indent(card.notes))
        parts.append(RULE)
    keys = _keys(reply)
    if keys:
        parts.append("   ".join(f"[{key}] {button.label}" for key, button in keys.items()))
    return "\n".join(parts)


def _keys(reply: Reply) -> dict[str, Button]:
    """The keys that press a reply's buttons: Enter for the reveal, 1-4 for ratings.

    Buttons the console has no key for (they belong to other platforms' flows) are not shown.
    """
    keys: dict[str, Button] = {}
    ratings = 0
    for button in reply.all_buttons():
        if button.action == "rate":
            ratings += 1
            keys[str(ratings)] = button
        elif button.action in _KEYS:
            keys[_KEYS[button.action]] = button
    return keys


class ConsoleChat:
    """One learner's chat in the terminal.

    Args:
        study: the study loop (commands).
        inputs: where button presses go.
        who: the console learner.
        write: where replies go (a line-writer; ``print`` by default).
    """

    def __init__(
        self,
        study: StudyService,
        inputs: Inputs,
        who: Who,
        write: Callable[[str], None] = print,
    ) -> None:
        self.study = study
        self.inputs = inputs
        self.who = who
        self.write = write
        #: The last message with keys: the one a key presses ("the tapped message").
        self.current: Reply | None = None

    def _show(self, outcome: Outcome) -> None:
        """Render an outcome: the notice, the tapped message's new state, new messages."""
        if outcome.notice:
            self.write(outcome.notice)
        if outcome.edit is not None:
            self._print(outcome.edit)
        if outcome.close is not None:
            self.current = None
            if outcome.close:
                self.write(outcome.close)
        for reply in outcome.replies:
            self._print(reply)

    def _print(self, reply: Reply) -> None:
        self.current = reply if _keys(reply) else None
        self.write(format_reply(reply))

    async def handle(self, line: str) -> bool:
        """Handle one typed line. Returns False when the learner quits."""
        text = line.strip()
        try:
            return await self._handle(text)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("console command failed: %r", text)
            self.write("Sorry, something went wrong there; your progress is safe. Try again.")
            return True

    async def _handle(self, text: str) -> bool:
        if text in ("/quit", "/exit", "/q"):
            return False
        if not text.startswith("/"):
            await self._plain(text)
            return True
        try:
            command, *args = shlex.split(text)
        except ValueError:
            command, *args = text.split()
        command = command.lower()
        study, who = self.study, self.who
        if command in ("/review", "/next", "/start"):
            self._show(await study.next(who, source=ReviewSource.CONSOLE))
        elif command == "/reveal":
            await self._press("Enter", "There is no card to reveal. Send /review.")
        elif command in ("/bury", "/suspend"):
            await self._press(command, "Show a card first with /review.")
        elif command == "/undo":
            self._show(await study.undo(who, source=ReviewSource.CONSOLE))
        elif command == "/unsuspend":
            self._show(await study.unsuspend(who, args or None))
        elif command in ("/pause", "/resume"):
            self._show(await study.pause(who, command == "/pause"))
        elif command == "/stats":
            self._show(await study.stats(who))
        elif command == "/settings":
            if not args:
                self._show(await study.settings(who))
            elif len(args) == 2:
                self._show(await study.change_setting(who, args[0], args[1]))
            else:
                self.write(
                    "Usage: /settings KEY VALUE, for example /settings timezone Europe/Paris"
                )
        elif command == "/decks":
            if args:
                self._show(await study.study_topics(who, args))
            else:
                self._show(await study.decks(who))
        elif command == "/help":
            self.write(HELP)
        else:
            self.write(f"I don't know {command}. Send /help for the commands.")
        return True

    def _button(self, key: str) -> Button | None:
        if self.current is None:
            return None
        return _keys(self.current).get(key)

    async def _press(self, key: str, missing: str, typed_answer: str | None = None) -> None:
        button = self._button(key)
        if button is None:
            self.write(missing)
            return
        self._show(await self.inputs.press(self.who, button.payload, typed_answer=typed_answer))

    async def _plain(self, text: str) -> None:
        """Enter (or a typed answer) shows the back; a digit rates the card shown."""
        if self._button("Enter") is not None:
            await self._press("Enter", "", typed_answer=text or None)
        elif self._button("1") is not None:
            if self._button(text) is not None:
                await self._press(text, "")
            else:
                self.write("Rate the card: 1 Again, 2 Hard, 3 Good, 4 Easy.")
        elif text:
            self.write("Send /review to study, or /help for the commands.")


async def run_console(
    study: StudyService, inputs: Inputs, who: Who, stream: TextIO | None = None
) -> None:
    """Read lines until /quit or end of input; echo them when not interactive."""
    stream = stream or sys.stdin
    interactive = stream.isatty()
    chat = ConsoleChat(study, inputs, who)
    print(
        f"Studybot console: studying as {who.display_name}. "
        "Send /review to start, /help for the commands, /quit to leave."
    )
    while True:
        if interactive:
            try:
                line = await asyncio.to_thread(input, "> ")
            except EOFError:
                break
        else:
            line = await asyncio.to_thread(stream.readline)
            if not line:
                break
            line = line.rstrip("\n")
            print(f"> {line}")
        if not await chat.handle(line):
            break
    print("Bye. Your progress is saved.")
