"""Benchmark: the real ``studybot run`` process under a crowd of learners tapping buttons.

The bot runs as an operator runs it (``python -m bot run --config FILE``, a process of
its own) against the fake Telegram Bot API served over HTTP on 127.0.0.1
(``tests/e2e/process/telegram_server.py`` serving ``tests/e2e/telegram/fake.py``), on a
database seeded with ``--learners`` learners. ``--simulated`` of them study at once:
each sends /review, then taps "Show answer" and a rating, again and again, pausing
``--pace`` seconds on average before each tap (exponential; 0 = back to back).

What it reports (see benchmarks/README.md), over a window of ``--seconds`` after
``--warmup`` seconds:

* reviews per second (a review = a "Show answer" tap and a rating tap);
* inside the bot: update handed out in ``getUpdates`` -> ``answerCallbackQuery`` arrives;
* end to end: tap queued -> the first message sent or edited in that chat (the visible
  reply), and -> the next button the learner needs is there;
* messages sent or edited per review (callback answers apart), all requests per review;
* CPU milliseconds per review of the bot process (``/proc/<pid>/stat``), RSS of its
  process tree, and the time from launch to the first long poll.

Messages are counted by Bot API method name, whatever the reply flow.

    python benchmarks/e2e_load.py --pace 3      # 200 learners, a tap every ~3 s each
    python benchmarks/e2e_load.py --pace 0      # 200 learners back to back
    python benchmarks/e2e_load.py --learners 500 --simulated 5 --seconds 2 --warmup 1  # smoke

The LAST line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import os
import platform
import random
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # running without an editable install
    sys.path.insert(0, str(REPO))

from sqlalchemy import Connection, insert  # noqa: E402

from bot.core.model import LearnerSettings  # noqa: E402
from bot.deckfiles import SHIPPED_DECKS, load_decks  # noqa: E402
from bot.storage.database import SqlDatabase  # noqa: E402
from bot.storage.learners import settings_row  # noqa: E402
from bot.storage.tables import card_states, learner_settings, learners  # noqa: E402
from tests.e2e.process.harness import AUTO_UPGRADE, Studybot, clean_env, write_config  # noqa: E402
from tests.e2e.process.telegram_server import TelegramServer  # noqa: E402
from tests.e2e.telegram.fake import FakeBotAPI, TgUser  # noqa: E402

#: Methods that put a message in front of the learner (sent or edited).
MESSAGE_METHODS = frozenset(
    {
        "sendMessage",
        "sendRichMessage",
        "sendPhoto",
        "sendDocument",
        "sendMediaGroup",
        "sendAnimation",
        "editMessageText",
        "editMessageCaption",
        "editMessageMedia",
        "editMessageReplyMarkup",
    }
)
#: Ratings as a learner picks them: 10 % Again, 10 % Hard, 65 % Good, 15 % Easy.
RATINGS = (("Again", 10), ("Hard", 10), ("Good", 65), ("Easy", 15))
#: Longest a learner waits for the bot's reply to one tap before starting over.
STEP_TIMEOUT = 30.0
#: Longest the bot may take to stop after SIGTERM before it is killed.
STOP_SECONDS = 60.0
REVEAL = "Show answer"


# --------------------------------------------------------------------------- seeding


def seed_database(url: str, n_learners: int, simulated: int, on: str = "telegram") -> float:
    """Sync the shipped decks and bulk-insert ``n_learners`` learners of platform ``on`` (ids and
    chat ids 1..n): the first ``simulated`` have every card due, the others two each.
    Nobody's daily push falls in the run. Returns the seconds it took."""
    began = time.perf_counter()
    now = datetime.now(UTC)
    decks = load_decks(sorted(SHIPPED_DECKS.glob("*.md"))).decks
    cards = [c.id for d in decks for c in d.cards]
    settings = settings_row(LearnerSettings(enable_fuzzing=False, max_reviews_per_day=9999))
    rng = random.Random(20261206)

    def state(learner: int, card: str) -> dict[str, Any]:
        return {
            "learner_id": learner,
            "card_id": card,
            "state": 2,
            "step": None,
            "stability": rng.uniform(2.0, 30.0),
            "difficulty": rng.uniform(3.0, 8.0),
            "due": now - rng.uniform(1.0, 240.0) * timedelta(hours=1),
            "last_review": now - timedelta(days=20),
            "reps": 4,
            "lapses": 0,
            "suspended": False,
            "leech": False,
            "buried_until": None,
        }

    def bulk(conn: Connection) -> None:
        chunk = 10_000
        for start in range(1, n_learners + 1, chunk):
            ids = range(start, min(n_learners, start + chunk - 1) + 1)
            conn.execute(
                insert(learners),
                [
                    {
                        "id": i,
                        "platform": on,
                        "platform_user_id": str(i),
                        "display_name": f"Learner {i}",
                        "created_at": now - timedelta(days=60),
                        "last_seen_at": now - timedelta(hours=20),
                        "unreachable": False,
                        "next_push_at": now + timedelta(days=1),
                    }
                    for i in ids
                ],
            )
            conn.execute(
                insert(learner_settings),
                [{"learner_id": i, "topics": "", **settings} for i in ids],
            )
            rows = [
                state(i, card)
                for i in ids
                for card in (cards if i <= simulated else cards[i % 50 : i % 50 + 2])
            ]
            conn.execute(insert(card_states), rows)

    async def work() -> None:
        db = SqlDatabase(url)
        try:
            await db.upgrade()
            await db.run(lambda tx: tx.catalogue.sync(list(decks), now))
            await db.run_connection(bulk)
        finally:
            await db.dispose()

    asyncio.run(work())
    return time.perf_counter() - began


