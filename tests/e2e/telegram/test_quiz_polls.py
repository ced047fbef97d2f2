"""Group quiz polls through the real PTB Application over the fake Bot API.

A /quiz on a card with choices is a non-anonymous quiz poll; each member's poll_answer
is a quiz review in their own schedule (right Good, wrong Again), once; at the window's
end the poll is stopped and the answer and tally are posted once.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.platforms.telegram.polls import BACK_LINK_TEXT, POLL_REFUSED
from bot.text.split import utf16_len
from tests.e2e.telegram.fake import BOT_USERNAME, Call, TgUser, parse_html
from tests.e2e.telegram.harness import GROUP, Harness, telegram_bot

ANA = TgUser(101, "Ana", "ana")
BEN = TgUser(102, "Ben")
CAT = TgUser(103, "Cat", "cat")

DECK = r"""# Poll cards
id: polls
tags: polls

## Dividing the scores
id: poll-scale
choices:
- [ ] by $d_k$
- [x] by $\sqrt{d_k}$
- [ ] by $d_{model}$

### Front
By what are the scores $QK^T$ divided before the softmax?

### Back
By $\sqrt{d_k}$: the variance of $q \cdot k$ is $d_k$, and dividing by $\sqrt{d_k}$
brings it back to 1.

## The shape of the scores
id: poll-shape
front-image: shape Q[n,d_k] @ K^T[d_k,n] -> S[?,?]; n=6, d_k=4
image: shape Q[n,d_k] @ K^T[d_k,n] -> S[n,n]; n=6, d_k=4
choices:
- [x] $n \times n$
- [ ] $n \times d_k$

### Front
What is the shape of $QK^T$?

