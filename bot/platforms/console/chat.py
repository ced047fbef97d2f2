"""The console: a chat with the study bot in a terminal, a third platform over the same core.

Every line typed is one message. Buttons are shown with the key that presses
them (Enter for "Show answer", 1-4 for the ratings), through the same payload
path as Telegram and Discord. Replies are markdown written for a terminal
(:class:`~bot.text.terminal.Terminal`: wrapped to its width, styled when it is
one, plain when piped); a card's image is its text (:func:`~bot.core.imagetext.image_text`),
and with ``--images`` also a PNG file (:class:`~bot.platforms.console.images.CardImages`).
:mod:`bot.platforms.console.session` reads the lines and runs the chat.
"""

from __future__ import annotations

import asyncio
import logging
import shlex
from collections.abc import Callable
from pathlib import Path
from typing import Final

from bot.core.imagetext import image_text
from bot.core.inputs import Inputs
from bot.core.learners import Who
from bot.core.messages import Button, CardView, Reply
from bot.core.model import CardImage, ReviewSource
from bot.core.outcomes import Outcome
from bot.core.settings import names_retention
from bot.core.study import StudyService
from bot.platforms.console.images import CardImages
from bot.text.terminal import Run, Terminal, inline_runs, visible_width

log = logging.getLogger(__name__)

HELP = """\
Commands:
  /review            show your next card
  Enter or /reveal   show the answer (type an answer first if you like)
  1 2 3 4            rate it: Again, Hard, Good, Easy
  /undo              undo your last rating
  /bury  /suspend    bury the card until tomorrow / suspend it
  /unsuspend         bring suspended cards back
  /stats             due today, reviewed today, streak, true retention, predicted vs actual
  /settings [KEY VALUE]   show or change: timezone, retention, new, max_reviews, push,
                          quiet (22:00-07:00 or off), days_off (sat,sun or none), per_push,
                          easy_days (sat 50%, sun 0% or off: days with fewer reviews)
  /settings retention     what each desired retention costs (reviews, minutes a day)
  /pause  /resume    stop or restart the daily reminders (on Telegram and Discord)
  /decks [TOPIC ...]      list decks, or study only these decks/topics ("all" for every deck)
  /decks pause|resume|remove ID   pause, resume or remove one of your own decks
  /import PATH       import an Anki package (.apkg) or text export into your own decks
  /yes  /no          answer a question (removing a deck asks first)
  /exam [DATE [TOPIC]]    show or set an exam (/exam 2027-01-15 attention); until that day
                          the topic's cards come back in time (/exam target 0.85, /exam off)
  /cram [TOPIC]      practise a topic, weakest cards first, without changing your
                     schedule (/review goes back to normal study)
  /export [anki]     save your review history (CSV) or an Anki package in this folder
  /help  /quit       (Ctrl-D or Ctrl-C leave too)"""

#: The widest a card's rules are drawn.
RULE_WIDTH: Final = 72
#: The key that presses a button, by what the button does (ratings are numbered instead).
_KEYS = {"reveal": "Enter", "bury": "/bury", "suspend": "/suspend"}
#: How a card's image is introduced, by its kind.
_IMAGE_LABELS: Final = {"formula": "Formula", "shape": "Shapes", "diagram": "Diagram"}
_INDENT: Final = "  "


def _rule(term: Terminal) -> str:
    width = RULE_WIDTH if term.width is None else max(10, min(RULE_WIDTH, term.width))
    return term.paint("─" * width, "dim")


def _image_lines(image: CardImage, path: Path | None, term: Terminal) -> list[str]:
    """A card image as its text (``Shapes: Q [n×d_k] · ...``), and the file it was
    written to (``--images``)."""
    lines: list[str] = []
    text = image_text(image.kind, image.spec)
    if text and image.kind == "media":  # an imported image's text says what it is
        lines.extend(term.wrap([Run(text)], _INDENT))
    elif text:
        label = term.paint(f"{_IMAGE_LABELS.get(image.kind, 'Image')}:", "dim")
        lines.extend(term.wrap([Run(text)], f"{_INDENT}{label} "))
    if path is not None:
        lines.extend(term.wrap([Run(str(path))], f"{_INDENT}{term.paint('Image file:', 'dim')} "))
    return lines


