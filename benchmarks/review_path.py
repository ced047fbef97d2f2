"""Benchmark of the review hot path on SQLite, against a hand-written floor.

What it does (see benchmarks/README.md):

1. Seeds a SQLite database (WAL) with ``--learners`` learners x ``--cards``
   cards: a synthetic deck synced through ``tx.catalogue.sync``, then bulk
   inserts of learners, learner_settings, card_states (mostly Review, due
   times spread over the past and the future) and some review history.
2. Sequential: learners study one after another through
   ``Inputs.press(who, payload)``, exactly as an adapter does: the
   front's "Show answer" payload (reveal, untimed), then a rating payload
   taken from the back's buttons (timed). Only the rate call is timed.
3. Concurrent: ``--concurrency`` asyncio tasks, each its own learner doing
   its own reveal/rate loop at once; the rate calls are timed as the tasks
   see them (queueing included).
4. Floor: the same review done by hand with the stdlib ``sqlite3`` module
   and the same pragmas: BEGIN IMMEDIATE, read the card state, one
   ``fsrs.Scheduler().review_card``, update the state, insert the log row,
   read the next due card, COMMIT.

The figures go to stdout; the LAST line is one JSON object.

Run: ``python benchmarks/review_path.py`` (``--quick`` for a smoke run,
``--profile`` to also profile the SQLAlchemy path).
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import io
import json
import math
import os
import platform
import pstats
import random
import sqlite3
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # running without an editable install
    sys.path.insert(0, str(REPO))

import fsrs  # noqa: E402
import sqlalchemy  # noqa: E402
from sqlalchemy import insert  # noqa: E402

from bot.clock import SystemClock  # noqa: E402
from bot.core.actions import new_token  # noqa: E402
from bot.core.challenges.groups import ChallengeCatalog  # noqa: E402
from bot.core.challenges.service import ChallengeService  # noqa: E402
from bot.core.decks import CardDef, Deck  # noqa: E402
from bot.core.delivery import Channels, PlatformAnnouncer  # noqa: E402
from bot.core.inputs import Inputs  # noqa: E402
from bot.core.learners import Basics, Enrolment, Who  # noqa: E402
from bot.core.messages import Reply  # noqa: E402
from bot.core.model import CardStateKind, LearnerSettings  # noqa: E402
from bot.core.onboarding import Onboarding  # noqa: E402
from bot.core.outcomes import Outcome  # noqa: E402
from bot.core.pushes import PushService  # noqa: E402
from bot.core.quiz import QuizService  # noqa: E402
from bot.core.study import StudyService  # noqa: E402
from bot.storage.database import SqlDatabase  # noqa: E402
from bot.storage.learners import settings_row  # noqa: E402
from bot.storage.tables import (  # noqa: E402
    card_states,
    learner_settings,
    learners,
    review_logs,
)

PLATFORM = "bench"
DECK_ID = "bench"
SESSION = 10  # reviews per learner session in the sequential runs
RATING_WEIGHTS = (0.10, 0.10, 0.65, 0.15)  # Again, Hard, Good, Easy
HISTORY_PER_LEARNER = 5  # review_logs rows seeded per learner


def log(msg: str) -> None:
    print(msg, file=sys.stderr, flush=True)


# --------------------------------------------------------------------------- stats


def pct(values: Sequence[float], p: float) -> float:
    """The p-th percentile (nearest rank) of values."""
    if not values:
        return float("nan")
    s = sorted(values)
    k = max(0, min(len(s) - 1, math.ceil(p / 100 * len(s)) - 1))
    return s[k]


def summary(ns: Sequence[int]) -> dict[str, float]:
    ms = [v / 1e6 for v in ns]
    return {
        "p50_ms": round(pct(ms, 50), 4),
        "p90_ms": round(pct(ms, 90), 4),
        "p99_ms": round(pct(ms, 99), 4),
        "max_ms": round(max(ms), 4),
        "mean_ms": round(statistics.fmean(ms), 4),
        "per_s": round(len(ms) / (sum(ms) / 1000), 1),
    }


# --------------------------------------------------------------------------- seeding


def synthetic_deck(n_cards: int) -> Deck:
    cards = tuple(
        CardDef(
            id=f"bench-{i:04d}",
            deck_id=DECK_ID,
            title=f"Benchmark card {i}",
            front=f"What is the answer to question {i} about attention heads?",
            back=f"The answer to question {i}: softmax(QK^T / sqrt(d_k)) V, "
            "with a few sentences of explanation as a real card would have.",
            tags=("bench", f"group{i % 5}"),
            difficulty=("easy", "medium", "hard")[i % 3],
            mnemonic="Queries ask, keys answer, values deliver." if i % 2 else None,
            notes=f"Notes for card {i}." if i % 3 == 0 else None,
            position=i,
        )
        for i in range(n_cards)
    )
    return Deck(id=DECK_ID, title="Benchmark deck", path="bench.md", cards=cards)


def state_row(rng: random.Random, learner_id: int, card_id: str, now: datetime) -> dict[str, Any]:
    """A realistic card state: mostly Review, some (Re)learning; due spread around now."""
    r = rng.random()
    day = timedelta(days=1)
    if r < 0.88:
        state = CardStateKind.REVIEW
        step = None
        stability = rng.uniform(1.0, 120.0)
        difficulty = rng.uniform(1.0, 10.0)
        due = now + rng.uniform(-30.0, 15.0) * day
        last_review = min(due, now) - rng.uniform(1.0, 30.0) * day
        reps = rng.randint(3, 25)
        lapses = rng.choice((0, 0, 0, 0, 1, 1, 2, 3))
    elif r < 0.94:
        state = CardStateKind.LEARNING
        step = rng.choice((0, 1))
        stability = rng.uniform(0.2, 3.0)
        difficulty = rng.uniform(3.0, 8.0)
        due = now + rng.uniform(-2.0, 0.15) * timedelta(hours=1)
        last_review = due - timedelta(minutes=10)
        reps = rng.randint(1, 2)
        lapses = 0
    else:
        state = CardStateKind.RELEARNING
        step = 0
        stability = rng.uniform(0.5, 10.0)
        difficulty = rng.uniform(4.0, 9.0)
        due = now + rng.uniform(-1.0, 0.005) * day
        last_review = due - timedelta(minutes=10)
        reps = rng.randint(4, 20)
        lapses = rng.randint(1, 4)
    suspended = rng.random() < 0.01
    buried_until = now + day if rng.random() < 0.01 else None
    return {
        "learner_id": learner_id,
        "card_id": card_id,
        "state": int(state),
        "step": step,
        "stability": stability,
        "difficulty": difficulty,
        "due": due,
        "last_review": last_review,
        "reps": reps,
        "lapses": lapses,
        "suspended": suspended,
        "leech": False,
        "buried_until": buried_until,
    }


def history_row(rng: random.Random, learner_id: int, card_id: str, now: datetime) -> dict[str, Any]:
    when = now - rng.uniform(1.0, 60.0) * timedelta(days=1)
    s = rng.uniform(1.0, 60.0)
    d = rng.uniform(1.0, 10.0)
    return {
        "learner_id": learner_id,
        "card_id": card_id,
        "rating": rng.choice((1, 2, 3, 3, 3, 4)),
        "reviewed_at": when,
        "duration_ms": rng.randint(1500, 20000),
        "source": "dm",
        "typed_answer": None,
        "before_state": int(CardStateKind.REVIEW),
        "before_step": None,
        "before_stability": s,
        "before_difficulty": d,
        "before_due": when - timedelta(hours=3),
        "before_last_review": when - s * timedelta(days=1),
        "before_reps": rng.randint(2, 20),
        "before_lapses": 0,
        "before_suspended": False,
        "before_leech": False,
        "before_buried_until": None,
        "after_state": int(CardStateKind.REVIEW),
        "after_step": None,
        "after_stability": s * 2,
        "after_difficulty": d,
        "after_due": when + 2 * s * timedelta(days=1),
        "after_last_review": when,
        "after_lapses": 0,
        "undone_at": None,
    }


async def seed(
    db: SqlDatabase, n_learners: int, n_cards: int, seed_value: int, *, fuzz: bool = False
) -> list[str]:
    """Sync the deck and bulk-insert learners, settings, states and history."""
    now = datetime.now(UTC)
    deck = synthetic_deck(n_cards)
    await db.run(lambda tx: tx.catalogue.sync([deck], now))
    card_ids = [c.id for c in deck.cards]
    settings = settings_row(LearnerSettings(enable_fuzzing=fuzz))
    rng = random.Random(seed_value)

    def bulk(conn: sqlalchemy.Connection) -> None:
        conn.execute(
            insert(learners),
            [
                {
                    "id": i,
                    "platform": PLATFORM,
                    "platform_user_id": str(i),
                    "display_name": f"Learner {i}",
                    "created_at": now - timedelta(days=90),
                    "last_seen_at": now - timedelta(days=1),
                    "unreachable": False,
                }
                for i in range(1, n_learners + 1)
            ],
        )
        conn.execute(
            insert(learner_settings),
            [{"learner_id": i, "topics": "", **settings} for i in range(1, n_learners + 1)],
        )
        batch: list[dict[str, Any]] = []
        for i in range(1, n_learners + 1):
            batch.extend(state_row(rng, i, cid, now) for cid in card_ids)
            if len(batch) >= 50_000:
                conn.execute(insert(card_states), batch)
                batch = []
        if batch:
            conn.execute(insert(card_states), batch)
        history = [
            history_row(rng, i, rng.choice(card_ids), now)
            for i in range(1, n_learners + 1)
            for _ in range(HISTORY_PER_LEARNER)
        ]
        history.sort(key=lambda r: r["reviewed_at"])  # append-only log: ids follow time
        conn.execute(insert(review_logs), history)

    await db.run_connection(bulk)
    return card_ids


def checkpoint(path: Path) -> None:
    """Fold the seeding WAL into the main file, so the timed runs start from a small WAL."""
    conn = sqlite3.connect(path, isolation_level=None)
    try:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    finally:
        conn.close()


# --------------------------------------------------------------------------- SQLAlchemy path


def inputs_over(db: SqlDatabase, *, fuzz: bool = False) -> Inputs:
    """The core services over the database, wired as ``bot.app.build_app`` wires them."""
    enrolment = Enrolment(LearnerSettings(enable_fuzzing=fuzz))
    basics = Basics(db, SystemClock(), new_token, enrolment)
    announcer = PlatformAnnouncer(db, Channels())
    return Inputs(
        StudyService(basics, announcer),
        QuizService(basics, announcer),
        PushService(basics),
        ChallengeService(basics, announcer, ChallengeCatalog({})),
        Onboarding(basics),
    )


def shown(outcome: Outcome) -> Reply | None:
    """What a press shows next: the tapped message's new state, else the first reply."""
    if outcome.edit is not None:
        return outcome.edit
    return outcome.replies[0] if outcome.replies else None


