"""Benchmark: ``studybot run`` at rest with 100,000 learners: start-up time and memory.

The database (SQLite by default, PostgreSQL with --postgres) is seeded once with
``--learners`` learners (``push_fanout.seed``: settings, and for a few of them due
cards and history), none of them due for a push while the benchmark runs. Then the
real process (``python -m bot run --config FILE``, as ``tests/e2e/process`` start it)
is started ``--runs`` times against the fake Telegram Bot API on loopback, and each
run gives:

- ``start_s``: from launching the process to its first long poll (``getUpdates``);
- the RSS of its process tree at rest (``/proc/PID/status`` VmRSS, summed over the
  process and everything in its session: render workers, multiprocessing's resource
  tracker), read once the tree's RSS has not moved by more than 1 % for 2 s (the
  first push tick and the deck sync done): ``rss_main_mb``, ``rss_others_mb``,
  ``rss_tree_mb``, and ``processes`` (how many were in the tree);
- then one learner asks for a card whose image is in no cache (a cold render: the
  render worker runs), and the tree's RSS at rest again: ``rss_rendered_tree_mb``.

``--due SHARE`` makes that share of the learners due for their push at start
(``push_fanout.seed``'s due learners): the first tick plans their pushes while the
figures are taken (they are sent at Telegram's pace, so not all are sent by then).

    python benchmarks/startup.py [--learners 100000] [--runs 3] [--due 0] [--postgres URL]

The figures are the median run; the last line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
sys.path.insert(0, str(Path(__file__).resolve().parent))

from push_fanout import seed, wipe_postgres
from sqlalchemy import Connection, text, update

from bot.storage.database import SqlDatabase
from bot.storage.tables import learners
from tests.e2e.process.harness import (
    AUTO_UPGRADE,
    Chat,
    Studybot,
    close_all,
    new_bot,
    seed_due_learners,
)
from tests.e2e.process.telegram_server import TelegramServer
from tests.e2e.telegram.fake import TgUser

#: A learner (not one of the seeded ones) whose due card has an image in no cache.
DRAWER = TgUser(900_000_001, "Drawer", "drawer")

#: How long the tree's RSS must hold still (within 1 %) to count as at rest, in seconds.
STILL_S = 2.0
#: How often the RSS is read while waiting for rest, in seconds.
SAMPLE_S = 0.25


def rss_kb(pid: int) -> int:
    """A process's resident set in kB (0 once it has ended)."""
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    except OSError:
        pass
    return 0


def tree(session: int) -> list[int]:
    """The live processes of a session (the bot runs in one of its own)."""
    found = []
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            fields = stat.read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        if int(fields[3]) == session and fields[0] not in ("Z", "X"):
            found.append(int(stat.parent.name))
    return found


def memory(main: int) -> tuple[int, int, int]:
    """(main kB, the rest of its tree kB, processes in the tree)."""
    pids = tree(main)
    others = sum(rss_kb(pid) for pid in pids if pid != main)
    return rss_kb(main), others, len(pids)


async def at_rest(main: int, seconds: float = 60.0) -> tuple[int, int, int]:
    """The tree's memory once its RSS held still for :data:`STILL_S`."""
    deadline = time.monotonic() + seconds
    still_since = time.monotonic()
    last = memory(main)
    while time.monotonic() < deadline:
        await asyncio.sleep(SAMPLE_S)
        now = memory(main)
        total, before = now[0] + now[1], last[0] + last[1]
        if abs(total - before) > before / 100 or now[2] != last[2]:
            still_since = time.monotonic()
        last = now
        if time.monotonic() - still_since >= STILL_S:
            break
    return last


async def cold_render(bot: Studybot, chat: Chat) -> None:
    """The learner asks for their card; returns once its photo has been sent."""
    photos = len(chat.api.sent("sendPhoto", chat.user.id))
    await chat.say(bot, "/review", lambda: len(chat.api.sent("sendPhoto", chat.user.id)) > photos)