def format_card(card: CardView, term: Terminal, image_path: Path | None = None) -> list[str]:
    """A card as terminal lines: a rule, deck and title, the side's image as text, the
    front (and the back, the learner's answer, mnemonic and notes), the card id in a
    quiet footer, a rule."""
    rule = _rule(term)
    lines = [rule]
    heading = [Run(card.deck_title, frozenset({"dim"})), Run(" · ")]
    lines.extend(term.wrap([*heading, Run(card.title, frozenset({"bold"}))]))
    if card.back is None and card.image is not None:
        lines.extend(_image_lines(card.image, image_path, term))
    lines.append(term.markdown(card.front, _INDENT, join_lines=True))
    if card.back is not None:
        if card.typed_answer:
            lines.append(term.paint("Your answer:", "bold"))
            lines.append(term.text(card.typed_answer, _INDENT))
        lines.append(term.paint("Answer:", "bold"))
        if card.image is not None:
            lines.extend(_image_lines(card.image, image_path, term))
        lines.append(term.markdown(card.back, _INDENT, join_lines=True))
        if card.mnemonic:
            runs = inline_runs(" ".join(card.mnemonic.split()))
            lines.extend(term.wrap(runs, term.paint("Mnemonic:", "bold") + " ", _INDENT))
        if card.notes:
            lines.append(term.paint("Notes:", "bold"))
            lines.append(term.markdown(card.notes, _INDENT, join_lines=True))
    lines.append(_footer(card.card_id, term))
    lines.append(rule)
    return lines


def _footer(card_id: str, term: Terminal) -> str:
    """The card id, quietly, at the right end of the rule (at the left when it does not fit)."""
    width = visible_width(_rule(term))
    pad = max(len(_INDENT), width - len(card_id))
    return " " * pad + term.paint(card_id, "dim")


def _keys_line(keys: dict[str, Button], term: Terminal) -> str:
    """``[Enter] Show answer   [/bury] Bury ...``: wrapped between keys, never inside one."""
    groups = [(term.paint(f"[{key}]", "bold") + f" {button.label}") for key, button in keys.items()]
    lines: list[str] = []
    for group in groups:
        if lines and (
            term.width is None or visible_width(lines[-1]) + 3 + visible_width(group) <= term.width
        ):
            lines[-1] += "   " + group
        else:
            lines.append(group)
    return "\n".join(lines)


def format_reply(reply: Reply, term: Terminal | None = None, image_path: Path | None = None) -> str:
    """A reply as terminal text, with its buttons and the keys that press them.

    Args:
        reply: what the core said.
        term: the terminal's width and colours (default: plain text, 80 columns).
        image_path: where the card's image was written (``--images``), to name under it.
    """
    term = term or Terminal()
    parts: list[str] = []
    if reply.text.strip():
        parts.append(term.markdown(reply.text.strip("\n")))
    if reply.card is not None:
        parts.extend(format_card(reply.card, term, image_path))
    keys = _keys(reply)
    if keys:
        parts.append(_keys_line(keys, term))
    return "\n".join(parts)


def _keys(reply: Reply) -> dict[str, Button]:
    """The keys that press a reply's buttons: Enter for the reveal, 1-4 for ratings,
    /yes and /no for a question (removing a deck).

    Buttons the console has no key for (they belong to other platforms' flows) are not shown.
    """
    keys: dict[str, Button] = {}
    ratings = 0
    answers = iter(("/yes", "/no"))  # a question's buttons: yes first, then no
    for button in reply.all_buttons():
        if button.action == "rate":
            ratings += 1
            keys[str(ratings)] = button
        elif button.action in _KEYS:
            keys[_KEYS[button.action]] = button
        elif button.action == "confirm" and (key := next(answers, None)) is not None:
            keys[key] = button
    return keys


