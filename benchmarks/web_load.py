"""Benchmark: the browser workspace (``[web]``) of the real ``studybot run`` under a crowd.

The bot runs as an operator runs it (``python -m bot run --config FILE``, a process of
its own, ``[web] enabled`` on 127.0.0.1) against the fake Telegram Bot API
(``tests/e2e/process/telegram_server.py``, in this process: the bot only long-polls it
here). The database (SQLite, or ``--database URL`` for PostgreSQL) is seeded with
``--learners`` Telegram learners, every card of the shipped decks due, and one challenge
run (:data:`CHALLENGE`) in a group that every one of them has joined.

Each learner signs in with a Mini App's ``initData`` (signed as Telegram signs it,
:func:`bot.core.webauth.sign_init_data`), then, pausing ``--pace`` seconds on average
before each request (exponential; 0 = back to back), again and again:

1. ``GET /api/challenge/{run}`` (the challenge page);
2. ``PUT /api/challenge/{run}/draft`` (a few KB of Markdown with LaTeX, as the page's
   autosave sends it while the learner types);
3. ``GET /api/review`` (the next card);
4. ``POST /api/press`` Show answer, then ``POST /api/press`` a rating (10 % Again,
   10 % Hard, 65 % Good, 15 % Easy): the review path, FSRS and its writes.

What it reports over a window of ``--seconds`` after ``--warmup`` (see
benchmarks/README.md): requests per second and p50/p95/p99 latency by kind, the
server's CPU per request (``/proc/<pid>/stat``), its RSS, the sign-in's cost, the 429s
seen (``[web] requests_per_minute`` is set to ``--rpm``, high), and the page's weight:
the bytes of ``/app`` and of what it loads on a first visit, as served.

    python benchmarks/web_load.py                      # 200 learners, a request every ~3 s each
    python benchmarks/web_load.py --pace 0             # 200 learners back to back
    python benchmarks/web_load.py --browser /usr/bin/chromium   # and a first visit in Chromium
    python benchmarks/web_load.py --learners 5 --pace 0.05 --seconds 2 --warmup 0.5  # smoke

The LAST line is one JSON object.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import gzip
import json
import os
import platform
import random
import re
import shutil
import signal
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any
from urllib.parse import urljoin

REPO = Path(__file__).resolve().parents[1]
if str(REPO) not in sys.path:  # running without an editable install
    sys.path.insert(0, str(REPO))

import aiohttp  # noqa: E402

from benchmarks.e2e_load import (  # noqa: E402
    cpu_seconds,
    pct,
    rss_mb,
    seed_database,
    tree,
    tree_cpu,
)
from bot.app import build_app  # noqa: E402
from bot.config import DatabaseSettings, default_settings  # noqa: E402
from bot.core.learners import Who  # noqa: E402
from tests.e2e.process.harness import (  # noqa: E402
    AUTO_UPGRADE,
    Studybot,
    clean_env,
    free_port,
    studybot,
    write_config,
)
from tests.e2e.process.telegram_server import TelegramServer  # noqa: E402
from tests.e2e.telegram.fake import TgUser  # noqa: E402
from tests.e2e.web.site import (  # noqa: E402
    CHALLENGE,
    GROUP,
    init_data,
    mini_app_fragment,
    web_settings,
)

#: The session cookie the server sets.
COOKIE = "__Host-sb"
#: The kinds of request timed, in the order a learner makes them.
KINDS = ("challenge", "draft", "review", "reveal", "rate")
#: Ratings as a learner picks them: 10 % Again, 10 % Hard, 65 % Good, 15 % Easy.
RATINGS = (("Again", 10), ("Hard", 10), ("Good", 65), ("Easy", 15))
REVEAL = "Show answer"
#: Longest one request may take before it counts as failed.
REQUEST_TIMEOUT = 30.0
#: Longest the bot may take to stop after SIGTERM before it is killed.
STOP_SECONDS = 60.0
#: The vendored front-end files (pinned npm packages, committed).
STATIC = REPO / "bot" / "platforms" / "web" / "static"
#: A derivation as a learner types it: Markdown with inline and display math. About
#: 0.6 KB; :func:`draft_text` repeats it to ``--draft-kb``.
DERIVATION = r"""## Scaled dot-product attention

