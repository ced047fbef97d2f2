"""The render worker's life in the real ``studybot run`` process.

The bot takes updates without a render worker (nor matplotlib in its own process);
a card whose image is in the disk cache (``<data_dir>/render-cache``) is shown
without one; the first image in no cache starts one; after ``[render]
worker_idle_seconds`` without a job it exits, and the next cold render starts
another. Every wait is on ``/proc`` or on the fake Bot API's calls, with a deadline.
"""

from __future__ import annotations

from pathlib import Path

from bot.core.rendering import RenderedImage
from bot.render.cache import DiskCache, cache_dir_for, cache_key
from bot.render.style import DEFAULT_STYLE
from tests.e2e.process.harness import (
    Chat,
    Studybot,
    clean_env,
    new_bot,
    not_info,
    seed_due_learners,
    studybot,
)
from tests.e2e.process.telegram_server import TelegramServer
from tests.e2e.telegram.fake import Call, TgUser

ANA = TgUser(101, "Ana", "ana")
BEA = TgUser(102, "Bea", "bea")
CY = TgUser(103, "Cy", "cy")
#: Cards whose front is an image (``front-image:``), one per learner.
CARDS = {ANA.id: "att-wk-shape", BEA.id: "att-wq-shape", CY.id: "att-wv-shape"}
#: What the disk cache holds for Ana's card: a 1 x 1 PNG no renderer draws.
CACHED_PNG = (
    b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00\x00\x01\x00\x00\x00\x01\x08\x06\x00\x00\x00"
    b"\x1f\x15\xc4\x89\x00\x00\x00\rIDATx\x9cc\xf8\x0f\x00\x00\x01\x01\x00\x05\x18\xd8N"
    b"\x00\x00\x00\x00IEND\xaeB`\x82"
)
#: Short enough to see the worker leave, long enough to see it first.
IDLE_SECONDS = 5
RENDER = f"[database]\nauto_upgrade = true\n\n[render]\nworker_idle_seconds = {IDLE_SECONDS}\n"


def front_image(deck_card: str) -> tuple[str, str]:
    """(kind, spec) of a shipped attention card's front image."""
    from bot.deckfiles import SHIPPED_DECKS, load_decks

    [deck] = load_decks([SHIPPED_DECKS / "attention.md"]).decks
    [card] = [c for c in deck.cards if c.id == deck_card]
    assert card.front_image is not None
    return card.front_image.kind, card.front_image.source


async def seeded(tmp_path: Path) -> None:
    """A database with Ana, Bea and Cy, each with their card due (no push due), and Ana's
    card's image in the disk cache."""
    url = f"sqlite+aiosqlite:///{tmp_path / 'data' / 'studybot.sqlite3'}"
    code, _, err = await studybot(
        tmp_path, "db", "upgrade", env=clean_env(STUDYBOT_DATABASE_URL=url)
    )
    assert code == 0, err
    for chat_id, card in CARDS.items():
        await seed_due_learners(url, [chat_id], card_id=card, push_due=False)
    key = cache_key(*front_image(CARDS[ANA.id]), DEFAULT_STYLE)
    DiskCache(cache_dir_for(tmp_path / "data")).put(RenderedImage(CACHED_PNG, 1, 1, key))


async def photo_for(bot: Studybot, chat: Chat) -> Call:
    """Send /review and wait for the card's photo; returns the sendPhoto call."""
    await chat.say(bot, "/review", lambda: chat.api.sent("sendPhoto", chat.user.id))
    [call] = chat.api.sent("sendPhoto", chat.user.id)
    return call


async def test_the_render_worker_starts_on_a_cold_render_and_leaves_when_idle(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path
) -> None:
    await seeded(tmp_path)
    bot = new_bot(server, bots, tmp_path, extra=RENDER)
    await bot.start()
    # Taking updates, and nothing else runs: no render worker, no resource tracker.
    assert bot.in_session() == []
    assert not bot.mapped("matplotlib"), "matplotlib is loaded in the bot's process"

    # A card whose image is in the disk cache: that PNG is sent, no worker starts.
    call = await photo_for(bot, Chat(server, ANA))
    assert call.files["photo"][1] == CACHED_PNG
    assert bot.in_session() == []

    # An image in no cache starts a worker, drawn there.
    call = await photo_for(bot, Chat(server, BEA))
    assert call.files["photo"][1] != CACHED_PNG
    [first] = await bot.until_proc(bot.render_workers, "a render worker", seconds=2)
    assert not bot.mapped("matplotlib")

    # No job for IDLE_SECONDS: it exits.
    await bot.until_proc(lambda: first not in bot.render_workers(), "the idle worker gone")
    assert bot.render_workers() == []

    # The next cold render starts another.
    await photo_for(bot, Chat(server, CY))
    [second] = await bot.until_proc(bot.render_workers, "a new render worker", seconds=2)
    assert second != first

    assert await bot.stop() == 0
    assert bot.left_behind() == []
    output = bot.output()
    assert not_info(output) == [], output
    assert output.count("starting the render worker") == 2, output
    assert f"stopping the render worker: no job for {IDLE_SECONDS} s" in output
