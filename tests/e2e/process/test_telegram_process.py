"""The real ``studybot run`` process against a fake Telegram Bot API on 127.0.0.1.

Each test starts the bot as an operator does: ``python -m bot run --config FILE``
from a directory outside the clone, the token in the environment, and drives it
as learners do, through the HTTP server. Covered: start-up and shutdown, a
token Telegram rejects, a ``kill -9`` and a restart, and a push and its snooze
across restarts. Start-up failures and recovery are in test_startup_process.py,
several processes on one PostgreSQL database in test_several_processes.py.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tests.e2e.process.harness import (
    AUTO_UPGRADE,
    SECRET,
    Chat,
    Studybot,
    clean_env,
    labels,
    new_bot,
    not_info,
    query,
    seed_due_learners,
    shown,
    studybot,
    write_config,
)
from tests.e2e.process.telegram_server import TelegramServer
from tests.e2e.telegram.fake import TgUser

ANA = TgUser(101, "Ana", "ana")
PUSH_BUTTONS = ["Show answer", "Snooze 1 hour", "Skip today"]


def sqlite_file(tmp_path: Path) -> Path:
    return tmp_path / "data" / "studybot.sqlite3"


def stamp(when: datetime) -> str:
    """An instant as the SQLite file stores it (naive UTC)."""
    return when.astimezone(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")


def rated_good(ana: Chat) -> int:
    """How many Good ratings the chat was shown (each on top of the card that followed)."""
    shows = ana.api.sent(
        "sendMessage|sendRichMessage|sendPhoto|editMessageText|editMessageCaption|editMessageMedia",
        ana.user.id,
    )
    texts = [c.plain or str((c.params.get("media") or {}).get("caption", "")) for c in shows]
    return sum(text.startswith("Good: see it again in") for text in texts)


def answered_by(server: TelegramServer, client: str, chat_id: int) -> bool:
    """Whether the process ``client`` has sent the chat a message."""
    return any(
        call.client == client for call in server.api.sent("sendMessage|sendRichMessage", chat_id)
    )


async def walk_through(bot: Studybot, ana: Chat, zone: str, push: str, deck: str) -> None:
    """/start, then tap a time zone, a reminder time and a deck."""
    await ana.say(bot, "/start", lambda: "UTC" in labels(ana.last()))
    await ana.tap(bot, zone, then=lambda: push in labels(ana.last()))
    await ana.tap(bot, push, then=lambda: "All decks" in labels(ana.last()))
    await ana.tap(bot, deck, then=lambda: "All set" in shown(ana.last()))


async def review_one(bot: Studybot, ana: Chat) -> dict[str, Any]:
    """Reveal the card on screen and rate it Good; returns the next card once it is shown
    (in the rated card's place, the rating's outcome on top)."""
    front = ana.with_button("Show answer")
    await ana.tap(bot, "Show answer", front, then=lambda: bool(ana.with_button("Good")))
    await ana.tap(bot, "Good", then=lambda: "Good: see it again in" in shown(ana.last()))
    nxt = ana.last()
    assert shown(nxt).startswith("Good: see it again in")
    assert not ana.with_button("Good"), "the rated card is gone"
    return nxt


async def test_start_review_and_stop_on_sigterm(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path
) -> None:
    env = clean_env()
    config = write_config(tmp_path / "config.toml", server, "bot", tmp_path / "data")
    code, out, err = await studybot(tmp_path, "db", "upgrade", "--config", str(config), env=env)
    assert code == 0, err
    assert "schema empty ->" in out
    bot = Studybot(server, "bot", tmp_path, config, env)
    bots.append(bot)
    await bot.start()

    menus = {
        c.params["scope"]["type"]: c.params["commands"] for c in server.api.sent("setMyCommands")
    }
    assert {m["command"] for m in menus["all_group_chats"]} == {"quiz", "challenge", "help"}
    assert "review" in {m["command"] for m in menus["all_private_chats"]}
    assert server.polls()[-1].params["allowed_updates"] == [
        "message",
        "callback_query",
        "poll_answer",
    ]

    ana = Chat(server, ANA)
    await walk_through(bot, ana, "UTC", "09:00", "All decks")
    await ana.say(bot, "/review", lambda: "Show answer" in labels(ana.last()))
    first = ana.last()
    following = await review_one(bot, ana)
    assert following["message_id"] == first["message_id"], "one message per card"
    assert "Show answer" in labels(following)

    assert await bot.stop() == 0
    output = out + err + bot.output()
    assert SECRET not in output
    assert "Traceback" not in output and " ERROR " not in output, bot.output()[-3000:]
    db = sqlite_file(tmp_path)
    assert query(db, "SELECT rating, source FROM review_logs") == [(3, "dm")]
    assert query(db, "SELECT timezone, push_time, topics FROM learner_settings") == [
        ("UTC", "09:00", "")
    ]


async def test_a_rejected_token_stops_the_bot_without_printing_it(
    server: TelegramServer, tmp_path: Path
) -> None:
    """Telegram answers getMe with 401: the operator gets one line, not the token."""
    wrong = "5550001:REVOKED-token-secret-part"
    config = write_config(
        tmp_path / "config.toml", server, "bot", tmp_path / "data", extra=AUTO_UPGRADE
    )
    code, out, err = await studybot(
        tmp_path,
        "run",
        "--config",
        str(config),
        env=clean_env(STUDYBOT_TELEGRAM_TOKEN=wrong),
    )
    assert server.refused == ["bot"]
    assert code == 1
    assert wrong.split(":", 1)[1] not in out + err
    assert "Traceback" not in err
    assert not_info(err) == [
        "studybot: Telegram rejected the bot token: set the token @BotFather gave you in "
        "STUDYBOT_TELEGRAM_TOKEN (or [telegram] token)"
    ]


async def test_kill_9_mid_work_and_restart(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path
) -> None:
    bot = new_bot(server, bots, tmp_path)
    await bot.start()
    ana = Chat(server, ANA)
    await walk_through(bot, ana, "Paris / Berlin", "07:00", "Attention")
    await ana.say(bot, "/review", lambda: "Show answer" in labels(ana.last()))
    on_screen = await review_one(bot, ana)

    await bot.kill()
    await bot.start()
    revealed = await ana.tap(
        bot, "Show answer", on_screen, then=lambda: bool(ana.with_button("Good"))
    )
    assert "Answer" in shown(revealed)
    await ana.tap(bot, "Good", then=lambda: rated_good(ana) == 2)
    assert await bot.stop() == 0
    db = sqlite_file(tmp_path)
    assert query(db, "SELECT count(*) FROM review_logs WHERE undone_at IS NULL") == [(2,)]
    assert query(db, "SELECT timezone, push_time, topics FROM learner_settings") == [
        ("Europe/Berlin", "07:00", "attention")
    ]
    assert SECRET not in bot.output()


async def test_kill_9_leaves_no_render_worker_or_resource_tracker(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path
) -> None:
    """An OOM killer's ``kill -9`` of the bot: its render workers and multiprocessing's
    resource tracker end too, instead of living on under init (about 80 MB each time).

    The worker starts with the first cold render: Ana's card has an image in no cache."""
    url = f"sqlite+aiosqlite:///{sqlite_file(tmp_path)}"
    code, _, err = await studybot(
        tmp_path, "db", "upgrade", env=clean_env(STUDYBOT_DATABASE_URL=url)
    )
    assert code == 0, err
    await seed_due_learners(url, [ANA.id], card_id="att-wk-shape", push_due=False)
    bot = new_bot(server, bots, tmp_path)
    await bot.start()
    ana = Chat(server, ANA)
    await ana.say(bot, "/review", lambda: ana.api.sent("sendPhoto", ANA.id))
    running = bot.in_session()
    assert any("multiprocessing.resource_tracker" in cmd for cmd in running), running
    assert any("multiprocessing.spawn" in cmd for cmd in running), running

    await bot.kill()
    await bot.session_ended()