Let $Q \in \mathbb{R}^{n \times d_k}$, $K \in \mathbb{R}^{m \times d_k}$ and
$V \in \mathbb{R}^{m \times d_v}$. Each score is $q_i^\top k_j$; with entries of unit
variance its variance is $d_k$, so we divide by $\sqrt{d_k}$:

$$
\mathrm{Attention}(Q, K, V) = \mathrm{softmax}\left(\frac{QK^\top}{\sqrt{d_k}}\right)V
$$

1. The softmax is taken row by row: $\sum_j \alpha_{ij} = 1$.
2. Without the scale, $\mathrm{Var}(q^\top k) = d_k$ and the softmax saturates:
   $\frac{\partial \alpha}{\partial s} \to 0$.
3. So each output row is a convex mix of the rows of $V$:
   $o_i = \sum_{j=1}^{m} \alpha_{ij} v_j$.

"""


def draft_text(kb: float, n: int) -> str:
    """The learner's draft at their ``n``-th save: :data:`DERIVATION` repeated to about
    ``kb`` kilobytes, with a line that changes every save (so each save writes)."""
    copies = max(1, round(kb * 1024 / len(DERIVATION)))
    return DERIVATION * copies + f"Step {n}: $x_{{{n}}} = {n}$\n"


# --------------------------------------------------------------------------- set-up


async def join_everyone(settings: Any, n_learners: int) -> str:
    """Start :data:`CHALLENGE` in :data:`GROUP` (learner 1 as its admin, 180 minutes)
    and have learners 1..``n_learners`` join it, through the core as the chat's button
    does. Returns the run's token."""
    app = await build_app(settings, auto_upgrade=True)
    try:
        starter = Who("telegram", "1", "Learner1")
        await app.challenges.start(starter, GROUP, CHALLENGE, 180, is_admin=True)
        run = await app.db.run(lambda tx: tx.challenges.open_run("telegram", GROUP))
        assert run is not None, "the challenge did not start"
        for i in range(1, n_learners + 1):
            await app.challenges.join(Who("telegram", str(i), f"Learner{i}"), run.token)
        return run.token
    finally:
        await app.close()


def web_lines(port: int, rpm: int) -> str:
    """``[web]`` on at 127.0.0.1:``port``, public at the same address."""
    return (
        f'[web]\nenabled = true\nhost = "127.0.0.1"\nport = {port}\n'
        f'public_url = "http://127.0.0.1:{port}"\nrequests_per_minute = {rpm}\n'
    )


async def web_up(bot: Studybot, base: str, seconds: float = 60.0) -> None:
    """Wait until the process's web server answers ``GET /app`` (looking every 50 ms)."""
    deadline = time.monotonic() + seconds
    async with aiohttp.ClientSession(cookie_jar=aiohttp.DummyCookieJar()) as http:
        while True:
            if not bot.running:
                raise SystemExit(f"the bot exited:\n{bot.output()[-3000:]}")
            with contextlib.suppress(aiohttp.ClientConnectionError):
                async with http.get(f"{base}/app") as response:
                    if response.status == 200:
                        return
            if time.monotonic() > deadline:
                raise SystemExit(f"no web server at {base} after {seconds}s")
            await asyncio.sleep(0.05)


# --------------------------------------------------------------------------- page weight


