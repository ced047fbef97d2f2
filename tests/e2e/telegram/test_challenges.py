"""Group challenges on Telegram, end to end and offline (issue 8).

The real PTB Application runs over the fake Bot API on a SQLite file, fed raw
update JSON. The clock is fixed and moved by hand; nothing sleeps. Images are
drawn by the harness's FakeRenderer, which records what it was asked to draw.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core.inputs import PHOTO_HINT, TEXT_HINT
from bot.platforms.telegram.callbacks import JOINED_PRIVATELY
from bot.platforms.telegram.challenges import CHALLENGE_PRIVATE
from tests.e2e.telegram.fake import BOT_USERNAME, Call, TgUser, button_data
from tests.e2e.telegram.harness import GROUP, PHOTO_JPEG, FakeRenderer, Harness, telegram_bot

ANA = TgUser(101, "Ana", "ana")
BEN = TgUser(102, "Ben")
CAT = TgUser(103, "Cat", "cat")
DAN = TgUser(104, "Dan")

PNG = b"\x89PNG\r\n\x1a\n"
SCALED = "refl-scaled-dot-product"
#: The cards each rubric row of refl-scaled-dot-product links (decks/reflection).
SCALED_ROWS = (
    {
        "att-one-query-output",
        "att-full-formula",
        "att-full-formula-rows",
        "att-qkt-entry",
        "att-softmax-rows",
        "att-softmax-rows-why",
        "att-weights-times-values",
    },
    {"att-dot-variance", "att-dot-term-variance", "att-dot-sum-variance"},
    {"att-dot-typical-size", "att-scale-sqrt-dk"},
    {"att-saturation-example", "att-saturation-gradient"},
)


def no_errors(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def assert_all_answered(bot: Harness) -> None:
    """Every callback query was answered exactly once."""
    asked = [c.params["callback_query_id"] for c in bot.api.sent("answerCallbackQuery")]
    assert len(set(asked)) == len(asked)


def answer_to(bot: Harness, query_id: str) -> Call:
    """How the bot answered one callback query."""
    return next(
        c for c in bot.api.sent("answerCallbackQuery") if c.params["callback_query_id"] == query_id
    )


def shown(message: dict[str, Any]) -> str:
    return str(message.get("text") or message.get("caption") or "")


def labels(message: dict[str, Any]) -> list[str]:
    return [
        b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row
    ]


def last_dm(bot: Harness, user: TgUser) -> str:
    return shown(bot.api.last_message(user.id))


def starts_in(bot: Harness, chat_id: int) -> list[Call]:
    """The challenge start messages posted in a chat."""
    return [
        c
        for c in bot.api.sent("sendMessage|sendPhoto", chat_id)
        if any(label == "Submit my answer" for label, _ in c.buttons)
    ]


async def onboard(bot: Harness, user: TgUser) -> None:
    """/start, then UTC, 09:00 and All decks (the member has started the bot)."""
    await bot.send(user, "/start")
    await bot.tap(user, bot.api.message_with_button(user.id, "UTC"), "UTC")
    await bot.tap(user, bot.api.message_with_button(user.id, "09:00"), "09:00")
    await bot.tap(user, bot.api.message_with_button(user.id, "All decks"), "All decks")


def challenge_reviews(bot: Harness, user: TgUser) -> dict[str, int]:
    """card_id -> rating of the learner's reviews that came from a challenge."""
    rows = bot.query(
        "SELECT r.card_id, r.rating, r.source FROM review_logs r "
        "JOIN learners l ON l.id = r.learner_id WHERE l.platform_user_id = ?",
        str(user.id),
    )
    assert all(source == "challenge" for _, _, source in rows), rows
    return {card_id: rating for card_id, rating, _ in rows}


# ---------------------------------------------------------------------- the whole flow


