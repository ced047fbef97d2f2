"""Running the console: reading lines, the event loop beside them, and leaving at once.

The main thread reads what the learner types. At a terminal that is ``input()`` with
GNU readline: the arrow keys move in the line and walk the history, which is kept
between sessions in ``<data dir>/console-history``. From a pipe or a file it reads
line by line and echoes each line after the prompt, so the output reads as a
transcript.

The services run on an event loop in a thread of its own (:class:`LoopThread`): reading
never blocks the loop, and the main thread, which Python gives SIGINT to, never waits
on a thread it cannot interrupt. Ctrl-C (SIGINT) at any moment, at the prompt, inside
readline or while a command runs, cancels what runs, closes the app (every rating
given is already committed) and says goodbye; so do ``/quit`` and Ctrl-D (the end of
the input). The exit code is 0 in every case: leaving is how a session ends.

What is written is wrapped to the terminal's width at each reply (it may be resized)
and styled with ANSI escapes on a terminal (not with ``NO_COLOR`` set or
``TERM=dumb``). Piped, it is plain text, not wrapped (one message line stays one
line for whatever reads it), or wrapped at ``$COLUMNS`` when that is set.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import shutil
import signal
import socket
import sys
import termios
import threading
from collections.abc import Callable, Coroutine
from contextlib import AbstractAsyncContextManager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Final, Protocol, TextIO, TypeVar

from bot.platforms.console.chat import ConsoleChat
from bot.text.terminal import DEFAULT_WIDTH, Terminal

__all__ = [
    "GOODBYE",
    "HISTORY_FILE",
    "PROMPT",
    "ConsoleIO",
    "CtrlC",
    "LineSource",
    "LoopThread",
    "PipedLines",
    "TerminalLines",
    "greeting",
    "output_width",
    "run_console",
    "uses_colour",
]

log = logging.getLogger(__name__)

T = TypeVar("T")

PROMPT: Final = "> "
GOODBYE: Final = "Bye. Your progress is saved."
#: The file in the data directory that keeps what was typed at the prompt.
HISTORY_FILE: Final = "console-history"
#: How many lines the history keeps.
HISTORY_LENGTH: Final = 1000
#: Longest the console waits, once leaving, for what runs to end and the app to close.
STOP_SECONDS: Final = 5.0
#: How long the main thread has to take a Ctrl-C before it is signalled again.
RESEND_SECONDS: Final = 0.1


class LineSource(Protocol):
    """Where the learner's lines come from."""

    def read(self) -> str | None:
        """The next line (without its newline), or None at the end of the input.

        Raises:
            KeyboardInterrupt: on Ctrl-C.
        """
        ...

    def close(self, interrupted: bool = False) -> None:
        """Done reading (the history is saved); ``interrupted``: by Ctrl-C."""
        ...


class PipedLines:
    """Lines from a pipe or a file, each echoed after the prompt as a transcript."""

    def __init__(self, stream: TextIO, write: Callable[[str], None]) -> None:
        self.stream = stream
        self.write = write

    def read(self) -> str | None:
        line = self.stream.readline()
        if not line:
            return None
        line = line.rstrip("\r\n")
        self.write(f"{PROMPT}{line}")
        return line

    def close(self, interrupted: bool = False) -> None:
        pass


class TerminalLines:
    """Lines typed at a terminal, edited with readline (arrows, Home/End, Ctrl-R), with
    the history of earlier sessions when ``history`` names its file.

    While it reads, the terminal keeps what was typed when Ctrl-C is pressed (``NOFLSH``):
    readline, told by ``select`` that a key is there, would otherwise wait for it in a
    loop no signal ends, once Ctrl-C has flushed it away. On leaving after Ctrl-C that
    input is dropped (as Ctrl-C usually does), and the terminal's settings come back.
    """

    def __init__(self, history: Path | None = None, stream: TextIO | None = None) -> None:
        self.history = history
        self._fd = (stream or sys.stdin).fileno()
        self._saved: list[Any] | None = None
        try:
            self._saved = termios.tcgetattr(self._fd)
            keep = termios.tcgetattr(self._fd)
            keep[3] |= termios.NOFLSH
            termios.tcsetattr(self._fd, termios.TCSANOW, keep)
        except termios.error:  # not a terminal after all
            self._saved = None
        try:
            import readline  # importing it gives input() line editing
        except ImportError:  # not on every platform: input() still works, unedited
            self._readline = None
            return
        self._readline = readline
        readline.set_history_length(HISTORY_LENGTH)
        if history is not None:
            with contextlib.suppress(OSError):
                readline.read_history_file(history)

    def read(self) -> str | None:
        try:
            return input(PROMPT)
        except EOFError:  # Ctrl-D: the goodbye goes on a line of its own
            print(flush=True)
            return None

    def close(self, interrupted: bool = False) -> None:
        if self._saved is not None:
            when = termios.TCSAFLUSH if interrupted else termios.TCSADRAIN
            with contextlib.suppress(termios.error):
                termios.tcsetattr(self._fd, when, self._saved)
        if self._readline is None or self.history is None:
            return
        try:
            self.history.parent.mkdir(parents=True, exist_ok=True)
            self._readline.write_history_file(self.history)
        except OSError as exc:
            log.debug("cannot save the console history to %s: %s", self.history, exc)


