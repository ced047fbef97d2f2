"""A review on Discord is two edits of one message: reveal, then rate into the next card.

Each press is acknowledged first (a deferred update, which shows nothing); the
tapped card becomes its back, then the next card with the rating's outcome on
top. Counted over a session of the shipped decks, card images included: every
card is one composed message (Components V2), its picture inside.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.e2e.discord.discord_fakes import Call, Sent
from tests.e2e.discord.test_discord import ALICE, Env, only, running

pytestmark = pytest.mark.asyncio

REVIEWS = 20
RATINGS = ("Good", "Easy", "Again", "Hard", "Good")


def shows(call: Call) -> bool:
    """A message created or edited (an interaction's acknowledgement is not one)."""
    if call.path.endswith("/callback"):
        return False
    return (call.method == "POST" and call.path.endswith(("/messages",))) or (
        call.path.startswith("/webhooks/") and call.method in ("POST", "PATCH")
    )


async def press(env: Env, card: Sent, label: str) -> list[Call]:
    dm = env.fake.dm(ALICE[0])
    before = len(env.fake.calls)
    await env.press(card, card.button(label), ALICE, dm)
    return env.fake.calls[before:]


async def test_a_review_of_the_shipped_decks_is_two_edits_of_one_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    async with running(tmp_path, monkeypatch) as env:
        dm = env.fake.dm(ALICE[0])
        await env.command("settings", ALICE, dm)  # a learner, with every deck
        card = only(await env.command("review", ALICE, dm))
        presses: list[list[Call]] = []
        images = 0
        for n in range(REVIEWS):
            presses.append(await press(env, card, "Show answer"))
            back = env.fake.messages[card.id]
            assert back.composed and not back.embeds
            images += bool(back.shown_images())
            rating = RATINGS[n % len(RATINGS)]
            presses.append(await press(env, back, rating))
            card = env.fake.messages[card.id]  # the same message, now the next card
            assert card.content.startswith(f"{rating}: "), card.content
            assert card.composed and card.button("Show answer")
        assert images > 0, "the session has cards with images"
        messages = sum(1 for calls in presses for c in calls if shows(c))
        assert messages / REVIEWS <= 2.0, (messages, REVIEWS)
        assert messages == 2 * REVIEWS  # the reveal and the rating: an edit each, no fallback
        # Each press is acknowledged before anything else is done for it.
        for calls in presses:
            assert calls[0].path.endswith("/callback"), [(c.method, c.path) for c in calls]
        assert not env.fake.violations
        assert not env.fake.unanswered()
