"""Benchmark: delivering a push fan-out through the Telegram adapter, with chats in a 429 storm.

``--chats`` learners are due at the same minute; ``--stormy`` of them have chats
that answer every message with 429 and ``retry_after`` (``--retry-after`` seconds),
and ``--slow`` more take ``--slow-seconds`` to answer (a request that hangs).
The real python-telegram-bot adapter (its rate limiter and our pacing), the real
``PushService`` and sender loop run over the in-memory fakes of the tests (the
fake Bot API answers at once) on a virtual-time event loop: sleeps cost nothing,
so the figures are the delivery schedule the code makes (virtual seconds), and
``wall_s`` is the CPU the run took.

Figures: when the calm learners' pushes went out (p50, p99, last, in virtual
seconds after the tick), the pace (pushes per virtual second), how often the
stormy chats were tried, and the ERROR lines logged. The same script runs on the
code before the pacing change (it uses only what both have).

    python benchmarks/push_delivery.py [--chats 1000] [--stormy 5] [--retry-after 10]
                                        [--slow 0] [--slow-seconds 20] [--seconds 120]

The last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import logging
import statistics
import sys
import time
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bot.config import Secret, default_settings
from bot.core.learners import Who
from bot.core.model import CardState, CardStateKind
from bot.core.ports import Tx
from bot.jobs.senders import Pacer, sender_loop
from bot.platforms.telegram import TelegramPlatform
from tests.e2e.telegram.fake import TOKEN, FakeBotAPI
from tests.fakes.database import FakeDatabase
from tests.fakes.decks import make_deck
from tests.fakes.virtual_time import VirtualClock, run_virtual
from tests.services import build_services

START = datetime(2026, 3, 2, 9, 0, tzinfo=UTC)


class TimedBotAPI(FakeBotAPI):
    """The fake Bot API noting the virtual instant of every message sent; messages to
    the chats in ``slow`` take that many seconds to be answered."""

    def __init__(self, slow: dict[int, float]) -> None:
        super().__init__()
        self.sends: list[tuple[int, float]] = []
        self.slow = slow

    async def call(
        self,
        endpoint: str,
        params: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]] | None = None,
        *,
        client: str = "",
    ) -> tuple[int, bytes]:
        if endpoint in ("sendMessage", "sendRichMessage"):  # a card push is a rich message
            chat = int(params["chat_id"])
            self.sends.append((chat, asyncio.get_running_loop().time()))
            if chat in self.slow:
                await asyncio.sleep(self.slow[chat])
        return await super().call(endpoint, params, files, client=client)


class Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.ERROR)
        self.count = 0

    def emit(self, record: logging.LogRecord) -> None:
        self.count += 1


async def run(
    chats: int, stormy: int, retry_after: int, slow: int, slow_s: float, seconds: float
) -> dict[str, Any]:
    loop = asyncio.get_running_loop()
    services = build_services(FakeDatabase([make_deck("d", ["c1"])], START), VirtualClock(START))
    for chat in range(1, chats + 1):
        learner = await services.study.learner(Who("telegram", str(chat)))

        def due(tx: Tx, lid: int = learner.id) -> None:
            tx.learners.set_next_push(lid, START)
            tx.schedule.save(
                CardState(lid, "c1", CardStateKind.REVIEW, None, 5.0, 5.0, START, START)
            )

        await services.db.run(due)
    storm = set(range(1, stormy + 1))
    slowed = set(range(stormy + 1, stormy + slow + 1))
    api = TimedBotAPI(dict.fromkeys(slowed, slow_s))
    for chat in storm:
        for method in ("sendMessage", "sendRichMessage"):
            api.fail(method, "429", chat_id=chat, times=10**6, retry_after=retry_after)
    settings = default_settings()
    telegram = replace(settings.telegram, token=Secret(TOKEN), mode="send_only")
    platform = TelegramPlatform(
        telegram,
        study=services.study,
        quiz=services.quiz,
        challenges=services.challenges,
        onboarding=services.onboarding,
        inputs=services.inputs,
        renderer=None,
        request=api,
    )
    await platform.initialize()
    await services.pushes.tick(["telegram"])
    began = loop.time()
    stop = asyncio.Event()
    rate = default_settings().push.telegram_per_second
    sender = asyncio.ensure_future(
        sender_loop(services.pushes, platform, Pacer(rate, monotonic=loop.time), stop)
    )
    await asyncio.sleep(seconds)
    stop.set()
    await sender
    await platform.stop()
    calm = sorted(t - began for chat, t in api.sends if chat not in storm | slowed)
    tries = [sum(1 for c, _ in api.sends if c == chat) for chat in storm]
    delivered = len(calm)
    return {
        "calm_delivered": delivered,
        "calm_expected": chats - stormy - slow,
        "calm_p50_s": round(statistics.median(calm), 2) if calm else None,
        "calm_p99_s": round(calm[int(0.99 * (delivered - 1))], 2) if calm else None,
        "calm_last_s": round(calm[-1], 2) if calm else None,
        "pushes_per_s": round(delivered / calm[-1], 1) if calm and calm[-1] > 0 else None,
        "stormy_tries_min": min(tries) if tries else 0,
        "stormy_tries_max": max(tries) if tries else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--chats", type=int, default=1000)
    parser.add_argument("--stormy", type=int, default=5)
    parser.add_argument("--retry-after", type=int, default=10)
    parser.add_argument("--slow", type=int, default=0, help="chats slow to answer")
    parser.add_argument("--slow-seconds", type=float, default=20.0)
    parser.add_argument("--seconds", type=float, default=120.0, help="virtual seconds run")
    args = parser.parse_args()
    errors = Errors()
    logging.getLogger().addHandler(errors)
    logging.getLogger().setLevel(logging.WARNING)
    wall = time.perf_counter()
    figures = run_virtual(
        run(args.chats, args.stormy, args.retry_after, args.slow, args.slow_seconds, args.seconds)
    )
    figures["wall_s"] = round(time.perf_counter() - wall, 2)
    figures["error_lines"] = errors.count
    figures.update(
        chats=args.chats,
        stormy=args.stormy,
        retry_after_s=args.retry_after,
        slow=args.slow,
        slow_s=args.slow_seconds,
        virtual_seconds=args.seconds,
    )
    for key, value in figures.items():
        print(f"{key:>18}: {value}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
