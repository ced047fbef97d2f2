"""The ``studybot`` command line."""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import getpass
import json
import logging
import os
import signal
import sys
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import TYPE_CHECKING, NoReturn

from bot.config import (
    ConfigError,
    LoggingSettings,
    Settings,
    configure_logging,
    load_settings,
    redact,
)

if TYPE_CHECKING:
    from bot.core.interop import AnkiExport

log = logging.getLogger(__name__)

ENV_CONFIG = "STUDYBOT_CONFIG"
#: A file to write a cProfile of ``studybot run`` to (for benchmarks; unset in service).
ENV_PROFILE = "STUDYBOT_PROFILE"


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="studybot",
        description="A spaced-repetition study bot for attention and transformers.",
    )
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    def config_arg(p: argparse.ArgumentParser) -> None:
        p.add_argument(
            "--config",
            type=Path,
            default=None,
            help=f"TOML config file (default: ${ENV_CONFIG}, else built-in defaults)",
        )

    run = sub.add_parser("run", help="run the bot on every platform that has a token")
    config_arg(run)

    console = sub.add_parser("console", help="study in this terminal (no token needed)")
    config_arg(console)
    console.add_argument(
        "--data-dir", type=Path, help="where the SQLite file lives (default: data)"
    )
    console.add_argument("--user", default=None, help="whose progress to use (default: your login)")
    console.add_argument(
        "--images",
        type=Path,
        default=None,
        metavar="DIR",
        help="also draw each card's image to a PNG file in DIR (its text is always shown)",
    )

    decks = sub.add_parser("decks", help="deck tools")
    decks_sub = decks.add_subparsers(dest="decks_command", required=True, metavar="ACTION")
    check = decks_sub.add_parser("check", help="check deck files and folders")
    check.add_argument("paths", nargs="+", type=Path)
    check.add_argument("--json", action="store_true", help="print one JSON object")
    prerender = decks_sub.add_parser(
        "render",
        help="draw every card and challenge image now, into the cache in the data directory",
    )
    config_arg(prerender)
    prerender.add_argument("paths", nargs="*", type=Path, help="default: [decks] paths")
    gallery = decks_sub.add_parser(
        "gallery", help="write every card and challenge image and an index.html, for deck authors"
    )
    config_arg(gallery)
    gallery.add_argument("paths", nargs="*", type=Path, help="default: [decks] paths")
    gallery.add_argument("-o", "--out", type=Path, required=True, help="output folder")

    render = sub.add_parser(
        "render",
        help="write a card's or a challenge's image to FILE (a card's front image to "
        "FILE.front.png)",
    )
    config_arg(render)
    render.add_argument("card_id", metavar="CARD_OR_CHALLENGE_ID")
    render.add_argument(
        "-o", "--out", type=Path, required=True, help="output file: .png, .jpg or .jpeg"
    )

    discord = sub.add_parser("discord", help="Discord tools")
    discord_sub = discord.add_subparsers(dest="discord_command", required=True, metavar="ACTION")
    sync = discord_sub.add_parser(
        "sync", help="register the slash commands with Discord (run after an upgrade)"
    )
    config_arg(sync)
    sync.add_argument("--guild", type=int, default=None, help="sync to one server only (instant)")

    optimize = sub.add_parser(
        "optimize",
        help="fit learners' memory models now (kept only where they beat the ones in use)",
    )
    config_arg(optimize)
    optimize.add_argument(
        "--learner", type=int, default=None, help="one learner, by id (default: every learner)"
    )

    export = sub.add_parser(
        "export", help="write one learner's review history (csv) or an Anki package (apkg)"
    )
    config_arg(export)
    export.add_argument("--learner", type=int, required=True, help="the learner, by id")
    export.add_argument("--format", choices=("apkg", "csv"), default="apkg")
    export.add_argument(
        "--out", type=Path, default=None, help="the file (default: studybot.apkg or the CSV's name)"
    )

    imported = sub.add_parser(
        "import",
        help="import an Anki package or text export into one learner's own decks",
    )
    config_arg(imported)
    imported.add_argument("--learner", type=int, required=True, help="the learner, by id")
    imported.add_argument(
        "file", type=Path, help="an Anki package (.apkg, .colpkg) or text export (.txt, .csv)"
    )

    db = sub.add_parser("db", help="database tools")
    db_sub = db.add_subparsers(dest="db_command", required=True, metavar="ACTION")
    for name, text in (
        ("upgrade", "bring the schema to the newest version"),
        ("current", "show the schema version"),
    ):
        config_arg(db_sub.add_parser(name, help=text))
    revision = db_sub.add_parser(
        "revision", help="(developers) write a new migration from the changes in tables.py"
    )
    config_arg(revision)
    revision.add_argument("-m", "--message", required=True)
    return parser