async def page_weight(http: aiohttp.ClientSession, base: str) -> dict[str, Any]:
    """What a first visit loads, as served: ``/app``, the styles and scripts it names,
    and the fonts KaTeX's stylesheet names (a page loads only the fonts its formulas
    use: ``fonts_all_bytes`` is the most). Asked with ``Accept-Encoding: gzip`` as a
    browser asks; bytes are counted on the wire (``auto_decompress`` is off).
    ``gzip_bytes`` is what gzip (level 6) would make of the same files."""
    wire: dict[str, int] = {}
    raw: dict[str, bytes] = {}
    encodings: set[str] = set()

    async def get(url: str) -> bytes:
        async with http.get(url, headers={"Accept-Encoding": "gzip, deflate, br"}) as response:
            assert response.status == 200, f"{url}: {response.status}"
            body = await response.read()
            encodings.add(response.headers.get("Content-Encoding", "identity"))
            wire[url] = len(body)
            if response.headers.get("Content-Encoding") == "gzip":
                body = gzip.decompress(body)
            raw[url] = body
            return body

    page_url = f"{base}/app?open=review"
    page = (await get(page_url)).decode()
    assets = [urljoin(page_url, a) for a in re.findall(r'(?:src|href)="(static/[^"]+)"', page)]
    for url in assets:
        await get(url)
    fonts: list[str] = []
    for url in assets:
        if url.endswith(".css"):
            names = re.findall(r"url\(([^)]+\.woff2)\)", raw[url].decode())
            fonts += [urljoin(url, name.strip("\"'")) for name in names]
    for url in fonts:
        await get(url)
    first = [page_url, *assets]
    return {
        "page_files": len(first),
        "page_bytes": sum(wire[u] for u in first),
        "page_gzip_bytes": sum(len(gzip.compress(raw[u], 6)) for u in first),
        "page_bytes_by_file": {u.removeprefix(base): wire[u] for u in first},
        "fonts": len(fonts),
        "fonts_all_bytes": sum(wire[u] for u in fonts),
        "content_encodings": sorted(encodings),
    }


#: What Chromium needs to run headless here, and to stay off the network.
LAUNCH_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


async def browser_weight(executable: str, base: str, run: str, user: TgUser) -> dict[str, Any]:
    """A first visit in headless Chromium (Playwright, ``executable``; nothing is
    downloaded): ``user`` opens the challenge page as a Mini App (a fresh ``initData`` in
    the fragment), the page signs in and typesets the prompt; every response's body
    bytes as transferred (Chromium's own count), fonts apart, once the network is idle."""
    from playwright.async_api import Response, async_playwright

    url = f"{base}/app?open=challenge:{run}#{mini_app_fragment(init_data(user))}"
    responses: list[Response] = []
    async with async_playwright() as playwright:
        browser = await playwright.chromium.launch(
            executable_path=executable, headless=True, args=LAUNCH_ARGS
        )
        try:
            page = await browser.new_page(viewport={"width": 1280, "height": 900})
            page.on("response", lambda response: responses.append(response))
            began = time.perf_counter()
            await page.goto(url)
            await page.wait_for_function(
                "() => document.querySelector('#prompt .katex') !== null", timeout=30_000
            )
            typeset_s = time.perf_counter() - began
            await page.wait_for_load_state("networkidle")
            sizes = {r.url: (await r.request.sizes())["responseBodySize"] for r in responses}
        finally:
            await browser.close()
    fonts = {u: n for u, n in sizes.items() if u.endswith(".woff2")}
    api = {u: n for u, n in sizes.items() if "/api/" in u}
    return {
        "browser_requests": len(sizes),
        "browser_bytes": sum(sizes.values()),
        "browser_fonts": len(fonts),
        "browser_font_bytes": sum(fonts.values()),
        "browser_api_bytes": sum(api.values()),
        "browser_typeset_s": round(typeset_s, 2),
    }


def vendor_size() -> dict[str, Any]:
    """Bytes on disk of ``static/vendor/`` (what the wheel carries of npm) and of all of
    ``static/``."""
    vendor = [p for p in (STATIC / "vendor").rglob("*") if p.is_file()]
    everything = [p for p in STATIC.rglob("*") if p.is_file()]
    return {
        "vendor_files": len(vendor),
        "vendor_bytes": sum(p.stat().st_size for p in vendor),
        "static_bytes": sum(p.stat().st_size for p in everything),
    }