#: What a process polling a token another process polls says, once.
CONFLICT_LINE = "another process takes updates with this token (409 Conflict)"


async def test_two_pollers_of_one_token_say_so_once(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path
) -> None:
    """A second process polls the token the first polls: Telegram answers one of the two
    long polls with 409 each time the other asks. Each process says so in one line at the
    default level, naming the fix, and not again on every retry."""
    one = new_bot(server, bots, tmp_path, "one")
    two = new_bot(server, bots, tmp_path, "two")
    await one.start()
    await two.start()
    # Each answered 409 several times: the retries are well under way.
    await two.until(
        lambda: min(server.conflicts.count("one"), server.conflicts.count("two")) >= 3,
        "409s for both processes",
        seconds=60,
    )
    assert await two.stop() == 0
    assert await one.stop() == 0
    for bot in (one, two):
        output = bot.output()
        said = [line for line in output.splitlines() if CONFLICT_LINE in line]
        assert len(said) == 1, output
        assert 'mode = "send_only"' in said[0] and " WARNING " in said[0]
        assert "Traceback" not in output and " ERROR " not in output, output


async def test_a_push_and_its_snooze_survive_restarts(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path
) -> None:
    db = sqlite_file(tmp_path)
    url = f"sqlite+aiosqlite:///{db}"
    code, _, err = await studybot(
        tmp_path, "db", "upgrade", env=clean_env(STUDYBOT_DATABASE_URL=url)
    )
    assert code == 0, err
    await seed_due_learners(url, [ANA.id])
    ana = Chat(server, ANA)

    def pushes() -> list[dict[str, Any]]:
        return [m for m in ana.api.messages_in(ANA.id) if " due: " in shown(m)]

    bot = new_bot(server, bots, tmp_path)
    await bot.start(wait=False)
    await bot.until(lambda: pushes(), "the push")
    [push] = pushes()
    # A rich message (Bot API 10.1): its text reads one block a line.
    assert shown(push).startswith("1 card is due: about 1 minute.\nWhat attention is for")
    assert labels(push) == PUSH_BUTTONS
    before = datetime.now(UTC)
    snoozed = await ana.tap(bot, "Snooze 1 hour", push, then=lambda: not labels(pushes()[0]))
    after = datetime.now(UTC)
    notes = {f"Snoozed: I'll come back at {t + timedelta(hours=1):%H:%M}." for t in (before, after)}
    assert shown(snoozed).rsplit("\n", 1)[-1] in notes, shown(snoozed)
    [(next_at, snooze)] = query(db, "SELECT next_push_at, push_snoozed FROM learners")
    assert stamp(before + timedelta(hours=1)) <= next_at <= stamp(after + timedelta(hours=1))
    assert snooze == 1
    assert await bot.stop() == 0

    # The snoozed hour passes while the bot is down: it sends the push at start, once.
    query(
        db, "UPDATE learners SET next_push_at = ?", stamp(datetime.now(UTC) - timedelta(minutes=1))
    )
    await bot.start(wait=False)
    await bot.until(lambda: len(pushes()) == 2, "the snoozed push")
    assert labels(pushes()[1]) == PUSH_BUTTONS
    await ana.tap(bot, "Skip today", pushes()[1], then=lambda: not labels(pushes()[1]))
    assert await bot.stop() == 0
    assert len(pushes()) == 2
    assert query(db, "SELECT count(*) FROM outbox") == [(2,)]
    [(next_at, snooze)] = query(db, "SELECT next_push_at, push_snoozed FROM learners")
    assert snooze == 0 and next_at > stamp(after) and next_at.endswith(" 09:00:00.000000")
    assert SECRET not in bot.output()
