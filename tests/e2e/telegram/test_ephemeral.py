"""Private feedback inside the group: Bot API 10.2 ephemeral messages, end to end.

The real PTB Application over the fake Bot API (which keeps ephemeral messages apart, seen
by their receiver alone), with ``[telegram] ephemeral_messages`` on. A member who never
opened a private chat with the bot takes part in a quiz and a challenge without one; a
server that refuses the parameter, or ignores it, leaves the private path as it was.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.platforms.telegram.callbacks import (
    JOINED_HERE,
    SENT_PRIVATELY,
    SHOWN_HERE,
    START_FIRST,
    WAIT_HERE,
)
from bot.platforms.telegram.group_answers import NOT_REMOVED
from tests.e2e.telegram.fake import Call, TgUser, button_data, rich_text
from tests.e2e.telegram.harness import GROUP, Harness, telegram_bot

ANA = TgUser(101, "Ana", "ana")
BEN = TgUser(102, "Ben")
CAT = TgUser(103, "Cat", "cat")
DAN = TgUser(104, "Dan")
EVE = TgUser(105, "Eve")
SCALED = "refl-scaled-dot-product"


def shown(message: dict[str, Any]) -> str:
    """What the person reads: the text, the caption, or a rich message's text."""
    return str(message.get("text") or message.get("caption") or rich_text(message))


def labels(message: dict[str, Any]) -> list[str]:
    return [
        b["text"] for row in message.get("reply_markup", {}).get("inline_keyboard", []) for b in row
    ]


def answer_to(bot: Harness, query_id: str) -> Call:
    return next(
        c for c in bot.api.sent("answerCallbackQuery") if c.params["callback_query_id"] == query_id
    )


def ephemeral_sends(bot: Harness) -> list[Call]:
    """The sends the bot meant for one member (whatever the server made of them)."""
    return [c for c in bot.api.sent() if "receiver_user_id" in c.params]