def _settings(path: Path | None, data_dir: Path | None = None) -> Settings:
    if path is None and os.environ.get(ENV_CONFIG):
        path = Path(os.environ[ENV_CONFIG])
    env = dict(os.environ)
    if data_dir is not None:
        env["STUDYBOT_DATA_DIR"] = str(data_dir)
    return load_settings(path, env)


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of ``studybot`` and ``python -m bot``.

    Returns the exit code: 0, 1 when the bot cannot start (one line on stderr, naming
    what failed and what to do), 2 for a configuration error or nothing to run.
    """
    args = _parser().parse_args(argv)
    if args.command == "run":
        # Until the bot's own handlers take over, SIGTERM ends it as SIGTERM always
        # does: with code 0. Nothing has started yet that would need stopping.
        signal.signal(signal.SIGTERM, _terminated)
    try:
        if args.command == "decks" and args.decks_command == "check":
            return _decks_check(args.paths, as_json=args.json)
        settings = _settings(args.config, getattr(args, "data_dir", None))
        if args.command in ("decks", "render"):
            return _render_command(args, settings)
    except ConfigError as exc:
        return _config_error(exc)
    quiet = args.command == "console"
    configure_logging(
        settings.logging if not quiet else _quiet(settings), secrets=settings.secret_values()
    )
    from bot.core.ports import CannotStart

    try:
        if args.command == "run":
            from bot.app import run_bot

            return profiled(lambda: asyncio.run(run_bot(settings)))
        if args.command == "console":
            return _console(settings, args.user, args.images)
        if args.command == "discord":
            return asyncio.run(_discord_sync(settings, args.guild))
        if args.command == "optimize":
            return asyncio.run(_optimize(settings, args.learner))
        if args.command == "export":
            return asyncio.run(_export(settings, args.learner, args.format, args.out))
        if args.command == "import":
            return _import(settings, args.learner, args.file)
        if args.command == "db":
            return asyncio.run(_db(settings, args.db_command, getattr(args, "message", "")))
    except CannotStart as exc:
        print(f"studybot: {redact(str(exc), settings.secret_values())}", file=sys.stderr)
        return 1
    except ConfigError as exc:  # found once the decks are read: [decks] default
        return _config_error(exc)
    except KeyboardInterrupt:
        return 130
    return 2


def profiled(run: Callable[[], int]) -> int:
    """``run()``, under cProfile when ``STUDYBOT_PROFILE`` names a file: the statistics of
    the main thread (the event loop) are written there when it returns (see
    benchmarks/README.md, ``e2e_load.py --profile``)."""
    path = os.environ.get(ENV_PROFILE)
    if not path:
        return run()
    import cProfile

    profile = cProfile.Profile()
    profile.enable()
    try:
        return run()
    finally:
        profile.disable()
        profile.dump_stats(path)


def _config_error(exc: ConfigError) -> int:
    print(f"studybot: config error: {exc}", file=sys.stderr)
    return 2


def _terminated(signum: int, frame: FrameType | None) -> NoReturn:
    raise SystemExit(0)


def _quiet(settings: Settings) -> LoggingSettings:
    """The console keeps the terminal for the chat: warnings only, unless DEBUG was asked for."""
    level = settings.logging.level if settings.logging.level in ("DEBUG",) else "WARNING"
    return replace(settings.logging, level=level)


def _console(settings: Settings, user: str | None, images: Path | None) -> int:
    """``studybot console``: a chat in this terminal (see :mod:`bot.platforms.console.session`).

    The app runs on an event loop in a thread of its own while this thread reads the
    terminal; Ctrl-C leaves at once, with the goodbye, and exit code 0.
    """
    from bot.core.learners import Who
    from bot.platforms.console.chat import ConsoleChat
    from bot.platforms.console.images import CardImages
    from bot.platforms.console.session import HISTORY_FILE, ConsoleIO, run_console

    if images is not None:
        try:
            images.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            print(f"studybot: cannot create {images}: {exc.strerror or exc}", file=sys.stderr)
            return 1
    name = user or _login()
    io = ConsoleIO.stdio(history=settings.data_dir / HISTORY_FILE)

    @contextlib.asynccontextmanager
    async def chat() -> AsyncIterator[ConsoleChat]:
        from bot.app import build_app

        renderer = None
        if images is not None:
            from bot.render.cache import cache_dir_for
            from bot.render.service import MatplotlibRenderer

            renderer = MatplotlibRenderer(
                cache_dir_for(settings.data_dir),
                idle_seconds=settings.render.worker_idle_seconds,
            )
        # The console is for trying things out: it upgrades its own database.
        app = await build_app(settings, auto_upgrade=True, renderer=renderer)
        try:
            for error in app.decks.errors:
                print(f"deck problem: {error}", file=sys.stderr)
            drawn = CardImages(app.pictures, images) if app.pictures and images else None
            who = Who("console", name, name)
            yield ConsoleChat(app.study, app.inputs, who, io.write, io.terminal, drawn)
        finally:
            await app.close()

    return run_console(chat(), io)


async def _discord_sync(settings: Settings, guild: int | None) -> int:
    from bot.platforms.discord import sync_commands

    try:
        names = await sync_commands(settings.discord, guild_id=guild)
    except ValueError as exc:
        print(f"studybot: {exc}", file=sys.stderr)
        return 2
    where = f"server {guild}" if guild else "every server and DM (global commands take a while)"
    print(f"synced {len(names)} commands to {where}: {', '.join(sorted(names))}")
    return 0


def _login() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "me"


async def _db(settings: Settings, action: str, message: str = "") -> int:
    from bot.storage.database import SqlDatabase, write_revision

    db = SqlDatabase(settings.database.url)
    try:
        if action == "revision":
            await db.check_schema(auto_upgrade=False)
            path = await db.run_connection(lambda conn: write_revision(conn, message))
            print(f"wrote {path}: read it and edit it before committing")
        elif action == "upgrade":
            before, head = await db.schema_status()
            await db.upgrade()
            print(f"{settings.database.safe_url()}: schema {before or 'empty'} -> {head}")
        else:
            current, head = await db.schema_status()
            state = "up to date" if current == head else "behind: run `studybot db upgrade`"
            where = settings.database.safe_url()
            print(f"{where}: schema {current or 'empty'} (newest {head}, {state})")
    finally:
        await db.dispose()
    return 0


async def _optimize(settings: Settings, learner_id: int | None) -> int:
    """``studybot optimize``: fit now, ignoring the schedule but not the keep-if-better rule."""
    from bot.clock import SystemClock
    from bot.core.fitting import NO_SUCH_LEARNER, ModelFitter
    from bot.storage.database import SqlDatabase

    db = SqlDatabase(settings.database.url)
    try:
        await db.check_schema(auto_upgrade=settings.database.auto_upgrade)
        reports = await ModelFitter(db, SystemClock()).optimize(learner_id)
    finally:
        await db.dispose()
    if not reports:
        print("no learners yet")
    for report in reports:
        print(report.describe())
    return 1 if learner_id is not None and reports[0].note == NO_SUCH_LEARNER else 0


async def _drawn(settings: Settings, export: AnkiExport) -> AnkiExport:
    """The export with its shipped cards' images drawn (through the bot's disk cache, so
    images the bot has shown are not drawn again; a render worker only for the others)."""
    from bot.core.interop import draw_images
    from bot.render.cache import cache_dir_for
    from bot.render.service import MatplotlibRenderer

    renderer = MatplotlibRenderer(cache_dir_for(settings.data_dir), idle_seconds=None)
    try:
        return await draw_images(export, renderer)
    finally:
        await renderer.close()


async def _export(settings: Settings, learner_id: int, fmt: str, out: Path | None) -> int:
    """``studybot export``: one learner's history as CSV, or their cards as an Anki package."""
    from bot.clock import SystemClock
    from bot.core.interop import anki_export
    from bot.core.ports import Tx
    from bot.core.study import EXPORT_FILE, export_csv
    from bot.interop.anki_export import FILENAME, packager
    from bot.storage.database import SqlDatabase

    build = packager() if fmt == "apkg" else None
    if fmt == "apkg" and build is None:
        print(
            "studybot: Anki export needs `pip install 'studybot[anki]'` (or genanki)",
            file=sys.stderr,
        )
        return 1
    now = SystemClock().now()
    db = SqlDatabase(settings.database.url)

    def read(tx: Tx) -> str | AnkiExport | None:
        learner = tx.learners.get_by_id(learner_id)
        if learner is None:
            return None
        return export_csv(tx, learner) if fmt == "csv" else anki_export(tx, learner, now)

    try:
        await db.check_schema(auto_upgrade=settings.database.auto_upgrade)
        found = await db.run(read)
    finally:
        await db.dispose()
    if found is None:
        print(f"studybot: no learner {learner_id}", file=sys.stderr)
        return 1
    if isinstance(found, str):
        data, what = found.encode("utf-8"), "review history (CSV, times in UTC)"
        path = out or Path(EXPORT_FILE)
    else:
        assert build is not None
        found = await _drawn(settings, found)
        package = await asyncio.to_thread(build, found)
        data = package.data
        what = "Anki package" + ("" if package.with_scheduling else " (notes only: no schedules)")
        if found.media:
            what += f" with {len(found.media)} image{'s' if len(found.media) != 1 else ''}"
        path = out or Path(FILENAME)
    await asyncio.to_thread(path.write_bytes, data)
    print(f"learner {learner_id}: {what} written to {path} ({len(data):,} bytes)")
    return 0


