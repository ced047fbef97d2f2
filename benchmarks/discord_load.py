"""Benchmark: the real Discord adapter under a crowd of learners, one channel slow.

The app is built as ``studybot run`` builds it (``bot.app.build_app`` on SQLite in a
temporary directory, the shipped decks, the real :class:`DiscordPlatform` and discord.py
client) in this process, over the in-process fake Discord of the end-to-end tests
(``tests/e2e/discord/discord_fakes.py``: discord.py's HTTP layer replaced, interactions fed
as raw gateway payloads). Images are drawn by the tests' fake renderer (tiny PNGs). The
database is seeded first with ``--learners`` Discord learners (1,000) by bulk insert; the
first ``--simulated`` (200) have every card of the shipped decks due.

Each simulated learner, in its DM with the bot (in a server, /review only points to the
DMs), sends /review, then presses **Show answer** and then a rating, again and again,
pausing ``--pace`` seconds on average before each press (exponential; 0 = back to back).
ONE channel is slow: the fake makes every message created or edited there (interaction
responses apart) take ``--slow-ms`` (2000 ms), to show it holds nobody else back.

What it reports (see benchmarks/README.md), over a window of ``--seconds`` (20) after
every learner has a card and ``--warmup`` seconds more:

* reviews per second (a review = a "Show answer" press and a rating press);
* acknowledgement: the interaction dispatched -> its first response (deferred or a
  message), p50/p99, overall and for the other channels only (Discord allows 3 s);
* end to end: dispatched -> the message created or edited that shows the next step
  (the ratings after a reveal, **Show answer** after a rating);
* messages created or edited per review (acknowledgements apart);
* CPU milliseconds per review: ``time.process_time`` of this whole process, so the fake
  Discord and the simulated learners are included;
* interactions never answered (must be 0).

    python benchmarks/discord_load.py --pace 3      # 200 learners, a press every ~3 s each
    python benchmarks/discord_load.py --pace 0      # 200 learners back to back
    python benchmarks/discord_load.py --learners 50 --simulated 5 --seconds 2 --warmup 0.5  # smoke

The LAST line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import platform
import random
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # running without an editable install
    sys.path.insert(0, str(REPO))

import pytest  # noqa: E402

from benchmarks.e2e_load import seed_database  # noqa: E402
from bot.app import build_app, discord_platform  # noqa: E402
from bot.config import Secret, default_settings  # noqa: E402
from tests.e2e.discord.discord_fakes import (  # noqa: E402
    FakeDiscord,
    FakeRenderer,
    Place,
    Sent,
    walk_components,
)

#: Ratings as a learner picks them: 10 % Again, 10 % Hard, 65 % Good, 15 % Easy.
RATINGS = (("Again", 10), ("Hard", 10), ("Good", 65), ("Easy", 15))
REVEAL = "Show answer"
#: Longest a learner waits for the bot's answer to one press before starting over.
STEP_TIMEOUT = 30.0
#: Discord's limit for a first response to an interaction.
ACK_LIMIT_MS = 3000.0
#: The other channels' acknowledgement p99 must stay under this, whatever the slow one does.
OTHERS_ACK_MS = 100.0
TOKEN = "discord-benchmark-token-not-real"


@dataclass
class Tap:
    """One interaction and when each step of its answer came (``time.perf_counter``)."""

    channel: int
    kind: str  # "review", "reveal" or "rate"
    wants: str
    dispatched: float
    acked: float | None = None
    ready: float | None = None
    #: The message that shows the next step.
    message: int | None = None
    ended: bool = False
    done: asyncio.Event = field(default_factory=asyncio.Event)


def _labels(payload: dict[str, Any]) -> list[str]:
    """The buttons' labels, a composed message's (inside its container) included."""
    return [
        str(c.get("label") or "")
        for c in walk_components(payload.get("components") or [])
        if c.get("type") == 2
    ]


class Recorder(FakeDiscord):
    """The fake Discord, noting when each interaction is answered and what it shows."""

    def __init__(self) -> None:
        super().__init__()
        self.taps: dict[str, Tap] = {}
        self.current: dict[int, Tap] = {}
        #: When each message was created or edited (acknowledgements apart).
        self.shown: list[float] = []

    async def _http(
        self,
        method: str,
        path: str,
        body: Any,
        form: Sequence[dict[str, Any]] | None,
        params: dict[str, Any] | None,
    ) -> Any:
        result = await super()._http(method, path, body, form, params)
        parts = path.strip("/").split("/")
        if method == "POST" and parts[0] == "channels" and parts[2:] == ["messages"]:
            self._shows(int(parts[1]), result)
        return result

    async def _webhook(
        self,
        method: str,
        path: str,
        payload: dict[str, Any] | None,
        multipart: list[dict[str, Any]] | None,
        params: dict[str, Any] | None,
    ) -> Any:
        result = await super()._webhook(method, path, payload, multipart, params)
        now = time.perf_counter()
        parts = path.strip("/").split("/")
        if parts[0] == "interactions" and parts[-1] == "callback":
            # Nothing above awaits on this path, so the last call recorded is this one.
            tap = self.taps.get(parts[2])
            if tap is not None and tap.acked is None:
                tap.acked = now
            info = self._interactions[parts[2]]
            if int((self.calls[-1].json or {}).get("type", 0)) == 4:
                self._shows(info["channel_id"], self.messages[info["original"]].payload)
        elif parts[0] == "webhooks" and method in ("POST", "PATCH") and isinstance(result, dict):
            self._shows(self._interactions[parts[2]]["channel_id"], result)
        return result

    def _shows(self, channel: int, payload: dict[str, Any]) -> None:
        now = time.perf_counter()
        self.shown.append(now)
        tap = self.current.get(channel)
        if tap is None or tap.ready is not None or tap.ended:
            return
        labels = _labels(payload)
        if any(label.startswith(tap.wants) for label in labels):
            tap.ready, tap.message = now, int(payload["id"])
            tap.done.set()
        elif not labels:  # the session's end (or an error): start over with /review
            tap.ended = True
            tap.done.set()


class Crowd:
    """The simulated learners and what they measured."""

    def __init__(self, fake: Recorder, client: Any, pace: float, seed: int) -> None:
        self.fake = fake
        self.client = client
        self.pace = pace
        self.rng = random.Random(seed)
        self.stop = False
        self.taps: list[Tap] = []
        self.stalls = 0
        self.started: set[int] = set()
        self.all_started = asyncio.Event()
        self.expected = 0

    async def pause(self) -> None:
        if self.pace > 0:
            await asyncio.sleep(self.rng.expovariate(1.0 / self.pace))

    async def send(self, payload: dict[str, Any], place: Place, kind: str, wants: str) -> Tap:
        channel = int(place.channel["id"])
        tap = Tap(channel, kind, wants, time.perf_counter())
        self.fake.taps[str(payload["token"])] = tap
        self.fake.current[channel] = tap
        self.taps.append(tap)
        self.client._connection.parse_interaction_create(payload)
        try:
            await asyncio.wait_for(tap.done.wait(), STEP_TIMEOUT)
        except TimeoutError:
            self.stalls += 1
        return tap

    async def learner(self, user: tuple[int, str], place: Place) -> None:
        message: Sent | None = None
        while not self.stop:
            await self.pause()
            if self.stop:
                break
            if message is None:
                tap = await self.send(
                    self.fake.command("review", user, place), place, "review", REVEAL
                )
                if tap.message is None:
                    continue
                message = self.fake.messages[tap.message]
                self.started.add(user[0])
                if len(self.started) == self.expected:
                    self.all_started.set()
                continue
            revealing = any(label.startswith(REVEAL) for label in _labels(message.payload))
            if revealing:
                label, kind, wants = REVEAL, "reveal", RATINGS[0][0]
            else:
                label = self.rng.choices([r for r, _ in RATINGS], [w for _, w in RATINGS])[0]
                kind, wants = "rate", REVEAL
            press = self.fake.component(message, message.button(label), user, place)
            tap = await self.send(press, place, kind, wants)
            message = self.fake.messages.get(tap.message) if tap.message is not None else None


def pct(values: list[float], q: float) -> float:
    """The ``q`` quantile (0..1) by nearest rank, in ms (0 for none)."""
    if not values:
        return 0.0
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 1)


async def run(args: argparse.Namespace, workdir: Path) -> dict[str, Any]:
    logging.basicConfig(level=logging.WARNING)
    base = default_settings(data_dir=workdir)
    settings = replace(
        base,
        discord=replace(base.discord, token=Secret(TOKEN)),
        study=replace(base.study, enable_fuzzing=False),
    )
    Path(settings.database.url.split(":///", 1)[1]).parent.mkdir(parents=True, exist_ok=True)
    seed_s = await asyncio.to_thread(
        seed_database, settings.database.url, args.learners, args.simulated, "discord"
    )
    print(f"seeded {args.learners} Discord learners in {seed_s:.1f} s")

    patch = pytest.MonkeyPatch()
    fake = Recorder()
    fake.install(patch)
    app = await build_app(settings, auto_upgrade=True, renderer=FakeRenderer())
    bot = discord_platform(app)
    try:
        await bot.login()  # HTTP login and setup_hook; no gateway offline
        app.channels.attach(bot)
        users = [(i, f"Learner{i}") for i in range(1, args.simulated + 1)]
        places = [fake.dm(uid) for uid, _ in users]  # reviews are for DMs on Discord
        slow = int(places[0].channel["id"])
        fake.delay[slow] = args.slow_ms / 1000
        crowd = Crowd(fake, bot.client, args.pace, args.seed)
        crowd.expected = len(users)
        began = time.perf_counter()
        learners = [
            asyncio.create_task(crowd.learner(u, p)) for u, p in zip(users, places, strict=True)
        ]
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(crowd.all_started.wait(), STEP_TIMEOUT + 10 * args.pace)
        print(
            f"{len(crowd.started)} learners have a card after {time.perf_counter() - began:.1f} s"
        )
        await asyncio.sleep(args.warmup)
        w0, cpu0, shown0 = time.perf_counter(), time.process_time(), len(fake.shown)
        await asyncio.sleep(args.seconds)
        w1, cpu1 = time.perf_counter(), time.process_time()
        shown = sum(1 for t in fake.shown[shown0:] if t <= w1)
        crowd.stop = True
        # Presses already made get their answer before the crowd is counted.
        await asyncio.wait(learners, timeout=STEP_TIMEOUT + 5)
        for task in learners:
            task.cancel()
        await asyncio.sleep(0.2)
        unanswered = len(fake.unanswered())
    finally:
        await bot.stop()
        await app.close()
        patch.undo()

    window = [t for t in crowd.taps if w0 <= t.dispatched <= w1]
    reviews = sum(1 for t in crowd.taps if t.kind == "rate" and t.ready and w0 <= t.ready <= w1)
    seconds = w1 - w0

    def acks(taps: list[Tap]) -> list[float]:
        return [t.acked - t.dispatched for t in taps if t.acked is not None]

    def e2e(taps: list[Tap]) -> list[float]:
        return [t.ready - t.dispatched for t in taps if t.ready is not None]

    others = [t for t in window if t.channel != slow]
    in_slow = [t for t in window if t.channel == slow]
    ack_all, ack_others, ack_slow = acks(window), acks(others), acks(in_slow)
    figures: dict[str, Any] = {
        "simulated": args.simulated,
        "learners": args.learners,
        "pace_s": args.pace,
        "seconds": round(seconds, 2),
        "slow_ms": args.slow_ms,
        "interactions": len(window),
        "reviews": reviews,
        "reviews_per_s": round(reviews / seconds, 1),
        "ack_p50_ms": pct(ack_all, 0.5),
        "ack_p99_ms": pct(ack_all, 0.99),
        "ack_max_ms": pct(ack_all, 1.0),
        "others_ack_p50_ms": pct(ack_others, 0.5),
        "others_ack_p99_ms": pct(ack_others, 0.99),
        "slow_ack_p99_ms": pct(ack_slow, 0.99),
        "e2e_p50_ms": pct(e2e(window), 0.5),
        "e2e_p99_ms": pct(e2e(window), 0.99),
        "others_e2e_p99_ms": pct(e2e(others), 0.99),
        "slow_e2e_p50_ms": pct(e2e(in_slow), 0.5),
        "slow_reviews": sum(1 for t in in_slow if t.kind == "rate" and t.ready),
        "messages_per_review": round(shown / reviews, 2) if reviews else 0.0,
        "cpu_ms_per_review": round((cpu1 - cpu0) * 1000 / reviews, 2) if reviews else 0.0,
        "unanswered": unanswered,
        "stalls": crowd.stalls,
        "violations": len(fake.violations),
        "seed_s": round(seed_s, 1),
        "python": platform.python_version(),
    }
    figures["targets_met"] = {
        "ack_p99_under_3s": bool(ack_all) and figures["ack_p99_ms"] < ACK_LIMIT_MS,
        "others_not_behind_slow": bool(ack_others) and figures["others_ack_p99_ms"] < OTHERS_ACK_MS,
    }
    return figures


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--learners", type=int, default=1_000)
    parser.add_argument("--simulated", type=int, default=200)
    parser.add_argument("--pace", type=float, default=3.0, help="mean seconds before a press")
    parser.add_argument("--seconds", type=float, default=20.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--slow-ms", type=float, default=2000.0)
    parser.add_argument("--seed", type=int, default=20261206)
    args = parser.parse_args(argv)
    if args.learners < args.simulated:
        parser.error("--learners must be at least --simulated")
    with tempfile.TemporaryDirectory(prefix="discord-load-") as tmp:
        figures = asyncio.run(run(args, Path(tmp)))
    print(
        f"{figures['simulated']} learners, pace {figures['pace_s']} s, one channel slowed by "
        f"{figures['slow_ms']:.0f} ms, over {figures['seconds']} s"
    )
    print(f"reviews/s                    {figures['reviews_per_s']} ({figures['reviews']} reviews)")
    print(
        f"acknowledgement p50/p99      {figures['ack_p50_ms']} / {figures['ack_p99_ms']} ms "
        f"(other channels p99 {figures['others_ack_p99_ms']} ms)"
    )
    print(f"end to end p50/p99           {figures['e2e_p50_ms']} / {figures['e2e_p99_ms']} ms")
    print(f"slow channel end to end p50  {figures['slow_e2e_p50_ms']} ms")
    print(f"messages per review          {figures['messages_per_review']}")
    print(f"CPU ms per review (process)  {figures['cpu_ms_per_review']}")
    print(f"unanswered interactions      {figures['unanswered']} (stalls {figures['stalls']})")
    print(f"targets met                  {figures['targets_met']}")
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