def no_errors(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


async def onboard(bot: Harness, user: TgUser) -> None:
    """/start, then UTC, 09:00 and All decks (the member has a private chat with the bot)."""
    await bot.send(user, "/start")
    await bot.tap(user, bot.api.message_with_button(user.id, "UTC"), "UTC")
    await bot.tap(user, bot.api.message_with_button(user.id, "09:00"), "09:00")
    await bot.tap(user, bot.api.message_with_button(user.id, "All decks"), "All decks")


def never_started(bot: Harness, *users: TgUser) -> None:
    for user in users:
        bot.api.fail("sendMessage", "never_started", chat_id=user.id, times=999)
        bot.api.fail("sendPhoto", "never_started", chat_id=user.id, times=999)
        bot.api.fail("sendRichMessage", "never_started", chat_id=user.id, times=999)


# ---------------------------------------------------------------------- /quiz


async def test_a_member_without_a_private_chat_reveals_and_rates_a_quiz_in_the_group(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, ephemeral=True) as bot:
        await onboard(bot, ANA)
        never_started(bot, CAT)
        await bot.send(ANA, "/quiz attention", GROUP)
        quiz = bot.api.message_with_button(GROUP, "Reveal")
        public = len(bot.api.messages_in(GROUP))

        query = await bot.tap_data(CAT, quiz, button_data(quiz, "Reveal"))
        assert answer_to(bot, query).params["text"] == SHOWN_HERE
        [back] = bot.api.ephemeral_in(GROUP, CAT.id)
        assert "From the group quiz" in shown(back)
        assert labels(back)[:4] == ["Again", "Hard", "Good", "Easy"] or any(
            label.startswith("Good") for label in labels(back)
        )
        assert not bot.api.sent("sendMessage|sendPhoto", CAT.id), "no private chat tried"
        assert len(bot.api.messages_in(GROUP)) == public, "nobody else sees it"
        assert back["receiver_user"]["id"] == CAT.id

        await bot.tap(CAT, back, "Good")
        [rated] = bot.api.ephemeral_in(GROUP, CAT.id)
        assert "Counted in your own schedule" in shown(rated)
        assert not labels(rated), "the rating buttons are gone"
        edits = bot.api.sent("editEphemeralMessageText|editEphemeralMessageCaption")
        assert edits and all(int(c.params["receiver_user_id"]) == CAT.id for c in edits)
        assert not bot.api.sent("editMessageText|editMessageCaption", GROUP)
        rows = bot.query(
            "SELECT r.source, r.rating FROM review_logs r JOIN learners l "
            "ON l.id = r.learner_id WHERE l.platform_user_id = ?",
            str(CAT.id),
        )
        assert rows == [("quiz", 3)], "it counts in Cat's own schedule"

        # The round's answer and tally stay one group message, for everyone.
        bot.clock.advance(timedelta(minutes=11))
        assert await bot.app.quiz.sweep() == 1
        result = bot.api.sent("sendMessage|sendRichMessage", GROUP)[-1]
        assert "receiver_user_id" not in result.params
        assert "Quiz answer. 1 took part" in result.plain
    no_errors(caplog)


async def test_a_busy_group_answers_members_privately_and_the_others_in_their_turn(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, ephemeral=True) as bot:
        for user in (ANA, BEN):
            await onboard(bot, user)
        never_started(bot, CAT)
        await bot.send(ANA, "/quiz attention", GROUP)
        quiz = bot.api.message_with_button(GROUP, "Reveal")
        # Three group messages in a row: the group's burst is spent, the next waits.
        for _ in range(3):
            await bot.platform.sender.send_text(GROUP, "chatter")
        assert bot.platform.pacing.wait_for(GROUP) > 2.0

        query = await bot.tap_data(BEN, quiz, button_data(quiz, "Reveal"))
        assert answer_to(bot, query).params["text"] == SENT_PRIVATELY, "Ben has a private chat"
        assert not bot.api.ephemeral_in(GROUP, BEN.id)

        waited = len(bot.paced)
        query = await bot.tap_data(CAT, quiz, button_data(quiz, "Reveal"))
        assert len(bot.api.ephemeral_in(GROUP, CAT.id)) == 1, "Cat has no other way"
        assert bot.paced[waited:], "it waited for its place in the group's pace"
        toasts = [c.params.get("text") for c in bot.api.sent("answerCallbackQuery")]
        assert toasts[-1] == WAIT_HERE, "answered before the wait"
    no_errors(caplog)


# ---------------------------------------------------------------------- fallbacks


async def test_a_server_that_refuses_ephemeral_messages_keeps_the_private_path(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, ephemeral=True) as bot:
        bot.api.ephemeral = "refuse"
        for user in (ANA, BEN):
            await onboard(bot, user)
        never_started(bot, CAT)
        await bot.send(ANA, "/quiz attention", GROUP)
        quiz = bot.api.message_with_button(GROUP, "Reveal")

        query = await bot.tap_data(ANA, quiz, button_data(quiz, "Reveal"))
        assert answer_to(bot, query).params["text"] == SENT_PRIVATELY
        assert "From the group quiz" in shown(bot.api.message_with_button(ANA.id, "Good"))
        assert len(ephemeral_sends(bot)) == 1, "tried once"

        await bot.tap(BEN, quiz, "Reveal")
        assert len(ephemeral_sends(bot)) == 1, "the refusal is remembered"
        bot.api.message_with_button(BEN.id, "Good")

        query = await bot.tap_data(CAT, quiz, button_data(quiz, "Reveal"))
        assert answer_to(bot, query).params["text"] == START_FIRST, "today's start link"
        assert not bot.api.ephemerals and len(ephemeral_sends(bot)) == 1
        await bot.tap(ANA, bot.api.message_with_button(ANA.id, "Good"), "Good")
        assert len(bot.query("SELECT * FROM review_logs WHERE source = 'quiz'")) == 1
    assert any("refused ephemeral messages" in r.getMessage() for r in caplog.records)
    no_errors(caplog)


async def test_a_server_that_ignores_the_parameter_has_the_message_deleted_at_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, ephemeral=True) as bot:
        bot.api.ephemeral = "ignore"
        await onboard(bot, ANA)
        await onboard(bot, BEN)
        await bot.send(ANA, "/quiz attention", GROUP)
        quiz = bot.api.message_with_button(GROUP, "Reveal")

        query = await bot.tap_data(ANA, quiz, button_data(quiz, "Reveal"))
        [leaked] = ephemeral_sends(bot)
        assert leaked.chat_id == GROUP
        # It went to everyone: deleted straight after, and Ana gets it privately.
        deleted = bot.api.sent("deleteMessage", GROUP)
        assert len(deleted) == 1
        assert not [m for m in bot.api.messages_in(GROUP) if "From the group quiz" in shown(m)]
        calls = bot.api.calls
        assert calls.index(deleted[0]) == calls.index(leaked) + 1, "at once"
        assert answer_to(bot, query).params["text"] == SENT_PRIVATELY
        assert "From the group quiz" in shown(bot.api.message_with_button(ANA.id, "Good"))

        await bot.tap(BEN, quiz, "Reveal")
        assert len(ephemeral_sends(bot)) == 1, "no more ephemeral messages in this process"
        bot.api.message_with_button(BEN.id, "Good")
    assert any("ignored receiver_user_id" in r.getMessage() for r in caplog.records)
    no_errors(caplog)


