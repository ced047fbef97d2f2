"""Several ``studybot run`` processes on one PostgreSQL database, as the README deploys them.

Telegram ends one of two concurrent long polls for a token with 409 "Conflict", so
either one process polls and the others take no updates (``mode = "send_only"``:
they plan and send pushes), or every process takes updates through the webhook.
Either way each due push goes out once, whichever process claims it. Processes may
start together, on a new database too: they upgrade it and sync the decks one after
the other.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta
from functools import partial
from pathlib import Path

import pytest
from sqlalchemy import Connection, func, select

from bot.core.model import CardState, CardStateKind, LearnerSettings, ReviewEntry
from bot.core.ports import Tx
from bot.deckfiles import SHIPPED_DECKS, load_decks
from bot.storage.database import SqlDatabase
from bot.storage.tables import cards, decks, learners, model_fits
from tests.e2e.process.harness import (
    SECRET,
    Studybot,
    clean_env,
    free_port,
    new_bot,
    seed_due_learners,
    studybot,
    webhook_lines,
)
from tests.e2e.process.telegram_server import TelegramServer
from tests.e2e.telegram.fake import TgUser

pytestmark = pytest.mark.postgres

#: Pushes per second for each process: slow enough that the second process is up
#: while the first still sends, so both drain the outbox.
PACE = 10
#: Learners whose daily push is due when the processes start.
CHATS = [2000 + n for n in range(40)]


def pushed(server: TelegramServer, client: str | None = None) -> dict[int, int]:
    """How many pushes each chat got (from one process, if ``client`` is given)."""
    counts: dict[int, int] = {}
    for call in server.api.sent("sendMessage|sendRichMessage|sendPhoto"):
        if client is not None and call.client != client:
            continue
        if "Snooze 1 hour" in [label for label, _ in call.buttons]:
            assert call.chat_id is not None
            counts[call.chat_id] = counts.get(call.chat_id, 0) + 1
    return counts


def answered_by(server: TelegramServer, client: str, chat_id: int) -> bool:
    """Whether the process ``client`` has sent the chat a message."""
    return any(
        call.client == client for call in server.api.sent("sendMessage|sendRichMessage", chat_id)
    )


def asked(server: TelegramServer, client: str, endpoint: str) -> bool:
    """Whether the process ``client`` has called the Bot API's ``endpoint``."""
    return any(call.client == client for call in server.api.sent(endpoint))


def write_big_deck(folder: Path, deck_id: str, count: int) -> Path:
    """A deck file of ``count`` cards in ``folder`` (made), as an operator adds one."""
    folder.mkdir(parents=True, exist_ok=True)
    parts = [f"# A generated deck\nid: {deck_id}\ntags: generated\n"]
    for n in range(count):
        parts.append(
            f"## Card {n}\nid: {deck_id}-{n}\ntags: bulk\n\n"
            f"### Front\nWhat is {n} plus one?\n\n### Back\n{n + 1}.\n"
        )
    path = folder / f"{deck_id}.md"
    path.write_text("\n".join(parts))
    return path


async def due_pushes(tmp_path: Path, postgres_url: str) -> None:
    """An upgraded database with a push due for each of :data:`CHATS`."""
    env = clean_env(STUDYBOT_DATABASE_URL=postgres_url)
    code, _, err = await studybot(tmp_path, "db", "upgrade", env=env)
    assert code == 0, err
    await seed_due_learners(postgres_url, CHATS)


def assert_clean(*processes: Studybot) -> None:
    for bot in processes:
        assert SECRET not in bot.output()
        assert "Traceback" not in bot.output() and " ERROR " not in bot.output(), bot.output()