async def test_a_challenge_with_a_late_member_a_resubmission_and_a_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, fake_renderer=True, rich=False) as bot:
        bot.api.set_member(GROUP, ANA.id, "administrator")
        await onboard(bot, ANA)
        await onboard(bot, BEN)
        # Cat has never started the bot: Telegram refuses to let it write first.
        bot.api.fail("sendMessage", "never_started", chat_id=CAT.id, times=99)

        await bot.send(BEN, "/challenge list", GROUP)
        listing = bot.api.sent("sendMessage", GROUP)[-1].plain
        assert SCALED in listing and "refl-draw-transformer" in listing
        assert "/challenge start <id> [minutes]" in listing

        await bot.send(ANA, f"/challenge start {SCALED} 10", GROUP)
        start = bot.api.message_with_button(GROUP, "Submit my answer")
        assert "Scaled dot-product attention and the variance argument. 10 minutes" in shown(start)
        assert "Answer privately before 08:10 (UTC)" in shown(start)
        join = button_data(start, "Submit my answer")
        run_token = join.split(":", 1)[1]

        for member in (ANA, BEN):
            query = await bot.tap_data(member, start, join)
            assert answer_to(bot, query).params["text"] == JOINED_PRIVATELY
            assert "You're in" in last_dm(bot, member)

        query = await bot.tap_data(CAT, start, join)
        refusal = answer_to(bot, query).params
        assert refusal["show_alert"] is True
        assert refusal["url"] == f"https://t.me/{BOT_USERNAME}?start=ch_{run_token}"
        bot.api.failures.clear()
        await bot.send(CAT, f"/start ch_{run_token}")
        assert "You're in" in last_dm(bot, CAT)
        assert "Three quick questions" not in last_dm(bot, CAT), "no onboarding in the way"

        # Answers are plain private messages; a photo replaces an earlier text.
        await bot.send(ANA, "softmax(QK^T / sqrt(d_k)) V, and Var(q·k) = d_k so 1 < 2 & <b>ok</b>")
        assert "Got your answer" in last_dm(bot, ANA)
        await bot.send(BEN, "QK^T V, no idea why the root")
        assert "Got your answer" in last_dm(bot, BEN)
        bot.clock.advance(timedelta(minutes=3))
        await bot.send_photo(BEN, ["photo-ben-thumb", "photo-ben-page"], caption="My page")
        assert "Replaced your earlier answer" in last_dm(bot, BEN)
        assert bot.query(
            "SELECT s.text, s.photo_ref FROM challenge_submissions s "
            "JOIN learners l ON l.id = s.learner_id WHERE l.platform_user_id = ?",
            str(BEN.id),
        ) == [("My page", "photo-ben-page")], "the largest size's file_id, caption as text"

        await bot.send(CAT, "/challenge status", GROUP)
        status = bot.api.sent("sendMessage", GROUP)[-1].plain
        assert "2 submitted: Ana, Ben." in status
        assert "1 joined and still writing: Cat." in status
        assert "no idea" not in status and "My page" not in status, "never what"
        assert bot.query("SELECT count(*) FROM challenge_runs") == [(1,)]
    first = bot

    # The bot restarts; the deadline passes while it is down.
    bot.clock.advance(timedelta(minutes=8))
    async with telegram_bot(tmp_path, fake_renderer=True, restart_of=first) as bot:
        await bot.send(CAT, "Here is my late answer")
        assert "time is up" in last_dm(bot, CAT)
        assert bot.query(
            "SELECT count(*) FROM challenge_submissions WHERE submitted_at IS NOT NULL"
        ) == [(2,)]

        # The deadline alarm fires (twice, say after a crash): one reveal.
        assert await bot.app.challenges.reveal_overdue() == 1
        assert await bot.app.challenges.reveal_overdue() == 0
        reveals = [
            c for c in bot.api.sent("sendPhoto|sendMessage", GROUP) if "Time is up" in c.plain
        ]
        assert len(reveals) == 1
        [reference] = reveals
        assert reference.endpoint == "sendPhoto" and reference.files["photo"][1].startswith(PNG)
        assert "2 answered" in reference.plain
        renderer = bot.app.renderer
        assert isinstance(renderer, FakeRenderer)
        assert any(kind == "card" and spec.startswith("formula ") for kind, spec in renderer.calls)
        after = bot.api.sent("sendMessage|sendPhoto", GROUP)
        posted = "\n".join(c.plain for c in after[after.index(reference) :])
        assert "Variance argument" in posted and "Checkpoints" in posted, "the whole reference"

        # Each one who answered gets a private self-assessment; Cat (late) does not.
        form = bot.api.message_with_button(ANA.id, "Apply to my cards")
        assert "Self-assessment for “Scaled dot-product attention" in shown(form)
        assert "1 < 2 & <b>ok</b>" in shown(form), "her answer, escaped"
        assert "Your answer:\nMy page" in shown(bot.api.message_with_button(BEN.id, "Apply"))
        with pytest.raises(AssertionError):
            bot.api.message_with_button(CAT.id, "Apply to my cards")

        # Ana ticks a checkpoint and rates every row: the message is edited in place.
        sent_before = len(bot.api.sent("sendMessage|sendPhoto", ANA.id))
        key = (ANA.id, form["message_id"])
        await bot.tap(ANA, form, "☐")
        assert labels(bot.api.messages[key])[0].startswith("☑")
        for row, grade in ((1, "Confident"), (2, "Confident"), (3, "Shaky"), (4, "Re-study")):
            await bot.tap(ANA, bot.api.messages[key], f"{row}. {grade}")
        now = bot.api.messages[key]
        assert "1. ▶ Confident" in labels(now) and "4. ▶ Re-study" in labels(now)
        assert "Need to re-study" in shown(now) and "not rated yet" not in shown(now)
        assert len(bot.api.sent("sendMessage|sendPhoto", ANA.id)) == sent_before

        await bot.tap(ANA, now, "Apply to my cards")
        applied = bot.api.messages[key]
        assert "Applied to your schedule" in shown(applied)
        assert labels(applied) == ["Share my answer"]
        expected = dict.fromkeys(SCALED_ROWS[0] | SCALED_ROWS[1], 3)
        expected |= dict.fromkeys(SCALED_ROWS[2], 2) | dict.fromkeys(SCALED_ROWS[3], 1)
        assert challenge_reviews(bot, ANA) == expected
        assert not [c for c in bot.api.sent("sendPhoto", GROUP) if "Summary" in c.plain]

        # Ben agrees to be named, rates two rows and applies: only their cards move.
        form = bot.api.message_with_button(BEN.id, "Apply to my cards")
        # Before it, his page as he sent it: uploaded from what was kept when he sent it.
        [own] = [c for c in bot.api.sent("sendPhoto", BEN.id) if "as you sent it" in c.plain]
        assert own.files["photo"][1] == PHOTO_JPEG + b"photo-ben-page"
        key = (BEN.id, form["message_id"])
        await bot.tap(BEN, form, "Name me in the summary")
        assert "Name me in the summary ✓" in labels(bot.api.messages[key])
        await bot.tap(BEN, bot.api.messages[key], "2. Re-study")
        await bot.tap(BEN, bot.api.messages[key], "3. Shaky")
        await bot.tap(BEN, bot.api.messages[key], "Apply to my cards")
        assert challenge_reviews(bot, BEN) == {
            "att-dot-variance": 1,
            "att-dot-term-variance": 1,
            "att-dot-sum-variance": 1,
            "att-dot-typical-size": 2,
            "att-scale-sqrt-dk": 2,
        }

        # Everyone applied: the summary comes with its heat map as a photo.
        [summary] = [c for c in bot.api.sent("sendPhoto", GROUP) if "Summary" in c.plain]
        assert summary.files["photo"][1].startswith(PNG)
        assert "2 answered, 2 assessed" in summary.plain
        [chart] = renderer.heatmaps
        assert set(chart.columns) == {"Ben", "Member 1"}, "Ana did not opt in to her name"
        assert len(chart.rows) == 4
        assert sorted(chart.values[1], key=str) == [1, 3]

        # Ben shares his page with the group: the photo kept (one rule with Discord's,
        # whose links expire), uploaded once (to Ben) and then sent by the file id
        # Telegram gave that upload; only the largest size was ever downloaded.
        await bot.tap(BEN, bot.api.messages[key], "Share my answer")
        shared = bot.api.sent("sendPhoto", GROUP)[-1]
        page = PHOTO_JPEG + b"photo-ben-page"
        uploads = [
            c for c in bot.api.sent("sendPhoto") if c.files.get("photo", ("", b""))[1] == page
        ]
        assert uploads == [own] and not shared.files
        assert shared.params["photo"] not in ("photo-ben-page", "photo-ben-thumb")
        assert [c.params.get("file_id") for c in bot.api.sent("getFile")] == ["photo-ben-page"]
        assert "Ben shares their answer" in shared.plain and "My page" in shared.plain

        # The run is over: a private message is not an answer any more.
        await bot.send(BEN, "one more thing")
        assert last_dm(bot, BEN) == TEXT_HINT
        assert_all_answered(bot)
    no_errors(caplog)