# --------------------------------------------------------------------------- learners


@dataclass(frozen=True)
class Done:
    """One request: its kind, when it was sent and answered (``perf_counter``), status."""

    kind: str
    sent: float
    answered: float
    status: int
    #: Bytes of the answer's body.
    size: int = 0


@dataclass
class Learner:
    """A signed-in learner: their cookie and CSRF token."""

    user: TgUser
    cookie: str = ""
    csrf: str = ""
    saves: int = 0

    def headers(self) -> dict[str, str]:
        return {"Cookie": f"{COOKIE}={self.cookie}", "X-CSRF-Token": self.csrf}


def cookie_of(response: aiohttp.ClientResponse) -> str:
    """The session cookie from ``Set-Cookie``, read by hand (Python 3.11's parser drops
    a cookie marked ``Partitioned``)."""
    for header in response.headers.getall("Set-Cookie", []):
        name, _, rest = header.partition("=")
        if name.strip() == COOKIE:
            return rest.split(";", 1)[0]
    return ""


def payload(outcome: dict[str, Any], label: str) -> str | None:
    """The payload of the button of ``outcome`` whose label starts with ``label``
    (its edit first, then its replies, newest last)."""
    shown = [outcome.get("edit"), *reversed(outcome.get("replies") or [])]
    for reply in shown:
        for row in (reply or {}).get("buttons") or []:
            for button in row:
                if str(button["label"]).startswith(label):
                    return str(button["payload"])
    return None


@dataclass
class Crowd:
    """The learners, their requests, and what went wrong."""

    http: aiohttp.ClientSession
    base: str
    run: str
    pace: float
    draft_kb: float
    rng: random.Random
    stopping: asyncio.Event = field(default_factory=asyncio.Event)
    done: list[Done] = field(default_factory=list)
    signins: list[Done] = field(default_factory=list)
    failures: dict[str, int] = field(default_factory=dict)
    no_card: int = 0

    async def request(
        self, who: Learner, kind: str, method: str, path: str, body: Any = None
    ) -> Any:
        """One API call as the page makes it; the JSON answer (None unless 200)."""
        sent = time.perf_counter()
        try:
            async with self.http.request(
                method,
                f"{self.base}{path}",
                headers=who.headers(),
                json=body,
                timeout=aiohttp.ClientTimeout(total=REQUEST_TIMEOUT),
            ) as response:
                answer = await response.read()
                status = response.status
        except (aiohttp.ClientError, TimeoutError) as exc:
            self.failures[f"{kind}: {type(exc).__name__}"] = (
                self.failures.get(f"{kind}: {type(exc).__name__}", 0) + 1
            )
            return None
        self.done.append(Done(kind, sent, time.perf_counter(), status, len(answer)))
        if status != 200:
            if status != 429:
                key = f"{kind}: {status}"
                self.failures[key] = self.failures.get(key, 0) + 1
            return None
        return json.loads(answer)

    async def sign_in(self, who: Learner) -> bool:
        """``POST /api/session/telegram`` with a fresh ``initData``, as the page does."""
        raw = init_data(who.user)
        sent = time.perf_counter()
        async with self.http.post(
            f"{self.base}/api/session/telegram", json={"init_data": raw}
        ) as response:
            body = await response.read()
            self.signins.append(Done("signin", sent, time.perf_counter(), response.status))
            if response.status != 200:
                self.failures[f"signin: {response.status}"] = (
                    self.failures.get(f"signin: {response.status}", 0) + 1
                )
                return False
            who.cookie = cookie_of(response)
            who.csrf = json.loads(body)["csrf"]
            return bool(who.cookie)

    async def pause(self) -> bool:
        """The learner's pause before a request; False once the crowd is stopping (the
        pause is cut short then: no request is sent after the window)."""
        if self.pace > 0:
            with contextlib.suppress(TimeoutError):
                delay = self.rng.expovariate(1.0 / self.pace)
                await asyncio.wait_for(self.stopping.wait(), delay)
        else:
            await asyncio.sleep(0)
        return not self.stopping.is_set()

    async def learner(self, who: Learner) -> None:
        """The loop of the module's docstring, until :attr:`stopping` is set."""
        names = [name for name, _ in RATINGS]
        weights = [w for _, w in RATINGS]
        while await self.pause():
            await self.request(who, "challenge", "GET", f"/api/challenge/{self.run}")
            if not await self.pause():
                return
            who.saves += 1
            text = draft_text(self.draft_kb, who.saves)
            await self.request(
                who, "draft", "PUT", f"/api/challenge/{self.run}/draft", {"text": text}
            )
            if not await self.pause():
                return
            shown = await self.request(who, "review", "GET", "/api/review")
            reveal = payload(shown["outcome"], REVEAL) if shown else None
            if reveal is None:
                self.no_card += shown is not None
                continue
            if not await self.pause():
                return
            back = await self.request(who, "reveal", "POST", "/api/press", {"payload": reveal})
            rating = self.rng.choices(names, weights)[0]
            rate = payload(back["outcome"], rating) if back else None
            if rate is None or not await self.pause():
                continue
            await self.request(who, "rate", "POST", "/api/press", {"payload": rate})


