"""Start-up either fails in one line or recovers: the real ``studybot`` process.

What the operator must fix stops the process with one line naming it and what to
do, a non-zero exit code, no traceback and no secret: a token whose format cannot
be valid, a database that cannot be reached, a database URL studybot cannot run
on (a token Telegram rejects: ``test_telegram_process.py``). A Bot API that cannot
be reached for a while does not stop it: it tries again, one line per attempt,
and starts polling once Telegram answers. A SIGTERM during start-up (while the
database or Telegram keeps it waiting) ends it at once and cleanly.
"""

from __future__ import annotations

import asyncio
import socket
from pathlib import Path

import pytest

from tests.e2e.process.harness import (
    AUTO_UPGRADE,
    SECRET,
    Chat,
    Studybot,
    clean_env,
    free_port,
    labels,
    new_bot,
    not_info,
    seed_due_learners,
    shown,
    studybot,
    write_config,
)
from tests.e2e.process.telegram_server import TelegramServer
from tests.e2e.telegram.fake import TgUser

ANA = TgUser(101, "Ana", "ana")
#: A database password that must never be printed.
PASSWORD = "pw-NEVER-shown"
#: Nothing listens there: a database that cannot be reached.
UNREACHABLE_DB = f"postgresql+asyncpg://studybot:{PASSWORD}@127.0.0.1:{free_port()}/studybot"
SHOWN_DB = UNREACHABLE_DB.replace(PASSWORD, "***")
CANNOT_REACH = (
    f"studybot: cannot reach the database {SHOWN_DB} (",
    "): check [database] url or STUDYBOT_DATABASE_URL, and that the database is running",
)
MYSQL = (
    '"mysql" is not a database studybot runs on: use SQLite ("sqlite+aiosqlite:///PATH") '
    'or PostgreSQL ("postgresql+asyncpg://USER@HOST/DATABASE")'
)


@pytest.mark.parametrize(
    ("command", "env", "config", "code", "line"),
    [
        pytest.param(
            "run",
            {"STUDYBOT_TELEGRAM_TOKEN": f"5550001/{SECRET}"},
            "",
            2,
            (
                "studybot: config error: environment: STUDYBOT_TELEGRAM_TOKEN: is not a Telegram "
                'bot token: expected "<bot id>:<secret>", as @BotFather gives it',
                "",
            ),
            id="telegram-token-format",
        ),
        pytest.param(
            "run",
            {"STUDYBOT_DISCORD_TOKEN": f"Bot {SECRET}.{SECRET}.{SECRET}"},
            "",
            2,
            (
                "studybot: config error: environment: STUDYBOT_DISCORD_TOKEN: is not a Discord "
                "bot token: expected three parts joined by dots",
                ")",
            ),
            id="discord-token-format",
        ),
        pytest.param(
            "run", {"STUDYBOT_DATABASE_URL": UNREACHABLE_DB}, "", 1, CANNOT_REACH, id="run-no-db"
        ),
        pytest.param(
            "db", {"STUDYBOT_DATABASE_URL": UNREACHABLE_DB}, "", 1, CANNOT_REACH, id="upgrade-no-db"
        ),
        pytest.param(
            "run",
            {"STUDYBOT_DATABASE_URL": f"mysql://studybot:{PASSWORD}@db.example.org/studybot"},
            "",
            2,
            ("studybot: config error: environment: STUDYBOT_DATABASE_URL: " + MYSQL, ""),
            id="run-mysql",
        ),
        pytest.param(
            "db",
            {},
            f'[database]\nurl = "mysql://studybot:{PASSWORD}@db.example.org/studybot"\n',
            2,
            ("studybot: config error: ", f".toml: [database] url: {MYSQL}"),
            id="upgrade-mysql-in-the-file",
        ),
    ],
)
async def test_what_the_operator_must_fix_stops_start_up_in_one_line(
    server: TelegramServer,
    tmp_path: Path,
    command: str,
    env: dict[str, str],
    config: str,
    code: int,
    line: tuple[str, str],
) -> None:
    """``studybot run`` and ``studybot db upgrade``: the exit code and one line that starts
    and ends as ``line`` says, without a traceback, a token or a password."""
    path = write_config(
        tmp_path / "config.toml", server, "bot", tmp_path / "data", extra=config or AUTO_UPGRADE
    )
    args = ("run",) if command == "run" else ("db", "upgrade")
    exit_code, out, err = await studybot(
        tmp_path, *args, "--config", str(path), env=clean_env(**env)
    )
    assert exit_code == code, err
    [problem] = not_info(err)
    start, end = line
    assert problem.startswith(start) and problem.endswith(end), problem
    assert "Traceback" not in out + err
    assert SECRET not in out + err and PASSWORD not in out + err
    assert server.api.calls == []  # nothing reached Telegram


