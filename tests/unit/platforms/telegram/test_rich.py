"""What PTB 22.8 raises for sendRichMessage on a 404 and on a 401, read by method_missing."""

from __future__ import annotations

import json

import pytest
from telegram import Bot
from telegram.error import EndPointNotFound, InvalidToken, TelegramError
from telegram.request import BaseRequest, RequestData

from bot.platforms.telegram.rich import SEND_RICH, method_missing


class _Answers(BaseRequest):
    """A Bot API server that answers getMe, and every other method with one status."""

    def __init__(self, status: int, description: str) -> None:
        self.status = status
        self.description = description

    @property
    def read_timeout(self) -> float | None:
        return None

    async def initialize(self) -> None:
        return None

    async def shutdown(self) -> None:
        return None

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: object = None,
        write_timeout: object = None,
        connect_timeout: object = None,
        pool_timeout: object = None,
    ) -> tuple[int, bytes]:
        if url.endswith("/getMe"):
            me = {"id": 1, "is_bot": True, "first_name": "Bot", "username": "bot"}
            return 200, json.dumps({"ok": True, "result": me}).encode()
        body = {"ok": False, "error_code": self.status, "description": self.description}
        return self.status, json.dumps(body).encode()


async def _raised(status: int, description: str, *, initialised: bool) -> TelegramError:
    request = _Answers(status, description)
    bot = Bot("123:abc", request=request, get_updates_request=request)
    if initialised:
        await bot.initialize()
    with pytest.raises(TelegramError) as caught:
        await bot.do_api_request(SEND_RICH, api_kwargs={"chat_id": 1})
    return caught.value


@pytest.mark.parametrize("initialised", [True, False])
async def test_a_404_is_a_missing_method(initialised: bool) -> None:
    exc = await _raised(404, "Not Found", initialised=initialised)
    assert isinstance(exc, EndPointNotFound if initialised else InvalidToken)
    assert method_missing(exc)


@pytest.mark.parametrize("initialised", [True, False])
async def test_a_rejected_token_is_no_missing_method(initialised: bool) -> None:
    """PTB raises EndPointNotFound for a 401 too once initialised (and, before, an
    InvalidToken saying the endpoint may "not exist"): the cause's words tell them apart,
    so a revoked token is never taken for an older server (cards silently text)."""
    exc = await _raised(401, "Unauthorized", initialised=initialised)
    assert not method_missing(exc)
