"""Telegram end to end, offline: the real PTB Application over a fake Bot API.

Each test builds the whole app (SQLite in tmp_path, shipped decks, fixed
clock), starts the Telegram platform with long polling against the fake, and
feeds it raw update JSON as Telegram sends it.
"""

from __future__ import annotations

import json
import logging
from collections import Counter
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from telegram.ext import Updater

from bot.core.learners import Who
from bot.core.messages import Reply
from bot.core.model import OutboxMessage
from bot.core.ports import Delivery, DeliveryRetry, Tx
from bot.core.study import EXPIRED_TEXT, NO_DECKS_TEXT
from bot.platforms.telegram.callbacks import SENT_PRIVATELY
from bot.platforms.telegram.errors import SORRY
from bot.platforms.telegram.sending import NETWORK_ATTEMPTS
from tests.e2e.telegram.fake import (
    BOT_USERNAME,
    TOKEN,
    Call,
    FakeBotAPI,
    TgUser,
    button_data,
    rich_text,
    utf16,
)
from tests.e2e.telegram.harness import GROUP, FakeRenderer, Harness, telegram_bot, tiny_png
from tests.fakes.metrics import RecordingMetrics
from tests.unit.core.test_mediaimages import SVG, picture

ANA = TgUser(101, "Ana", "ana")
BEN = TgUser(102, "Ben")
CAT = TgUser(103, "Cat", "cat")
MALLORY = TgUser(666, "Mallory")

PNG = b"\x89PNG\r\n\x1a\n"
SIDES = Path(__file__).resolve().parents[2] / "data" / "image_sides"
#: The images of tests/data/image_sides: the question's and the answer's of sides-both,
#: and the answer's of sides-back.
ASKED = "Q[n,d_k] @ K^T[?,?] -> S[?,?]; n=6, d_k=4"
SHOWN = "Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4"
BACK_ONLY = "X[n,d_model] @ W_K[d_model,d_k] -> K[n,d_k]; n=6, d_model=8, d_k=4"


def texts(calls: list[Call]) -> list[str]:
    return [c.plain for c in calls]


def assert_all_answered(bot: Harness) -> None:
    """Every callback query the bot got was answered exactly once."""
    asked = {c.params["callback_query_id"] for c in bot.api.sent("answerCallbackQuery")}
    assert len(asked) == len(bot.api.sent("answerCallbackQuery"))


async def onboard(bot: Harness, user: TgUser, topic: str | None = None) -> None:
    """/start, then tap UTC, 09:00 and All decks; optionally study one topic."""
    await bot.send(user, "/start")
    await bot.tap(user, bot.api.message_with_button(user.id, "UTC"), "UTC")
    await bot.tap(user, bot.api.message_with_button(user.id, "09:00"), "09:00")
    await bot.tap(user, bot.api.message_with_button(user.id, "All decks"), "All decks")
    if topic:
        await bot.send(user, f"/decks {topic}")


async def add_push(bot: Harness, learner_id: int, card_id: str) -> None:
    """Put a daily push of ``card_id`` for the learner in the outbox, as a push tick does."""
    now = bot.clock.now()
    push = OutboxMessage(
        platform="telegram",
        learner_id=learner_id,
        kind="push",
        text="1 card is due: about 1 minute.",
        created_at=now,
        not_before=now,
        card_id=card_id,
        prompt_token="pushTok000000001",
        due_count=1,
    )
    await bot.app.db.run(lambda tx: tx.pushes.add_outbox([push]))