async def test_telegram_unreachable_at_start_then_reachable(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path
) -> None:
    """The Bot API answers 502 to the first two getMe: the bot says so once per attempt,
    waits 1 s then 2 s, starts polling when Telegram answers, and sends what is due."""
    db = tmp_path / "data" / "studybot.sqlite3"
    url = f"sqlite+aiosqlite:///{db}"
    exit_code, _, err = await studybot(
        tmp_path, "db", "upgrade", env=clean_env(STUDYBOT_DATABASE_URL=url)
    )
    assert exit_code == 0, err
    await seed_due_learners(url, [ANA.id])
    server.refuse(2)
    bot = new_bot(server, bots, tmp_path)
    await bot.start()
    assert server.bad_gateway == [("bot", "getMe"), ("bot", "getMe")]

    ana = Chat(server, ANA)
    await bot.until(lambda: " due: " in shown(ana.last()), "the push, once Telegram answers")
    await ana.say(bot, "/help", lambda: "/review" in shown(ana.last()))
    assert "Snooze 1 hour" in [label for m in ana.api.messages_in(ANA.id) for label in labels(m)]
    assert await bot.stop() == 0
    output = bot.output()
    attempts = [line for line in output.splitlines() if "cannot reach the Telegram" in line]
    assert len(attempts) == 2, output
    assert attempts[0].endswith(
        "WARNING bot.app: telegram: cannot reach the Telegram Bot API "
        "(NetworkError: Bad Gateway); trying again in 1 s"
    )
    assert attempts[1].endswith("trying again in 2 s")
    assert not_info(output) == attempts
    assert SECRET not in output


async def test_sigterm_while_the_database_does_not_answer_stops_it(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path
) -> None:
    """The database takes the connection and never answers: a SIGTERM ends the wait for
    it at once, with code 0."""
    connected = asyncio.Event()
    held: list[asyncio.StreamWriter] = []

    async def silent(_: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        held.append(writer)
        connected.set()

    silent_db = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = silent_db.sockets[0].getsockname()[1]
    try:
        bot = new_bot(
            server,
            bots,
            tmp_path,
            STUDYBOT_DATABASE_URL=f"postgresql+asyncpg://studybot@127.0.0.1:{port}/studybot",
        )
        await bot.start(wait=False)
        await asyncio.wait_for(connected.wait(), 20)
        assert await bot.stop() == 0
    finally:
        for writer in held:
            writer.close()
        silent_db.close()
        await silent_db.wait_closed()
    assert bot.left_behind() == []
    assert not_info(bot.output()) == [], bot.output()
    assert server.api.calls == []


async def test_sigterm_while_telegram_does_not_answer_stops_everything(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path
) -> None:
    """getMe hangs: a SIGTERM ends the start at once and exits 0. No render worker has
    started (it starts with the first cold render: test_render_worker_process.py)."""
    server.hold("getMe")
    bot = new_bot(server, bots, tmp_path)
    await bot.start(wait=False)
    await bot.until(lambda: server.holding, "the getMe call")
    assert bot.in_session() == [], "nothing but the bot runs while it starts"
    assert await bot.stop() == 0
    assert bot.left_behind() == []
    output = bot.output()
    assert not_info(output) == [], output


async def test_an_ops_port_already_taken_stops_start_up_in_one_line(
    server: TelegramServer, tmp_path: Path
) -> None:
    """``[ops] port`` names a port another program listens on: one line naming the key,
    exit 1, and no render worker or poller left behind."""
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        extra = AUTO_UPGRADE + f'\n[ops]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n'
        path = write_config(tmp_path / "config.toml", server, "bot", tmp_path / "data", extra=extra)
        exit_code, out, err = await studybot(
            tmp_path, "run", "--config", str(path), env=clean_env()
        )
    assert exit_code == 1, err
    assert not_info(err) == [
        f"studybot: [ops] cannot listen on 127.0.0.1:{port} (Address already in use): "
        "set [ops] port to a free port, or [ops] host to an address of this machine"
    ]
    assert "Traceback" not in out + err and SECRET not in out + err
    assert server.api.calls == []  # it stopped before Telegram was asked anything