# --------------------------------------------------------------------------- the fake API


@dataclass
class Tap:
    """One button tap and when each step of its answer came (``time.perf_counter``)."""

    chat: int
    kind: str  # "reveal" or "rate"
    update_id: int
    queued: float
    #: The labels of the button the learner needs next, and the messages that had it.
    wants: str = ""
    had: frozenset[int] = frozenset()
    handed: float | None = None
    answered: float | None = None
    replied: float | None = None
    ready: float | None = None
    done: asyncio.Event = field(default_factory=asyncio.Event)


class Recorder(FakeBotAPI):
    """The fake Bot API, noting when each call arrives and what each chat shows."""

    def __init__(self) -> None:
        super().__init__()
        self.stamps: list[tuple[float, str]] = []
        self.taps: dict[str, Tap] = {}
        self.by_update: dict[int, Tap] = {}
        self.current: dict[int, Tap] = {}
        #: chat -> message id -> its button labels now.
        self.buttons: dict[int, dict[int, tuple[str, ...]]] = {}
        self.errors: list[str] = []

    async def call(
        self,
        endpoint: str,
        params: dict[str, Any],
        files: dict[str, tuple[str, bytes, str]] | None = None,
        *,
        client: str = "",
    ) -> tuple[int, bytes]:
        arrived = time.perf_counter()
        if endpoint != "getUpdates":
            self.stamps.append((arrived, endpoint))
        status, body = await super().call(endpoint, params, files, client=client)
        if status != 200 and endpoint != "getUpdates":
            self.errors.append(f"{endpoint}: {body.decode(errors='replace')}")
        if endpoint == "answerCallbackQuery":
            tap = self.taps.get(str(params.get("callback_query_id")))
            if tap is not None and tap.answered is None:
                tap.answered = arrived
                self._check(tap, arrived)
        elif endpoint in MESSAGE_METHODS and status == 200:
            chat = int(params["chat_id"])
            result = json.loads(body)["result"]
            if isinstance(result, dict):
                markup = result.get("reply_markup", {}).get("inline_keyboard", [])
                self.buttons.setdefault(chat, {})[int(result["message_id"])] = tuple(
                    str(b["text"]) for row in markup for b in row
                )
            tap = self.current.get(chat)
            if tap is not None:
                if tap.replied is None:
                    tap.replied = arrived
                self._check(tap, arrived)
        return status, body

    def newest_with(self, chat: int, label: str) -> int | None:
        """The newest message of the chat with a button whose label starts with ``label``."""
        shown = self.buttons.get(chat, {})
        for mid in sorted(shown, reverse=True):
            if any(text.startswith(label) for text in shown[mid]):
                return mid
        return None

    def having(self, chat: int, label: str) -> frozenset[int]:
        shown = self.buttons.get(chat, {})
        return frozenset(m for m, ls in shown.items() if any(t.startswith(label) for t in ls))

    def _check(self, tap: Tap, now: float) -> None:
        """Done once the tap is answered and a message newly has the button wanted next."""
        if tap.ready is not None or tap.answered is None:
            return
        mid = self.newest_with(tap.chat, tap.wants)
        if mid is not None and mid not in tap.had:
            tap.ready = now
            tap.done.set()