async def prepare(url: str, count: int, due: float) -> float:
    """Seed the database; returns the seconds it took."""
    db = SqlDatabase(url)
    try:
        await db.upgrade()
        began = time.perf_counter()
        await seed(db, count, due or 1e-9)
        now = datetime.now(UTC)
        every = max(1, round(1 / due)) if due else 0

        def when(conn: Connection) -> None:  # push_fanout's clock is fixed: move to now
            later = update(learners).values(next_push_at=now + timedelta(days=1))
            if every:
                later = later.where(learners.c.id % every != 0)
                conn.execute(
                    update(learners)
                    .where(learners.c.id % every == 0)
                    .values(next_push_at=now - timedelta(minutes=1))
                )
            conn.execute(later)
            if conn.dialect.name == "postgresql":  # seed gave the ids: move the sequence on
                conn.execute(
                    text(
                        "SELECT setval(pg_get_serial_sequence('learners', 'id'), max(id))"
                        " FROM learners"
                    )
                )

        await db.run_connection(when)
        elapsed = time.perf_counter() - began
    finally:
        await db.dispose()
    await seed_due_learners(url, [DRAWER.id], card_id="att-wk-shape", push_due=False)
    return elapsed


async def measure(url: str, count: int, due: float, runs: int, folder: Path) -> dict[str, object]:
    seed_s = await prepare(url, count, due)
    print(f"seeded {count} learners in {seed_s:.1f} s")
    server = TelegramServer()
    await server.start()
    bots: list[Studybot] = []
    results: list[dict[str, float]] = []
    try:
        for run in range(runs):
            bot = new_bot(
                server, bots, folder, f"run{run}", extra=AUTO_UPGRADE, STUDYBOT_DATABASE_URL=url
            )
            await bot.start()
            assert bot.proc is not None
            main, others, processes = await at_rest(bot.proc.pid)
            await cold_render(bot, Chat(server, DRAWER))
            drawn_main, drawn_others, _ = await at_rest(bot.proc.pid)
            # The next run draws it again: it must not find it in the disk cache.
            shutil.rmtree(folder / "data" / "render-cache", ignore_errors=True)
            code = await bot.stop()
            assert code == 0, bot.output()[-2000:]
            result = {
                "start_s": round(bot.started_in, 2),
                "rss_main_mb": round(main / 1024, 1),
                "rss_others_mb": round(others / 1024, 1),
                "rss_tree_mb": round((main + others) / 1024, 1),
                "processes": processes,
                "rss_rendered_tree_mb": round((drawn_main + drawn_others) / 1024, 1),
            }
            print(f"run {run + 1}: {result}")
            results.append(result)
    finally:
        await close_all(bots)
        await server.close()

    def median(key: str) -> float:
        return round(statistics.median(r[key] for r in results), 2)

    return {
        "learners": count,
        "database": "postgresql" if url.startswith("postgresql") else "sqlite",
        "seed_s": round(seed_s, 1),
        "runs": results,
        "due": due,
        **{
            k: median(k)
            for k in (
                "start_s",
                "rss_main_mb",
                "rss_others_mb",
                "rss_tree_mb",
                "rss_rendered_tree_mb",
            )
        },
        "processes": max(int(r["processes"]) for r in results),
    }


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--learners", type=int, default=100_000)
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--due", type=float, default=0.0, help="share due for a push at start")
    parser.add_argument("--postgres", metavar="URL", help="a PostgreSQL database (wiped)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "data").mkdir()
        if args.postgres:
            await wipe_postgres(args.postgres)
            url = args.postgres
        else:
            url = f"sqlite+aiosqlite:///{folder / 'data' / 'studybot.sqlite3'}"
        figures = await measure(url, args.learners, args.due, args.runs, folder)
    print(json.dumps(figures))


if __name__ == "__main__":
    asyncio.run(main())