def button(reply: Reply | None, action: str) -> str | None:
    """The payload of the reply's first button that does ``action`` (``reveal``, ...)."""
    for b in reply.all_buttons() if reply is not None else ():
        if b.action == action:
            return b.payload
    return None


def rating_payload(back: Reply, rating: int) -> str:
    """The payload of the back's button for a rating (1 Again ... 4 Easy)."""
    ratings = [b for b in back.all_buttons() if b.action == "rate"]
    if len(ratings) != 4:
        raise RuntimeError(f"no button for rating {rating} in {back.kind!r} reply")
    return ratings[rating - 1].payload


def pick_rating(rng: random.Random) -> int:
    return rng.choices((1, 2, 3, 4), weights=RATING_WEIGHTS)[0]


@dataclass
class Pool:
    """Learner ids handed out to sessions; each session gets a fresh learner."""

    ids: list[int]
    pos: int = 0
    wrapped: bool = False

    empty_in_a_row: int = 0

    def note(self, reviews: int) -> None:
        """Stop a run that can make no progress (every learner done or expired)."""
        self.empty_in_a_row = 0 if reviews else self.empty_in_a_row + 1
        if self.empty_in_a_row > len(self.ids):
            raise RuntimeError("no learner has a card to review: seed more learners")

    def take(self) -> int:
        if self.pos >= len(self.ids):
            self.pos = 0
            self.wrapped = True
        lid = self.ids[self.pos]
        self.pos += 1
        return lid