# --------------------------------------------------------------------------- the run


async def pg_sessions(url: str | None) -> int | None:
    """PostgreSQL's count of sessions ever opened on the database (``pg_stat_database``;
    each is a connection and a backend process); None on SQLite."""
    if not url:
        return None
    from sqlalchemy import text
    from sqlalchemy.ext.asyncio import create_async_engine

    engine = create_async_engine(url)
    try:
        async with engine.connect() as conn:
            found = await conn.execute(
                text("SELECT sessions FROM pg_stat_database WHERE datname = current_database()")
            )
            return int(found.scalar_one())
    finally:
        await engine.dispose()


async def stop(bot: Studybot) -> int | None:
    """SIGTERM, as an operator stops it; its exit code (None: it had to be killed)."""
    assert bot.proc is not None
    bot.proc.send_signal(signal.SIGTERM)
    try:
        return await asyncio.wait_for(bot.proc.wait(), STOP_SECONDS)
    except TimeoutError:
        await bot.kill()
        return None


def ms(value: float) -> float:
    return round(value * 1000, 2)


def latencies(done: list[Done]) -> dict[str, float]:
    """p50/p95/p99/max of the answered (200) requests, in ms."""
    took = [d.answered - d.sent for d in done if d.status == 200]
    return {
        "p50_ms": ms(pct(took, 50)),
        "p95_ms": ms(pct(took, 95)),
        "p99_ms": ms(pct(took, 99)),
        "max_ms": ms(max(took)) if took else float("nan"),
    }


