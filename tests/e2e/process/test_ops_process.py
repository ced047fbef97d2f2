"""``studybot run`` with ``[ops]`` on, scraped on loopback as Prometheus would.

The process runs as an operator starts it (a config file outside the clone, the
token in the environment) against the fake Bot API, with ``[ops] enabled`` and
JSON logs. ``/healthz`` says it is ready, ``/metrics`` counts a review made
through Telegram, and every line it logs is one JSON object without the token.
"""

from __future__ import annotations

import json
from pathlib import Path

import aiohttp

from tests.e2e.process.harness import (
    Chat,
    Studybot,
    clean_env,
    free_port,
    labels,
    shown,
    write_config,
)
from tests.e2e.process.telegram_server import TelegramServer
from tests.e2e.telegram.fake import TOKEN, TgUser
from tests.scraping import health, scrape

ANA = TgUser(101, "Ana", "ana")


async def test_a_running_bot_is_healthy_and_counts_a_review(
    server: TelegramServer, bots: list[Studybot], tmp_path: Path
) -> None:
    port = free_port()
    extra = (
        "[database]\nauto_upgrade = true\n\n"
        f'[ops]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n\n'
        '[logging]\nformat = "json"\n'
    )
    config = write_config(tmp_path / "config.toml", server, "bot", tmp_path / "data", extra=extra)
    bot = Studybot(server, "bot", tmp_path, config, clean_env())
    bots.append(bot)
    await bot.start()
    base = f"http://127.0.0.1:{port}"

    async with aiohttp.ClientSession() as session:
        status, body = await health(session, base)
        assert status == 200, body
        assert body["platforms"] == {"telegram": "connected"}
        assert body["database"] == "ok"
        before = await scrape(session, base)
        assert before.value("studybot_reviews_total", source="dm") == 0
        assert before.value("studybot_outbox_depth", platform="telegram") == 0
        assert before.value("process_resident_memory_bytes") > 0

        ana = Chat(server, ANA)
        await ana.say(bot, "/review", lambda: "Show answer" in labels(ana.last()))
        await ana.tap(bot, "Show answer", then=lambda: bool(ana.with_button("Good")))
        await ana.tap(bot, "Good", then=lambda: "Good: see it again in" in shown(ana.last()))

        after = await scrape(session, base)
        assert after.value("studybot_reviews_total", source="dm") == 1
        assert "studybot_event_loop_lag_seconds" in after.names()
        for kind in ("rate_limited", "network", "refused"):
            assert (
                after.value("studybot_platform_errors_total", platform="telegram", kind=kind) == 0
            )

    assert await bot.stop() == 0
    output = bot.output()
    assert TOKEN.split(":", 1)[1] not in output
    records = [json.loads(line) for line in output.splitlines() if line.strip()]
    assert records, "it logged nothing"
    for record in records:
        assert {"time", "level", "logger", "message"} <= set(record)
    messages = [r["message"] for r in records]
    assert any(m.startswith(f"ops endpoint on http://127.0.0.1:{port}") for m in messages)
    assert not [r for r in records if r["level"] == "ERROR"], records