@dataclass
class Gate:
    """Holds the concurrent learners until every one has its first card, then starts them."""

    expected: int
    arrived: int = 0
    ready: asyncio.Event = field(default_factory=asyncio.Event)
    go: asyncio.Event = field(default_factory=asyncio.Event)

    async def wait(self) -> None:
        self.arrived += 1
        if self.arrived >= self.expected:
            self.ready.set()
        await self.go.wait()


@dataclass
class Counters:
    done_replies: int = 0
    expired: int = 0
    sessions: int = 0
    kinds: dict[str, int] = field(default_factory=dict)
    #: Each reveal's latency (ns): the back and its four intervals (with --fuzz, the load
    #: balancer's day counts too).
    reveal_lat: list[int] = field(default_factory=list)


async def session(
    inputs: Inputs,
    learner_id: int,
    max_reviews: int,
    lat: list[int],
    rng: random.Random,
    counters: Counters,
    gate: Gate | None = None,
    think_ms: float = 0.0,
) -> int:
    """One learner's session: next, then (reveal, rate) until max_reviews or done for today.

    ``think_ms`` > 0 waits a random (exponential) time of that mean before each tap.
    """
    who = Who(PLATFORM, str(learner_id))
    reply = shown(await inputs.study.next(who))
    counters.sessions += 1
    if gate is not None:
        await gate.wait()
    done = 0
    while done < max_reviews:
        reveal = button(reply, "reveal")
        if reveal is None:
            counters.done_replies += 1
            break
        if think_ms > 0:
            await asyncio.sleep(rng.expovariate(1000.0 / think_ms))
        t_reveal = time.perf_counter_ns()
        back = shown(await inputs.press(who, reveal))
        counters.reveal_lat.append(time.perf_counter_ns() - t_reveal)
        if back is None or back.kind != "back":
            counters.expired += 1
            break
        rating = pick_rating(rng)
        if think_ms > 0:
            await asyncio.sleep(rng.expovariate(1000.0 / think_ms))
        payload = rating_payload(back, rating)
        t0 = time.perf_counter_ns()
        outcome = await inputs.press(who, payload)
        lat.append(time.perf_counter_ns() - t0)
        reply = shown(outcome)
        kind = reply.kind if reply is not None else "expired"
        counters.kinds[kind] = counters.kinds.get(kind, 0) + 1
        if kind not in ("front", "done"):
            counters.expired += 1
            break
        done += 1
    return done


