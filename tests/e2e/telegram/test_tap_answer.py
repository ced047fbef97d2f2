"""A tap is answered at once, whatever other chats are waiting for: virtual time.

Sixteen learners tap "Show answer" while their chats are held (a 429's
``retry_after``): the edits must wait a minute. A seventeenth learner taps then.
The real python-telegram-bot Application takes the updates from its queue with
its bounded number of update slots, over the in-memory fake Bot API, on
:class:`~tests.fakes.virtual_time.VirtualTimeLoop`: the instants are virtual.
"""

from __future__ import annotations

import asyncio
from typing import Any

from telegram import Update

from bot.core.learners import Who
from bot.platforms.telegram import TelegramPlatform
from tests.e2e.telegram.fake import TgUser, Updates
from tests.e2e.telegram.test_push_pacing import START, TimedBotAPI, platform_over
from tests.fakes.database import FakeDatabase
from tests.fakes.decks import make_deck
from tests.fakes.virtual_time import VirtualClock, run_virtual
from tests.services import build_services

HELD = list(range(1, 17))
FREE = 17
HOLD = 60.0


class AnsweringBotAPI(TimedBotAPI):
    """Notes the virtual instant each callback query is answered: query id -> when."""

    def __init__(self) -> None:
        super().__init__()
        self.answered_at: dict[str, float] = {}

    async def call(
        self,
        endpoint: str,
        params: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]] | None = None,
        *,
        client: str = "",
    ) -> tuple[int, bytes]:
        if endpoint == "answerCallbackQuery":
            self.answered_at[str(params["callback_query_id"])] = asyncio.get_running_loop().time()
        return await super().call(endpoint, params, files, client=client)


async def tap_reveal(
    platform: TelegramPlatform, api: AnsweringBotAPI, updates: Updates, chat: int
) -> str:
    """The chat gets its card; its learner taps "Show answer" (the update goes through
    the application's queue). Returns the query's id."""
    outcome = await platform.callbacks.study.next(Who("telegram", str(chat)))
    payload = outcome.replies[0].buttons[0][0].payload
    message = api._new_message({"chat_id": chat})
    message["text"] = "a card"
    update = updates.callback(TgUser(chat, f"User {chat}"), message, payload)
    application = platform.application
    await application.update_queue.put(Update.de_json(update, application.bot))
    return str(update["callback_query"]["id"])


def test_a_tap_is_answered_while_other_chats_wait_for_their_pace() -> None:
    async def main() -> tuple[AnsweringBotAPI, dict[int, str], float]:
        services = build_services(
            FakeDatabase([make_deck("d", ["c1", "c2"])], START), VirtualClock(START)
        )
        api = AnsweringBotAPI()
        platform = platform_over(api, services)
        await platform.initialize()
        await platform.application.start()
        queries: dict[int, str] = {}
        updates = Updates()
        for chat in HELD:
            platform.pacing.hold(chat, HOLD)  # each of these chats' edits waits a minute
            queries[chat] = await tap_reveal(platform, api, updates, chat)
        await asyncio.sleep(1.0)
        tapped = asyncio.get_running_loop().time()
        queries[FREE] = await tap_reveal(platform, api, updates, FREE)
        await asyncio.sleep(HOLD + 5)
        await platform.callbacks.settled()
        await platform.application.stop()
        await platform.stop()
        return api, queries, tapped

    api, queries, tapped = run_virtual(main())
    assert set(api.answered_at) == set(queries.values()), "every tap is answered"
    # The free chat's tap is answered and its card shown at once, though sixteen other
    # chats' edits are still held.
    assert api.answered_at[queries[FREE]] - tapped < 0.1
    edits = {chat: when for endpoint, chat, when in api.timeline if endpoint.startswith("edit")}
    assert edits[FREE] - tapped < 0.1
    assert all(edits[chat] >= HOLD for chat in HELD), edits
    # The held chats' taps were answered at once too: only their edits waited.
    assert all(api.answered_at[queries[chat]] < 1.0 for chat in HELD)
