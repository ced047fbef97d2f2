"""Cards as rich messages (Bot API 10.1 ``sendRichMessage``), through the real PTB
Application over the fake Bot API: formulas typeset by Telegram, a table as a table,
notes folded; the reveal edits the rich front into its back. A server without the
method (an older or self-hosted one) is asked once per process and the review goes
on as today's text; a message Telegram cannot parse goes as text, alone.
"""

from __future__ import annotations

import logging
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.model import OutboxMessage
from bot.platforms.telegram.rich import SEND_RICH
from tests.e2e.telegram.fake import parse_rich_html, rich_text, utf16
from tests.e2e.telegram.harness import FakeRenderer, Harness, telegram_bot
from tests.e2e.telegram.test_bot import (
    ANA,
    assert_all_answered,
    no_errors,
    onboard,
    write_edge_deck,
)

pytestmark = pytest.mark.asyncio
log = logging.getLogger(__name__)

FORMULA = r"\mathrm{Attention}(Q,K,V) = \mathrm{softmax}\left(\frac{QK^T}{\sqrt{d_k}}\right)V"
DECK = f"""\
# Rich cards
id: rich
tags: rich

## The attention formula
id: rich-formula
front-image: formula \\mathrm{{Attention}}(Q,K,V) = ?
image: formula {FORMULA}

### Front
Complete the formula, with $d_k$ the width of a key.

### Back
Scale the scores by $\\sqrt{{d_k}}$ before the softmax, where $a < b$ & $b > c$.

### Mnemonic
Scale, squash, mix.

### Notes
Without the scale, the softmax saturates when $d_k$ is large.

## Shapes in a table
id: rich-table
tags: rich

### Front
Which shapes do $Q$, $K$ and $V$ have?

### Back
| matrix | shape |
|---|---|
| $Q$ | $n \\times d_k$ |
| $K$ | $n \\times d_k$ |
| $V$ | <n × d_v> & more |

## Keys from the inputs
id: rich-diagram
image: shape X[n,d_model] @ W_K[d_model,d_k] -> K[n,d_k]; n=6, d_model=8, d_k=4

### Front
How is the key matrix made from the inputs?

### Back
$K = XW_K$.
"""


def write_deck(tmp_path: Path) -> Path:
    folder = tmp_path / "rich-decks"
    folder.mkdir()
    (folder / "rich.md").write_text(DECK, encoding="utf-8")
    return folder


async def add_push(bot: Harness, learner_id: int, card_id: str, token: str) -> None:
    """A daily push of ``card_id`` in the outbox, as a push tick puts it there."""
    now = bot.clock.now()
    push = OutboxMessage(
        platform="telegram",
        learner_id=learner_id,
        kind="push",
        text="1 card is due: about 1 minute.",
        created_at=now,
        not_before=now,
        card_id=card_id,
        prompt_token=token,
        due_count=1,
    )
    await bot.app.db.run(lambda tx: tx.pushes.add_outbox([push]))


async def start_review(bot: Harness) -> None:
    await onboard(bot, ANA, "rich")
    await bot.send(ANA, "/settings new 10")
    bot.api.clear()
    await bot.send(ANA, "/review")


async def review_all(bot: Harness) -> list[str]:
    """Reveal and rate Good the deck's three cards; what Ana read on each back."""
    backs: list[str] = []
    for _ in range(3):
        card = bot.api.message_with_button(ANA.id, "Show answer")
        await bot.tap(ANA, card, "Show answer")
        back = bot.api.message_with_button(ANA.id, "Good")
        backs.append(rich_text(back) if "photo" not in back else str(back.get("caption")))
        await bot.tap(ANA, back, "Good")
    return backs


