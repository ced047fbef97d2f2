"""``studybot`` as an operator runs it: real processes, a config file, the fake Bot API.

:class:`Studybot` is one ``python -m bot run`` process, started from a directory
outside the clone with a config file of its own and a clean environment (the token
in ``STUDYBOT_TELEGRAM_TOKEN``, no ``STUDYBOT_CONFIG``); its output goes to files.
:class:`Chat` is a learner's private chat with the bot, driven through the
:class:`~tests.e2e.process.telegram_server.TelegramServer`. :func:`seed_due_learners`
writes learners whose daily push is due straight into a database.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import signal
import socket
import sqlite3
import sys
import time
from collections.abc import Callable, Sequence
from contextlib import closing
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, TypeVar

import aiohttp

from tests.e2e.process.telegram_server import TelegramServer
from tests.e2e.telegram.fake import TOKEN, Call, TgUser, button_data, rich_text

T = TypeVar("T")

#: Longest a process may take to exit after SIGTERM, in seconds.
STOP_SECONDS = 5.0
#: The webhook secret a process in webhook mode is given.
HOOK_SECRET = "process-test-hook-secret"
#: The token's secret half (after the bot id): it must never be printed.
SECRET = TOKEN.split(":", 1)[1]
#: A config section that lets a process bring a new database to the newest schema.
AUTO_UPGRADE = "[database]\nauto_upgrade = true\n"


def clean_env(**extra: str) -> dict[str, str]:
    """This environment without any ``STUDYBOT_*`` variable, plus the token and ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("STUDYBOT_")}
    env["STUDYBOT_TELEGRAM_TOKEN"] = TOKEN
    env.update(extra)
    return env


def write_config(
    path: Path,
    server: TelegramServer,
    client: str,
    data_dir: Path,
    *,
    telegram: str = "",
    extra: str = "",
) -> Path:
    """A config file as an operator writes one: an absolute data path, the fake API (the
    shipped decks come with the bot).

    ``telegram`` adds lines to ``[telegram]``; ``extra`` adds sections.
    """
    path.write_text(
        f'[bot]\ndata_dir = "{data_dir}"\n\n'
        f'[telegram]\nbase_url = "{server.base_url(client)}"\n'
        f'base_file_url = "{server.base_file_url(client)}"\n{telegram}\n'
        f"{extra}"
    )
    return path


def webhook_lines(port: int) -> str:
    """``[telegram]`` lines for webhook mode, listening on 127.0.0.1:``port``."""
    return (
        'mode = "webhook"\nwebhook_url = "https://bot.example.org/telegram/hook"\n'
        f'webhook_listen = "127.0.0.1"\nwebhook_port = {port}\n'
        f'webhook_secret = "{HOOK_SECRET}"\n'
    )


#: A log line at INFO, as the default ``[logging] format`` writes it.
_INFO_LINE = re.compile(r"\d{4}-\d\d-\d\d \d\d:\d\d:\d\d,\d{3} INFO ")


def not_info(output: str) -> list[str]:
    """The lines of ``output`` that are not INFO log lines: what reports a problem."""
    return [line for line in output.splitlines() if not _INFO_LINE.match(line)]


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with closing(socket.socket(socket.AF_INET, socket.SOCK_STREAM)) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


async def studybot(cwd: Path, *args: str, env: dict[str, str]) -> tuple[int, str, str]:
    """Run ``python -m bot ARGS`` to its end: (exit code, stdout, stderr)."""
    proc = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "bot",
        *args,
        cwd=cwd,
        env=env,
        stdout=asyncio.subprocess.PIPE,
        stderr=asyncio.subprocess.PIPE,
    )
    out, err = await asyncio.wait_for(proc.communicate(), 60)
    assert proc.returncode is not None
    return proc.returncode, out.decode(), err.decode()