class LoadServer(TelegramServer):
    """The HTTP stand-in, noting when each update is handed out in ``getUpdates``."""

    def __init__(self, api: Recorder) -> None:
        super().__init__(api)
        self.recorder = api
        self.polls_answered = 0

    async def _get_updates(self, params: dict[str, Any], client: str) -> tuple[int, bytes]:
        status, body = await super()._get_updates(params, client)
        handed = time.perf_counter()
        self.polls_answered += 1
        if status == 200 and self.recorder.by_update:
            for update in json.loads(body)["result"]:
                tap = self.recorder.by_update.get(update["update_id"])
                if tap is not None and tap.handed is None:
                    tap.handed = handed
        return status, body


# --------------------------------------------------------------------------- learners


class Crowd:
    """The simulated learners and what they measured."""

    def __init__(self, server: LoadServer, pace: float, seed: int) -> None:
        self.server = server
        self.api = server.recorder
        self.pace = pace
        self.rng = random.Random(seed)
        self.stop = False
        self.window: tuple[float, float] = (float("inf"), float("inf"))
        self.taps: list[Tap] = []
        self.stalls = 0
        self.started: set[int] = set()

    async def pause(self) -> None:
        if self.pace > 0:
            await asyncio.sleep(self.rng.expovariate(1.0 / self.pace))

    async def begin(self, user: TgUser) -> bool:
        """/review until the chat has a "Show answer" button (False when stopping)."""
        while not self.stop:
            before = self.api.having(user.id, REVEAL)
            await self.server.send(self.server.updates.message(user, "/review"))
            deadline = time.perf_counter() + STEP_TIMEOUT
            while not self.stop and time.perf_counter() < deadline:
                mid = self.api.newest_with(user.id, REVEAL)
                if mid is not None and mid not in before:
                    return True
                await asyncio.sleep(0.05)
            self.stalls += 1
        return False

    async def tap(self, user: TgUser, label: str, wants: str, kind: str) -> bool:
        """Tap ``label`` on the newest message that has it; wait for ``wants`` to show."""
        mid = self.api.newest_with(user.id, label)
        if mid is None:
            return False
        message = self.api.messages[(user.id, mid)]
        data = next(
            str(b["callback_data"])
            for row in message["reply_markup"]["inline_keyboard"]
            for b in row
            if str(b["text"]).startswith(label)
        )
        update = self.server.updates.callback(user, message, data)
        tap = Tap(
            user.id,
            kind,
            update["update_id"],
            time.perf_counter(),
            wants=wants,
            had=self.api.having(user.id, wants),
        )
        self.api.taps[update["callback_query"]["id"]] = tap
        self.api.by_update[tap.update_id] = tap
        self.api.current[user.id] = tap
        self.taps.append(tap)
        await self.server.send(update)
        try:
            await asyncio.wait_for(tap.done.wait(), STEP_TIMEOUT)
        except TimeoutError:
            self.stalls += 1
            return False
        return True

    async def learner(self, user: TgUser) -> None:
        await asyncio.sleep(self.rng.uniform(0, max(self.pace, 0.5)))
        if not await self.begin(user):
            return
        self.started.add(user.id)
        names = [name for name, _ in RATINGS]
        weights = [w for _, w in RATINGS]
        while not self.stop:
            await self.pause()
            if self.stop:
                return
            if not await self.tap(user, REVEAL, "Again", "reveal"):
                if not await self.begin(user):
                    return
                continue
            await self.pause()
            if self.stop:
                return
            rating = self.rng.choices(names, weights)[0]
            if not await self.tap(user, rating, REVEAL, "rate") and not await self.begin(user):
                return


# --------------------------------------------------------------------------- /proc