def no_errors(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


# ---------------------------------------------------------------------- start, menus, modes


async def test_start_registers_menus_per_scope_and_polls(tmp_path: Path) -> None:
    async with telegram_bot(tmp_path) as bot:
        menus = {
            c.params["scope"]["type"]: c.params["commands"] for c in bot.api.sent("setMyCommands")
        }
        private = {c["command"] for c in menus["all_private_chats"]}
        group = {c["command"] for c in menus["all_group_chats"]}
        assert {
            "start",
            "review",
            "stats",
            "settings",
            "decks",
            "undo",
            "pause",
            "resume",
            "export",
            "forget",
            "help",
        } <= private
        assert group == {"quiz", "challenge", "help"}
        assert bot.api.sent("deleteWebhook"), "long polling starts by dropping any webhook"
        assert bot.platform.application.updater is not None
        assert bot.platform.application.updater.running
    assert not bot.platform.application.running


async def test_webhook_mode_uses_the_configured_url_and_secret(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: dict[str, Any] = {}

    async def fake_start_webhook(self: Updater, **kwargs: Any) -> None:
        seen.update(kwargs)

    monkeypatch.setattr(Updater, "start_webhook", fake_start_webhook)
    async with telegram_bot(tmp_path, mode="webhook"):
        pass
    assert seen["webhook_url"] == "https://bot.example.org/telegram/hook"
    assert seen["url_path"] == "telegram/hook"
    assert seen["secret_token"] == "hook-secret"
    assert (seen["listen"], seen["port"]) == ("127.0.0.1", 8443)


# ---------------------------------------------------------------------- onboarding


async def test_onboarding_by_buttons_and_typing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path) as bot:
        await bot.send(ANA, "/start")
        intro = texts(bot.api.sent("sendMessage", ANA.id))
        assert "spaced repetition" in intro[0]
        question = bot.api.last_message(ANA.id)
        labels = [b["text"] for row in question["reply_markup"]["inline_keyboard"] for b in row]
        assert {"UTC", "London", "New York", "India", "Tokyo"} <= set(labels)

        await bot.tap(ANA, question, "Paris / Berlin")
        edited = bot.api.sent("editMessageText", ANA.id)[-1]
        assert "Time zone: Europe/Berlin" in edited.plain
        assert bot.api.last_message(ANA.id)["reply_markup"]  # the reminder question

        await bot.send(ANA, "7:30")  # typed instead of tapped
        assert "Daily reminder: 07:30" in texts(bot.api.sent("sendMessage", ANA.id))[-2]
        decks = bot.api.last_message(ANA.id)
        await bot.tap(ANA, decks, "Attention")
        assert "Studying attention" in bot.api.sent("editMessageText", ANA.id)[-1].plain
        done = bot.api.last_message(ANA.id)
        assert "All set" in rich_text(done)

        rows = bot.query(
            "SELECT s.timezone, s.push_time, s.topics FROM learner_settings s "
            "JOIN learners l ON l.id = s.learner_id WHERE l.platform_user_id = ?",
            str(ANA.id),
        )
        assert rows == [("Europe/Berlin", "07:30", "attention")]

        # "Start reviewing" shows the first card of the chosen deck.
        await bot.tap(ANA, done, "Start reviewing")
        assert "What attention is for" in rich_text(bot.api.last_message(ANA.id))

        # /settings redoes one step; a typed zone is validated by the core.
        await bot.send(ANA, "/settings")
        assert "timezone: Europe/Berlin" in rich_text(bot.api.last_message(ANA.id))
        await bot.tap(ANA, bot.api.last_message(ANA.id), "Time zone")
        await bot.send(ANA, "Atlantis/Lost_City")
        assert "not a time zone I know" in rich_text(bot.api.last_message(ANA.id))
        await bot.send(ANA, "new york")
        assert "timezone: America/New_York" in rich_text(bot.api.last_message(ANA.id))
        await bot.send(ANA, "hello")  # nothing asked any more: a hint
        assert "/review" in rich_text(bot.api.last_message(ANA.id))
        assert_all_answered(bot)
    no_errors(caplog)


# ---------------------------------------------------------------------- reviewing


async def test_review_three_cards_with_a_shape_photo_on_the_back(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A card's ``image:`` belongs to its back: a text question gets the drawing with the
    answer, carrying the ratings. A card that poses its question with a ``front-image:``
    (the shipped W_K and W_Q cards ask for the shapes with ``?``) comes as that photo,
    which turns into the answer's drawing."""
    async with telegram_bot(tmp_path, rich=False) as bot:
        await onboard(bot, ANA, "shapes")
        bot.api.clear()
        await bot.send(ANA, "/review")
        assert not bot.api.sent("sendPhoto", ANA.id), "the drawing would give the answer away"
        [front_call] = bot.api.sent("sendMessage", ANA.id)
        assert "Where the keys come from" in front_call.plain
        assert [label for label, _ in front_call.buttons] == [
            "Show answer",
            "Bury until tomorrow",
            "Suspend",
        ]

        front = bot.api.last_message(ANA.id)
        assert "photo" not in front
        await bot.tap(ANA, front, "Show answer")
        # A text message cannot become a photo: the back's photo takes the front's place.
        assert (ANA.id, front["message_id"]) not in bot.api.messages
        photo = bot.api.last_message(ANA.id)
        assert "photo" in photo and "Answer" in photo["caption"]
        assert "Where the keys come from" in photo["caption"]
        labels = [b["text"] for row in photo["reply_markup"]["inline_keyboard"] for b in row]
        assert [label.split()[0] for label in labels] == ["Again", "Hard", "Good", "Easy"]
        await bot.tap(ANA, photo, "Good")

        for n, title in ((2, "The size of W_K"), (3, "The size of W_Q")):
            # The rated photo became the next question's own drawing, with its unknowns,
            # under the rating's outcome.
            front = bot.api.messages[(ANA.id, photo["message_id"])]
            assert "photo" in front, "the question's own drawing, with its unknowns"
            assert front["caption"].startswith("Good: see it again in")
            assert title in front["caption"] and "Answer" not in front["caption"]
            await bot.tap(ANA, front, "Show answer")
            back = bot.api.messages[(ANA.id, photo["message_id"])]
            assert back["photo"] != front["photo"] and "Answer" in back["caption"]
            labels = [b["text"] for row in back["reply_markup"]["inline_keyboard"] for b in row]
            assert [label.split()[0] for label in labels] == ["Again", "Hard", "Good", "Easy"]
            await bot.tap(ANA, back, "Good")
            assert bot.query("SELECT count(*) FROM review_logs")[0][0] == n
        nxt = bot.api.messages[(ANA.id, photo["message_id"])]
        assert "The size of W_V" in nxt["caption"] and "Good: see it again in" in nxt["caption"]

        # The first answer's drawing was sent; every later one was an edit of that photo:
        # the two questions' drawings, their answers and the next question's (W_V's
        # shapes, asked with ``?`` too).
        [sent] = bot.api.sent("sendPhoto", ANA.id)
        filename, data, _ = sent.files["photo"]
        assert data.startswith(PNG) and filename.endswith(".png")
        edits = bot.api.sent("editMessageMedia", ANA.id)
        assert len(edits) == 5
        # W_K's answer is the drawing the first card's answer showed: sent by file_id, not
        # uploaded again; the others are new.
        assert edits[1].params["media"]["media"] == "photo-1" and not edits[1].files
        assert all(e.files for i, e in enumerate(edits) if i != 1)
        assert not bot.api.sent("editMessageText|editMessageCaption", ANA.id)
        assert len(bot.api.sent("deleteMessage", ANA.id)) == 1

        await bot.send(ANA, "/stats")
        chart = bot.api.sent("sendPhoto", ANA.id)[-1]
        assert "Reviewed today: 3" in chart.plain
        assert "photo" in chart.files, "the chart is a photo with the numbers as its caption"
        assert_all_answered(bot)
    no_errors(caplog)


async def test_each_side_of_a_card_shows_its_own_image(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The question's image comes with the front, the answer's with the back, and the
    answer's never sits above an unrevealed question: a photo becomes the back's image
    (editMessageMedia), keeps the question's when the back has none, and a text front
    gets the back's image with the back."""
    async with telegram_bot(tmp_path, extra_decks=[SIDES], fake_renderer=True, rich=False) as bot:
        drawn = bot.app.renderer
        assert isinstance(drawn, FakeRenderer)
        await onboard(bot, ANA, "sides")
        bot.api.clear()
        drawn.calls.clear()

        # Both sides: the question's photo, then the answer's in its place.
        await bot.send(ANA, "/review")
        [photo] = bot.api.sent("sendPhoto", ANA.id)
        assert photo.files["photo"][1] == tiny_png(f"shape {ASKED}")
        assert "Fill in the shapes" in photo.plain and "Answer" not in photo.plain
        assert drawn.calls == [("card", f"shape {ASKED}")], "nothing of the back is drawn yet"
        front = bot.api.last_message(ANA.id)
        await bot.tap(ANA, front, "Show answer")
        [edit] = bot.api.sent("editMessageMedia", ANA.id)
        media = edit.params["media"]
        assert media["type"] == "photo" and media["parse_mode"] == "HTML"
        field = media["media"].removeprefix("attach://")
        assert edit.files[field][1] == tiny_png(f"shape {SHOWN}")
        back = bot.api.messages[(ANA.id, front["message_id"])]
        assert back["photo"] != front["photo"]
        assert "Fill in the shapes" in back["caption"] and "Answer" in back["caption"]
        labels = [b["text"] for row in back["reply_markup"]["inline_keyboard"] for b in row]
        assert [label.split()[0] for label in labels] == ["Again", "Hard", "Good", "Easy"]
        await bot.tap(ANA, back, "Good")

        # A front image only: the rated photo becomes the next question's photo, under the
        # rating's outcome; on reveal the question's photo stays, its caption the back.
        front = bot.api.messages[(ANA.id, front["message_id"])]
        assert front["caption"].startswith("Good: see it again in")
        assert "Complete the formula" in front["caption"]
        edits = bot.api.sent("editMessageMedia", ANA.id)
        assert len(edits) == 2
        field = edits[-1].params["media"]["media"].removeprefix("attach://")
        assert edits[-1].files[field][1] == tiny_png(r"formula \mathrm{Attention}(Q,K,V) = ?")
        await bot.tap(ANA, front, "Show answer")
        assert len(bot.api.sent("editMessageMedia")) == 2
        back = bot.api.messages[(ANA.id, front["message_id"])]
        assert back["photo"] == front["photo"] and "Answer" in back["caption"]
        await bot.tap(ANA, back, "Good")

        # The back's image only: a text question, which a photo cannot become: it is sent
        # (the outcome on top) and the photo deleted; on reveal the answer's photo takes
        # the question's place.
        assert (ANA.id, back["message_id"]) not in bot.api.messages
        front = bot.api.last_message(ANA.id)
        assert "photo" not in front and "key matrix" in front["text"]
        assert front["text"].startswith("Good: see it again in")
        photos = len(bot.api.sent("sendPhoto", ANA.id))
        await bot.tap(ANA, front, "Show answer")
        assert (ANA.id, front["message_id"]) not in bot.api.messages
        [answer_photo] = bot.api.sent("sendPhoto", ANA.id)[photos:]
        assert "Answer" in answer_photo.plain and "key matrix" in answer_photo.plain
        assert answer_photo.files["photo"][1] == tiny_png(f"shape {BACK_ONLY}")
        labels = [label.split()[0] for label, _ in answer_photo.buttons]
        assert labels == ["Again", "Hard", "Good", "Easy"]
        assert [spec for _, spec in drawn.calls] == [
            f"shape {ASKED}",
            f"shape {SHOWN}",
            r"formula \mathrm{Attention}(Q,K,V) = ?",
            f"shape {BACK_ONLY}",
        ]
        assert bot.query("SELECT count(*) FROM review_logs") == [(2,)]
        assert_all_answered(bot)
    no_errors(caplog)


async def test_an_imported_image_is_sent_as_stored_or_named_when_it_cannot_be(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An imported card's JPEG goes as it is stored (the platform never hears of the
    database); its SVG answer cannot be a photo, so the answer's text names it."""
    async with telegram_bot(tmp_path, extra_decks=[SIDES], fake_renderer=True) as bot:
        drawn = bot.app.renderer
        assert isinstance(drawn, FakeRenderer)
        await onboard(bot, ANA, "sides")
        lid = bot.learner_id(ANA)
        jpeg = picture("JPEG", (33, 17))
        now = bot.app.clock.now()

        def store(tx: Tx) -> None:
            tx.media.put(lid or 0, "cell.jpg", "image/jpeg", jpeg, now)
            tx.media.put(lid or 0, "cell.svg", "image/svg+xml", SVG, now)

        await bot.app.db.run(store)
        bot.query(
            "UPDATE cards SET front_image_kind = 'media', front_image_spec = ?, "
            "image_kind = 'media', image_spec = ? WHERE id = 'sides-both'",
            f"{lid}/cell.jpg",
            f"{lid}/cell.svg",
        )
        bot.api.clear()
        drawn.calls.clear()

        await bot.send(ANA, "/review")
        [photo] = bot.api.sent("sendPhoto", ANA.id)
        filename, data, _ = photo.files["photo"]
        assert data == jpeg and filename.endswith(".jpg")
        assert "Fill in the shapes" in photo.plain and "[image:" not in photo.plain
        front = bot.api.last_message(ANA.id)
        await bot.tap(ANA, front, "Show answer")
        # A photo cannot lose its picture: the question's stays, the caption names the
        # answer's image.
        back = bot.api.messages[(ANA.id, front["message_id"])]
        assert back["photo"] == front["photo"] and "Answer" in back["caption"]
        assert "[image: cell.svg]" in back["caption"]
        assert drawn.calls == [], "nothing imported reaches the renderer"
        assert_all_answered(bot)
    no_errors(caplog)


async def test_the_fake_api_edits_media_as_telegram_does() -> None:
    """editMessageMedia (what a reveal uses) refuses what Telegram refuses."""
    api = FakeBotAPI()

    async def call(endpoint: str, params: dict[str, Any], files: Any = None) -> Any:
        status, body = await api.call(endpoint, params, files)
        answer = json.loads(body)
        return answer["result"] if status == 200 else answer["description"]

    text = await call("sendMessage", {"chat_id": 1, "text": "question"})
    photo = await call("sendPhoto", {"chat_id": 1, "photo": "x"}, {"photo": ("a.png", b"", "")})
    upload = {"type": "photo", "media": "attach://pic", "caption": "<b>answer</b>"}
    upload["parse_mode"] = "HTML"
    files = {"pic": ("b.png", PNG, "image/png")}

    def edit(message: dict[str, Any], media: dict[str, Any]) -> dict[str, Any]:
        return {"chat_id": 1, "message_id": message["message_id"], "media": media}

    refused = await call("editMessageMedia", edit(text, upload), files)
    assert refused == "Bad Request: there is no media in the message to edit"
    assert await call("editMessageMedia", edit(photo, upload)) == (
        "Bad Request: wrong file identifier/HTTP URL specified"
    ), "the upload is missing"
    assert "wrong file identifier" in await call(
        "editMessageMedia", edit(photo, {"type": "photo", "media": "no-such-file"})
    )
    edited = await call("editMessageMedia", edit(photo, upload), files)
    assert edited["caption"] == "answer" and edited["photo"][0]["file_id"] == "photo-2"
    again = {**upload, "media": "photo-2"}
    assert "message is not modified" in await call("editMessageMedia", edit(photo, again))
    long = {**again, "caption": "x" * 1025}
    assert await call("editMessageMedia", edit(photo, long)) == (
        "Bad Request: message caption is too long"
    )


async def test_without_a_renderer_images_become_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, renderer=False, rich=False) as bot:
        await onboard(bot, ANA, "shapes")
        bot.api.clear()
        await bot.send(ANA, "/review")
        front = bot.api.sent("sendMessage", ANA.id)[-1]
        shape = "X[n,d_model] · W_K[d_model,d_k] → K[n,d_k]  (n=6, d_model=8, d_k=4)"
        assert shape not in front.plain, "the back's image is not shown with the question"
        await bot.tap(ANA, bot.api.last_message(ANA.id), "Show answer")
        assert not bot.api.sent("sendPhoto")
        back = bot.api.sent("editMessageText", ANA.id)[-1]
        assert f"Answer\n{shape}\n\n" in back.plain
        await bot.send(ANA, "/stats")
        stats, model = bot.api.sent("sendMessage", ANA.id)[-2:]
        assert "Due today" in stats.plain and "Predicted vs actual recall" in model.plain
    no_errors(caplog)


async def test_undo_restores_the_card(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    async with telegram_bot(tmp_path) as bot:
        await onboard(bot, ANA, "attention")
        await bot.send(ANA, "/review")
        front = bot.api.last_message(ANA.id)
        await bot.tap(ANA, front, "Show answer")
        await bot.tap(ANA, bot.api.messages[(ANA.id, front["message_id"])], "Easy")
        assert bot.query("SELECT count(*) FROM card_states")[0][0] == 1

        await bot.send(ANA, "/undo")
        shown = bot.api.last_message(ANA.id)
        assert "Undid Easy on “What attention is for”" in rich_text(shown)
        assert button_data(shown, "Show answer").startswith("s:")
        assert bot.query("SELECT count(*) FROM card_states")[0][0] == 0
        assert bot.query("SELECT count(*) FROM review_logs WHERE undone_at IS NOT NULL")[0][0] == 1

        await bot.send(ANA, "/undo")
        assert "nothing to undo" in rich_text(bot.api.last_message(ANA.id))
    no_errors(caplog)


async def test_review_without_any_deck_says_so(tmp_path: Path) -> None:
    async with telegram_bot(tmp_path, shipped=False, renderer=False) as bot:
        await bot.send(ANA, "/review")
        [answer] = bot.api.sent("sendMessage", ANA.id)
        assert answer.plain == NO_DECKS_TEXT


async def test_double_tap_and_forged_callbacks_record_one_review(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path) as bot:
        await onboard(bot, ANA, "attention")
        await bot.send(MALLORY, "/start")
        await bot.send(ANA, "/review")
        front = bot.api.last_message(ANA.id)
        await bot.tap(ANA, front, "Show answer")
        back = bot.api.messages[(ANA.id, front["message_id"])]
        good = button_data(back, "Good")

        await bot.tap_data(ANA, back, good)
        first_next = bot.api.last_message(ANA.id)
        second = await bot.tap_data(ANA, back, good)  # the same button again
        answers = {c.params["callback_query_id"]: c for c in bot.api.sent("answerCallbackQuery")}
        assert answers[second].params["text"] == EXPIRED_TEXT
        assert bot.api.last_message(ANA.id) == first_next, "a double tap sends nothing new"

        # Mallory replays Ana's rating of the next card and invents a payload.
        await bot.tap(ANA, first_next, "Show answer")
        next_back = bot.api.messages[(ANA.id, first_next["message_id"])]
        stolen = await bot.tap_data(MALLORY, next_back, button_data(next_back, "Again"))
        forged = await bot.tap_data(MALLORY, next_back, "r:AAAAAAAAAAAAAAAA:4")
        garbage = await bot.tap_data(MALLORY, next_back, "not-a-payload")
        answers = {c.params["callback_query_id"]: c for c in bot.api.sent("answerCallbackQuery")}
        for query_id in (stolen, forged, garbage):
            assert answers[query_id].params["text"] == EXPIRED_TEXT

        ana, mallory = bot.learner_id(ANA), bot.learner_id(MALLORY)
        assert bot.query("SELECT count(*) FROM review_logs WHERE learner_id = ?", ana) == [(1,)]
        assert bot.query("SELECT count(*) FROM review_logs WHERE learner_id = ?", mallory) == [(0,)]
        assert bot.query("SELECT count(*) FROM card_states WHERE learner_id = ?", mallory) == [(0,)]
        # Ana's card is still waiting for her own rating.
        assert "reply_markup" in bot.api.messages[(ANA.id, first_next["message_id"])]
        assert_all_answered(bot)
    no_errors(caplog)


def shown(message: dict[str, Any]) -> str:
    """What a person reads: a message's text or caption, or a rich message's text."""
    return rich_text(message)


async def review_until_done(bot: Harness, user: TgUser, rating: str = "Easy") -> None:
    """Reveal and rate each card shown in the private chat until none comes."""
    for _ in range(20):
        card = bot.api.last_message(user.id)
        if "Show answer" not in [label for label, _ in card_buttons(card)]:
            return
        await bot.tap(user, card, "Show answer")
        await bot.tap(user, bot.api.message_with_button(user.id, rating), rating)
    raise AssertionError("the cards did not run out")


def card_buttons(message: dict[str, Any]) -> list[tuple[str, str]]:
    rows = message.get("reply_markup", {}).get("inline_keyboard", [])
    return [(b["text"], b.get("callback_data", "")) for row in rows for b in row]


async def test_a_push_session_ends_after_its_size_and_done_for_today_comes_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """A daily push starts a session of ``per_push`` cards: after that many ratings comes
    "That was today's session", and no further card (today's old path asked for the next
    card once more after a "done" reply, so the session went on, and "Done for today"
    came twice: in the rated card's note and as a message of its own)."""
    async with telegram_bot(tmp_path, renderer=False) as bot:
        await onboard(bot, ANA, "attention")
        await bot.send(ANA, "/settings new 4")
        await bot.send(ANA, "/settings per_push 2")
        assert "per_push: 2" in bot.api.last_message(ANA.id)["text"]
        # Four new cards studied: each is due again in ten minutes.
        await bot.send(ANA, "/review")
        for _ in range(4):
            front = bot.api.last_message(ANA.id)
            await bot.tap(ANA, front, "Show answer")
            await bot.tap(ANA, bot.api.messages[(ANA.id, front["message_id"])], "Good")
        assert bot.query("SELECT count(*) FROM review_logs") == [(4,)]

        # The daily push (09:00) finds the four due; its session is two cards.
        bot.clock.advance(timedelta(hours=1, minutes=5))
        assert await bot.app.pushes.tick(["telegram"]) == 1
        assert await bot.app.pushes.drain("telegram", bot.platform.push) == 1
        push = bot.api.message_with_button(ANA.id, "Snooze")
        assert "4 cards due. Today's session: 2" in shown(push)
        await bot.tap(ANA, push, "Show answer")
        await bot.tap(ANA, bot.api.messages[(ANA.id, push["message_id"])], "Good")
        # The push's card became the next card, under the rating's outcome.
        second = bot.api.last_message(ANA.id)
        assert second["message_id"] == push["message_id"]
        assert shown(second).startswith("Good: see it again in")
        await bot.tap(ANA, second, "Show answer")
        sent = len(bot.api.sent("sendMessage|sendRichMessage|sendPhoto", ANA.id))
        await bot.tap(ANA, bot.api.messages[(ANA.id, second["message_id"])], "Good")

        # The session's end takes the rated card's place: no card after it.
        rated = bot.api.messages[(ANA.id, second["message_id"])]
        assert shown(rated).startswith("Good: see it again in") and "reply_markup" not in rated
        assert "That was today's session of 2 cards" in shown(rated)
        assert not bot.api.sent("sendMessage|sendRichMessage|sendPhoto", ANA.id)[sent:]
        assert bot.api.last_message(ANA.id) == rated
        assert bot.query("SELECT count(*) FROM review_logs WHERE source = 'push'") == [(2,)]

        # Going on by hand until the day's cards run out: "Done for today" comes once.
        await bot.send(ANA, "/review")
        await review_until_done(bot, ANA)
        done = [m for m in bot.api.messages_in(ANA.id) if "Done for today" in shown(m)]
        assert len(done) == 1
        assert done[0] == bot.api.last_message(ANA.id)
        assert_all_answered(bot)
    no_errors(caplog)


# ---------------------------------------------------------------------- groups


async def test_group_quiz_with_a_member_who_never_started_the_bot(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path) as bot:
        await onboard(bot, ANA)
        await onboard(bot, BEN)
        for endpoint in ("sendMessage", "sendRichMessage"):
            bot.api.fail(endpoint, "never_started", chat_id=CAT.id, times=99)

        await bot.send(ANA, "/quiz attention", GROUP)
        quiz = bot.api.message_with_button(GROUP, "Reveal")
        assert "Quiz on attention" in shown(quiz)

        for member in (ANA, BEN):
            before = len(bot.api.sent("sendMessage|sendRichMessage|sendPhoto", member.id))
            query = await bot.tap_data(member, quiz, button_data(quiz, "Reveal"))
            answer = next(
                c
                for c in bot.api.sent("answerCallbackQuery")
                if c.params["callback_query_id"] == query
            )
            assert answer.params["text"] == SENT_PRIVATELY
            assert (
                len(bot.api.sent("sendMessage|sendRichMessage|sendPhoto", member.id)) == before + 1
            )
            private = bot.api.message_with_button(member.id, "Good")
            assert "From the group quiz" in shown(private)

        query = await bot.tap_data(CAT, quiz, button_data(quiz, "Reveal"))
        answer = next(
            c for c in bot.api.sent("answerCallbackQuery") if c.params["callback_query_id"] == query
        )
        assert answer.params["show_alert"] is True
        assert answer.params["url"] == f"https://t.me/{BOT_USERNAME}?start=quiz"
        assert bot.query(
            "SELECT unreachable FROM learners WHERE platform_user_id = ?", str(CAT.id)
        ) == [(1,)]

        group_posts = len(bot.api.sent("sendMessage|sendRichMessage", GROUP))
        await bot.tap(ANA, bot.api.message_with_button(ANA.id, "Good"), "Good")
        await bot.tap(BEN, bot.api.message_with_button(BEN.id, "Easy"), "Easy")
        rated = bot.api.last_message(BEN.id)
        assert "Counted in your own schedule" in shown(rated)
        assert len(bot.api.sent("sendMessage|sendRichMessage", GROUP)) == group_posts, (
            "Cat has not rated yet"
        )
        sources = bot.query("SELECT source FROM review_logs")
        assert sources == [("quiz",), ("quiz",)]

        # The window ends: the sweep posts the answer and the tally, once.
        bot.clock.advance(timedelta(minutes=11))
        assert await bot.app.quiz.sweep() == 1
        assert await bot.app.quiz.sweep() == 0
        result = bot.api.sent("sendMessage|sendRichMessage", GROUP)[-1].plain
        assert "Quiz answer. 3 took part" in result
        assert "Good 1 · Easy 1 · 1 did not rate" in result
        assert "Answer" in result

        # Cat starts the bot from the link; next round closes as soon as all three rated.
        bot.api.failures.clear()
        refused = len(bot.api.sent("sendMessage", CAT.id))
        await bot.send(CAT, "/start quiz")
        assert "tap Reveal again" in texts(bot.api.sent("sendMessage", CAT.id))[refused]
        assert bot.query(
            "SELECT unreachable FROM learners WHERE platform_user_id = ?", str(CAT.id)
        ) == [(0,)]
        await bot.send(BEN, "/quiz attention", GROUP)
        quiz2 = bot.api.message_with_button(GROUP, "Reveal")
        assert quiz2["message_id"] != quiz["message_id"]
        for member in (ANA, BEN, CAT):
            await bot.tap(member, quiz2, "Reveal")
        posts = len(bot.api.sent("sendMessage|sendRichMessage", GROUP))
        for member, rating in ((ANA, "Again"), (BEN, "Good"), (CAT, "Hard")):
            await bot.tap(member, bot.api.message_with_button(member.id, rating), rating)
        assert len(bot.api.sent("sendMessage|sendRichMessage", GROUP)) == posts + 1
        assert (
            "3 took part · Again 1 · Hard 1 · Good 1 · Easy 0"
            in bot.api.sent("sendMessage|sendRichMessage", GROUP)[-1].plain
        )

        # A Reveal after the round is over only gets an answer.
        await bot.tap(ANA, quiz2, "Reveal")
        assert "over" in bot.api.sent("answerCallbackQuery")[-1].params["text"]
        assert_all_answered(bot)
    no_errors(caplog)


async def test_commands_in_the_wrong_place_and_unknown_ones(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path) as bot:
        await bot.send(ANA, "/review", GROUP)
        pointer = bot.api.sent("sendMessage", GROUP)[-1]
        assert "private chat" in pointer.plain
        assert f"https://t.me/{BOT_USERNAME}" in pointer.html
        assert bot.learner_id(ANA) is None, "nothing happened in the core"

        await bot.send(ANA, "/quiz nosuchtopic", GROUP)
        assert "no cards on “nosuchtopic”" in bot.api.sent("sendMessage", GROUP)[-1].plain
        assert "attention" in bot.api.sent("sendMessage", GROUP)[-1].plain

        calls = len(bot.api.calls)
        await bot.send(ANA, "/frobnicate", GROUP)  # perhaps another bot's: stay quiet
        assert len(bot.api.calls) == calls
        await bot.send(ANA, f"/frobnicate@{BOT_USERNAME}", GROUP)
        assert "I don't know /frobnicate" in bot.api.sent("sendMessage", GROUP)[-1].plain

        await bot.send(ANA, "/frobnicate")
        assert "Send /help" in bot.api.sent("sendMessage", ANA.id)[-1].plain
        await bot.send(ANA, "/quiz attention")
        assert "groups" in bot.api.sent("sendMessage", ANA.id)[-1].plain
        await bot.send(ANA, "/help")
        assert "/review" in bot.api.sent("sendMessage", ANA.id)[-1].plain
        await bot.send(ANA, "/help", GROUP)
        assert "/quiz" in bot.api.sent("sendMessage", GROUP)[-1].plain
        await bot.send(ANA, "/start", GROUP)
        assert "open a private chat with me" in bot.api.sent("sendMessage", GROUP)[-1].plain

        for command, expected in (
            ("/pause", "Paused"),
            ("/resume", "Resumed"),
            ("/unsuspend", "No suspended cards"),
            ("/decks nosuchtopic", "I don't know nosuchtopic"),
            ("/settings new 15", "new: 15 new cards a day"),
            ("/settings timezone", "Usage: /settings KEY VALUE"),
        ):
            await bot.send(ANA, command)
            assert expected in bot.api.sent("sendMessage", ANA.id)[-1].plain, command
    no_errors(caplog)


# ---------------------------------------------------------------------- when things go wrong


async def test_429_is_retried_and_a_blocked_user_becomes_unreachable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    metrics = RecordingMetrics()
    async with telegram_bot(tmp_path, metrics=metrics, rich=False) as bot:
        await onboard(bot, ANA, "attention")
        bot.api.clear()
        assert metrics.errors == Counter()

        bot.api.fail("sendMessage", "429", chat_id=ANA.id)
        await bot.send(ANA, "/review")
        sent = bot.api.sent("sendMessage", ANA.id)
        assert len(sent) == 2 and sent[0].params == sent[1].params, "retried after retry_after"
        assert "Show answer" in [label for label, _ in sent[1].buttons]
        assert metrics.errors == Counter({("telegram", "rate_limited"): 1})

        bot.api.fail("sendMessage", "network", chat_id=ANA.id, times=2)
        await bot.send(ANA, "/help")
        assert bot.slept == [0.5, 1.0], "network errors back off"
        assert "/review" in bot.api.sent("sendMessage", ANA.id)[-1].plain
        assert metrics.errors[("telegram", "network")] == 2

        # A daily push to a learner who blocked the bot: the platform says so, and the
        # core records it (the platform marks no one itself).
        bot.api.fail("sendMessage", "blocked", chat_id=ANA.id, times=99)
        learner = await bot.app.study.learner(Who("telegram", str(ANA.id), "Ana"))
        blocked = await bot.platform.push(learner, Reply("info", "You have 3 cards due."))
        assert blocked == Delivery(reached=False)
        assert bot.query(
            "SELECT unreachable FROM learners WHERE platform_user_id = ?", str(ANA.id)
        ) == [(0,)]
        await add_push(bot, learner.id, "att-purpose")
        assert await bot.app.pushes.drain("telegram", bot.platform.push) == 1
        assert bot.query(
            "SELECT unreachable FROM learners WHERE platform_user_id = ?", str(ANA.id)
        ) == [(1,)]
        assert bot.query("SELECT sent_at, failed_at IS NOT NULL FROM outbox") == [(None, 1)]
        assert metrics.failed == Counter({("telegram", "unreachable"): 1})
        assert metrics.errors[("telegram", "refused")] == 2  # the push above and this one

        # Writing again makes them reachable; a refused reply marks them again, quietly.
        await bot.send(ANA, "/review")
        assert bot.query(
            "SELECT unreachable FROM learners WHERE platform_user_id = ?", str(ANA.id)
        ) == [(1,)]

        bot.api.failures.clear()
        reached = await bot.platform.push(learner, Reply("info", "You have 3 cards due."))
        assert reached == Delivery(reached=True)
        assert bot.api.sent("sendMessage", ANA.id)[-1].plain == "You have 3 cards due."
    no_errors(caplog)


async def test_a_chat_held_by_429_through_every_retry_is_one_warning_not_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, rich=False) as bot:
        await onboard(bot, ANA, "attention")
        bot.api.clear()
        bot.api.fail("sendMessage", "429", chat_id=ANA.id, times=99, retry_after=3)
        with caplog.at_level(logging.INFO):
            await bot.send(ANA, "/review")
        assert len(bot.api.sent("sendMessage", ANA.id)) == 4  # tried, then 3 retries
        assert sum(w >= 3 for w in bot.paced) == 3  # each after Telegram's wait, for Ana
        warnings = [r for r in caplog.records if r.levelno == logging.WARNING]
        assert [r.getMessage() for r in warnings] == [
            f"telegram kept chat {ANA.id} waiting (429) through every retry (user {ANA.id})"
        ]
        assert not any(r.exc_info for r in caplog.records)
    no_errors(caplog)


async def test_a_push_telegram_will_never_take_fails_once_and_the_learner_stays_reachable(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, rich=False) as bot:
        await onboard(bot, ANA, "attention")
        learner = await bot.app.study.learner(Who("telegram", str(ANA.id), "Ana"))
        await add_push(bot, learner.id, "att-purpose")
        bot.api.clear()
        bot.api.fail("sendMessage", "bad_request", chat_id=ANA.id, times=99)
        bot.api.fail("sendPhoto", "bad_request", chat_id=ANA.id, times=99)
        assert await bot.app.pushes.drain("telegram", bot.platform.push) == 1
        row = bot.query("SELECT sent_at, failed_at IS NOT NULL, attempts, last_error FROM outbox")
        assert row[0][:3] == (None, 1, 1), row  # one attempt: failed at once, not retried
        assert "can't parse entities" in row[0][3].lower()
        assert bot.query(
            "SELECT unreachable FROM learners WHERE platform_user_id = ?", str(ANA.id)
        ) == [(0,)]
        assert await bot.app.pushes.drain("telegram", bot.platform.push) == 0
    no_errors(caplog)


async def test_an_unexpected_error_is_logged_without_the_token_and_the_bot_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with telegram_bot(tmp_path, rich=False) as bot:

        async def broken(*args: object, **kwargs: object) -> Reply:
            raise RuntimeError("the database caught fire")

        monkeypatch.setattr(bot.app.study, "next", broken)
        with caplog.at_level(logging.INFO):
            await bot.send(ANA, "/review")
        assert bot.api.sent("sendMessage", ANA.id)[-1].plain == SORRY
        [record] = [r for r in caplog.records if r.levelno >= logging.ERROR]
        assert f"chat {ANA.id}, user {ANA.id}" in record.getMessage()
        assert TOKEN not in caplog.text
        assert TOKEN.split(":")[1] not in caplog.text

        monkeypatch.undo()
        caplog.clear()
        await bot.send(ANA, "/review")
        assert "Show answer" in [
            label for label, _ in bot.api.sent("sendMessage", ANA.id)[-1].buttons
        ]
    no_errors(caplog)


# ---------------------------------------------------------------------- awkward cards

EDGE_DECK = """\
# Edge cases & <odd> text
id: edge
tags: edge

## Less than & greater than
id: edge-html
tags: escapes

### Front
Is `a < b` when a = 1 & b = 2? And what does <b>this</b> look like?

### Back
Yes: 1 < 2 && 2 > 1, so <i>no tags</i> are interpreted & nothing breaks.

## A very long answer
id: edge-long
tags: long

### Front
Tell me everything about attention, slowly.

### Back
{long_back}

## A long front with a picture
id: edge-long-photo
tags: longphoto
front-image: shape X[n,d_model] @ W_K[?,?] -> K[n,d_k]; n=6, d_model=8, d_k=4

### Front
{long_front}

### Back
The keys: $K = XW_K$.
"""


def write_edge_deck(tmp_path: Path) -> Path:
    folder = tmp_path / "extra-decks"
    folder.mkdir()
    paragraph = (
        "Paragraph {n}: every query is compared with every key & the scores, once scaled "
        "by $\\sqrt{{d_k}}$, go through a softmax < 1 for each weight."
    )
    long_back = "\n\n".join(paragraph.format(n=n) for n in range(70))
    long_front = " ".join(["Look at the picture and think about the shapes."] * 30)
    (folder / "edge.md").write_text(
        EDGE_DECK.format(long_back=long_back, long_front=long_front), encoding="utf-8"
    )
    return folder


async def test_html_special_characters_are_escaped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, extra_decks=[write_edge_deck(tmp_path)], rich=False) as bot:
        await onboard(bot, ANA, "escapes")
        assert "Studying escapes" in bot.api.last_message(ANA.id)["text"]
        await bot.send(ANA, "/review")
        front = bot.api.sent("sendMessage", ANA.id)[-1]
        assert front.params["parse_mode"] == "HTML"
        assert "&lt;b&gt;this&lt;/b&gt;" in front.html
        assert "<code>a &lt; b</code>" in front.html
        assert "a = 1 &amp; b = 2" in front.html
        assert "what does <b>this</b> look like?" in front.plain  # shown literally

        await bot.tap(ANA, bot.api.last_message(ANA.id), "Show answer")
        back = bot.api.sent("editMessageText", ANA.id)[-1]
        assert "1 &lt; 2 &amp;&amp; 2 &gt; 1, so &lt;i&gt;no tags&lt;/i&gt;" in back.html
        assert "so <i>no tags</i> are interpreted & nothing breaks." in back.plain
        # The deck title has them too.
        assert "Edge cases &amp; &lt;odd&gt; text" in back.html
    no_errors(caplog)


async def test_a_card_too_long_for_one_message_is_split(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, extra_decks=[write_edge_deck(tmp_path)], rich=False) as bot:
        await onboard(bot, ANA, "long")
        await bot.send(ANA, "/review")
        front = bot.api.last_message(ANA.id)
        bot.api.clear()
        await bot.tap(ANA, front, "Show answer")
        [edit] = bot.api.sent("editMessageText", ANA.id)
        more = bot.api.sent("sendMessage", ANA.id)
        assert len(more) >= 1
        assert "reply_markup" not in edit.params, "the ratings go on the last piece"
        assert [label.split()[0] for label, _ in more[-1].buttons] == [
            "Again",
            "Hard",
            "Good",
            "Easy",
        ]
        pieces = [edit, *more]
        assert all(utf16(p.plain) <= 4096 for p in pieces)
        joined = "\n".join(p.plain for p in pieces)
        for n in (0, 35, 69):
            assert f"Paragraph {n}:" in joined
        assert "√d_k" in joined and "$" not in joined, "math as Unicode"

        # Rating from the last piece.
        await bot.tap(ANA, bot.api.last_message(ANA.id), "Good")
        assert bot.query("SELECT count(*) FROM review_logs") == [(1,)]

        # A front longer than a caption: the photo, then the rest with the buttons.
        await bot.send(ANA, "/decks longphoto")
        bot.api.clear()
        await bot.send(ANA, "/review")
        [photo] = bot.api.sent("sendPhoto", ANA.id)
        assert utf16(photo.plain) <= 1024 and "reply_markup" not in photo.params
        rest = bot.api.sent("sendMessage", ANA.id)
        assert rest and rest[-1].buttons[0][0] == "Show answer"
        await bot.tap(ANA, bot.api.last_message(ANA.id), "Show answer")
        assert "K = XW_K" in bot.api.sent("editMessageText", ANA.id)[-1].plain
    no_errors(caplog)


async def test_a_push_that_breaks_off_resumes_after_what_was_delivered(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A daily push of a photo plus the rest of a long front: the photo goes out, the
    text fails until the in-process retries run out, and the outbox's retry sends only
    the text with the buttons, not the photo again."""
    async with telegram_bot(tmp_path, extra_decks=[write_edge_deck(tmp_path)]) as bot:
        await onboard(bot, ANA, "attention")
        learner_id = bot.learner_id(ANA)
        assert learner_id is not None
        await add_push(bot, learner_id, "edge-long-photo")
        bot.api.clear()

        bot.api.fail("sendMessage", "network", chat_id=ANA.id, times=NETWORK_ATTEMPTS)
        assert await bot.app.pushes.drain("telegram", bot.platform.push) == 1
        photos = [m for m in bot.api.messages_in(ANA.id) if "photo" in m]
        assert len(photos) == 1 and "reply_markup" not in photos[0]
        assert bot.query("SELECT parts_sent, sent_at FROM outbox") == [(1, None)]

        bot.clock.advance(timedelta(minutes=1))
        assert await bot.app.pushes.drain("telegram", bot.platform.push) == 1
        assert len(bot.api.sent("sendPhoto", ANA.id)) == 1, "the photo is not sent twice"
        last = bot.api.last_message(ANA.id)
        assert "photo" not in last and last["reply_markup"]["inline_keyboard"][0][0]["text"] == (
            "Show answer"
        )
        assert bot.query("SELECT parts_sent, sent_at IS NOT NULL FROM outbox") == [(1, 1)]
        await bot.tap(ANA, last, "Show answer")
        assert "K = XW_K" in bot.api.sent("editMessageText", ANA.id)[-1].plain

        # Any other failure after the photo is a retry from the same point, too.
        broken = RuntimeError("drawing failed")
        send_text = bot.platform.sender.send_text
        calls: list[int] = []

        async def second_fails(*args: Any, **kwargs: Any) -> Any:
            calls.append(1)
            if len(calls) > 1:
                raise broken
            return await send_text(*args, **kwargs)

        learner = await bot.app.study.learner(Who("telegram", str(ANA.id), "Ana"))
        reply = Reply("info", "\n\n".join(["y" * 3000, "z" * 3000]))  # two messages
        monkeypatch.setattr(bot.platform.sender, "send_text", second_fails)
        with pytest.raises(DeliveryRetry) as failed:
            await bot.platform.push(learner, reply)
        assert failed.value.delivered == 1 and failed.value.__cause__ is broken
    no_errors(caplog)


# ---------------------------------------------------------------------- your data


async def test_export_then_forget_leaves_nothing(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path) as bot:
        await onboard(bot, ANA, "attention")
        await onboard(bot, BEN)
        await bot.send(ANA, "/review")
        front = bot.api.last_message(ANA.id)
        await bot.tap(ANA, front, "Show answer")
        await bot.tap(ANA, bot.api.messages[(ANA.id, front["message_id"])], "Good")
        await bot.send(ANA, "/quiz attention", GROUP)
        await bot.tap(ANA, bot.api.message_with_button(GROUP, "Reveal"), "Reveal")
        await bot.tap(ANA, bot.api.message_with_button(ANA.id, "Hard"), "Hard")

        await bot.send(ANA, "/export")
        [document] = bot.api.sent("sendDocument", ANA.id)
        name, data, _ = document.files["document"]
        assert name == "studybot-reviews.csv"
        lines = data.decode().splitlines()
        assert lines[0].startswith("reviewed_at,card_id,rating")
        assert len(lines) == 3

        ana = bot.learner_id(ANA)
        tables = (
            ("learners", "id"),
            ("learner_settings", "learner_id"),
            ("card_states", "learner_id"),
            ("review_logs", "learner_id"),
            ("prompts", "learner_id"),
            ("quiz_participants", "learner_id"),
            ("confirmations", "learner_id"),
        )
        assert bot.query("SELECT count(*) FROM quiz_participants WHERE learner_id = ?", ana) == [
            (1,)
        ]

        await bot.send(ANA, "/forget")
        question = bot.api.last_message(ANA.id)
        assert "cannot be undone" in question["text"]
        await bot.tap(ANA, question, "No, keep it")
        assert "Nothing was deleted" in bot.api.messages[(ANA.id, question["message_id"])]["text"]
        assert bot.learner_id(ANA) == ana

        await bot.send(ANA, "/forget")
        question = bot.api.last_message(ANA.id)
        await bot.tap(ANA, question, "Yes, delete everything")
        outcome = bot.api.messages[(ANA.id, question["message_id"])]
        assert "I hold nothing about you now" in outcome["text"]
        assert "reply_markup" not in outcome
        for table, column in tables:
            assert bot.query(f"SELECT count(*) FROM {table} WHERE {column} = ?", ana) == [(0,)], (
                table
            )
        assert bot.learner_id(ANA) is None
        assert bot.learner_id(BEN) is not None, "other learners are untouched"
        assert_all_answered(bot)
    no_errors(caplog)


@pytest.mark.parametrize("gone", [False, True], ids=["cannot-delete", "already-gone"])
async def test_a_card_telegram_will_not_delete_is_left_without_a_sorry(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, gone: bool
) -> None:
    """The back's photo takes the text front's place, but Telegram refuses to delete the
    front (too old), or it is gone already, and then refuses to edit its buttons too: the
    learner still has the back, and no "Sorry" follows it."""
    async with telegram_bot(tmp_path) as bot:
        await onboard(bot, ANA, "shapes")
        await bot.send(ANA, "/review")
        front = bot.api.last_message(ANA.id)
        assert "photo" not in front
        if gone:
            bot.api.messages.pop((ANA.id, front["message_id"]))
        else:
            bot.api.fail("deleteMessage", "bad_request", chat_id=ANA.id)
            bot.api.fail("editMessageReplyMarkup", "bad_request", chat_id=ANA.id)
        await bot.tap(ANA, front, "Show answer")
        back = bot.api.last_message(ANA.id)
        assert "photo" in back and "Answer" in back["caption"]
        assert not [c for c in bot.api.sent("sendMessage", ANA.id) if "Sorry" in c.plain]
        assert_all_answered(bot)
    no_errors(caplog)


async def test_easy_days_are_set_by_command_and_by_the_settings_menu(tmp_path: Path) -> None:
    """Easy days through Telegram: typed as the issue has it, a bad value explained and
    nothing saved, then changed from the /settings menu's question."""
    async with telegram_bot(tmp_path, renderer=False) as bot:
        await onboard(bot, ANA, "attention")
        await bot.send(ANA, "/settings easy days sat 50%, sun 0%")
        saved = bot.api.last_message(ANA.id)["text"]
        assert "easy_days: sat 50%, sun 0% (of a normal day's reviews)" in saved
        assert bot.query("SELECT easy_days FROM learner_settings") == [
            ("1.0,1.0,1.0,1.0,1.0,0.5,0.0",)
        ]
        await bot.send(ANA, "/settings easy_days sat 150%")
        assert (
            "from 0% (avoid the day) to 100% (a normal day)" in bot.api.last_message(ANA.id)["text"]
        )
        assert bot.query("SELECT easy_days FROM learner_settings") == [
            ("1.0,1.0,1.0,1.0,1.0,0.5,0.0",)
        ]
        await bot.send(ANA, "/settings")
        menu = bot.api.last_message(ANA.id)
        await bot.tap(ANA, menu, "Easy days")
        question = bot.api.last_message(ANA.id)
        assert "Easy days" in question["text"]
        await bot.tap(ANA, question, "No easy days")
        assert "easy_days: none" in bot.api.last_message(ANA.id)["text"]
        assert bot.query("SELECT easy_days FROM learner_settings") == [("",)]


async def test_export_anki_sends_a_package_in_the_private_chat(tmp_path: Path) -> None:
    pytest.importorskip("anki")
    import zipfile
    from io import BytesIO

    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        await onboard(bot, ANA, "attention")
        await bot.send(ANA, "/review")
        front = bot.api.last_message(ANA.id)
        await bot.tap(ANA, front, "Show answer")
        await bot.tap(ANA, bot.api.messages[(ANA.id, front["message_id"])], "Good")

        await bot.send(ANA, "/export anki")
        [document] = bot.api.sent("sendDocument", ANA.id)
        name, data, _ = document.files["document"]
        assert name == "studybot.apkg"
        files = zipfile.ZipFile(BytesIO(data)).namelist()
        assert "collection.anki21b" in files
        caption = str(document.params["caption"])
        assert caption.startswith("Your Anki package: ") and "with their schedules" in caption
        assert "1 review. In Anki, turn on FSRS" in caption
        # The cards' images, drawn by the renderer, travel as the package's media files.
        images = len([f for f in files if f.isdigit()])
        assert images > 10
        assert (
            f"so it schedules from those memory states. It carries {images} images. "
            "Open it with Anki"
        ) in caption

        await bot.send(ANA, "/export anki", GROUP)
        assert len(bot.api.sent("sendDocument", ANA.id)) == 1
        assert not bot.api.sent("sendDocument", GROUP)
        assert "our private chat" in bot.api.last_message(GROUP)["text"]