async def measure(args: argparse.Namespace, workdir: Path, url: str | None) -> dict[str, Any]:
    port = free_port()
    base = f"http://127.0.0.1:{port}"
    settings = web_settings(default_settings(data_dir=workdir / "data"), port)
    if url:
        settings = replace(settings, database=DatabaseSettings(url, auto_upgrade=True))
    began = time.perf_counter()
    run = await join_everyone(settings, args.learners)
    print(f"{args.learners} learners joined the run in {time.perf_counter() - began:.1f} s")

    server = TelegramServer()
    await server.start()
    extra = AUTO_UPGRADE + (f'url = "{url}"\n' if url else "") + web_lines(port, args.rpm)
    config = write_config(workdir / "bot.toml", server, "bot", workdir / "data", extra=extra)
    bot = Studybot(server, "bot", workdir, config, clean_env())
    prerender_s = None
    if args.prerender:
        # As a deployment does once: every shipped image into the disk cache.
        began = time.perf_counter()
        status, _, err = await studybot(
            workdir, "decks", "render", "--config", str(config), env=clean_env()
        )
        if status != 0:
            raise SystemExit(f"studybot decks render failed:\n{err[-3000:]}")
        prerender_s = round(time.perf_counter() - began, 1)
        print(f"shipped images drawn into the disk cache in {prerender_s} s", flush=True)
    connector = aiohttp.TCPConnector(limit=0, force_close=False)
    http = aiohttp.ClientSession(
        connector=connector, cookie_jar=aiohttp.DummyCookieJar(), auto_decompress=False
    )
    crowd = Crowd(http, base, run, args.pace, args.draft_kb, random.Random(args.seed))
    learners = [Learner(TgUser(i, f"Learner{i}")) for i in range(1, args.learners + 1)]
    tasks: list[asyncio.Task[None]] = []
    try:
        launched = time.perf_counter()
        await bot.start(wait=False)
        assert bot.proc is not None
        pid = bot.proc.pid
        await web_up(bot, base)
        startup_s = time.perf_counter() - launched
        print(f"web server up in {startup_s:.2f} s; rss {rss_mb(tree(pid)):.1f} MB", flush=True)
        weight = await page_weight(http, base)
        if args.browser:
            # Learner 1, a member of the run; the crowd signs them in again later with
            # another initData (only the same initData twice is a replay).
            visitor = TgUser(1, "Learner1")
            weight |= await browser_weight(args.browser, base, run, visitor)
            print(f"first visit in Chromium: {weight['browser_bytes']} bytes", flush=True)
        rss_rest = rss_mb(tree(pid))

        # Sign-in: everyone at once (a class opening the link together).
        cpu0 = cpu_seconds(pid)
        t0 = time.perf_counter()
        signed = await asyncio.gather(*(crowd.sign_in(w) for w in learners))
        signin_s = time.perf_counter() - t0
        signin_cpu = cpu_seconds(pid) - cpu0
        print(f"{sum(signed)} of {len(learners)} signed in in {signin_s:.2f} s", flush=True)
        if not all(signed):
            raise SystemExit(f"sign-in failed: {crowd.failures}\n{bot.output()[-3000:]}")

        tasks = [asyncio.create_task(crowd.learner(w)) for w in learners]
        await asyncio.sleep(args.warmup)
        pids = tree(pid)
        start = time.perf_counter()
        sessions0 = await pg_sessions(url)
        cpu0, tree0, client0 = cpu_seconds(pid), tree_cpu(pids), time.process_time()
        rss_main, rss_tree = rss_mb([pid]), rss_mb(pids)
        while time.perf_counter() < start + args.seconds:
            await asyncio.sleep(min(0.5, args.seconds))
            rss_main = max(rss_main, rss_mb([pid]))
            rss_tree = max(rss_tree, rss_mb(tree(pid)))
        end = time.perf_counter()
        cpu1, tree1, client1 = cpu_seconds(pid), tree_cpu(tree(pid)), time.process_time()
        processes = len(tree(pid))
        sessions1 = await pg_sessions(url)
        crowd.stopping.set()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(asyncio.gather(*tasks, return_exceptions=True), 30.0)
        code = await stop(bot)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await http.close()
        await bot.close()
        await server.close()

    seconds = end - start
    window = [d for d in crowd.done if start <= d.answered < end]
    answered = [d for d in window if d.status == 200]
    by_kind: dict[str, Any] = {}
    for kind in KINDS:
        mine = [d for d in window if d.kind == kind]
        by_kind[kind] = {
            "per_s": round(sum(d.status == 200 for d in mine) / seconds, 1),
            **latencies(mine),
            "status_429": sum(d.status == 429 for d in mine),
            "mean_bytes": round(statistics.fmean(d.size for d in mine)) if mine else 0,
        }
    per = max(len(answered), 1)
    output = bot.output()
    load1, _, _ = os.getloadavg()
    return {
        "learners": args.learners,
        "pace_s": args.pace,
        "database": "postgresql" if url else "sqlite",
        "seconds": round(seconds, 2),
        "requests": len(answered),
        "requests_per_s": round(len(answered) / seconds, 1),
        "reviews_per_s": by_kind["rate"]["per_s"],
        "draft_p95_ms": by_kind["draft"]["p95_ms"],
        "by_kind": by_kind,
        "status_429": sum(d.status == 429 for d in window),
        "failures": crowd.failures,
        "no_card": crowd.no_card,
        "cpu_ms_per_request": round((cpu1 - cpu0) * 1000 / per, 2),
        "tree_cpu_ms_per_request": round((tree1 - tree0) * 1000 / per, 2),
        "server_cpu_share": round((cpu1 - cpu0) / seconds, 2),
        "client_cpu_share": round((client1 - client0) / seconds, 2),
        "rss_main_mb": round(rss_main, 1),
        "rss_tree_mb": round(rss_tree, 1),
        "rss_rest_mb": round(rss_rest, 1),
        "processes": processes,
        # Connections PostgreSQL opened in the window (this count's own two included).
        "pg_sessions": None if sessions0 is None or sessions1 is None else sessions1 - sessions0,
        "signin": {
            "count": len(crowd.signins),
            "wall_s": round(signin_s, 2),
            **latencies(crowd.signins),
            "cpu_ms_each": round(signin_cpu * 1000 / max(len(crowd.signins), 1), 2),
        },
        "startup_s": round(startup_s, 2),
        "prerender_s": prerender_s,
        **weight,
        **vendor_size(),
        "server_errors": sum(" ERROR " in line for line in output.splitlines()),
        "exit_code": code,
        "cpus": os.cpu_count(),
        "load_avg_1m_end": round(load1, 2),
        "python": platform.python_version(),
        "aiohttp": aiohttp.__version__,
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--learners", type=int, default=200, help="learners signed in")
    parser.add_argument("--pace", type=float, default=3.0, help="mean seconds before a request")
    parser.add_argument("--seconds", type=float, default=30.0, help="measured window")
    parser.add_argument("--warmup", type=float, default=5.0, help="seconds before the window")
    parser.add_argument("--draft-kb", type=float, default=3.0, help="size of a draft in KB")
    parser.add_argument(
        "--rpm", type=int, default=10_000, help="[web] requests_per_minute (10-10000)"
    )
    parser.add_argument("--seed", type=int, default=20261207)
    parser.add_argument("--database", help="a PostgreSQL URL whose public schema may be wiped")
    parser.add_argument(
        "--prerender",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="draw the shipped decks' images into the disk cache first (studybot decks "
        "render, as a deployment does); --no-prerender: the first of each is drawn cold",
    )
    parser.add_argument(
        "--browser",
        help="also load the challenge page in this Chromium (Playwright) for the first "
        "visit's bytes, fonts included (/usr/bin/chromium here)",
    )
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args()
    workdir = Path(tempfile.mkdtemp(prefix="web_load-"))
    url = args.database
    (workdir / "data").mkdir()
    seed_url = url or f"sqlite+aiosqlite:///{workdir / 'data' / 'studybot.sqlite3'}"
    if url:
        from tests.databases import _wipe_postgres

        _wipe_postgres(url)
    seed_s = seed_database(seed_url, args.learners, args.learners)
    print(f"seeded {args.learners} learners in {seed_s:.1f} s", flush=True)
    try:
        figures = asyncio.run(measure(args, workdir, url))
    finally:
        if not args.keep:
            shutil.rmtree(workdir, ignore_errors=True)
    figures["seed_s"] = round(seed_s, 1)
    for key, value in figures.items():
        print(f"{key:>24}: {value}")
    first_visit = figures.get("browser_bytes", figures["page_bytes"])
    figures["targets_met"] = {
        "draft_p95_under_50ms": figures["by_kind"]["draft"]["p95_ms"] < 50,
        "every_p95_under_100ms": all(k["p95_ms"] < 100 for k in figures["by_kind"].values()),
        "no_429": figures["status_429"] == 0,
        "rss_under_150mb": figures["rss_main_mb"] < 150,
        "first_visit_under_500kb": first_visit < 500 * 1024,
    }
    print(json.dumps(figures))


if __name__ == "__main__":
    main()
