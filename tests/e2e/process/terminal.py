"""``studybot console`` in a pseudo-terminal, as a learner runs it in theirs.

:class:`PtyConsole` starts ``python -m bot console`` with a pty as its controlling
terminal (so ``\\x03`` is Ctrl-C: the terminal sends SIGINT), of a given size, and reads
what it shows with deadlines (``select``), never by sleeping. :func:`screen_text` is
that output as text: escape codes and carriage returns removed.
"""

from __future__ import annotations

import fcntl
import os
import re
import select
import signal
import struct
import subprocess
import sys
import termios
import time
from pathlib import Path
from types import TracebackType

#: Longest to wait for the console to show something, in seconds.
DEADLINE = 20.0

_ESCAPES = re.compile(r"\x1b\[[0-9;?]*[A-Za-z]|\x1b[()][A-Za-z0-9]|\x1b[=>]")


def screen_text(raw: str) -> str:
    """What a terminal output says, without escape codes, carriage returns or bells."""
    return _ESCAPES.sub("", raw).replace("\r", "").replace("\x07", "")


def console_env(**extra: str) -> dict[str, str]:
    """This environment for a console in a terminal: no STUDYBOT_*, no COLUMNS/LINES (the
    size comes from the pty), colour allowed, the clone's ``bot`` on the path."""
    drop = ("COLUMNS", "LINES", "NO_COLOR", "INPUTRC")
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUDYBOT_") and k not in drop}
    env["TERM"] = "xterm-256color"
    env["PYTHONPATH"] = str(Path(__file__).resolve().parents[3])
    env["INPUTRC"] = "/dev/null"  # readline's default key bindings, whatever the machine has
    env.update(extra)
    return env


class PtyConsole:
    """One ``studybot console`` in a pty of ``columns`` x ``rows``.

    Args:
        args: the console's arguments (after ``console``).
        cwd: where it starts.
        columns: the terminal's width.
        rows: its height.
    """

    def __init__(self, args: list[str], cwd: Path, *, columns: int = 60, rows: int = 40) -> None:
        self.master, slave = os.openpty()
        fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, columns, 0, 0))
        self.output = ""
        self._seen = 0
        try:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "bot", "console", *args],
                stdin=slave,
                stdout=slave,
                stderr=slave,
                cwd=cwd,
                env=console_env(),
                start_new_session=True,
                # The pty becomes the controlling terminal: Ctrl-C (\x03) is SIGINT.
                preexec_fn=lambda: fcntl.ioctl(0, termios.TIOCSCTTY, 0),
            )
        finally:
            os.close(slave)

    def __enter__(self) -> PtyConsole:
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
            self.proc.wait()
        os.close(self.master)

    def _read(self, until: float) -> bool:
        """Read what is there (waiting up to ``until``); False once the pty is closed."""
        ready, _, _ = select.select([self.master], [], [], max(0.0, until - time.monotonic()))
        if not ready:
            return True
        try:
            chunk = os.read(self.master, 65536)
        except OSError:  # EIO: the console has exited and closed the terminal
            return False
        if not chunk:
            return False
        self.output += chunk.decode("utf-8", errors="replace")
        return True

    def expect(self, text: str, seconds: float = DEADLINE) -> str:
        """Wait until ``text`` shows (after what earlier calls consumed); returns what
        showed up to and including it, as screen text."""
        until = time.monotonic() + seconds
        while True:
            shown = screen_text(self.output)
            found = shown.find(text, self._seen)
            if found >= 0:
                chunk = shown[self._seen : found + len(text)]
                self._seen = found + len(text)
                return chunk
            if time.monotonic() > until or not self._read(until):
                tail = shown[self._seen :][-2000:]
                raw = self.output[-600:]
                raise AssertionError(
                    f"{text!r} did not show in {seconds}s; it showed:\n{tail}\nraw: {raw!r}"
                )

    def send(self, keys: str) -> None:
        """Type ``keys`` (``\\r`` is Enter, ``\\x03`` Ctrl-C, ``\\x1b[D`` the left arrow)."""
        os.write(self.master, keys.encode())

    def wait(self, seconds: float = DEADLINE) -> int:
        """Wait for the console to exit, reading what it still shows; its exit code."""
        until = time.monotonic() + seconds
        while self.proc.poll() is None:
            if time.monotonic() > until:
                raise AssertionError(f"the console is still running after {seconds}s")
            if not self._read(min(until, time.monotonic() + 0.1)):
                break
        return self.proc.wait(max(0.1, until - time.monotonic()))