# ---------------------------------------------------------------------- permissions


async def test_a_member_who_may_not_reveal_is_refused(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        bot.api.set_member(GROUP, ANA.id, "administrator")
        bot.api.set_member(GROUP, CAT.id, "creator")
        for user in (ANA, BEN, CAT):
            await onboard(bot, user)

        await bot.send(BEN, "/challenge start refl-bahdanau", GROUP)
        assert "Only the group's admins can start" in bot.api.sent("sendMessage", GROUP)[-1].plain
        assert not starts_in(bot, GROUP)
        asked = [c.params for c in bot.api.sent("getChatMember")]
        assert {"chat_id": GROUP, "user_id": BEN.id} in asked

        await bot.send(ANA, "/challenge start refl-bahdanau", GROUP)
        start = bot.api.message_with_button(GROUP, "Submit my answer")
        await bot.tap(BEN, start, "Submit my answer")
        await bot.send(BEN, "e = v tanh(W s + U h)")
        assert "Got your answer" in last_dm(bot, BEN)

        for command in ("/challenge reveal", "/challenge cancel"):
            await bot.send(BEN, command, GROUP)
            refusal = bot.api.sent("sendMessage", GROUP)[-1].plain
            assert "Only the group's admins or whoever started it" in refusal, command
        await bot.send(BEN, "/challenge permissions everyone", GROUP)
        assert "Only the group's admins" in bot.api.sent("sendMessage", GROUP)[-1].plain
        assert bot.query("SELECT revealed_at, cancelled_at FROM challenge_runs") == [(None, None)]
        assert not [
            c
            for c in bot.api.sent("sendMessage|sendRichMessage|sendPhoto", GROUP)
            if "Time is up" in c.plain
        ]
        with pytest.raises(AssertionError):
            bot.api.message_with_button(BEN.id, "Apply to my cards")

        # The group's owner may.
        await bot.send(CAT, "/challenge reveal", GROUP)
        posted = [c.plain for c in bot.api.sent("sendMessage|sendRichMessage|sendPhoto", GROUP)]
        assert any("Revealed early" in p for p in posted)
        assert sum("Time is up" in p for p in posted) == 1
        # The reference is one rich message: its formula typeset by Telegram, not drawn.
        [reference] = [c for c in bot.api.sent("sendRichMessage", GROUP) if "Time is up" in c.plain]
        assert "<tg-math-block>e_{ij} = v_a^T \\tanh(W_a s_{i-1}" in reference.html
        renderer = bot.app.renderer
        assert isinstance(renderer, FakeRenderer)
        assert not any(spec.startswith("formula ") for _, spec in renderer.calls)
        assert "Apply to my cards" in labels(bot.api.message_with_button(BEN.id, "Apply"))
        assert_all_answered(bot)
    no_errors(caplog)


async def test_usage_and_where_challenges_run(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        menus = {
            c.params["scope"]["type"]: c.params["commands"] for c in bot.api.sent("setMyCommands")
        }
        assert "challenge" in {c["command"] for c in menus["all_group_chats"]}

        await bot.send(ANA, "/challenge list")
        assert bot.api.sent("sendMessage", ANA.id)[-1].plain == CHALLENGE_PRIVATE
        for command in ("/challenge", "/challenge frobnicate", f"/challenge@{BOT_USERNAME}"):
            await bot.send(ANA, command, GROUP)
            usage = bot.api.sent("sendMessage", GROUP)[-1]
            assert "/challenge start <id> [minutes]" in usage.plain, command
            assert "&lt;id&gt;" in usage.html
        await bot.send(ANA, "/challenge start refl-bahdanau lots", GROUP)
        assert "Minutes are a whole number" in bot.api.sent("sendMessage", GROUP)[-1].plain
        bot.api.set_member(GROUP, ANA.id, "administrator")
        await bot.send(ANA, "/challenge start nosuch", GROUP)
        assert "I don't know the challenge “nosuch”" in bot.api.sent("sendMessage", GROUP)[-1].plain
        await bot.send(ANA, "/challenge start refl-bahdanau 500", GROUP)
        assert "1 to 180 minutes" in bot.api.sent("sendMessage", GROUP)[-1].plain
        await bot.send(ANA, "/challenge status", GROUP)
        assert "No challenge is running here" in bot.api.sent("sendMessage", GROUP)[-1].plain

        # A photo in a private chat when no challenge is open.
        await bot.send(ANA, "/start")
        await bot.send_photo(ANA, ["photo-x"])
        assert bot.api.sent("sendMessage", ANA.id)[-1].plain == PHOTO_HINT
        assert bot.api.downloads() == [], "a photo that answers nothing is not downloaded"
        # A stale join link.
        await bot.send(BEN, "/start ch_AAAAAAAAAAAAAAAA")
        assert "expired" in bot.api.sent("sendMessage", BEN.id)[-1].plain
    no_errors(caplog)


async def test_without_a_renderer_the_reference_and_summary_are_text(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, renderer=False, rich=False) as bot:
        bot.api.set_member(GROUP, ANA.id, "creator")
        await onboard(bot, BEN)
        await bot.send(ANA, "/challenge start refl-bahdanau 5", GROUP)
        await bot.tap(BEN, bot.api.message_with_button(GROUP, "Submit my answer"), "Submit")
        await bot.send(BEN, "e_ij = v^T tanh(W s + U h)")
        await bot.send(ANA, "/challenge reveal", GROUP)
        assert not bot.api.sent("sendPhoto")
        reference = next(c for c in bot.api.sent("sendMessage", GROUP) if "Time is up" in c.plain)
        assert "Bahdanau attention from scratch" in reference.plain

        form = bot.api.message_with_button(BEN.id, "Apply to my cards")
        key = (BEN.id, form["message_id"])
        for row in (1, 2, 3, 4):
            await bot.tap(BEN, bot.api.messages[key], f"{row}. Confident")
        await bot.tap(BEN, bot.api.messages[key], "Apply to my cards")
        summary = bot.api.sent("sendMessage", GROUP)[-1]
        assert "Summary of “Bahdanau attention" in summary.plain
        assert "1 answered, 1 assessed" in summary.plain
        assert set(challenge_reviews(bot, BEN)) == {
            "tf-bahdanau-roles",
            "att-purpose",
            "att-weighted-average",
            "tf-bahdanau-energy",
            "tf-bahdanau-weights",
            "tf-bahdanau-context",
            "att-weight-rules",
            "tf-bahdanau-params",
            "tf-bahdanau-wa-ua-shapes",
            "tf-bahdanau-va",
            "tf-bahdanau-param-count",
        }
        assert_all_answered(bot)
    no_errors(caplog)


# ---------------------------------------------------------------------- weekly schedule


async def test_a_weekly_challenge_fires_at_local_time_across_the_dst_change(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        bot.clock.set(datetime(2026, 2, 27, 12, 0, tzinfo=UTC))  # a Friday
        bot.api.set_member(GROUP, ANA.id, "administrator")
        await bot.send(BEN, "/challenge timezone Europe/Paris", GROUP)
        assert "Only the group's admins" in bot.api.sent("sendMessage", GROUP)[-1].plain
        await bot.send(ANA, "/challenge timezone new york", GROUP)
        assert "America/New_York" in bot.api.sent("sendMessage", GROUP)[-1].plain
        await bot.send(ANA, "/challenge schedule refl-bahdanau sunday 09:00", GROUP)
        scheduled = bot.api.sent("sendMessage", GROUP)[-1].plain
        assert "Every Sunday at 09:00 (America/New_York)" in scheduled
        assert "Sun 01 Mar 09:00" in scheduled

        async def sweep_at(when: datetime) -> list[Call]:
            bot.clock.set(when)
            before = len(starts_in(bot, GROUP))
            await bot.app.challenges.sweep()
            return starts_in(bot, GROUP)[before:]

        def at(day: int, hour: int, minute: int = 0) -> datetime:
            return datetime(2026, 3, day, hour, minute, tzinfo=UTC)

        # Before the change New York is UTC-5: 09:00 local is 14:00 UTC.
        assert await sweep_at(at(1, 13, 59)) == []
        [first] = await sweep_at(at(1, 14, 0))
        assert "Bahdanau attention from scratch" in first.plain
        assert "before 09:10 (America/New_York)" in first.plain
        assert bot.api.last_message(GROUP)["date"] == int(at(1, 14).timestamp())
        assert await sweep_at(at(1, 14, 5)) == [], "once"
        assert await sweep_at(at(1, 14, 11)) == []  # the deadline: revealed
        assert bot.query("SELECT count(*) FROM challenge_runs WHERE revealed_at IS NULL") == [(0,)]

        # 2026-03-08, 02:00 local, clocks go forward: 09:00 local is now 13:00 UTC.
        assert await sweep_at(at(8, 12, 59)) == []
        [second] = await sweep_at(at(8, 13, 0))
        assert bot.api.last_message(GROUP)["date"] == int(at(8, 13).timestamp())
        assert "Bahdanau attention from scratch" in second.plain
        assert await sweep_at(at(8, 14, 0)) == [], "not again at the old UTC time"
        assert bot.query("SELECT count(*) FROM challenge_runs") == [(2,)]

        await bot.send(ANA, "/challenge unschedule", GROUP)
        assert "Removed 1 weekly challenge" in bot.api.sent("sendMessage", GROUP)[-1].plain
        assert await sweep_at(at(15, 13, 0)) == []
    no_errors(caplog)


# ---------------------------------------------------------------------- photos that keep


async def test_a_photo_over_the_limit_is_refused_before_any_download(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        bot.api.set_member(GROUP, ANA.id, "administrator")
        await onboard(bot, ANA)
        await bot.send(ANA, f"/challenge start {SCALED} 10", GROUP)
        start = bot.api.message_with_button(GROUP, "Submit my answer")
        await bot.tap(ANA, start, "Submit my answer")
        # Five sizes: Telegram says the largest has 65,536,000 bytes.
        await bot.send_photo(ANA, ["p0", "p1", "p2", "p3", "p-huge"])
        assert "I keep photos of up to 8 MB" in last_dm(bot, ANA)
        assert bot.api.downloads() == []
        # A photo that is not one: downloaded, refused, the answer left empty.
        bot.api.add_photo("p-text", b"plain text, not a picture")
        await bot.send_photo(ANA, ["p-text"])
        assert "couldn't read that as a picture" in last_dm(bot, ANA)
        assert bot.query("SELECT count(*) FROM challenge_photos") == [(0,)]
        assert bot.query("SELECT submitted_at FROM challenge_submissions") == [(None,)]
        # Then a good one is kept.
        await bot.send_photo(ANA, ["p-page"])
        assert "Got your answer" in last_dm(bot, ANA)
        assert bot.query("SELECT mime, size FROM challenge_photos") == [
            ("image/jpeg", len(PHOTO_JPEG + b"p-page"))
        ]
        assert_all_answered(bot)
    no_errors(caplog)


async def test_a_self_assessment_sent_late_comes_after_the_page_as_sent(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Ben blocked the bot at the reveal: once he writes again the outbox sends his page
    (the stored photo) and then his self-assessment, as the reveal would have; a 429 on
    the self-assessment does not send the page twice."""
    async with telegram_bot(tmp_path, fake_renderer=True) as bot:
        bot.api.set_member(GROUP, ANA.id, "administrator")
        await onboard(bot, ANA)
        await onboard(bot, BEN)
        await bot.send(ANA, f"/challenge start {SCALED} 10", GROUP)
        start = bot.api.message_with_button(GROUP, "Submit my answer")
        await bot.tap(BEN, start, "Submit my answer")
        await bot.send_photo(BEN, ["photo-ben-page"])
        assert "Got your answer" in last_dm(bot, BEN)

        for endpoint in ("sendMessage", "sendPhoto"):
            bot.api.fail(endpoint, "blocked", chat_id=BEN.id, times=99)
        bot.clock.advance(timedelta(minutes=11))
        assert await bot.app.challenges.reveal_overdue() == 1
        assert bot.query("SELECT kind, parts_sent FROM outbox WHERE sent_at IS NULL") == [
            ("assess", 0)
        ]

        bot.api.failures.clear()
        await bot.send(BEN, "/stats")
        # The page goes; the self-assessment meets a 429 and waits.
        bot.api.fail("sendMessage", "429", chat_id=BEN.id)
        before = len(bot.api.sent("sendPhoto", BEN.id))
        assert await bot.app.pushes.drain("telegram", bot.platform.push) == 1
        [own] = bot.api.sent("sendPhoto", BEN.id)[before:]
        assert "as you sent it" in own.plain
        assert own.files["photo"][1] == PHOTO_JPEG + b"photo-ben-page"
        assert bot.query("SELECT parts_sent FROM outbox WHERE sent_at IS NULL") == [(1,)]

        bot.clock.advance(timedelta(minutes=1))
        assert await bot.app.pushes.drain("telegram", bot.platform.push) == 1
        assert len(bot.api.sent("sendPhoto", BEN.id)) == before + 1, "the page once"
        form = bot.api.message_with_button(BEN.id, "Apply to my cards")
        assert "the photo of your page you sent" in shown(form)
        assert bot.query("SELECT count(*) FROM outbox WHERE sent_at IS NULL") == [(0,)]
    no_errors(caplog)