async def sequential(
    inputs: Inputs, pool: Pool, n_reviews: int, rng: random.Random, counters: Counters
) -> tuple[list[int], float]:
    lat: list[int] = []
    t0 = time.perf_counter()
    while len(lat) < n_reviews:
        n = min(SESSION, n_reviews - len(lat))
        pool.note(await session(inputs, pool.take(), n, lat, rng, counters))
    return lat, time.perf_counter() - t0


async def concurrent(
    inputs: Inputs,
    pool: Pool,
    n_tasks: int,
    n_reviews: int,
    rng: random.Random,
    counters: Counters,
    think_ms: float = 0.0,
) -> tuple[list[int], float]:
    """n_tasks learners at once, each its own reveal/rate loop; wall time from a common start."""
    per_task = max(1, math.ceil(n_reviews / n_tasks))
    lat: list[int] = []
    gate = Gate(n_tasks)

    async def learner_loop(seed: int) -> None:
        r = random.Random(seed)
        got = await session(inputs, pool.take(), per_task, lat, r, counters, gate, think_ms)
        while got < per_task:  # learner done for today: the task takes another learner
            more = await session(
                inputs, pool.take(), per_task - got, lat, r, counters, think_ms=think_ms
            )
            pool.note(more)
            got += more

    tasks = [asyncio.create_task(learner_loop(rng.randrange(1 << 30))) for _ in range(n_tasks)]
    await gate.ready.wait()  # every task has its first front (setup, untimed)
    t0 = time.perf_counter()
    gate.go.set()
    await asyncio.gather(*tasks)
    return lat, time.perf_counter() - t0