@dataclass
class Studybot:
    """One ``studybot run`` process (started again after a stop), its calls recorded as
    ``client``'s.

    Args:
        server: the fake Bot API it talks to.
        client: its name in the server's record and in its log files' names.
        cwd: where it starts (outside the clone).
        config: its config file.
        env: its environment (see :func:`clean_env`).
    """

    server: TelegramServer
    client: str
    cwd: Path
    config: Path
    env: dict[str, str]
    proc: asyncio.subprocess.Process | None = None
    #: Seconds from the last start to taking updates.
    started_in: float = 0.0
    _logs: list[Path] = field(default_factory=list)
    _killed: list[int] = field(default_factory=list)

    async def start(self, *, wait: bool = True) -> None:
        """Start ``studybot run``; with ``wait``, return once it takes updates."""
        base = self.cwd / f"{self.client}-{len(self._logs) // 2}"
        out, err = base.with_suffix(".out"), base.with_suffix(".err")
        self._logs += [out, err]
        before = self.server.listening(self.client)
        began = time.monotonic()
        with out.open("wb") as stdout, err.open("wb") as stderr:
            # Its own session: what it leaves behind when killed can be found (close()).
            self.proc = await asyncio.create_subprocess_exec(
                sys.executable,
                "-m",
                "bot",
                "run",
                "--config",
                str(self.config),
                cwd=self.cwd,
                env=self.env,
                stdout=stdout,
                stderr=stderr,
                start_new_session=True,
            )
        if wait:
            await self.until(
                lambda: self.server.listening(self.client) > before, f"{self.client} started"
            )
            self.started_in = time.monotonic() - began

    @property
    def running(self) -> bool:
        return self.proc is not None and self.proc.returncode is None

    async def until(self, predicate: Callable[[], T], what: str, seconds: float = 20.0) -> T:
        """Wait for ``predicate`` on the server's calls; fail at once if this process ends."""
        assert self.proc is not None
        waiting = asyncio.ensure_future(self.server.wait_for(predicate, seconds=seconds, what=what))
        ended = asyncio.ensure_future(self.proc.wait())
        try:
            await asyncio.wait({waiting, ended}, return_when=asyncio.FIRST_COMPLETED)
            if waiting.done():
                try:
                    return waiting.result()
                except AssertionError as timed_out:  # say what the process was doing
                    raise AssertionError(
                        f"{timed_out}\n{self.client}'s output:\n{self.output()[-3000:]}"
                    ) from None
            raise AssertionError(
                f"{self.client} exited with {self.proc.returncode} before {what}:\n"
                f"{self.output()[-3000:]}"
            )
        finally:
            for task in (waiting, ended):
                task.cancel()
            await asyncio.gather(waiting, ended, return_exceptions=True)

    async def stop(self) -> int:
        """SIGTERM; returns the exit code (fails if it takes over :data:`STOP_SECONDS`)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGTERM)
        try:
            return await asyncio.wait_for(self.proc.wait(), STOP_SECONDS)
        except TimeoutError:
            raise AssertionError(
                f"{self.client} still running {STOP_SECONDS}s after SIGTERM"
            ) from None

    async def kill(self) -> None:
        """``kill -9`` the process (only it, as an OOM killer would), and reap it."""
        assert self.proc is not None
        self.proc.kill()
        self._killed.append(self.proc.pid)
        await self.proc.wait()

    async def close(self) -> None:
        """Teardown: kill the process if it runs, and what each killed run left behind in
        its session (nothing, unless a render worker failed to end with it)."""
        if self.running:
            await self.kill()
        for session in self._killed:
            with contextlib.suppress(ProcessLookupError):
                os.killpg(session, signal.SIGKILL)

    async def webhook(self, port: int, update: dict[str, Any]) -> int:
        """POST an update to the process's webhook, as Telegram would; returns the status."""
        async with (
            aiohttp.ClientSession() as session,
            session.post(
                f"http://127.0.0.1:{port}/telegram/hook",
                json=update,
                headers={"X-Telegram-Bot-Api-Secret-Token": HOOK_SECRET},
            ) as response,
        ):
            return response.status

    def left_behind(self) -> list[str]:
        """The command lines of the processes still in the last run's session (it was
        started in a session of its own): its render workers, say. Reads ``/proc``.

        multiprocessing's resource tracker is not counted: it ends by itself once the
        process that started it has ended (it reads until its pipe closes). Nor is a
        process that has ended and waits to be reaped (a zombie has no command line), or
        is ending (its command line is already empty while ``/proc`` still says running).
        """
        return [
            cmdline
            for cmdline in self.in_session()
            if "multiprocessing.resource_tracker" not in cmdline
        ]

    def in_session(self) -> list[str]:
        """The command lines of every live process in the last run's session but the run
        itself (its render workers and multiprocessing's resource tracker), even after it
        has ended and they were handed to init. Reads ``/proc``."""
        return [cmdline for _, cmdline in self.session()]

    def render_workers(self) -> list[int]:
        """The process ids of the last run's live render workers (multiprocessing's
        spawned children; not its resource tracker). Reads ``/proc``."""
        return [pid for pid, cmdline in self.session() if "multiprocessing.spawn" in cmdline]

    def session(self) -> list[tuple[int, str]]:
        """(process id, command line) of every live process in the last run's session but
        the run itself (see :meth:`in_session`). Reads ``/proc``."""
        assert self.proc is not None
        found = []
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
                cmdline = (stat.parent / "cmdline").read_bytes().replace(b"\0", b" ")
            except OSError:  # it ended meanwhile
                continue
            if int(fields[3]) != self.proc.pid or stat.parent.name == str(self.proc.pid):
                continue
            if fields[0] in ("Z", "X"):  # it has ended; only its exit status is left
                continue
            if not cmdline.strip():  # it is ending: its memory (and command line) is gone
                continue
            found.append((int(stat.parent.name), cmdline.decode(errors="replace")))
        return found

    async def until_proc(self, predicate: Callable[[], T], what: str, seconds: float = 20.0) -> T:
        """Wait for ``predicate`` on ``/proc`` (say, :meth:`render_workers`), looking every
        50 ms; fail after ``seconds``, or at once if this process ends."""
        assert self.proc is not None
        deadline = time.monotonic() + seconds
        while not (found := predicate()):
            if self.proc.returncode is not None:
                raise AssertionError(
                    f"{self.client} exited with {self.proc.returncode} before {what}:\n"
                    f"{self.output()[-3000:]}"
                )
            if time.monotonic() > deadline:
                raise AssertionError(f"not {what} after {seconds}s")
            await asyncio.sleep(0.05)
        return found

    def mapped(self, word: str) -> bool:
        """Whether a file whose path contains ``word`` is mapped into the bot's process
        (a shared library it has loaded, say). Reads ``/proc/PID/maps``."""
        assert self.proc is not None
        return word in Path(f"/proc/{self.proc.pid}/maps").read_text()

    async def session_ended(self, seconds: float = 10.0) -> None:
        """Wait until no process of the last run's session is left (see
        :meth:`in_session`); fail after ``seconds``, naming what is."""
        deadline = time.monotonic() + seconds
        while found := self.in_session():
            if time.monotonic() > deadline:
                raise AssertionError(f"still running {seconds}s after {self.client}: {found}")
            await asyncio.sleep(0.05)

    def output(self) -> str:
        """Everything every run of it wrote, stdout and stderr."""
        return "".join(path.read_text(errors="replace") for path in self._logs if path.exists())