# ---------------------------------------------------------------------- challenges


async def test_a_challenge_taken_entirely_inside_the_group(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, ephemeral=True, fake_renderer=True) as bot:
        bot.api.set_member(GROUP, ANA.id, "administrator")
        await onboard(bot, ANA)
        never_started(bot, CAT, DAN, EVE)
        await bot.send(ANA, f"/challenge start {SCALED} 10", GROUP)
        start = bot.api.message_with_button(GROUP, "Submit my answer")
        join = button_data(start, "Submit my answer")

        # Joining: the request for the answer, to each member alone, in the group (the
        # third waits for its turn in the group's pace: no time passes between the taps).
        for member in (CAT, DAN, EVE):
            query = await bot.tap_data(member, start, join)
            assert answer_to(bot, query).params["text"] in (JOINED_HERE, WAIT_HERE)
            [ask] = bot.api.ephemeral_in(GROUP, member.id)
            assert "Only you can see this message" in shown(ask)
            assert "reply to this message" in shown(ask)
        assert not bot.api.sent("sendMessage", CAT.id), "the group is enough"
        # A second tap asks again (an ephemeral message may not have reached them).
        query = await bot.tap_data(CAT, start, join)
        assert answer_to(bot, query).params["text"] in (JOINED_HERE, WAIT_HERE)
        assert len(bot.api.ephemeral_in(GROUP, CAT.id)) == 2
        ask = bot.api.ephemeral_in(GROUP, CAT.id)[-1]

        # Cat replies to the bot alone: stored, confirmed to Cat alone.
        await bot.feed(bot.updates.reply(CAT, "softmax(QK^T/sqrt(d_k))V", ask))
        assert "Got your answer" in shown(bot.api.ephemeral_in(GROUP, CAT.id)[-1])
        # Dan's reply is a group message everyone sees: taken, and deleted from the group.
        bot.api.can_delete_in.add(GROUP)
        dan_ask = bot.api.ephemeral_in(GROUP, DAN.id)[-1]
        update = bot.updates.reply(DAN, "QK^T V", dan_ask, ephemeral=False)
        bot.api.add_member_message(update)
        await bot.feed(update)
        dan_id = update["message"]["message_id"]
        assert (GROUP, dan_id) not in bot.api.messages, "deleted from the group"
        assert "Got your answer" in shown(bot.api.ephemeral_in(GROUP, DAN.id)[-1])
        # Eve's too, where the bot may not delete it: kept, and Eve is told.
        bot.api.can_delete_in.clear()
        eve_ask = bot.api.ephemeral_in(GROUP, EVE.id)[-1]
        bot.api.add_photo("photo-eve-page", b"\x89PNG\r\n\x1a\n" + b"eve's page")
        update = bot.updates.reply(EVE, "", eve_ask, ephemeral=False, photo="photo-eve-page")
        bot.api.add_member_message(update)
        await bot.feed(update)
        told = shown(bot.api.ephemeral_in(GROUP, EVE.id)[-1])
        assert "Got your answer" in told and NOT_REMOVED in told
        # Ordinary group chatter is none of the bot's business.
        before = len(bot.api.calls)
        await bot.send(ANA, "what a nice challenge", GROUP)
        assert len(bot.api.calls) == before

        stored = bot.query(
            "SELECT l.platform_user_id, s.text, s.photo_ref FROM challenge_submissions s "
            "JOIN learners l ON l.id = s.learner_id ORDER BY l.platform_user_id"
        )
        assert stored == [
            (str(CAT.id), "softmax(QK^T/sqrt(d_k))V", None),
            (str(DAN.id), "QK^T V", None),
            (str(EVE.id), None, "photo-eve-page"),
        ]

        # The reveal: one reference for everyone; each self-assessment to its member
        # alone, in the group, since none of them has a private chat.
        bot.clock.advance(timedelta(minutes=11))
        assert await bot.app.challenges.reveal_overdue() == 1
        reference = [
            c
            for c in bot.api.sent("sendMessage|sendPhoto|sendRichMessage", GROUP)
            if "Time is up" in c.plain
        ]
        assert len(reference) == 1 and "receiver_user_id" not in reference[0].params
        forms = {}
        for member in (CAT, DAN, EVE):
            form = next(
                m
                for m in reversed(bot.api.ephemeral_in(GROUP, member.id))
                if "Apply to my cards" in labels(m)
            )
            assert "Self-assessment for" in shown(form)
            forms[member.id] = form
        assert "softmax(QK^T/sqrt(d_k))V" in shown(forms[CAT.id])
        assert not any("could not reach" in c.plain for c in bot.api.sent("sendMessage", GROUP))
        # Each also waits for a private word (an ephemeral message may not reach someone
        # offline); the outbox sends it only if it was not applied meanwhile.
        assert len(bot.query("SELECT * FROM outbox WHERE sent_at IS NULL")) == 3

        # Cat fills it in there: the taps edit Cat's ephemeral message.
        form = forms[CAT.id]
        first = next(label for label in labels(form) if label not in ("Apply to my cards",))
        await bot.tap(CAT, form, first)
        edited = bot.api.ephemerals[(GROUP, form["ephemeral_message_id"])]
        assert edited.get("edit_date"), "edited in place"
        await bot.tap(CAT, edited, "Apply to my cards")
        assert bot.api.sent("editEphemeralMessageText|editEphemeralMessageReplyMarkup")
        public = [
            c
            for c in bot.api.sent("sendMessage|sendPhoto", GROUP)
            if "receiver_user_id" not in c.params
        ]
        assert not [c for c in public if "Self-assessment" in c.plain], "never for everyone"
    no_errors(caplog)