# --------------------------------------------------------------------------- floor


_FLOOR_NEXT_DUE = """
SELECT card_id FROM card_states
WHERE learner_id = ? AND due <= ? AND NOT suspended
  AND (buried_until IS NULL OR buried_until <= ?)
  AND EXISTS (SELECT 1 FROM cards WHERE cards.id = card_states.card_id AND cards.retired_at IS NULL)
ORDER BY due LIMIT 1
"""
_FLOOR_GET = """
SELECT state, step, stability, difficulty, due, last_review, reps, lapses, suspended, leech
FROM card_states WHERE learner_id = ? AND card_id = ?
"""
_FLOOR_UPDATE = """
UPDATE card_states SET state = ?, step = ?, stability = ?, difficulty = ?, due = ?,
  last_review = ?, reps = ?, lapses = ?, buried_until = NULL
WHERE learner_id = ? AND card_id = ?
"""
_FLOOR_INSERT = """
INSERT INTO review_logs (learner_id, card_id, rating, reviewed_at, duration_ms, source,
  typed_answer, before_state, before_step, before_stability, before_difficulty, before_due,
  before_last_review, before_reps, before_lapses, before_suspended, before_leech,
  before_buried_until, after_state, after_step, after_stability, after_difficulty, after_due,
  after_last_review, after_lapses, undone_at)
VALUES (?, ?, ?, ?, ?, 'dm', NULL, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?, ?, ?, NULL)
"""


def _dt(value: datetime) -> str:
    """SQLAlchemy's SQLite DATETIME text for an aware UTC instant."""
    return value.replace(tzinfo=None).isoformat(" ", "microseconds")


def _parse(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text).replace(tzinfo=UTC)