class ConsoleChat:
    """One learner's chat in the terminal.

    Args:
        study: the study loop (commands).
        inputs: where button presses go.
        who: the console learner.
        write: where replies go (a line-writer; ``print`` by default).
        terminal: the terminal as it is now (its width may change between replies);
            by default plain text at 80 columns.
        images: writes the image of each card shown to a folder (``--images``), or None.
    """

    def __init__(
        self,
        study: StudyService,
        inputs: Inputs,
        who: Who,
        write: Callable[[str], None] = print,
        terminal: Callable[[], Terminal] = Terminal,
        images: CardImages | None = None,
        export_dir: Path | None = None,
    ) -> None:
        self.study = study
        self.inputs = inputs
        self.who = who
        self.write = write
        self.terminal = terminal
        self.images = images
        #: Where /export saves its file (None: the current directory).
        self.export_dir = export_dir
        #: The last message with keys: the one a key presses ("the tapped message").
        self.current: Reply | None = None

    def say(self, text: str) -> None:
        """Write a message (markdown) for the terminal."""
        self.write(self.terminal().markdown(text))

    async def _show(self, outcome: Outcome) -> None:
        """Render an outcome: the notice, the tapped message's new state, new messages."""
        if outcome.notice:
            self.say(outcome.notice)
        if outcome.edit is not None:
            await self._print(outcome.edit)
        if outcome.close is not None:
            self.current = None
            if outcome.close:
                self.say(outcome.close)
        for reply in outcome.replies:
            await self._print(reply)

    async def _print(self, reply: Reply) -> None:
        self.current = reply if _keys(reply) else None
        path = None
        if self.images is not None and reply.card is not None:
            path = await self.images.write(reply.card)
        self.write(format_reply(reply, self.terminal(), path))

    async def handle(self, line: str) -> bool:
        """Handle one typed line. Returns False when the learner quits."""
        text = line.strip()
        try:
            return await self._handle(text)
        except asyncio.CancelledError:
            raise
        except Exception:
            log.exception("console command failed: %r", text)
            self.say("Sorry, something went wrong there; your progress is safe. Try again.")
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
            await self._show(await study.next(who, source=ReviewSource.CONSOLE))
        elif command == "/reveal":
            await self._press("Enter", "There is no card to reveal. Send /review.")
        elif command in ("/bury", "/suspend"):
            await self._press(command, "Show a card first with /review.")
        elif command == "/undo":
            await self._show(await study.undo(who, source=ReviewSource.CONSOLE))
        elif command == "/unsuspend":
            await self._show(await study.unsuspend(who, args or None))
        elif command in ("/pause", "/resume"):
            await self._show(await study.pause(who, command == "/pause"))
        elif command == "/stats":
            await self._show(await study.stats(who))
        elif command == "/settings":
            if not args:
                await self._show(await study.settings(who))
            elif len(args) == 1 and names_retention(args[0]):
                await self._show(await study.retention_costs(who))
            elif len(args) >= 2:  # a value may have spaces: easy_days sat 50% sun 0%
                await self._show(await study.change_setting(who, args[0], " ".join(args[1:])))
            else:
                self.say("Usage: /settings KEY VALUE, for example /settings timezone Europe/Paris")
        elif command == "/decks":  # topics to study, or pause|resume|remove ID
            await self._show(await study.decks(who, args))
        elif command == "/import":
            await self._import(args)
        elif command in ("/yes", "/no"):
            await self._press(command, "There is no question to answer.")
        elif command == "/exam":
            await self._show(await study.exam(who, args))
        elif command == "/cram":
            await self._show(await study.cram(who, " ".join(args) or None))
        elif command == "/export":
            await self._export(args)
        elif command == "/help":
            self.write(HELP)
        else:
            self.say(f"I don't know {command}. Send /help for the commands.")
        return True

    async def _export(self, args: list[str]) -> None:
        """``/export [anki]``: the file is saved, and the reply says where."""
        if args and args[0].lower() not in ("anki", "apkg", "csv"):
            self.say("Usage: /export (your history as CSV) or /export anki (an Anki package)")
            return
        anki = bool(args) and args[0].lower() != "csv"
        outcome = await (self.study.export_anki(self.who) if anki else self.study.export(self.who))
        for reply in outcome.replies:
            if reply.attachment is None:
                await self._print(reply)
                continue
            folder = self.export_dir or Path.cwd()
            path = folder / reply.attachment.filename
            await asyncio.to_thread(path.write_bytes, reply.attachment.data)
            self.say(f"{reply.text}\nSaved to {path} ({len(reply.attachment.data):,} bytes).")

    async def _import(self, args: list[str]) -> None:
        """``/import PATH``: a file on this computer into your own decks, as a chat
        platform imports a file sent to it (the same limits and reply)."""
        if len(args) != 1:
            self.say(
                "Usage: /import PATH (an Anki package .apkg, or an Anki text export; "
                'quote a path with spaces: /import "My deck.apkg")'
            )
            return

        def look() -> tuple[Path, int, bool]:
            path = Path(args[0]).expanduser()
            return path, path.stat().st_size, path.is_file()

        try:
            path, size, is_file = await asyncio.to_thread(look)
        except OSError:
            self.say(f"There is no file at {args[0]}.")
            return
        if not is_file:
            self.say(f"{path} is a folder, not a file.")
            return

        async def fetch() -> bytes:
            return await asyncio.to_thread(path.read_bytes)

        await self._show(await self.study.import_file(self.who, path.name, size, fetch))

    def _button(self, key: str) -> Button | None:
        if self.current is None:
            return None
        return _keys(self.current).get(key)

    async def _press(self, key: str, missing: str, typed_answer: str | None = None) -> None:
        button = self._button(key)
        if button is None:
            self.say(missing)
            return
        outcome = await self.inputs.press(self.who, button.payload, typed_answer=typed_answer)
        await self._show(outcome)

    async def _plain(self, text: str) -> None:
        """Enter (or a typed answer) shows the back; a digit rates the card shown."""
        if self._button("Enter") is not None:
            await self._press("Enter", "", typed_answer=text or None)
        elif self._button("1") is not None:
            if self._button(text) is not None:
                await self._press(text, "")
            else:
                self.say("Rate the card: 1 Again, 2 Hard, 3 Good, 4 Easy.")
        elif text:
            self.say("Send /review to study, or /help for the commands.")