async def test_an_answer_to_a_request_shown_before_a_restart_is_taken_after_it(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, ephemeral=True) as bot:
        bot.api.set_member(GROUP, ANA.id, "administrator")
        await onboard(bot, ANA)
        never_started(bot, CAT)
        await bot.send(ANA, f"/challenge start {SCALED} 10", GROUP)
        start = bot.api.message_with_button(GROUP, "Submit my answer")
        await bot.tap(CAT, start, "Submit my answer")
        [ask] = bot.api.ephemeral_in(GROUP, CAT.id)
    first = bot
    async with telegram_bot(tmp_path, ephemeral=True, restart_of=first) as bot:
        await bot.feed(bot.updates.reply(CAT, "my answer after the restart", ask))
        assert "Got your answer" in shown(bot.api.ephemeral_in(GROUP, CAT.id)[-1])
        assert bot.query("SELECT text FROM challenge_submissions") == [
            ("my answer after the restart",)
        ]
        # After the deadline the same reply is told that time is up, and not kept.
        bot.clock.advance(timedelta(minutes=11))
        assert await bot.app.challenges.reveal_overdue() == 1
        await bot.feed(bot.updates.reply(CAT, "too late", ask))
        assert "time is up" in shown(bot.api.ephemeral_in(GROUP, CAT.id)[-1])
        assert bot.query("SELECT text FROM challenge_submissions") == [
            ("my answer after the restart",)
        ]
    no_errors(caplog)