def floor_connect(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute("PRAGMA foreign_keys=ON")
    conn.execute("PRAGMA busy_timeout=10000")
    return conn


def floor_review(
    conn: sqlite3.Connection,
    sched: fsrs.Scheduler,
    learner_id: int,
    card_id: str,
    rating: int,
) -> str | None:
    """One review by hand: read state, fsrs, update, log, next due, commit."""
    now = datetime.now(UTC)
    conn.execute("BEGIN IMMEDIATE")
    try:
        row = conn.execute(_FLOOR_GET, (learner_id, card_id)).fetchone()
        state, step, stability, difficulty, due, last_review, reps, lapses, susp, leech = row
        card = fsrs.Card(
            card_id=1,
            state=fsrs.State(state),
            step=step,
            stability=stability,
            difficulty=difficulty,
            due=_parse(due),
            last_review=_parse(last_review),
        )
        new, _ = sched.review_card(card, fsrs.Rating(rating), now)
        new_lapses = lapses + (rating == 1 and state == int(CardStateKind.REVIEW))
        new_due = _dt(new.due)
        now_text = _dt(now)
        conn.execute(
            _FLOOR_UPDATE,
            (
                int(new.state),
                new.step,
                new.stability,
                new.difficulty,
                new_due,
                now_text,
                reps + 1,
                new_lapses,
                learner_id,
                card_id,
            ),
        )
        conn.execute(
            _FLOOR_INSERT,
            (
                learner_id,
                card_id,
                rating,
                now_text,
                4000,
                state,
                step,
                stability,
                difficulty,
                due,
                last_review,
                reps,
                lapses,
                susp,
                leech,
                int(new.state),
                new.step,
                new.stability,
                new.difficulty,
                new_due,
                now_text,
                new_lapses,
            ),
        )
        nxt = conn.execute(_FLOOR_NEXT_DUE, (learner_id, now_text, now_text)).fetchone()
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return nxt[0] if nxt else None


def floor_next_due(conn: sqlite3.Connection, learner_id: int) -> str | None:
    now_text = _dt(datetime.now(UTC))
    row = conn.execute(_FLOOR_NEXT_DUE, (learner_id, now_text, now_text)).fetchone()
    return row[0] if row else None


def floor_run(
    conn: sqlite3.Connection, pool: Pool, n_reviews: int, rng: random.Random
) -> list[int]:
    sched = fsrs.Scheduler(enable_fuzzing=False)
    lat: list[int] = []
    while len(lat) < n_reviews:
        learner_id = pool.take()
        card_id = floor_next_due(conn, learner_id)  # setup, like the front in the SQL path
        done = 0
        for _ in range(min(SESSION, n_reviews - len(lat))):
            if card_id is None:
                break
            rating = pick_rating(rng)
            t0 = time.perf_counter_ns()
            card_id = floor_review(conn, sched, learner_id, card_id, rating)
            lat.append(time.perf_counter_ns() - t0)
            done += 1
        pool.note(done)
    return lat


# --------------------------------------------------------------------------- profiling


async def profile_path(
    db: SqlDatabase, inputs: Inputs, pool: Pool, n_reviews: int, rng: random.Random
) -> dict[str, Any]:
    """Statement counts and compiled-cache hits per rate call, and a cProfile of the worker.

    The unit of work runs in the database's worker thread, so the profiler is
    switched on and off from inside that thread (through ``db.run``).
    """
    from sqlalchemy import Engine, event

    stmts: list[tuple[str, str]] = []
    sql: list[str] = []

    def on_execute(
        conn: Any, cursor: Any, statement: str, params: Any, context: Any, many: Any
    ) -> None:
        hit = getattr(context, "cache_hit", None) if context is not None else None
        stmts.append((statement.split(None, 1)[0].upper(), str(hit)))
        sql.append(" ".join(statement.split()))

    counters = Counters()
    # Statement census: reveal and rate are split by recording around each rate call.
    per_rate: list[list[tuple[str, str]]] = []
    one_rate: list[str] = []
    event.listen(Engine, "before_cursor_execute", on_execute)
    try:
        for _ in range(20):
            who = Who(PLATFORM, str(pool.take()))
            reveal = button(shown(await inputs.study.next(who)), "reveal")
            if reveal is None:
                continue
            back = shown(await inputs.press(who, reveal))
            assert back is not None
            payload = rating_payload(back, pick_rating(rng))
            stmts.clear()
            sql.clear()
            await inputs.press(who, payload)
            per_rate.append(list(stmts))
            one_rate = list(sql)
    finally:
        event.remove(Engine, "before_cursor_execute", on_execute)
    census: dict[str, int] = {}
    hits: dict[str, int] = {}
    for call in per_rate:
        for verb, hit in call:
            census[verb] = census.get(verb, 0) + 1
            hits[hit] = hits.get(hit, 0) + 1
    n_calls = max(1, len(per_rate))

    prof = cProfile.Profile()
    lat: list[int] = []
    await db.run(lambda tx: prof.enable())
    main = cProfile.Profile()
    main.enable()
    try:
        while len(lat) < n_reviews:
            n = min(SESSION, n_reviews - len(lat))
            await session(inputs, pool.take(), n, lat, rng, counters)
    finally:
        main.disable()
        await db.run(lambda tx: prof.disable())
    out = io.StringIO()
    out.write("=== statements of one rate call (COMMIT is not a cursor execute) ===\n")
    out.writelines(f"{i + 1:2d}. {q}\n" for i, q in enumerate(one_rate))
    out.write("=== worker thread (unit of work), cumulative ===\n")
    pstats.Stats(prof, stream=out).sort_stats("cumulative").print_stats(45)
    out.write("=== worker thread, tottime ===\n")
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(35)
    out.write("=== event-loop thread, cumulative ===\n")
    pstats.Stats(main, stream=out).sort_stats("cumulative").print_stats(20)
    return {
        "statements_per_rate": {k: round(v / n_calls, 2) for k, v in sorted(census.items())},
        "cache_per_rate": {k: round(v / n_calls, 2) for k, v in sorted(hits.items())},
        "profile_text": out.getvalue(),
        "profiled_reviews": len(lat),
    }


# --------------------------------------------------------------------------- main


async def run(args: argparse.Namespace) -> dict[str, Any]:
    load_start = round(os.getloadavg()[0], 2)  # other work on the machine skews every figure
    rng = random.Random(args.seed)
    tmp = tempfile.TemporaryDirectory(prefix="studybot-bench-")
    path = Path(tmp.name) / "bench.sqlite3"
    result: dict[str, Any] = {}
    try:
        db = SqlDatabase(f"sqlite:///{path}")
        await db.upgrade()
        t0 = time.perf_counter()
        await seed(db, args.learners, args.cards, args.seed, fuzz=args.fuzz)
        checkpoint(path)
        seed_s = time.perf_counter() - t0
        log(f"seeded {args.learners} learners x {args.cards} cards in {seed_s:.1f} s")

        ids = list(range(1, args.learners + 1))
        rng.shuffle(ids)
        pool = Pool(ids)
        inputs = inputs_over(db, fuzz=args.fuzz)

        counters = Counters()
        await sequential(inputs, pool, args.warmup, rng, counters)
        log(f"warm-up: {args.warmup} reviews")
        counters.reveal_lat.clear()
        seq_lat, seq_wall = await sequential(inputs, pool, args.reviews, rng, counters)
        seq = summary(seq_lat)
        log(f"sequential: {seq}")
        rev = summary(counters.reveal_lat)
        log(f"sequential reveals: {rev}")

        ccounters = Counters()
        con_lat, con_wall = await concurrent(
            inputs, pool, args.concurrency, args.reviews, rng, ccounters, args.think_ms
        )
        con = summary(con_lat)
        log(f"concurrent ({args.concurrency} tasks): {con}, wall {con_wall:.2f} s")

        prof: dict[str, Any] | None = None
        if args.profile:
            prof = await profile_path(db, inputs, pool, args.profile_reviews, rng)
        await db.dispose()

        conn = floor_connect(path)
        try:
            logs_before = conn.execute("SELECT count(*) FROM review_logs").fetchone()[0]
            floor_run(conn, pool, args.warmup, rng)
            floor_lat = floor_run(conn, pool, args.reviews, rng)
            logs_after = conn.execute("SELECT count(*) FROM review_logs").fetchone()[0]
        finally:
            conn.close()
        if logs_after - logs_before != args.warmup + len(floor_lat):
            raise RuntimeError("the floor did not write one log row per review")
        floor = summary(floor_lat)
        log(f"floor: {floor}")
        size_mb = dir_mb(tmp.name)

        result = {
            "learners": args.learners,
            "cards_per_learner": args.cards,
            "card_states": args.learners * args.cards,
            "reviews": len(seq_lat),
            "seed_s": round(seed_s, 1),
            "db_mb": round(size_mb, 1),
            "p50_ms": seq["p50_ms"],
            "p90_ms": seq["p90_ms"],
            "p99_ms": seq["p99_ms"],
            "max_ms": seq["max_ms"],
            "mean_ms": seq["mean_ms"],
            "reviews_per_s": seq["per_s"],
            "loop_reviews_per_s": round(len(seq_lat) / seq_wall, 1),
            "fuzz": args.fuzz,
            "reveal_p50_ms": rev["p50_ms"],
            "reveal_p99_ms": rev["p99_ms"],
            "concurrency": args.concurrency,
            "think_ms": args.think_ms,
            "concurrent_reviews": len(con_lat),
            "concurrent_p50_ms": con["p50_ms"],
            "concurrent_p99_ms": con["p99_ms"],
            "concurrent_reviews_per_s": round(len(con_lat) / con_wall, 1),
            "floor_p50_ms": floor["p50_ms"],
            "floor_p99_ms": floor["p99_ms"],
            "floor_reviews_per_s": floor["per_s"],
            "ratio_p50": round(seq["p50_ms"] / floor["p50_ms"], 2),
            "done_replies": counters.done_replies + ccounters.done_replies,
            "expired": counters.expired + ccounters.expired,
            "learner_pool_wrapped": pool.wrapped,
            "cpus": os.cpu_count(),
            "load_avg_1m_start": load_start,
            "load_avg_1m_end": round(os.getloadavg()[0], 2),
            "python": platform.python_version(),
            "sqlite": sqlite3.sqlite_version,
            "sqlalchemy": sqlalchemy.__version__,
        }
        result["targets_met"] = {
            "p50_under_1ms": result["p50_ms"] < 1.0,
            "p99_under_5ms": result["p99_ms"] < 5.0,
            "reviews_per_s_at_least_1000": result["reviews_per_s"] >= 1000,
            "concurrent_p99_under_5ms": result["concurrent_p99_ms"] < 5.0,
            "concurrent_reviews_per_s_at_least_1000": result["concurrent_reviews_per_s"] >= 1000,
        }
        if prof is not None:
            result["statements_per_rate"] = prof["statements_per_rate"]
            result["cache_per_rate"] = prof["cache_per_rate"]
            result["_profile_text"] = prof["profile_text"]
    finally:
        tmp.cleanup()
    return result


def dir_mb(path: str) -> float:
    return sum(p.stat().st_size for p in Path(path).iterdir()) / 1e6


def parse_args(argv: Sequence[str] | None = None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--learners", type=int, help="learners seeded (default 10000)")
    p.add_argument("--cards", type=int, default=50, help="cards per learner (deck size)")
    p.add_argument("--reviews", type=int, help="timed reviews per run (default 5000)")
    p.add_argument("--concurrency", type=int, default=200, help="learners reviewing at once")
    p.add_argument("--warmup", type=int, help="untimed reviews first (default 200)")
    p.add_argument(
        "--think-ms",
        type=float,
        default=0.0,
        help="mean think time before each tap in the concurrent run (default 0: back to back)",
    )
    p.add_argument("--seed", type=int, default=20261122)
    p.add_argument(
        "--fuzz",
        action="store_true",
        help="learners with fuzz on: Review intervals load-balanced (the day-count query)",
    )
    p.add_argument(
        "--quick",
        action="store_true",
        help="smoke run: 500 learners, 500 reviews, 50 warm-up (unless given explicitly)",
    )
    p.add_argument("--profile", action="store_true", help="also cProfile the SQLAlchemy path")
    p.add_argument("--profile-reviews", type=int, help="reviews profiled (default 1000)")
    p.add_argument(
        "--profile-out",
        default=str(Path(tempfile.gettempdir()) / "review_path.prof.txt"),
        help="where the --profile report goes (default: the temp dir)",
    )
    args = p.parse_args(argv)
    defaults = (
        {"learners": 500, "reviews": 500, "warmup": 50, "profile_reviews": 200}
        if args.quick
        else {"learners": 10_000, "reviews": 5_000, "warmup": 200, "profile_reviews": 1000}
    )
    for key, value in defaults.items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    result = asyncio.run(run(args))
    profile_text = result.pop("_profile_text", None)
    if profile_text is not None:
        Path(args.profile_out).write_text(profile_text)
        log(f"profile written to {args.profile_out}")
    print(
        f"review path ({result['learners']} learners x {result['cards_per_learner']} cards, "
        f"{result['reviews']} reviews): p50 {result['p50_ms']} ms, p99 {result['p99_ms']} ms, "
        f"{result['reviews_per_s']} reviews/s"
    )
    print(
        f"concurrent ({result['concurrency']} learners): p99 {result['concurrent_p99_ms']} ms, "
        f"{result['concurrent_reviews_per_s']} reviews/s"
    )
    print(
        f"floor (raw sqlite3 + fsrs): p50 {result['floor_p50_ms']} ms, "
        f"p99 {result['floor_p99_ms']} ms; ratio p50 {result['ratio_p50']}x"
    )
    print(json.dumps(result, sort_keys=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