def new_bot(
    server: TelegramServer,
    bots: list[Studybot],
    tmp_path: Path,
    client: str = "bot",
    *,
    telegram: str = "",
    extra: str = AUTO_UPGRADE,
    **env: str,
) -> Studybot:
    """A ``studybot run`` with its own config file in ``tmp_path`` (not started), added to
    ``bots`` (the fixture that kills what still runs at the end)."""
    config = write_config(
        tmp_path / f"{client}.toml",
        server,
        client,
        tmp_path / "data",
        telegram=telegram,
        extra=extra,
    )
    bot = Studybot(server, client, tmp_path, config, clean_env(**env))
    bots.append(bot)
    return bot


async def close_all(bots: Sequence[Studybot]) -> None:
    """Teardown of every process a test started."""
    for bot in bots:
        await bot.close()


class Chat:
    """A learner's private chat with the bot, through the fake Bot API."""

    def __init__(self, server: TelegramServer, user: TgUser) -> None:
        self.server = server
        self.api = server.api
        self.user = user

    def sent(self) -> list[Call]:
        """The messages the bot sent to this chat (text and photos), oldest first."""
        return self.api.sent("sendMessage|sendRichMessage|sendPhoto", self.user.id)

    def last(self) -> dict[str, Any]:
        """The chat's newest message as it is now ({} before the first)."""
        found = self.api.messages_in(self.user.id)
        return found[-1] if found else {}

    def with_button(self, label: str) -> dict[str, Any]:
        """The newest message with a button whose label starts with ``label`` ({} if none)."""
        for message in self.api.messages_in(self.user.id)[::-1]:
            if any(text.startswith(label) for text in labels(message)):
                return message
        return {}

    async def say(self, bot: Studybot, text: str, reply: Callable[[], object]) -> None:
        """Send ``text``; wait until ``reply()`` holds and the update is confirmed."""
        update = self.server.updates.message(self.user, text)
        await self.server.send(update)
        await bot.until(lambda: reply() and self.server.confirmed(update), f"reply to {text}")

    async def tap(
        self,
        bot: Studybot,
        label: str,
        message: dict[str, Any] | None = None,
        then: Callable[[], object] = lambda: True,
    ) -> dict[str, Any]:
        """Tap the button ``label`` (on the newest message that has one, or ``message``).

        Waits until the tap is answered, ``then()`` holds, and the update is confirmed;
        returns the tapped message as it is now ({} when another took its place).
        """
        message = message or self.with_button(label)
        assert message, f"no {label!r} button in the chat"
        update = self.server.updates.callback(self.user, message, button_data(message, label))
        query = update["callback_query"]["id"]
        await self.server.send(update)
        await bot.until(
            lambda: (
                any(
                    c.params.get("callback_query_id") == query
                    for c in self.api.sent("answerCallbackQuery")
                )
                and then()
                and self.server.confirmed(update)
            ),
            f"tap on {label}",
        )
        return self.api.messages.get((self.user.id, message["message_id"]), {})