def uses_colour(stream: TextIO) -> bool:
    """Whether to style output with ANSI escapes: on a terminal, unless ``NO_COLOR`` is set
    (https://no-color.org) or ``TERM`` is ``dumb``."""
    tty = _isatty(stream)
    return tty and not os.environ.get("NO_COLOR") and os.environ.get("TERM") != "dumb"


def _isatty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except ValueError:  # closed
        return False


def output_width(tty: bool) -> int | None:
    """The width to wrap to: the terminal's (``$COLUMNS`` first, as
    :func:`shutil.get_terminal_size` reads it); piped, ``$COLUMNS`` when set, else none
    (one message line stays one line for whatever reads the pipe)."""
    if tty:
        return shutil.get_terminal_size((DEFAULT_WIDTH, 24)).columns
    try:
        columns = int(os.environ.get("COLUMNS", ""))
    except ValueError:
        return None
    return columns if columns > 0 else None


def _print(text: str) -> None:
    print(text, flush=True)


@dataclass(frozen=True, slots=True)
class ConsoleIO:
    """What the console reads from and writes to.

    Attributes:
        lines: the learner's lines.
        write: writes one message (flushed at once: a pipe reads it as it comes).
        terminal: the terminal as it is now (its width is read at each reply).
    """

    lines: LineSource
    write: Callable[[str], None] = _print
    terminal: Callable[[], Terminal] = Terminal

    @classmethod
    def stdio(cls, history: Path | None = None) -> ConsoleIO:
        """Standard input and output: readline and colour at a terminal, a transcript in
        plain text when piped."""
        colour = uses_colour(sys.stdout)
        tty = _isatty(sys.stdout)

        def terminal() -> Terminal:
            return Terminal(output_width(tty), colour)

        if sys.stdin.isatty():
            return cls(TerminalLines(history), _print, terminal)
        return cls(PipedLines(sys.stdin, _print), _print, terminal)


def _block(sig: signal.Signals) -> set[int | signal.Signals] | None:
    """Block ``sig`` in this thread; the mask before (None where masks are not supported)."""
    if not hasattr(signal, "pthread_sigmask"):
        return None
    return signal.pthread_sigmask(signal.SIG_BLOCK, {sig})


def _restore(mask: set[int | signal.Signals] | None) -> None:
    if mask is not None:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


class LoopThread:
    """An event loop running in a thread of its own; the calling thread submits work."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self._thread = threading.Thread(
            target=self._main, name="studybot-console-loop", daemon=True
        )
        # The loop's thread, and every thread it starts (its thread pool, the SQLite
        # driver's), block SIGINT: the kernel gives it to the main thread, which is then
        # woken from its read at once (a signal taken by another thread would wait
        # there for the next key).
        blocked = _block(signal.SIGINT)
        try:
            self._thread.start()
        finally:
            _restore(blocked)

    def _main(self) -> None:
        asyncio.set_event_loop(self.loop)
        self.loop.run_forever()

    def run(self, work: Coroutine[Any, Any, T], timeout: float | None = None) -> T:
        """Run ``work`` on the loop and wait for its result.

        Raises:
            KeyboardInterrupt: Ctrl-C while waiting; ``work`` is cancelled.
            TimeoutError: after ``timeout`` seconds; ``work`` is cancelled.
        """
        future = asyncio.run_coroutine_threadsafe(work, self.loop)
        try:
            return future.result(timeout)
        except BaseException:
            future.cancel()
            raise

    def settle(self, timeout: float = STOP_SECONDS) -> None:
        """Wait for the tasks still on the loop (cancelled ones unwinding) to end."""

        async def others() -> None:
            tasks = asyncio.all_tasks() - {asyncio.current_task()}
            if tasks:
                await asyncio.wait(tasks, timeout=timeout)

        self.run(others(), timeout + 1)

    def close(self, timeout: float = STOP_SECONDS) -> None:
        """Cancel what still runs, shut the loop's thread pool down and stop the loop."""

        async def wind_down() -> None:
            tasks = asyncio.all_tasks() - {asyncio.current_task()}
            for task in tasks:
                task.cancel()
            if tasks:
                await asyncio.wait(tasks, timeout=timeout)
            await self.loop.shutdown_asyncgens()
            await asyncio.wait_for(self.loop.shutdown_default_executor(), timeout)

        try:
            self.run(wind_down(), timeout * 2 + 1)
        except Exception as exc:  # a task or a thread that would not end: leave it
            log.debug("the console's event loop did not wind down: %r", exc)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self._thread.join(timeout)
        if not self._thread.is_alive():
            self.loop.close()


