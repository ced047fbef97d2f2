"""Tests for bot.config.secrets: the Secret wrapper and the log filter."""

from __future__ import annotations

import io
import logging

from bot.config import Secret, install_secret_filter, redact
from tests.unit.config.support import TOKEN, bare_root_logger


def test_secret_wrapper() -> None:
    secret = Secret(TOKEN)
    assert repr(secret) == str(secret) == f"{secret}" == "Secret('***')"
    assert secret.reveal() == TOKEN
    assert secret == Secret(TOKEN)
    assert secret != Secret("other")
    assert secret != TOKEN
    assert hash(secret) == hash(Secret(TOKEN))
    assert secret
    assert not Secret("")


def test_install_secret_filter_on_existing_handlers() -> None:
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    with bare_root_logger() as root:
        root.addHandler(handler)
        root.setLevel(logging.INFO)
        install_secret_filter([TOKEN, ""])
        install_secret_filter([TOKEN, "shorter"])  # replaces, does not stack
        assert len(handler.filters) == 1
        logging.getLogger("bot.x").info("token=%s %s %d", TOKEN, "shorter", 3)
        install_secret_filter([])  # the shapes of secrets are still masked
        assert len(handler.filters) == 1
        logging.getLogger("bot.x").info("%s", TOKEN)
    assert stream.getvalue() == f"token=*** *** 3\n{TOKEN}\n"


def test_secrets_known_by_their_shape_are_masked_in_every_log() -> None:
    """discord.py's debug lines (REST, webhooks, gateway payloads) and Telegram's URLs
    carry per-interaction tokens and bot tokens nobody configured as such."""
    itoken = "aW50ZXJhY3Rpb246OTAwMDAwMDAwMDAwOmNhbGxiYWNr"
    lines = [
        f"POST https://discord.com/api/v10/interactions/1234/{itoken}/callback with None",
        f"Webhook ID 900 with POST https://discord.com/api/v10/webhooks/900/{itoken} has",
        f"PATCH https://discord.com/api/v10/webhooks/900/{itoken}/messages/@original",
        f"For Shard ID None: WebSocket Event: {{'d': {{'token': '{itoken}', 'id': '1'}}}}",
        f'{{"op": 0, "d": {{"token": "{itoken}"}}}}',
        "HTTP Request: POST https://api.telegram.org/bot123456789:AAEhBOweik9ai2o4Ylo2h3aLYbUo0kkAbcd/getMe",
        f"Authorization: Bot MTIzNDU2Nzg5MDEyMzQ1Njc4OQ.GaBcDe.{itoken}",
        "X-Telegram-Bot-Api-Secret-Token: hook-secret-value",
    ]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    with bare_root_logger() as root:
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        install_secret_filter([])
        for line in lines:
            logging.getLogger("discord.http").debug("%s", line)
    out = stream.getvalue()
    for secret in (itoken, "AAEhBOweik9ai2o4Ylo2h3aLYbUo0kkAbcd", "GaBcDe", "hook-secret-value"):
        assert secret not in out
    assert "/interactions/1234/***/callback" in out
    assert "/webhooks/900/***/messages/@original" in out
    assert "bot123456789:***/getMe" in out
    assert "12:30, 1.5 and a.b.c stay" in redact("12:30, 1.5 and a.b.c stay", [])


def test_a_token_in_a_file_download_url_is_masked_percent_encoded_too() -> None:
    """python-telegram-bot downloads a file a person sent from ``<base_file_url><token>/
    <path>`` with the token's colon written ``%3A``; httpx logs that URL at DEBUG."""
    secret = "AAEhBOweik9ai2o4Ylo2h3aLYbUo0kkAbcd"
    url = f"https://api.telegram.org/file/bot123456789%3A{secret}/documents/file_7.apkg"
    line = f'HTTP Request: GET {url} "HTTP/1.1 200 OK"'
    for known in ([f"123456789:{secret}"], []):
        stream = io.StringIO()
        handler = logging.StreamHandler(stream)
        handler.setFormatter(logging.Formatter("%(message)s"))
        with bare_root_logger() as root:
            root.addHandler(handler)
            root.setLevel(logging.DEBUG)
            install_secret_filter(known)
            logging.getLogger("httpx").debug("%s", line)
        out = stream.getvalue()
        assert secret not in out, known
        assert "/documents/file_7.apkg" in out  # where it went still shows
    # A known secret of any shape is masked as a URL carries it.
    assert redact("GET /x?key=p%40ss%2Fw%3Ard", ["p@ss/w:rd"]) == "GET /x?key=***"
    assert redact("GET /p%40ss/w%3Ard/x", ["p@ss/w:rd"]) == "GET /***/x"


def test_a_workspace_link_token_is_masked_in_every_log() -> None:
    """A one-time link to the browser workspace signs its holder in: discord.py's debug
    line of the message carrying it as a link button shows the URL, fragment and all."""
    link = "eyJsIjoxLCJhIjoiZGlzY29yZDo1NTUiLCJwIjoic3RhdHMifQ.oBMXNqOLpU9ObiMgWm8lgV98ixQs5zfKv8D"
    url = f"https://study.example.org/app?open=challenge:r0000001#link={link}"
    lines = [
        f"POST https://discord.com/api/v10/webhooks/900/x with "
        f"{{'components': [{{'type': 2, 'style': 5, 'url': '{url}'}}]}} has returned 200",
        f'{{"components":[{{"type":2,"style":5,"url":"{url}"}}],"flags":64}}',
    ]
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(logging.Formatter("%(message)s"))
    with bare_root_logger() as root:
        root.addHandler(handler)
        root.setLevel(logging.DEBUG)
        install_secret_filter([])
        for line in lines:
            logging.getLogger("discord.http").debug("%s", line)
    out = stream.getvalue()
    assert link not in out and "oBMXNqOLpU9ObiMgWm8lgV98ixQs5zfKv8D" not in out
    assert out.count("/app?open=challenge:r0000001#link=***") == 2  # where it led still shows
