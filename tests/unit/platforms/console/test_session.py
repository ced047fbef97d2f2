"""Tests for bot.platforms.console.session: lines in, the chat on its own event loop, and
leaving (``/quit``, the end of the input, Ctrl-C) with the goodbye."""

from __future__ import annotations

import asyncio
import io
import os
import signal
import threading
from collections.abc import AsyncIterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from dataclasses import dataclass, field

import pytest

from bot.platforms.console.chat import ConsoleChat
from bot.platforms.console.session import (
    GOODBYE,
    ConsoleIO,
    LoopThread,
    PipedLines,
    output_width,
    run_console,
    uses_colour,
)
from bot.text.terminal import Terminal
from tests.unit.platforms.console.test_chat import ME, Harness

#: Longest a test waits for something another thread does.
DEADLINE = 10.0


@dataclass
class Opened:
    """What the session did: opened, closed, and on which thread the chat ran."""

    opened: int = 0
    closed: int = 0
    threads: set[str] = field(default_factory=set)


def session(h: Harness, seen: Opened) -> AbstractAsyncContextManager[ConsoleChat]:
    @asynccontextmanager
    async def chat() -> AsyncIterator[ConsoleChat]:
        seen.opened += 1
        seen.threads.add(threading.current_thread().name)
        try:
            yield h.chat
        finally:
            seen.closed += 1

    return chat()


def piped(script: str, out: list[str]) -> ConsoleIO:
    return ConsoleIO(PipedLines(io.StringIO(script), out.append), out.append, Terminal)


def test_a_script_is_read_and_echoed_until_quit() -> None:
    h, seen, out = Harness(), Opened(), list[str]()
    h.chat.write = out.append
    code = run_console(session(h, seen), piped("/review\n\n3\n/quit\n/review\n", out))
    assert code == 0
    text = "\n".join(out)
    assert text.startswith("Studybot console: studying as Me.")
    assert "> /review" in text
    assert "Good: see it again in 10m, or sooner if nothing else is due." in text
    assert out[-1] == GOODBYE
    assert text.count("> /review") == 1  # stopped at /quit
    assert len(h.db.reviews()) == 1
    assert (seen.opened, seen.closed) == (1, 1)
    assert seen.threads == {"studybot-console-loop"}  # the chat runs beside the reader


def test_the_end_of_the_input_says_goodbye() -> None:
    h, seen, out = Harness(), Opened(), list[str]()
    h.chat.write = out.append
    assert run_console(session(h, seen), piped("/stats\n", out)) == 0
    assert out[-1] == GOODBYE and (seen.opened, seen.closed) == (1, 1)


class Interrupting:
    """A line source on which the learner presses Ctrl-C after some lines."""

    def __init__(self, lines: list[str]) -> None:
        self.lines = lines
        self.closed = False

    def read(self) -> str | None:
        if not self.lines:
            raise KeyboardInterrupt
        return self.lines.pop(0)

    def close(self, interrupted: bool = False) -> None:
        self.closed = interrupted


def test_ctrl_c_at_the_prompt_says_goodbye_and_exits_0() -> None:
    h, seen, out = Harness(), Opened(), list[str]()
    h.chat.write = out.append
    lines = Interrupting(["/review"])
    assert run_console(session(h, seen), ConsoleIO(lines, out.append)) == 0
    assert out[-2:] == ["", GOODBYE]
    assert (seen.opened, seen.closed) == (1, 1) and lines.closed


def test_ctrl_c_while_a_command_runs_cancels_it_and_leaves_at_once() -> None:
    """SIGINT reaches the reading thread while the chat works on the loop: the work is
    cancelled, the session closed, and the goodbye said."""
    started, cancelled = threading.Event(), threading.Event()

    class Stuck(ConsoleChat):
        async def handle(self, line: str) -> bool:
            started.set()
            try:
                await asyncio.Event().wait()  # a command that never ends by itself
            except asyncio.CancelledError:
                cancelled.set()
                raise
            return True

    h, seen, out = Harness(), Opened(), list[str]()
    h.chat = Stuck(h.services.study, h.services.inputs, ME, out.append)

    def press_ctrl_c() -> None:
        if started.wait(DEADLINE):
            os.kill(os.getpid(), signal.SIGINT)

    presser = threading.Thread(target=press_ctrl_c)
    presser.start()
    try:
        code = run_console(session(h, seen), piped("/review\n", out))
    finally:
        presser.join(DEADLINE)
    assert code == 0
    assert cancelled.is_set()
    assert out[-1] == GOODBYE and (seen.opened, seen.closed) == (1, 1)


def test_a_session_that_cannot_open_raises_without_a_goodbye() -> None:
    @asynccontextmanager
    async def broken() -> AsyncIterator[ConsoleChat]:
        if not out:
            raise RuntimeError("no database")
        yield Harness().chat

    out: list[str] = []
    with pytest.raises(RuntimeError, match="no database"):
        run_console(broken(), piped("/review\n", out))
    assert GOODBYE not in out


def test_the_loop_thread_runs_work_and_stops() -> None:
    loop = LoopThread()
    try:

        async def where() -> str:
            await asyncio.sleep(0)
            return threading.current_thread().name

        assert loop.run(where(), DEADLINE) == "studybot-console-loop"
        with pytest.raises(TimeoutError):
            loop.run(asyncio.Event().wait(), 0.01)
    finally:
        loop.close()
    assert loop.loop.is_closed()


class FakeTty(io.StringIO):
    def isatty(self) -> bool:
        return True


def test_colour_only_on_a_terminal_that_wants_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("NO_COLOR", raising=False)
    monkeypatch.setenv("TERM", "xterm-256color")
    assert not uses_colour(io.StringIO())
    assert uses_colour(FakeTty())
    monkeypatch.setenv("NO_COLOR", "1")
    assert not uses_colour(FakeTty())
    monkeypatch.setenv("NO_COLOR", "")
    monkeypatch.setenv("TERM", "dumb")
    assert not uses_colour(FakeTty())


def test_piped_output_is_not_wrapped_unless_columns_is_set(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv("COLUMNS", raising=False)
    assert output_width(tty=False) is None
    monkeypatch.setenv("COLUMNS", "60")
    assert output_width(tty=False) == 60
    assert output_width(tty=True) == 60  # a terminal: $COLUMNS, else its size
    monkeypatch.setenv("COLUMNS", "wide")
    assert output_width(tty=False) is None
