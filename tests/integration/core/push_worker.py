"""A push worker process for the multi-process tests: tick, then drain, with a fake sender.

Usage: python -m tests.integration.core.push_worker DATABASE_URL OUT_FILE NOW_ISO

Every learner it delivers to is appended to OUT_FILE (one platform user id a line).
"""

from __future__ import annotations

import asyncio
import sys
from datetime import datetime
from pathlib import Path

from bot.core.actions import new_token
from bot.core.learners import Basics, Enrolment
from bot.core.messages import Reply
from bot.core.model import Learner
from bot.core.ports import Delivery
from bot.core.pushes import PushService
from bot.storage.database import SqlDatabase
from tests.fakes.clock import FixedClock


async def main(url: str, out: Path, now: datetime) -> None:
    db = SqlDatabase(url)
    service = PushService(Basics(db, FixedClock(now), new_token, Enrolment()))
    sent: list[str] = []

    async def send(learner: Learner, reply: Reply, *, skip: int = 0) -> Delivery:
        assert reply.card is not None and reply.buttons
        sent.append(learner.platform_user_id)
        return Delivery(reached=True)

    try:
        await service.tick(["fake"])
        idle = 0
        while idle < 2:
            tried = await service.drain("fake", send, limit=200)
            idle = idle + 1 if tried == 0 else 0
    finally:
        await db.dispose()
    await asyncio.to_thread(out.write_text, "".join(f"{uid}\n" for uid in sent))


if __name__ == "__main__":
    asyncio.run(main(sys.argv[1], Path(sys.argv[2]), datetime.fromisoformat(sys.argv[3])))