async def test_a_review_with_rich_fronts_and_backs(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(
        tmp_path, extra_decks=[write_deck(tmp_path)], fake_renderer=True
    ) as bot:
        await start_review(bot)
        backs = await review_all(bot)
        assert len(backs) == 3, backs
        rich = bot.api.sent(SEND_RICH, ANA.id)
        edits = [c for c in bot.api.sent("editMessageText", ANA.id) if "rich_message" in c.params]
        assert rich and edits, "fronts went rich and the reveals edited them"
        # The edit carries the rich content alone (no text, no parse mode), its buttons.
        assert all("text" not in c.params and "parse_mode" not in c.params for c in edits)
        assert all(c.buttons for c in edits)
        bodies = [c.html for c in rich + edits]
        for body in bodies:
            log.info("rich HTML: %s", body)
            parse_rich_html(body)  # as Telegram reads it
        formula_back = next(b for b in bodies if "Scale the scores" in b)
        # The formula picture is typeset, not drawn or sent: both sides' formulas.
        assert f"<tg-math-block>{FORMULA}</tg-math-block>" in formula_back
        assert "<tg-math>\\sqrt{d_k}</tg-math>" in formula_back
        assert "<tg-math>a &lt; b</tg-math> &amp; <tg-math>b &gt; c</tg-math>" in formula_back
        assert "<details><summary>Notes</summary>" in formula_back
        assert "<p><b>Mnemonic:</b> Scale, squash, mix.</p>" in formula_back
        front = next(b for b in bodies if "Complete the formula" in b)
        assert "<tg-math-block>\\mathrm{Attention}(Q,K,V) = ?</tg-math-block>" in front
        assert FORMULA not in front, "the answer's formula is not shown with the question"
        drawn = bot.app.renderer
        assert isinstance(drawn, FakeRenderer)
        assert not [c for c in drawn.calls if "formula" in str(c)], drawn.calls
        # The table is a table; "<" and "&" in a cell are text.
        table = next(b for b in bodies if "<table>" in b)
        assert "<tr><th>matrix</th><th>shape</th></tr>" in table
        assert "<td>&lt;n × d_v&gt; &amp; more</td>" in table
        # The diagram card is a photo, as today, with its caption.
        photos = bot.api.sent("sendPhoto|editMessageMedia", ANA.id)
        assert photos and all("formula" not in c.plain for c in photos)
        # What Ana read on the formula card's back.
        read = next(b for b in backs if "Scale the scores" in b)
        assert FORMULA in read and "a < b & b > c" in read
        assert not bot.api.violations
        assert_all_answered(bot)
        cards = [m for m in bot.api.messages_in(ANA.id) if "Show answer" in str(m)]
        assert len(cards) <= 1, "one card on screen at a time"
    no_errors(caplog)


async def test_a_server_without_the_method_is_asked_once_and_the_review_goes_on(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    deck = write_deck(tmp_path)
    caplog.set_level(logging.INFO)
    async with telegram_bot(tmp_path, extra_decks=[deck], fake_renderer=True, rich=False) as bot:
        await start_review(bot)
        backs = await review_all(bot)
        assert len(backs) == 3, backs
        assert len(bot.api.sent(SEND_RICH)) == 1, "tried once for the process"
        assert bot.app is not None
        # Today's text: the formula as a picture, math as Unicode, the table monospace.
        drawn = bot.app.renderer
        assert isinstance(drawn, FakeRenderer)
        assert [c for c in drawn.calls if "formula" in str(c)]
        read = next(b for b in backs if "Scale the scores" in b)
        assert "√d_k" in read
        assert not bot.api.violations
        assert_all_answered(bot)
        warnings = [r for r in caplog.records if SEND_RICH in r.getMessage()]
        assert len(warnings) == 1 and warnings[0].levelno == logging.INFO
        assert "InvalidToken" not in caplog.text and "token" not in warnings[0].getMessage()
    no_errors(caplog)


async def test_a_rich_message_telegram_cannot_parse_goes_as_text_alone(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    async with telegram_bot(
        tmp_path, extra_decks=[write_deck(tmp_path)], fake_renderer=True
    ) as bot:
        await onboard(bot, ANA, "rich")
        bot.api.clear()
        bot.api.fail(SEND_RICH, "bad_request", chat_id=ANA.id)
        await bot.send(ANA, "/review")
        [refused] = bot.api.sent(SEND_RICH, ANA.id)
        first = bot.api.message_with_button(ANA.id, "Show answer")
        assert "rich_message" not in first, "that one card went as today's text or photo"
        await bot.tap(ANA, first, "Show answer")
        back = bot.api.message_with_button(ANA.id, "Good")
        await bot.tap(ANA, back, "Good")
        # The next card is rich again: the refusal was for one message only.
        assert "rich_message" in bot.api.message_with_button(ANA.id, "Show answer")
        assert len(bot.api.sent(SEND_RICH, ANA.id)) == 2
        assert "Complete the formula" in refused.plain
        assert_all_answered(bot)
    no_errors(caplog)


async def test_a_refused_rich_edit_replaces_the_card(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Telegram refuses to edit the rich front (400): the back is sent and the front
    deleted, so the reveal still works and one card stays on screen."""
    async with telegram_bot(
        tmp_path, extra_decks=[write_deck(tmp_path)], fake_renderer=True
    ) as bot:
        await start_review(bot)
        front = bot.api.message_with_button(ANA.id, "Show answer")
        assert "rich_message" in front
        bot.api.fail("editMessageText", "bad_request", chat_id=ANA.id)
        await bot.tap(ANA, front, "Show answer")
        assert (ANA.id, front["message_id"]) not in bot.api.messages, "the front is gone"
        back = bot.api.message_with_button(ANA.id, "Good")
        assert "Answer" in rich_text(back)
        assert_all_answered(bot)
    no_errors(caplog)


async def test_a_rich_push_snoozed_is_closed_with_its_note_also_after_a_restart(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Snoozing a rich push edits it: the note in italics, no buttons. After a restart the
    card's HTML is not known to the new process: its buttons go and the note is sent."""
    async with telegram_bot(tmp_path, extra_decks=[write_deck(tmp_path)]) as bot:
        await onboard(bot, ANA, "rich")
        learner = bot.learner_id(ANA)
        assert learner is not None
        await add_push(bot, learner, "rich-table", token="pushTok000000001")
        assert await bot.app.pushes.drain("telegram", bot.platform.push) == 1
        push = bot.api.message_with_button(ANA.id, "Snooze")
        assert "rich_message" in push and "1 card is due" in rich_text(push)
        await bot.tap(ANA, push, "Snooze")
        closed = bot.api.messages[(ANA.id, push["message_id"])]
        assert "reply_markup" not in closed
        assert rich_text(closed).splitlines()[-1].startswith("Snoozed: I'll come back at")
        edit = bot.api.sent("editMessageText", ANA.id)[-1]
        assert "<p><i>Snoozed: I'll come back at" in edit.html
        bot.clock.advance(timedelta(hours=2))
        await add_push(bot, learner, "rich-formula", token="pushTok000000002")
    async with telegram_bot(tmp_path, restart_of=bot) as again:
        assert await again.app.pushes.drain("telegram", again.platform.push) >= 1
        push = again.api.message_with_button(ANA.id, "Skip today")
        assert "rich_message" in push
    async with telegram_bot(tmp_path, restart_of=again) as third:
        await third.tap(ANA, push, "Skip today")
        closed = third.api.messages[(ANA.id, push["message_id"])]
        assert "reply_markup" not in closed, "its buttons went"
        assert third.api.sent("sendMessage", ANA.id)[-1].plain.startswith("Skipped for today")
        assert_all_answered(third)
    no_errors(caplog)


async def test_a_back_too_long_for_a_text_message_is_one_rich_message(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Seventy paragraphs (over 4096 characters, split in several text messages on an older
    server) fit one rich message: the reveal is one edit, the ratings on it; "<" and "&"
    in the text stay text."""
    async with telegram_bot(tmp_path, extra_decks=[write_edge_deck(tmp_path)]) as bot:
        await onboard(bot, ANA, "long")
        await bot.send(ANA, "/review")
        front = bot.api.last_message(ANA.id)
        bot.api.clear()
        await bot.tap(ANA, front, "Show answer")
        [edit] = bot.api.sent("editMessageText", ANA.id)
        assert not bot.api.sent("sendMessage|sendRichMessage", ANA.id)
        assert utf16(edit.plain) > 4096
        for n in (0, 35, 69):
            assert f"Paragraph {n}:" in edit.plain
        assert "<tg-math>\\sqrt{d_k}</tg-math>, go through a softmax &lt; 1" in edit.html
        assert "every key & the scores" in edit.plain
        assert [label.split()[0] for label, _ in edit.buttons] == ["Again", "Hard", "Good", "Easy"]
        await bot.tap(ANA, bot.api.last_message(ANA.id), "Good")
        assert bot.query("SELECT count(*) FROM review_logs") == [(1,)]
        assert not bot.api.violations
    no_errors(caplog)