def _import(settings: Settings, learner_id: int, path: Path) -> int:
    """``studybot import``: a file into one learner's own decks, as if they had sent it;
    prints the reply they would get. Exit 1, with the reason, when nothing was imported."""
    from bot.core.ankifile import MAX_IMPORT_BYTES, too_large

    try:
        size = path.stat().st_size
        if not path.is_file():
            print(f"studybot: {path} is not a file", file=sys.stderr)
            return 1
        if size > MAX_IMPORT_BYTES:  # refused before it is read, as in a chat
            print(f"studybot: {too_large(size)}", file=sys.stderr)
            return 1
        data = path.read_bytes()
    except OSError as exc:
        print(f"studybot: cannot read {path}: {exc.strerror or exc}", file=sys.stderr)
        return 1
    return asyncio.run(_import_data(settings, learner_id, path.name, data))


async def _import_data(settings: Settings, learner_id: int, filename: str, data: bytes) -> int:
    from bot.clock import SystemClock
    from bot.core.importing import ImportPlan
    from bot.core.personal import ImportSummary, import_data, write_import
    from bot.core.ports import Tx
    from bot.interop import anki_import
    from bot.storage.database import SqlDatabase

    now = SystemClock().now()
    db = SqlDatabase(settings.database.url)
    try:
        await db.check_schema(auto_upgrade=settings.database.auto_upgrade)
        learner = await db.run(lambda tx: tx.learners.get_by_id(learner_id))
        if learner is None:
            print(f"studybot: no learner {learner_id}", file=sys.stderr)
            return 1
        found = learner

        async def write(plan: ImportPlan) -> ImportSummary:
            def work(tx: Tx) -> ImportSummary:
                current = tx.learners.get_by_id(learner_id) or found
                return write_import(tx, current, plan, now)

            return await db.run(work)

        reply = await import_data(anki_import.read_file, data, filename, learner, now, write)
    finally:
        await db.dispose()
    if reply.kind == "error":
        print(f"studybot: {reply.text}", file=sys.stderr)
        return 1
    print(f"learner {learner_id}: {reply.text}")
    return 0