async def test_a_refusal_about_one_group_keeps_ephemeral_messages_in_the_others(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    other = GROUP - 1
    async with telegram_bot(tmp_path, ephemeral=True) as bot:
        await onboard(bot, ANA)
        await bot.send(ANA, "/quiz attention", GROUP)
        await bot.send(ANA, "/quiz attention", other)
        bot.api.fail("sendMessage", "no_rights", chat_id=GROUP)
        quiz = bot.api.message_with_button(GROUP, "Reveal")
        query = await bot.tap_data(ANA, quiz, button_data(quiz, "Reveal"))
        assert answer_to(bot, query).params["text"] == SENT_PRIVATELY
        members = bot.platform.members
        assert members.refused_in == {GROUP} and members.enabled
        quiz = bot.api.message_with_button(other, "Reveal")
        query = await bot.tap_data(ANA, quiz, button_data(quiz, "Reveal"))
        assert answer_to(bot, query).params["text"] == SHOWN_HERE
        assert len(bot.api.ephemeral_in(other, ANA.id)) == 1
    no_errors(caplog)


# ---------------------------------------------------------------------- answers for one


async def test_a_refusal_and_a_status_go_to_the_member_who_asked_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An outcome for the person who asked (``to="ephemeral"``: a quiz that cannot
    start, /challenge status) is shown in the group to them alone, not to everyone."""
    async with telegram_bot(tmp_path, ephemeral=True) as bot:
        await bot.send(ANA, "/quiz no-such-topic", GROUP)
        [refusal] = bot.api.ephemeral_in(GROUP, ANA.id)
        assert "no-such-topic" in shown(refusal)
        await bot.send(BEN, "/challenge status", GROUP)
        [status] = bot.api.ephemeral_in(GROUP, BEN.id)
        assert "No challenge is running here" in shown(status)
        assert not bot.api.messages_in(GROUP), "nothing for the whole group"
    no_errors(caplog)


@pytest.mark.parametrize("server", ["refuse", "ignore"])
async def test_a_refusal_goes_to_the_group_when_the_server_will_not_show_it_to_one(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, server: str
) -> None:
    async with telegram_bot(tmp_path, ephemeral=True) as bot:
        bot.api.ephemeral = server
        await bot.send(ANA, "/quiz no-such-topic", GROUP)
        assert len(ephemeral_sends(bot)) == 1 and not bot.api.ephemerals
        [posted] = bot.api.messages_in(GROUP)
        assert "no-such-topic" in shown(posted), "as today: to the group"
        await bot.send(ANA, "/quiz no-such-topic", GROUP)
        assert len(ephemeral_sends(bot)) == 1, "not tried again in this process"
        assert len(bot.api.messages_in(GROUP)) == 2
    no_errors(caplog)


@pytest.mark.parametrize("ephemeral", [True, False])
async def test_a_reply_to_another_message_for_the_member_is_no_answer(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, ephemeral: bool
) -> None:
    """Only a reply to the request for the answer is an answer: "thanks" to the bot's
    confirmation (or to any other message shown to the member alone) neither replaces
    the answer nor is deleted from the group."""
    async with telegram_bot(tmp_path, ephemeral=True, fake_renderer=True) as bot:
        bot.api.set_member(GROUP, ANA.id, "administrator")
        await onboard(bot, ANA)
        never_started(bot, CAT)
        bot.api.can_delete_in.add(GROUP)
        await bot.send(ANA, f"/challenge start {SCALED} 10", GROUP)
        start = bot.api.message_with_button(GROUP, "Submit my answer")
        await bot.tap_data(CAT, start, button_data(start, "Submit my answer"))
        [ask] = bot.api.ephemeral_in(GROUP, CAT.id)
        await bot.feed(bot.updates.reply(CAT, "softmax(QK^T/sqrt(d_k))V", ask))
        confirmation = bot.api.ephemeral_in(GROUP, CAT.id)[-1]
        assert "Got your answer" in shown(confirmation)

        update = bot.updates.reply(CAT, "thanks!", confirmation, ephemeral=ephemeral)
        if not ephemeral:
            bot.api.add_member_message(update)
        await bot.feed(update)
        assert len(bot.api.ephemeral_in(GROUP, CAT.id)) == 2, "nothing more said"
        if not ephemeral:
            assert (GROUP, update["message"]["message_id"]) in bot.api.messages, "kept"
        stored = bot.query("SELECT s.text FROM challenge_submissions s")
        assert stored == [("softmax(QK^T/sqrt(d_k))V",)]
    no_errors(caplog)