async def test_one_poller_and_one_sender_push_each_learner_once(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path, postgres_url: str
) -> None:
    """One process polls; the other has ``[telegram] mode = "send_only"``: it sends pushes
    and never asks for updates, so nobody is answered 409."""
    await due_pushes(tmp_path, postgres_url)
    pace = f"[push]\ntelegram_per_second = {PACE}\n"
    sender = new_bot(
        server,
        bots,
        tmp_path,
        "sender",
        telegram='mode = "send_only"\n',
        extra=pace,
        STUDYBOT_DATABASE_URL=postgres_url,
    )
    poller = new_bot(
        server, bots, tmp_path, "poller", extra=pace, STUDYBOT_DATABASE_URL=postgres_url
    )

    await sender.start(wait=False)
    # The first push may draw its card's picture cold (a render worker starting and
    # importing matplotlib): on a loaded machine that took more than the default 20 s.
    await sender.until(
        lambda: pushed(server, "sender"), "a push from the sending process", seconds=60
    )
    await poller.start()
    await poller.until(lambda: len(pushed(server)) == len(CHATS), "a push to every learner")
    chat_id = CHATS[0]
    update = server.updates.message(TgUser(chat_id, "Learner"), "/help")
    await server.send(update)
    await poller.until(partial(answered_by, server, "poller", chat_id), "the poller on /help")
    assert sender.running and poller.running
    # (A poller's stop ends its own long poll, which the stand-in records as a conflict.)
    assert server.conflicts == []
    assert await sender.stop() == 0
    assert await poller.stop() == 0

    assert pushed(server) == dict.fromkeys(CHATS, 1)
    asked = {call.endpoint for call in server.api.calls if call.client == "sender"}
    assert asked.isdisjoint({"getUpdates", "deleteWebhook", "setWebhook", "setMyCommands"})
    assert server.listening("poller") > 0
    assert_clean(sender, poller)


async def test_two_webhook_processes_push_each_learner_once(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path, postgres_url: str
) -> None:
    """Two processes in webhook mode behind one URL: both take updates, and each learner
    gets one push."""
    await due_pushes(tmp_path, postgres_url)
    ports = {"one": free_port(), "two": free_port()}
    one, two = (
        new_bot(
            server,
            bots,
            tmp_path,
            name,
            telegram=webhook_lines(port),
            extra=f"[push]\ntelegram_per_second = {PACE}\n",
            STUDYBOT_DATABASE_URL=postgres_url,
        )
        for name, port in ports.items()
    )

    await one.start()
    await two.start()
    await two.until(lambda: len(pushed(server)) == len(CHATS), "a push to every learner")
    # Both take updates: a learner's /help reaches each through its webhook.
    for bot, chat_id in ((one, CHATS[0]), (two, CHATS[1])):
        update = server.updates.message(TgUser(chat_id, "Learner"), "/help")
        assert await bot.webhook(ports[bot.client], update) == 200
        await bot.until(partial(answered_by, server, bot.client, chat_id), f"{bot.client} on /help")
    assert one.running and two.running
    assert await one.stop() == 0
    assert await two.stop() == 0
    assert pushed(server) == dict.fromkeys(CHATS, 1)
    assert_clean(one, two)


#: Cards in the deck an operator adds before restarting every process: enough that one
#: process's sync still writes when the other's begins (with 3000, the old sync crashed
#: one time in three).
EXTRA_CARDS = 10000


@pytest.mark.parametrize("upgraded", [False, True], ids=["new-database", "deploy"])
async def test_two_processes_start_together(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path, postgres_url: str, upgraded: bool
) -> None:
    """Both upgrade the database (when new) and sync the decks (the shipped ones and ten
    thousand cards more, as a deploy adds them) at the same moment: both start, both stop
    with 0, and each card is there once."""
    if upgraded:
        code, _, err = await studybot(
            tmp_path, "db", "upgrade", env=clean_env(STUDYBOT_DATABASE_URL=postgres_url)
        )
        assert code == 0, err
    write_big_deck(tmp_path / "decks", "generated", EXTRA_CARDS)
    extra = f'[database]\nauto_upgrade = true\n\n[decks]\npaths = ["{tmp_path / "decks"}"]\n'
    poller = new_bot(
        server, bots, tmp_path, "poller", extra=extra, STUDYBOT_DATABASE_URL=postgres_url
    )
    sender = new_bot(
        server,
        bots,
        tmp_path,
        "sender",
        telegram='mode = "send_only"\n',
        extra=extra,
        STUDYBOT_DATABASE_URL=postgres_url,
    )

    await asyncio.gather(poller.start(wait=False), sender.start(wait=False))
    await poller.until(lambda: server.listening("poller") > 0, "the poller takes updates")
    # A process asks getMe once it has synced the decks and starts its platform.
    await sender.until(partial(asked, server, "sender", "getMe"), "the sender starts")
    assert await poller.stop() == 0
    assert await sender.stop() == 0
    assert_clean(poller, sender)

    def catalogue(conn: Connection) -> tuple[int, int]:
        generated = select(func.count()).where(cards.c.deck_id == "generated")
        live_decks = select(func.count()).select_from(decks).where(decks.c.retired_at.is_(None))
        return conn.execute(generated).scalar_one(), conn.execute(live_decks).scalar_one()

    db = SqlDatabase(postgres_url)
    try:
        assert await db.run_connection(catalogue) == (EXTRA_CARDS, 3)  # 2 shipped + 1
    finally:
        await db.dispose()