def greeting(chat: ConsoleChat) -> str:
    """The first line of a session."""
    return (
        f"Studybot console: studying as {chat.who.display_name}. "
        "Send /review to start, /help for the commands, /quit to leave."
    )


class CtrlC:
    """Makes Ctrl-C (SIGINT) end the main thread's wait at once, whatever it waits on.

    Python's C handler notes a signal, and the main thread raises KeyboardInterrupt
    between two bytecodes; a call that blocks (readline waiting for a key, a read on a
    pipe, waiting for the loop) sees it only when the signal interrupts that call. One
    that lands just before the call starts, readline between two keys, would wait for
    the next key. So a watcher thread hears each SIGINT (through the signal module's
    wakeup fd) and signals the main thread again until it has taken it (:meth:`taken`).

    Only in the main thread (elsewhere it does nothing: Python gives signals to the main
    thread alone).
    """

    def __init__(self) -> None:
        self._taken = threading.Event()
        self._main = threading.get_ident()
        self._handler: Any = None
        self._thread: threading.Thread | None = None
        if threading.current_thread() is not threading.main_thread() or not hasattr(
            signal, "pthread_kill"
        ):
            return
        self._reader, self._writer = socket.socketpair()
        self._writer.setblocking(False)
        self._previous_fd = signal.set_wakeup_fd(self._writer.fileno(), warn_on_full_buffer=False)
        self._handler = signal.getsignal(signal.SIGINT)
        self._thread = threading.Thread(target=self._watch, name="studybot-ctrl-c", daemon=True)
        blocked = _block(signal.SIGINT)
        try:
            self._thread.start()
        finally:
            _restore(blocked)

    def _watch(self) -> None:
        while True:
            try:
                heard = self._reader.recv(256)
            except OSError:
                return
            if not heard or 0 in heard:  # closed
                return
            if signal.SIGINT not in heard:
                continue
            while not self._taken.wait(RESEND_SECONDS):
                signal.pthread_kill(self._main, signal.SIGINT)

    def taken(self) -> None:
        """The main thread is leaving: no more KeyboardInterrupt (a Ctrl-C while closing
        is ignored: closing is bounded and keeps the data safe)."""
        if self._thread is not None and self._handler is signal.default_int_handler:
            signal.signal(signal.SIGINT, _ignore)
        self._taken.set()

    def close(self) -> None:
        """Stop watching; SIGINT is handled as before."""
        self._taken.set()
        if self._thread is None:
            return
        signal.set_wakeup_fd(self._previous_fd)
        with contextlib.suppress(OSError):
            self._writer.send(b"\0")
        self._thread.join(STOP_SECONDS)
        self._reader.close()
        self._writer.close()
        signal.signal(signal.SIGINT, self._handler)


def _ignore(signum: int, frame: object) -> None:
    pass


def run_console(session: AbstractAsyncContextManager[ConsoleChat], io: ConsoleIO) -> int:
    """Run a console session: open the chat (``session`` builds the app and closes it at
    the end), read lines until ``/quit``, the end of the input or Ctrl-C, and say goodbye.

    Returns:
        0, however the learner left.

    Raises:
        Whatever opening the chat raised, except a KeyboardInterrupt (CannotStart,
        ConfigError): nothing was started, and there is no goodbye.
    """
    ctrl_c = CtrlC()
    try:
        loop = LoopThread()
        opened = interrupted = False
        try:
            try:
                chat = loop.run(session.__aenter__())
                opened = True
                chat.say(greeting(chat))
                while True:
                    line = io.lines.read()
                    if line is None or not loop.run(chat.handle(line)):
                        break
            except KeyboardInterrupt:
                interrupted = True
        finally:
            ctrl_c.taken()
            _leave(loop, session if opened else None, io.lines, interrupted)
    finally:
        ctrl_c.close()
    if interrupted:
        io.write("")  # ends the line Ctrl-C was typed on
    io.write(GOODBYE)
    return 0


def _leave(
    loop: LoopThread,
    session: AbstractAsyncContextManager[ConsoleChat] | None,
    lines: LineSource,
    interrupted: bool,
) -> None:
    """Close the session, the loop and the line source; a step that fails is logged and
    the next one runs."""
    steps: list[Callable[[], object]] = [loop.settle]
    if session is not None:
        steps.append(lambda: loop.run(session.__aexit__(None, None, None), STOP_SECONDS))
    steps += [loop.close, lambda: lines.close(interrupted)]
    for step in steps:
        try:
            step()
        except Exception:
            log.warning("the console did not close cleanly", exc_info=True)