def _stat(pid: int) -> list[str]:
    return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()


def cpu_seconds(pid: int) -> float:
    """User + system CPU of one process so far."""
    fields = _stat(pid)
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def tree(pid: int) -> list[int]:
    """The process and its descendants, from /proc."""
    parents: dict[int, int] = {}
    for stat in Path("/proc").glob("[0-9]*/stat"):
        try:
            parents[int(stat.parent.name)] = int(stat.read_text().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
    found, frontier = [pid], [pid]
    while frontier:
        frontier = [child for child, parent in parents.items() if parent in frontier]
        found += frontier
    return found


def rss_mb(pids: list[int]) -> float:
    total = 0
    for pid in pids:
        try:
            for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1])
        except OSError:
            continue
    return total / 1024


def tree_cpu(pids: list[int]) -> float:
    total = 0.0
    for pid in pids:
        try:
            total += cpu_seconds(pid)
        except OSError:
            continue
    return total


# --------------------------------------------------------------------------- the run


async def stop(bot: Studybot) -> int | None:
    """SIGTERM, as an operator stops it; its exit code, or None if it had to be killed
    (a bot with a backlog of replies may take longer than the tests' 5 s)."""
    assert bot.proc is not None
    bot.proc.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(bot.proc.wait(), STOP_SECONDS)
    except TimeoutError:
        await bot.kill()
        return None


def _by_method(errors: list[str]) -> dict[str, int]:
    """Refused requests counted by method and description."""
    counts: dict[str, int] = {}
    for error in errors:
        method, _, body = error.partition(": ")
        try:
            key = f"{method}: {json.loads(body).get('description', '')}"
        except ValueError:
            key = method
        counts[key] = counts.get(key, 0) + 1
    return counts


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def ms(value: float) -> float:
    return round(value * 1000, 2)


