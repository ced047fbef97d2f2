"""Tests for bot.platforms.telegram.ephemeral (and how one_member reads a refusal)."""

from __future__ import annotations

from typing import Any

import pytest
from telegram import Message
from telegram.error import BadRequest, Forbidden

from bot.core.metrics import NULL_METRICS
from bot.core.pacing import Pacing
from bot.platforms.telegram.ephemeral import (
    EphemeralIgnored,
    NotEphemeral,
    addressed_to_bot,
    checked,
    ephemeral_id,
    only_for,
    prepare,
)
from bot.platforms.telegram.one_member import refusal_scope
from bot.platforms.telegram.sending import PacedRateLimiter
from tests.fakes.virtual_time import run_virtual

BOT = 5550001
GROUP = -100123


def message(**fields: Any) -> Message:
    data: dict[str, Any] = {
        "message_id": 0,
        "date": 1_767_000_000,
        "chat": {"id": GROUP, "type": "supergroup", "title": "G"},
        "text": "hi",
        **fields,
    }
    found = Message.de_json(data, None)
    assert found is not None
    return found


def test_only_posts_made_for_one_member_get_the_parameters_of_both_versions() -> None:
    data: dict[str, Any] = {"chat_id": GROUP}
    assert prepare("sendMessage", data) is None and data == {"chat_id": GROUP}
    with only_for(7):
        assert prepare("sendPhoto", data) == 7
        edit: dict[str, Any] = {"chat_id": GROUP}
        assert prepare("editMessageText", edit) is None and edit == {"chat_id": GROUP}
        assert prepare("sendChatAction", {"chat_id": GROUP}) is None
        with pytest.raises(NotEphemeral):  # would go to everyone on a 10.2 server
            prepare("sendRichMessage", {"chat_id": GROUP})
        with pytest.raises(NotEphemeral):
            prepare("copyMessage", {"chat_id": GROUP})
    assert data["receiver_user_id"] == 7
    assert data["ephemeral_message_parameters"] == {"receiver_user_id": 7}


def test_an_answer_without_the_ephemeral_mark_went_to_everyone() -> None:
    mine = {"message_id": 0, "ephemeral_message_id": 9, "chat": {"id": GROUP}}
    assert checked(mine, 7, GROUP) is mine
    assert checked({"message_id": 0, "receiver_user": {"id": 7}}, 7, GROUP)
    assert checked(True, 7, GROUP) is True  # an edit's answer
    plain = {"message_id": 42, "chat": {"id": GROUP}}
    assert checked(plain, None, GROUP) is plain  # an ordinary message
    with pytest.raises(EphemeralIgnored) as caught:
        checked(plain, 7, GROUP)
    assert (caught.value.chat_id, caught.value.message_id) == (GROUP, 42)


def test_a_message_for_the_bot_alone_is_ephemeral_or_replies_to_its_ephemeral_one() -> None:
    bot_user = {"id": BOT, "is_bot": True, "first_name": "Bot"}
    theirs = message(ephemeral_message_id=12, receiver_user=bot_user)
    assert ephemeral_id(theirs) == 12 and addressed_to_bot(theirs, BOT)
    ask = {"message_id": 0, "date": 1, "chat": {"id": GROUP, "type": "supergroup"}}
    reply = message(reply_to_message={**ask, "ephemeral_message_id": 5, "from": bot_user})
    assert ephemeral_id(reply) is None and addressed_to_bot(reply, BOT)
    other_bot = {**bot_user, "id": 999}
    assert not addressed_to_bot(
        message(reply_to_message={**ask, "ephemeral_message_id": 5, "from": other_bot}), BOT
    )
    assert not addressed_to_bot(message(reply_to_message={**ask, "from": bot_user}), BOT)
    assert not addressed_to_bot(message(), BOT)
    assert ephemeral_id(message(ephemeral_message_id=True)) is None


@pytest.mark.parametrize(
    ("error", "scope"),
    [
        (BadRequest("Unknown parameter receiver_user_id"), "process"),
        (BadRequest("Ephemeral messages are not supported"), "process"),
        (BadRequest("Not enough rights to send text messages to the chat"), "group"),
        (Forbidden("Bot was kicked from the supergroup chat"), "group"),
        (BadRequest("User not found"), "member"),
        (BadRequest("Something new"), "process"),
        # About this one message: it goes privately, ephemeral messages stay on.
        (BadRequest('Can\'t parse entities: unsupported start tag "x"'), "message"),
        (BadRequest("Photo_invalid_dimensions"), "message"),
        (BadRequest("Message is too long"), "message"),
        (BadRequest("Wrong file identifier/http url specified"), "message"),
    ],
)
def test_a_refusal_is_remembered_for_what_it_is_about(error: BadRequest, scope: str) -> None:
    assert refusal_scope(error) == scope


def test_the_limiter_adds_the_parameters_and_checks_the_answer() -> None:
    async def main() -> tuple[dict[str, Any], BaseException | None]:
        limiter = PacedRateLimiter(Pacing(), NULL_METRICS, retries=0)
        data: dict[str, Any] = {"chat_id": GROUP, "text": "x"}

        async def ignored(endpoint: str, sent: dict[str, Any]) -> dict[str, Any]:
            return {"message_id": 3, "chat": {"id": GROUP}}

        with only_for(7):
            try:
                await limiter.process_request(
                    ignored, ("sendMessage", data), {}, "sendMessage", data, None
                )
            except EphemeralIgnored as exc:
                return data, exc
        return data, None

    data, error = run_virtual(main())
    assert data["receiver_user_id"] == 7
    assert isinstance(error, EphemeralIgnored) and error.message_id == 3