### Back
$n \times n$.
"""


def no_errors(caplog: pytest.LogCaptureFixture) -> None:
    errors = [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert not errors, [r.getMessage() for r in errors]


def deck(tmp_path: Path) -> Path:
    path = tmp_path / "decks" / "polls.md"
    path.parent.mkdir()
    path.write_text(DECK, encoding="utf-8")
    return path.parent


def posted_poll(bot: Harness) -> tuple[Call, dict[str, Any]]:
    """The last sendPoll and the poll Telegram holds for it."""
    call = bot.api.sent("sendPoll", GROUP)[-1]
    (poll_id,) = [pid for pid, (chat, _) in bot.api.polls.items() if chat == GROUP][-1:]
    return call, bot.api.poll_message(poll_id)["poll"]


async def answer(bot: Harness, user: TgUser, poll: dict[str, Any], option: int | None) -> None:
    options = [] if option is None else [option]
    await bot.feed(bot.updates.poll_answer(user, poll["id"], options))


def reviews(bot: Harness, user: TgUser) -> list[tuple[int, str]]:
    return [
        (int(r), str(s))
        for r, s in bot.query(
            "SELECT rating, source FROM review_logs JOIN learners ON learners.id = learner_id"
            " WHERE platform_user_id = ? ORDER BY review_logs.id",
            str(user.id),
        )
    ]


async def test_a_quiz_poll_feeds_each_members_schedule_and_closes_once(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, extra_decks=[deck(tmp_path)], shipped=False) as bot:
        await bot.send(ANA, "/quiz polls", GROUP)
        intro = bot.api.sent("sendMessage", GROUP)[-1]
        assert "Quiz on polls: answer in the poll below" in intro.plain
        call, poll = posted_poll(bot)
        # As sent: a non-anonymous quiz without revoting, one right option (Bot API 10.0).
        assert call.params["question"] == "By what are the scores QKᵀ divided before the softmax?"
        assert poll["type"] == "quiz" and poll["is_anonymous"] is False
        assert poll["allows_revoting"] is False
        texts = [o["text"] for o in poll["options"]]
        assert sorted(texts) == ["by d_k", "by d_model", "by √d_k"]
        (right,) = poll["correct_option_ids"]
        assert texts[right] == "by √d_k"
        wrong = (right + 1) % 3
        # The explanation links to the full back in the private chat.
        explanation, entities = parse_html(str(call.params["explanation"]))
        assert explanation.startswith("Answer: by √d_k.") and explanation.endswith(BACK_LINK_TEXT)
        assert utf16_len(explanation) <= 200
        (link,) = [e["url"] for e in entities if e["type"] == "text_link"]
        assert link.startswith(f"https://t.me/{BOT_USERNAME}?start=qa_")

        # Ben (who never opened a private chat) is right, Cat wrong; Cat then changes her
        # vote and Ben retracts his: neither is reviewed twice.
        await answer(bot, BEN, poll, right)
        await answer(bot, CAT, poll, wrong)
        await answer(bot, CAT, poll, right)
        await answer(bot, BEN, poll, None)
        assert reviews(bot, BEN) == [(3, "quiz")]
        assert reviews(bot, CAT) == [(1, "quiz")]
        assert reviews(bot, ANA) == []
        ben_state = bot.query(
            "SELECT reps, state FROM card_states JOIN learners ON learners.id = learner_id"
            " WHERE platform_user_id = ? AND card_id = 'poll-scale'",
            str(BEN.id),
        )
        assert ben_state and ben_state[0][0] == 1
        assert bot.api.sent("stopPoll") == []
        assert not any(c.chat_id in (BEN.id, CAT.id) for c in bot.api.calls), "nothing private"

        # Ben follows the explanation's link: the full back, privately.
        await bot.send(BEN, f"/start {link.rsplit('=', 1)[1]}")
        back = bot.api.sent("sendMessage|sendPhoto|sendRichMessage", BEN.id)[-1]
        assert "variance" in back.plain and "full answer" in back.plain.lower()

        # The window ends: the poll is stopped, then the answer and tally, once.
        bot.clock.advance(timedelta(minutes=10))
        assert await bot.app.quiz.sweep() == 1
        assert await bot.app.quiz.sweep() == 0
        (stop,) = bot.api.sent("stopPoll")
        assert int(stop.params["message_id"]) == bot.api.polls[poll["id"]][1]
        assert bot.api.poll_message(poll["id"])["poll"]["is_closed"] is True
        endpoints = [c.endpoint for c in bot.api.calls if c.chat_id == GROUP]
        assert endpoints[-2:] == ["stopPoll", "sendRichMessage"]  # the answer card, typeset
        result = bot.api.sent("sendMessage|sendRichMessage", GROUP)[-1].plain
        assert "Quiz answer: by √d_k. 2 answered · 1 right · 1 wrong" in result
        assert "variance" in result
        # An answer after the close changes nothing.
        await answer(bot, ANA, poll, right)
        assert reviews(bot, ANA) == []
    assert bot.api.violations == []
    no_errors(caplog)


async def test_a_front_with_a_picture_goes_above_its_poll(tmp_path: Path) -> None:
    async with telegram_bot(tmp_path, extra_decks=[deck(tmp_path)], shipped=False) as bot:
        await bot.send(ANA, "/quiz polls", GROUP)
        bot.clock.advance(timedelta(minutes=11))
        await bot.send(ANA, "/quiz polls", GROUP)  # the other card: no repeat within a day
        call, poll = posted_poll(bot)
        assert call.params["question"] == "Which is right? (the question is above)"
        above = bot.api.sent("sendPhoto", GROUP)[-1]
        assert "What is the shape of QK" in above.plain and "Quiz on polls" in above.plain
        assert above.params.get("reply_markup") is None  # no Reveal button above a poll
        assert sorted(o["text"] for o in poll["options"]) == ["n × d_k", "n × n"]
    assert bot.api.violations == []


async def test_a_group_that_refuses_polls_gets_the_reveal_card(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(tmp_path, extra_decks=[deck(tmp_path)], shipped=False) as bot:
        bot.api.fail("sendPoll", "no_polls", chat_id=GROUP)
        await bot.send(ANA, "/quiz polls", GROUP)
        assert bot.api.polls == {}
        card = bot.api.message_with_button(GROUP, "Reveal")
        await bot.tap(BEN, card, "Reveal")
        await bot.tap(BEN, bot.api.message_with_button(BEN.id, "Good"), "Good")
        assert reviews(bot, BEN) == [(3, "quiz")]
        bot.clock.advance(timedelta(minutes=10))
        assert await bot.app.quiz.sweep() == 1
        assert bot.api.sent("stopPoll") == []
        assert (
            "Quiz answer. 1 took part"
            in bot.api.sent("sendMessage|sendRichMessage", GROUP)[-1].plain
        )
    assert any("refused a quiz poll" in r.getMessage() for r in caplog.records)
    no_errors(caplog)


async def test_a_poll_that_cannot_be_stopped_still_gets_its_answer(tmp_path: Path) -> None:
    async with telegram_bot(tmp_path, extra_decks=[deck(tmp_path)], shipped=False) as bot:
        await bot.send(ANA, "/quiz polls", GROUP)
        _, poll = posted_poll(bot)
        await answer(bot, BEN, poll, poll["correct_option_ids"][0])
        bot.api.messages.pop(bot.api.polls[poll["id"]])  # someone deleted the poll
        bot.clock.advance(timedelta(minutes=10))
        assert await bot.app.quiz.sweep() == 1
        assert (
            "1 answered · 1 right · 0 wrong"
            in bot.api.sent("sendMessage|sendRichMessage", GROUP)[-1].plain
        )


async def test_the_full_back_waits_for_an_answer(tmp_path: Path) -> None:
    async with telegram_bot(tmp_path, extra_decks=[deck(tmp_path)], shipped=False) as bot:
        await bot.send(ANA, "/quiz polls", GROUP)
        call, _ = posted_poll(bot)
        _, entities = parse_html(str(call.params["explanation"]))
        start = str(entities[-1]["url"]).rsplit("=", 1)[1]
        await bot.send(CAT, f"/start {start}")
        told = bot.api.sent("sendMessage", CAT.id)[-1].plain
        assert "Answer the poll in the group first" in told


async def test_odd_poll_answers_change_nothing_or_count_as_wrong(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """An unknown (or absurdly long) poll id, an anonymous vote (a chat, no member), and
    option ids no quiz can send (out of range, several at once) never fail the update."""
    async with telegram_bot(tmp_path, extra_decks=[deck(tmp_path)], shipped=False) as bot:
        await bot.send(ANA, "/quiz polls", GROUP)
        _, poll = posted_poll(bot)
        await bot.feed(bot.updates.poll_answer(BEN, "9" * 500, [0]))
        anonymous = bot.updates.poll_answer(BEN, poll["id"], [0])
        del anonymous["poll_answer"]["user"]
        anonymous["poll_answer"]["voter_chat"] = {"id": GROUP, "type": "supergroup", "title": "G"}
        await bot.feed(anonymous)
        assert reviews(bot, BEN) == []
        await bot.feed(bot.updates.poll_answer(BEN, poll["id"], [7]))
        await bot.feed(bot.updates.poll_answer(CAT, poll["id"], [0, 1, 2]))
        assert reviews(bot, BEN) == [(1, "quiz")] and reviews(bot, CAT) == [(1, "quiz")]
    no_errors(caplog)


async def test_a_refused_poll_is_not_left_promised(tmp_path: Path) -> None:
    """The intro said "answer in the poll below": when no poll comes, the Reveal card
    that does says so, rather than contradicting it silently."""
    async with telegram_bot(tmp_path, extra_decks=[deck(tmp_path)], shipped=False) as bot:
        bot.api.fail("sendPoll", "no_polls", chat_id=GROUP)
        await bot.send(ANA, "/quiz polls", GROUP)
        intro, card = (m.plain for m in bot.api.sent("sendMessage|sendRichMessage", GROUP)[-2:])
        assert "answer in the poll below" in intro
        assert card.startswith(POLL_REFUSED) and "tap Reveal" in card