async def measure(args: argparse.Namespace, workdir: Path, url: str | None) -> dict[str, Any]:
    api = Recorder()
    server = LoadServer(api)
    await server.start()
    extra = AUTO_UPGRADE + (f'url = "{url}"\n' if url else "")
    config = write_config(workdir / "bot.toml", server, "bot", workdir / "data", extra=extra)
    env = clean_env(**({"STUDYBOT_PROFILE": args.profile} if args.profile else {}))
    bot = Studybot(server, "bot", workdir, config, env)
    crowd = Crowd(server, args.pace, args.seed)
    try:
        launched = time.perf_counter()
        await bot.start(wait=False)
        assert bot.proc is not None
        pid = bot.proc.pid
        await bot.until(lambda: server.listening("bot") > 0, "the first long poll", seconds=120)
        startup_s = time.perf_counter() - launched
        print(f"started in {startup_s:.2f} s (launch to the first getUpdates)", flush=True)
        users = [TgUser(i, f"Learner{i}") for i in range(1, args.simulated + 1)]
        tasks = [asyncio.create_task(crowd.learner(u)) for u in users]
        # Warm-up: everyone has a card and has had time to settle.
        deadline = time.perf_counter() + 120
        while len(crowd.started) < len(users) and time.perf_counter() < deadline:
            if not bot.running:
                raise SystemExit(f"the bot exited:\n{bot.output()[-3000:]}")
            await asyncio.sleep(0.1)
        print(f"{len(crowd.started)} learners have a card; warming up {args.warmup} s", flush=True)
        await asyncio.sleep(args.warmup)
        pids = tree(pid)
        start = time.perf_counter()
        cpu0, tree_cpu0 = cpu_seconds(pid), tree_cpu(pids)
        crowd.window = (start, start + args.seconds)
        rss_peak = rss_mb(tree(pid))
        while time.perf_counter() < start + args.seconds:
            await asyncio.sleep(min(1.0, args.seconds))
            rss_peak = max(rss_peak, rss_mb(tree(pid)))
        end = time.perf_counter()
        cpu1, tree_cpu1 = cpu_seconds(pid), tree_cpu(tree(pid))
        crowd.stop = True  # no new taps; those queued in the window get up to 10 s more
        under_way = [
            t.done.wait() for t in crowd.taps if start <= t.queued < end and not t.done.is_set()
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*under_way), 10.0)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        code = await stop(bot)
    finally:
        await bot.close()
        await server.close()

    window = [t for t in crowd.taps if start <= t.queued < end]
    rated = [t for t in crowd.taps if t.kind == "rate" and t.answered and start <= t.answered < end]
    reviews = len(rated)
    seconds = end - start
    calls = [name for at, name in api.stamps if start <= at < end]
    messages = sum(name in MESSAGE_METHODS for name in calls)
    answer = [t.answered - t.handed for t in window if t.answered and t.handed]
    handed = [t.handed - t.queued for t in window if t.handed]
    e2e = [t.replied - t.queued for t in window if t.replied]
    ready = [t.ready - t.queued for t in window if t.ready]
    unanswered = sum(t.answered is None for t in window)
    per = max(reviews, 1)
    load1, _, _ = os.getloadavg()
    counts: dict[str, int] = {}
    for name in calls:
        counts[name] = counts.get(name, 0) + 1
    return {
        "learners": args.learners,
        "simulated": args.simulated,
        "pace_s": args.pace,
        "seconds": round(seconds, 2),
        "reviews": reviews,
        "taps": len(window),
        "reviews_per_s": round(reviews / seconds, 1),
        "answer_p50_ms": ms(pct(answer, 50)),
        "answer_p99_ms": ms(pct(answer, 99)),
        "handed_p50_ms": ms(pct(handed, 50)),
        "handed_p99_ms": ms(pct(handed, 99)),
        "e2e_p50_ms": ms(pct(e2e, 50)),
        "e2e_p99_ms": ms(pct(e2e, 99)),
        "ready_p50_ms": ms(pct(ready, 50)),
        "ready_p99_ms": ms(pct(ready, 99)),
        "messages_per_review": round(messages / per, 2),
        "requests_per_review": round(len(calls) / per, 2),
        "requests_by_method": dict(sorted(counts.items())),
        "cpu_ms_per_review": round((cpu1 - cpu0) * 1000 / per, 2),
        "cpu_share": round((cpu1 - cpu0) / seconds, 2),
        "tree_cpu_ms_per_review": round((tree_cpu1 - tree_cpu0) * 1000 / per, 2),
        "rss_mb": round(rss_peak, 1),
        "processes": len(pids),
        "startup_s": round(startup_s, 2),
        "unanswered": unanswered,
        "stalls": crowd.stalls,
        "api_errors": len(api.errors),
        "api_errors_by_method": _by_method(api.errors),
        "exit_code": code,
        "cpus": os.cpu_count(),
        "load_avg_1m_end": round(load1, 2),
        "python": platform.python_version(),
        "mean_answer_ms": ms(statistics.fmean(answer)) if answer else None,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=100_000, help="learners seeded")
    parser.add_argument("--simulated", type=int, default=200, help="learners tapping")
    parser.add_argument("--pace", type=float, default=3.0, help="mean seconds before a tap")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before the window")
    parser.add_argument("--seed", type=int, default=20261206)
    parser.add_argument("--database", help="a PostgreSQL URL whose public schema may be wiped")
    parser.add_argument(
        "--profile", help="write a cProfile of the bot process here (STUDYBOT_PROFILE)"
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="e2e_load-"))
    url = args.database
    seed_url = url or f"sqlite+aiosqlite:///{workdir / 'data' / 'studybot.sqlite3'}"
    (workdir / "data").mkdir()
    if url:
        from tests.databases import _wipe_postgres

        _wipe_postgres(url)
    seed_s = seed_database(seed_url, args.learners, args.simulated)
    print(f"seeded {args.learners} learners in {seed_s:.1f} s", flush=True)
    figures = asyncio.run(measure(args, workdir, url))
    figures["seed_s"] = round(seed_s, 1)
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
    targets = {
        "answer_p99_under_50ms": figures["answer_p99_ms"] < 50,
        "e2e_p99_under_100ms": figures["e2e_p99_ms"] < 100,
        "reviews_per_s_at_least_100": figures["reviews_per_s"] >= 100,
        "messages_per_review_at_most_2": figures["messages_per_review"] <= 2,
    }
    figures["targets_met"] = targets
    if not args.keep:
        import shutil

        shutil.rmtree(workdir, ignore_errors=True)
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
