"""The console: a chat with the study bot in a terminal, a third platform over the same core.

Every line typed is one message. Buttons are shown numbered; typing a
button's key presses it, through the same payload path as Telegram and
Discord. A script on standard input (one message per line) drives it in
tests.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
import sys
import textwrap
from collections.abc import Callable
from typing import TextIO

from bot.core.messages import Button, Reply
from bot.core.study import StudyService, Who

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
        if card.image_kind and card.image_spec:
            parts.append(f"  [{card.image_kind}: {card.image_spec}]")
        parts.append(_indent(card.front))
        if card.back is not None:
            if card.typed_answer:
                parts.append("Your answer:\n" + _indent(card.typed_answer))
            parts.append("Answer:\n" + _indent(card.back))
            if card.mnemonic:
                parts.append("Mnemonic: " + card.mnemonic)
            if card.notes:
                parts.append("Notes:\n" + _indent(card.notes))
        parts.append(RULE)
    keys = _keys(reply)
    if keys:
        parts.append("   ".join(f"[{key}] {button.label}" for key, button in keys.items()))
    if reply.follow_up is not None:
        parts.append(format_reply(reply.follow_up))
    return "\n".join(parts)


def _keys(reply: Reply) -> dict[str, Button]:
    """The keys that press a reply's buttons: Enter for the reveal, 1-4 for ratings."""
    keys: dict[str, Button] = {}
    if reply.kind == "front":
        for button in reply.all_buttons():
            if button.payload.startswith("s:"):
                keys["Enter"] = button
            elif button.payload.startswith("b:"):
                keys["/bury"] = button
            elif button.payload.startswith("x:"):
                keys["/suspend"] = button
    elif reply.kind == "back":
        for i, button in enumerate(reply.all_buttons(), start=1):
            keys[str(i)] = button
    return keys


class ConsoleChat:
    """One learner's chat in the terminal.

    Args:
        study: the study loop.
        who: the console learner.
        write: where replies go (a line-writer; ``print`` by default).
    """

    def __init__(self, study: StudyService, who: Who, write: Callable[[str], None] = print) -> None:
        self.study = study
        self.who = who
        self.write = write
        self.current: Reply | None = None

    def _show(self, reply: Reply) -> None:
        shown = reply
        while shown.follow_up is not None:
            shown = shown.follow_up
        if shown.kind in ("front", "back"):
            self.current = shown
        elif shown.kind != "expired":
            self.current = None
        self.write(format_reply(reply))

    def _button(self, key: str) -> Button | None:
        if self.current is None:
            return None
        return _keys(self.current).get(key)

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
            return await self._plain(text)
        try:
            command, *args = shlex.split(text)
        except ValueError:
            command, *args = text.split()
        command = command.lower()
        if command in ("/review", "/next", "/start"):
            self._show(await self.study.next(self.who, source="console"))
        elif command == "/reveal":
            await self._press("Enter", "There is no card to reveal. Send /review.")
        elif command in ("/bury", "/suspend"):
            await self._press(command, "Show a card first with /review.")
        elif command == "/undo":
            self._show(await self.study.undo(self.who, source="console"))
        elif command == "/unsuspend":
            self._show(await self.study.unsuspend(self.who, args or None))
        elif command in ("/pause", "/resume"):
            self._show(await self.study.pause(self.who, command == "/pause"))
        elif command == "/stats":
            self._show(await self.study.stats_text(self.who))
        elif command == "/settings":
            if not args:
                self._show(await self.study.settings(self.who))
            elif len(args) == 2:
                self._show(await self.study.change_setting(self.who, args[0], args[1]))
            else:
                self.write(
                    "Usage: /settings KEY VALUE, for example /settings timezone Europe/Paris"
                )
        elif command == "/decks":
            if args:
                self._show(await self.study.study_topics(self.who, args))
            else:
                self._show(await self.study.decks(self.who))
        elif command == "/help":
            self.write(HELP)
        else:
            self.write(f"I don't know {command}. Send /help for the commands.")
        return True

    async def _press(self, key: str, missing: str) -> None:
        button = self._button(key)
        if button is None:
            self.write(missing)
            return
        self._show(await self.study.press(self.who, button.payload))

    async def _plain(self, text: str) -> bool:
        current = self.current
        if current is not None and current.kind == "front":
            button = self._button("Enter")
            if button is not None:
                token = button.payload.split(":", 1)[1]
                self._show(await self.study.reveal(self.who, token, text or None))
                return True
        if current is not None and current.kind == "back":
            button = self._button(text)
            if button is not None:
                self._show(await self.study.press(self.who, button.payload))
            else:
                self.write("Rate the card: 1 Again, 2 Hard, 3 Good, 4 Easy.")
            return True
        if text:
            self.write("Send /review to study, or /help for the commands.")
        return True


async def run_console(study: StudyService, who: Who, stream: TextIO | None = None) -> None:
    """Read lines until /quit or end of input; echo them when not interactive."""
    stream = stream or sys.stdin
    interactive = stream.isatty()
    chat = ConsoleChat(study, who)
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