def _render_command(args: argparse.Namespace, settings: Settings) -> int:
    from bot.render import commands
    from bot.render.cache import cache_dir_for

    configure_logging(_quiet(settings), secrets=settings.secret_values())
    paths = list(getattr(args, "paths", None) or settings.decks.paths)
    if args.command == "render":
        return commands.render_card(args.card_id, args.out, paths)
    if args.decks_command == "render":
        return commands.prerender(paths, cache_dir_for(settings.data_dir))
    return commands.gallery(paths, args.out)


def _decks_check(paths: Sequence[Path], *, as_json: bool) -> int:
    from bot.deckfiles import load_decks
    from bot.render.commands import check_images

    loaded = load_decks(paths)
    # Images that parse but cannot be drawn (a formula mathtext rejects) are errors too.
    drawn = check_images(loaded)
    result = replace(
        loaded, errors=tuple(sorted((*loaded.errors, *drawn), key=lambda e: (e.path, e.line)))
    )
    if as_json:
        doc = {
            "decks": [
                {
                    "id": d.id,
                    "title": d.title,
                    "path": d.path,
                    "cards": [
                        {
                            "id": c.id,
                            "tags": list(c.tags),
                            "difficulty": c.difficulty,
                            "image": c.back_image.kind if c.back_image else None,
                            "front": c.front,
                            "back": c.back,
                            "images": [
                                {"side": side, "kind": spec.kind, "spec": spec.source}
                                for side, spec in c.images()
                            ],
                            "choices": None
                            if c.choices is None
                            else {"options": list(c.choices.options), "correct": c.choices.correct},
                        }
                        for c in d.cards
                    ],
                }
                for d in result.decks
            ],
            "challenge_sets": [
                {
                    "id": cs.id,
                    "title": cs.title,
                    "path": cs.path,
                    "challenges": [{"id": c.id, "kind": c.kind} for c in cs.challenges],
                }
                for cs in result.challenge_sets
            ],
            "errors": [
                {"path": e.path, "line": e.line, "message": e.message} for e in result.errors
            ],
        }
        print(json.dumps(doc, indent=2, ensure_ascii=False))
    else:
        for deck in result.decks:
            print(f"{deck.path}: {deck.id} “{deck.title}”: {len(deck.cards)} cards")
        for cs in result.challenge_sets:
            print(f"{cs.path}: {cs.id} “{cs.title}”: {len(cs.challenges)} challenges")
        for error in result.errors:
            print(str(error), file=sys.stderr)
        total = sum(len(d.cards) for d in result.decks)
        status = "ok" if result.ok else f"{len(result.errors)} problem(s)"
        print(f"{len(result.decks)} decks, {total} cards: {status}")
    return 0 if result.ok and result.decks else 1