def shown(message: dict[str, Any]) -> str:
    """A message's text or caption as the user sees it (a rich message's text too)."""
    return rich_text(message)


def labels(message: dict[str, Any]) -> list[str]:
    """A message's button labels."""
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [b["text"] for row in rows for b in row]


def query(db_path: Path, sql: str, *args: Any) -> list[tuple[Any, ...]]:
    """Run SQL on the SQLite file (read or write) and return the rows."""
    with closing(sqlite3.connect(db_path)) as conn, conn:
        return list(conn.execute(sql, args))


async def seed_due_learners(
    url: str, chats: Sequence[int], *, card_id: str | None = None, push_due: bool = True
) -> None:
    """Telegram learners (one per private chat id), each with one due card of the
    attention deck (its first, or ``card_id``), whose daily push is due now (or, without
    ``push_due``, tomorrow), on an upgraded database.

    Only that deck is synced: a bot starting on the database adds the others.
    """
    from sqlalchemy import Connection, insert

    from bot.core.model import LearnerSettings
    from bot.deckfiles import SHIPPED_DECKS, load_decks
    from bot.storage.database import SqlDatabase
    from bot.storage.learners import settings_row
    from bot.storage.tables import card_states, learner_settings, learners

    now = datetime.now(UTC)
    [deck] = load_decks([SHIPPED_DECKS / "attention.md"]).decks
    card = card_id or deck.cards[0].id
    push_at = now - timedelta(minutes=1) if push_due else now + timedelta(days=1)

    def work(conn: Connection) -> None:
        ids = conn.execute(
            insert(learners).returning(learners.c.id, sort_by_parameter_order=True),
            [
                {
                    "platform": "telegram",
                    "platform_user_id": str(chat_id),
                    "display_name": f"Learner {chat_id}",
                    "created_at": now - timedelta(days=3),
                    "last_seen_at": now - timedelta(hours=20),
                    "unreachable": False,
                    "next_push_at": push_at,
                }
                for chat_id in chats
            ],
        ).scalars()
        rows = list(ids)
        conn.execute(
            insert(learner_settings),
            [{"learner_id": i, "topics": "", **settings_row(LearnerSettings())} for i in rows],
        )
        conn.execute(
            insert(card_states),
            [
                {
                    "learner_id": i,
                    "card_id": card,
                    "state": 2,
                    "stability": 4.0,
                    "difficulty": 5.0,
                    "due": now - timedelta(hours=1),
                    "last_review": now - timedelta(days=4),
                    "reps": 3,
                    "lapses": 0,
                    "suspended": False,
                    "leech": False,
                }
                for i in rows
            ],
        )

    db = SqlDatabase(url)
    try:
        await db.run(lambda tx: tx.catalogue.sync([deck], now))
        await db.run_connection(work)
    finally:
        await db.dispose()