#: Learners whose review log is large enough for a first fit when the processes start.
FITTED = 6


async def learners_with_long_logs(url: str, count: int) -> None:
    """``count`` learners, each with every shipped card reviewed eight times, a week and
    more apart (1,240 reviews: past the first-fit threshold), on an upgraded database."""
    now = datetime.now(UTC)
    shipped = load_decks([SHIPPED_DECKS]).decks

    def work(tx: Tx) -> None:
        tx.catalogue.sync(shipped, now)
        card_ids = [card.id for deck in shipped for card in deck.cards]
        for n in range(count):
            lid = tx.learners.create(
                "telegram", str(3000 + n), f"L{n}", LearnerSettings(), (), now
            ).id
            for k, card_id in enumerate(card_ids):
                at = now - timedelta(days=200, minutes=k)
                state = CardState(lid, card_id)
                for rep in range(8):
                    rating = 1 if (n + k + rep) % 5 == 0 else 3
                    tx.reviews.add(ReviewEntry(lid, card_id, rating, at, "dm", state, state))
                    at += timedelta(days=3 + 3 * rep)
                tx.schedule.save(
                    CardState(lid, card_id, CardStateKind.REVIEW, None, 9.0, 5.0, now, at)
                )

    db = SqlDatabase(url)
    try:
        await db.run(work)
    finally:
        await db.dispose()


async def test_two_processes_fit_each_learner_once(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path, postgres_url: str
) -> None:
    """Both processes run the fitting timer from their start on one database: each
    learner's model is fitted once (one ``model_fits`` row), whichever process claims it,
    and the next look is set."""
    code, _, err = await studybot(
        tmp_path, "db", "upgrade", env=clean_env(STUDYBOT_DATABASE_URL=postgres_url)
    )
    assert code == 0, err
    await learners_with_long_logs(postgres_url, FITTED)
    poller = new_bot(server, bots, tmp_path, "poller", STUDYBOT_DATABASE_URL=postgres_url)
    sender = new_bot(
        server,
        bots,
        tmp_path,
        "sender",
        telegram='mode = "send_only"\n',
        STUDYBOT_DATABASE_URL=postgres_url,
    )
    await asyncio.gather(poller.start(wait=False), sender.start(wait=False))

    def fits_logged() -> bool:
        return (poller.output() + sender.output()).count(" reviews, log loss ") >= FITTED

    await poller.until_proc(fits_logged, "a fit of every learner", seconds=60)
    assert await poller.stop() == 0
    assert await sender.stop() == 0
    assert_clean(poller, sender)

    def fits(conn: Connection) -> tuple[dict[int, int], int]:
        per_learner = select(model_fits.c.learner_id, func.count()).group_by(
            model_fits.c.learner_id
        )
        looked = select(func.count()).where(learners.c.next_fit_at > func.now())
        return {lid: n for lid, n in conn.execute(per_learner)}, conn.execute(looked).scalar_one()

    db = SqlDatabase(postgres_url)
    try:
        per_learner, looked = await db.run_connection(fits)
    finally:
        await db.dispose()
    assert sorted(per_learner.values()) == [1] * FITTED
    assert looked == FITTED
