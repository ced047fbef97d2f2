"""Loading: one TOML file plus a few environment variables into :class:`Settings`.

:func:`load_settings` turns ``config.toml`` (see ``config.example.toml``) and the
``STUDYBOT_*`` environment variables into frozen, typed
:class:`~bot.config.settings.Settings`. Every problem is reported as a
:class:`ConfigError` with a single line of the form
``"<file>: [section] key: <what is wrong>"`` (``"environment: VAR: ..."`` for
environment variables). Tokens and database passwords never appear in error
messages, in ``repr()`` of the settings, or -- once ``configure_logging`` or
``install_secret_filter`` has run -- in log output.

``[study]`` is checked against the learner-settings rules of
:mod:`bot.core.settings` (the same bounds and time zone check as ``/settings``).

Environment variables (a variable that is set but empty is ignored):

``STUDYBOT_DATA_DIR``
    Overrides ``[bot] data_dir``; a relative path is taken from the current directory.
``STUDYBOT_DATABASE_URL``
    Overrides ``[database] url``.
``STUDYBOT_TELEGRAM_TOKEN`` / ``STUDYBOT_DISCORD_TOKEN``
    Override ``[telegram] token`` / ``[discord] token``; preferred over the file.
``STUDYBOT_TELEGRAM_WEBHOOK_SECRET``
    Overrides ``[telegram] webhook_secret``.
``STUDYBOT_WEB_SECRET``
    Overrides ``[web] secret`` (the key of the browser workspace's one-time links).
"""

from __future__ import annotations

import difflib
import json
import logging
import os
import re
import tomllib
from collections.abc import Callable, Mapping
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final, NoReturn
from urllib.parse import urlsplit

from bot.config.formats import (
    database_url_problem,
    discord_token_problem,
    telegram_token_problem,
)
from bot.config.secrets import Secret
from bot.config.settings import (
    DISCORD_MODES,
    JSON_LOGS,
    TELEGRAM_MODES,
    DatabaseSettings,
    DecksSettings,
    DiscordSettings,
    FittingSettings,
    LoggingSettings,
    OpsSettings,
    PushSettings,
    QuizSettings,
    RenderSettings,
    Settings,
    TelegramSettings,
    WebSettings,
)
from bot.core.model import LearnerSettings
from bot.core.settings import (
    DESIRED_RETENTION,
    LEECH_THRESHOLD,
    MAX_REVIEWS_PER_DAY,
    MAXIMUM_INTERVAL_DAYS,
    NEW_CARDS_PER_DAY,
    Bounds,
    is_known_zone,
    parse_clock,
)
from bot.deckfiles import SHIPPED_DECKS

__all__ = [
    "ENV_DATABASE_URL",
    "ENV_DATA_DIR",
    "ENV_DISCORD_TOKEN",
    "ENV_TELEGRAM_TOKEN",
    "ENV_TELEGRAM_WEBHOOK_SECRET",
    "ENV_WEB_SECRET",
    "ConfigError",
    "default_settings",
    "load_settings",
]

log = logging.getLogger(__name__)

ENV_DATA_DIR: Final = "STUDYBOT_DATA_DIR"
ENV_DATABASE_URL: Final = "STUDYBOT_DATABASE_URL"
ENV_TELEGRAM_TOKEN: Final = "STUDYBOT_TELEGRAM_TOKEN"
ENV_DISCORD_TOKEN: Final = "STUDYBOT_DISCORD_TOKEN"
ENV_TELEGRAM_WEBHOOK_SECRET: Final = "STUDYBOT_TELEGRAM_WEBHOOK_SECRET"
ENV_WEB_SECRET: Final = "STUDYBOT_WEB_SECRET"

_ENV_LABEL: Final = "environment"
_DEFAULT_DATA_DIR: Final = "data"
_DATABASE_FILE: Final = "studybot.sqlite3"
_LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")

# Every section and key the file may contain; anything else is an error.
_SCHEMA: Final[Mapping[str, tuple[str, ...]]] = {
    "bot": ("data_dir",),
    "database": ("url", "auto_upgrade", "echo"),
    "telegram": (
        "token",
        "base_url",
        "base_file_url",
        "mode",
        "webhook_url",
        "webhook_listen",
        "webhook_port",
        "webhook_secret",
        "ephemeral_messages",
    ),
    "discord": ("token", "mode", "shard_count", "shard_ids"),
    "quiz": (
        "window_minutes",
        "challenge_photo_mb",
        "challenge_photos_per_group_mb",
        "challenge_photo_days",
    ),
    "push": (
        "tick_seconds",
        "remind_after_days",
        "stop_after_days",
        "telegram_per_second",
        "discord_per_second",
        "misfire_grace_minutes",
    ),
    "study": (
        "desired_retention",
        "new_cards_per_day",
        "max_reviews_per_day",
        "learning_steps",
        "relearning_steps",
        "maximum_interval_days",
        "leech_threshold",
        "timezone",
        "push_time",
        "enable_fuzzing",
    ),
    "decks": ("shipped", "paths", "default"),
    "logging": ("level", "format"),
    "ops": ("enabled", "host", "port"),
    "render": ("worker_idle_seconds",),
    "fitting": ("enabled", "tick_seconds", "learners_per_tick", "recheck_hours"),
    "web": (
        "enabled",
        "host",
        "port",
        "public_url",
        "secret",
        "init_data_max_age_seconds",
        "link_minutes",
        "session_hours",
        "requests_per_minute",
    ),
}

#: Hosts a plain-http ``[web] public_url`` may name (trying it out, tests).
_LOOPBACK_HOSTS: Final = ("127.0.0.1", "localhost", "::1")
#: The shortest ``[web] secret`` accepted: it signs links anyone could try to forge.
_WEB_SECRET_MIN: Final = 16


class ConfigError(Exception):
    """The configuration is unusable; the message is one line naming the file and key.

    The message never contains a token or password. ``file`` is the config file
    name as given (or ``"environment"``) and ``key`` the offending key, if any.
    """

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        super().__init__(" ".join(message.splitlines()))
        self.file = file
        self.key = key


# --------------------------------------------------------------------------- loading


def load_settings(path: Path | None = None, env: Mapping[str, str] | None = None) -> Settings:
    """Read ``path`` (a TOML file; None for no file) and ``env`` into :class:`Settings`.

    ``env`` defaults to :data:`os.environ`. Relative paths in the file are taken
    from the file's directory. Raises :class:`ConfigError` on any problem.
    """
    environ: Mapping[str, str] = os.environ if env is None else env
    if path is None:
        settings = _build({}, label="defaults", base_dir=Path.cwd(), env=environ, source=None)
        log.debug("no config file; using defaults and environment")
    else:
        label = str(path)
        document = _read_toml(path, label)
        source = path.resolve()
        settings = _build(document, label=label, base_dir=source.parent, env=environ, source=source)
        log.debug("loaded settings from %s", source)
    log.debug("database %s", settings.database.safe_url())
    return settings


def default_settings(data_dir: Path | None = None) -> Settings:
    """Return the settings used when there is no config file (``studybot console``).

    Environment variables are not consulted. ``data_dir`` (relative to the current
    directory) replaces the default ``data``; the database URL follows it.
    """
    return _build({}, label="defaults", base_dir=Path.cwd(), env={}, source=None, data_dir=data_dir)


def _read_toml(path: Path, label: str) -> dict[str, Any]:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(f"{label}: file not found", file=label) from None
    except OSError as exc:
        reason = exc.strerror or type(exc).__name__
        raise ConfigError(f"{label}: cannot read file: {reason}", file=label) from None
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise ConfigError(f"{label}: not valid UTF-8 (byte {exc.start})", file=label) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{label}: invalid TOML: {exc}", file=label) from None


def _build(
    document: Mapping[str, Any],
    *,
    label: str,
    base_dir: Path,
    env: Mapping[str, str],
    source: Path | None,
    data_dir: Path | None = None,
) -> Settings:
    sections = _sections(document, label)

    bot = sections["bot"]
    resolved_data_dir = _resolve(
        bot, "data_dir", Path(bot.string("data_dir", _DEFAULT_DATA_DIR, non_empty=True)), base_dir
    )
    env_data_dir = _env(env, ENV_DATA_DIR)
    if env_data_dir is not None:
        resolved_data_dir = _resolve_env(ENV_DATA_DIR, env_data_dir)
    if data_dir is not None:
        resolved_data_dir = (Path.cwd() / data_dir).resolve()

    return Settings(
        data_dir=resolved_data_dir,
        database=_database(sections["database"], env, resolved_data_dir),
        telegram=_telegram(sections["telegram"], env),
        discord=_discord(sections["discord"], env),
        push=_push(sections["push"]),
        quiz=_quiz(sections["quiz"]),
        study=_study(sections["study"]),
        logging=_logging(sections["logging"]),
        decks=_decks(sections["decks"], base_dir),
        ops=_ops(sections["ops"]),
        render=RenderSettings(
            worker_idle_seconds=sections["render"].number(
                "worker_idle_seconds",
                RenderSettings().worker_idle_seconds,
                Bounds(0.1, 86400.0),
            )
        ),
        fitting=_fitting(sections["fitting"]),
        web=_web(sections["web"], env),
        source=source,
    )


def _quiz(section: _Section) -> QuizSettings:
    d = QuizSettings()
    return QuizSettings(
        window_minutes=section.integer("window_minutes", d.window_minutes, Bounds(1, 1440)),
        # At most 10: the reveal uploads the photo again, and Telegram takes photos of
        # up to 10 MB.
        challenge_photo_mb=section.integer(
            "challenge_photo_mb", d.challenge_photo_mb, Bounds(1, 10)
        ),
        challenge_photos_per_group_mb=section.integer(
            "challenge_photos_per_group_mb", d.challenge_photos_per_group_mb, Bounds(1, 100_000)
        ),
        challenge_photo_days=section.integer(
            "challenge_photo_days", d.challenge_photo_days, Bounds(1, 3650)
        ),
    )


def _fitting(section: _Section) -> FittingSettings:
    d = FittingSettings()
    return FittingSettings(
        enabled=section.boolean("enabled", d.enabled),
        tick_seconds=section.integer("tick_seconds", d.tick_seconds, Bounds(10, 86400)),
        learners_per_tick=section.integer(
            "learners_per_tick", d.learners_per_tick, Bounds(1, 1000)
        ),
        recheck_hours=section.integer("recheck_hours", d.recheck_hours, Bounds(1, 24 * 90)),
    )


def _database(section: _Section, env: Mapping[str, str], data_dir: Path) -> DatabaseSettings:
    default_url = f"sqlite+aiosqlite:///{(data_dir / _DATABASE_FILE).as_posix()}"
    url = section.string("url", default_url)
    env_url = _env(env, ENV_DATABASE_URL)
    if env_url is not None:
        problem = database_url_problem(env_url)
        if problem:
            _env_fail(ENV_DATABASE_URL, problem)
        url = env_url
    else:
        problem = database_url_problem(url)
        if problem:
            section.fail("url", problem)
    defaults = DatabaseSettings(url="")
    return DatabaseSettings(
        url=url,
        auto_upgrade=section.boolean("auto_upgrade", defaults.auto_upgrade),
        echo=section.boolean("echo", defaults.echo),
    )


def _telegram(section: _Section, env: Mapping[str, str]) -> TelegramSettings:
    defaults = TelegramSettings()
    base_url = section.string("base_url", defaults.base_url)
    base_file_url = section.string("base_file_url", defaults.base_file_url)
    for key, value in (("base_url", base_url), ("base_file_url", base_file_url)):
        if not value.startswith(("https://", "http://")):
            section.fail(key, "must be an http:// or https:// URL")
    mode = section.string("mode", defaults.mode)
    if mode not in TELEGRAM_MODES:
        section.fail("mode", f"must be {_one_of(TELEGRAM_MODES)}")
    webhook_url = section.string("webhook_url", defaults.webhook_url)
    if mode == "webhook" and not webhook_url.startswith("https://"):
        section.fail("webhook_url", "webhook mode needs the public https:// URL Telegram posts to")
    secret = section.string("webhook_secret", "").strip()
    env_secret = _env(env, ENV_TELEGRAM_WEBHOOK_SECRET)
    if env_secret is not None:
        secret = env_secret.strip()
    if secret and not re.fullmatch(r"[A-Za-z0-9_-]{1,256}", secret):
        section.fail("webhook_secret", "use 1-256 characters from A-Z, a-z, 0-9, _ and -")
    return TelegramSettings(
        token=_token(section, env, ENV_TELEGRAM_TOKEN, telegram_token_problem),
        base_url=base_url,
        base_file_url=base_file_url,
        mode=mode,
        webhook_url=webhook_url,
        webhook_listen=section.string("webhook_listen", defaults.webhook_listen, non_empty=True),
        webhook_port=section.integer("webhook_port", defaults.webhook_port, Bounds(1, 65535)),
        webhook_secret=Secret(secret) if secret else None,
        ephemeral_messages=section.boolean("ephemeral_messages", defaults.ephemeral_messages),
    )


def _push(section: _Section) -> PushSettings:
    d = PushSettings()
    remind = section.integer("remind_after_days", d.remind_after_days, Bounds(1, 365))
    stop = section.integer("stop_after_days", d.stop_after_days, Bounds(1, 3650))
    if stop <= remind:
        section.fail("stop_after_days", "must be more than remind_after_days")
    return PushSettings(
        tick_seconds=section.integer("tick_seconds", d.tick_seconds, Bounds(5, 3600)),
        remind_after_days=remind,
        stop_after_days=stop,
        telegram_per_second=section.number(
            "telegram_per_second", d.telegram_per_second, Bounds(0.1, 30)
        ),
        discord_per_second=section.number(
            "discord_per_second", d.discord_per_second, Bounds(0.1, 50)
        ),
        misfire_grace_minutes=section.integer(
            "misfire_grace_minutes", d.misfire_grace_minutes, Bounds(1, 7 * 24 * 60)
        ),
    )


def _discord(section: _Section, env: Mapping[str, str]) -> DiscordSettings:
    count = section.integer("shard_count", 0, Bounds(0, 100000))
    ids = section.table.get("shard_ids", [])
    if not isinstance(ids, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        section.fail("shard_ids", f"expected an array of integers, got {_type_name(ids)}")
    if ids and not count:
        section.fail("shard_ids", "needs shard_count (the total number of shards)")
    if any(not 0 <= i < count for i in ids):
        section.fail("shard_ids", f"each id must be from 0 to shard_count - 1 ({count - 1})")
    mode = section.string("mode", DiscordSettings().mode)
    if mode not in DISCORD_MODES:
        section.fail("mode", f"must be {_one_of(DISCORD_MODES)}")
    return DiscordSettings(
        token=_token(section, env, ENV_DISCORD_TOKEN, discord_token_problem),
        mode=mode,
        shard_count=count or None,
        shard_ids=tuple(ids),
    )


def _token(
    section: _Section,
    env: Mapping[str, str],
    env_name: str,
    problem_of: Callable[[str], str | None],
) -> Secret | None:
    """The token from the environment, else from the file; one that cannot be valid fails."""
    value = section.string("token", "").strip()
    env_value = _env(env, env_name)
    if env_value is not None:
        problem = problem_of(env_value.strip())
        if problem:
            _env_fail(env_name, problem)
        return Secret(env_value.strip())
    if value and (problem := problem_of(value)):
        section.fail("token", problem)
    return Secret(value) if value else None


def _study(section: _Section) -> LearnerSettings:
    """``[study]``: the settings a new learner starts with, under the same rules as /settings."""
    d = LearnerSettings()
    timezone = section.string("timezone", d.timezone)
    if not is_known_zone(timezone):
        section.fail(
            "timezone",
            f"{_quote(timezone)} is not a valid IANA timezone name "
            '(e.g. "UTC", "Europe/Berlin", "America/New_York")',
        )
    return LearnerSettings(
        desired_retention=section.number(
            "desired_retention", d.desired_retention, DESIRED_RETENTION
        ),
        new_cards_per_day=section.integer(
            "new_cards_per_day", d.new_cards_per_day, NEW_CARDS_PER_DAY
        ),
        max_reviews_per_day=section.integer(
            "max_reviews_per_day", d.max_reviews_per_day, MAX_REVIEWS_PER_DAY
        ),
        learning_steps=_steps(section, "learning_steps", d.learning_steps),
        relearning_steps=_steps(section, "relearning_steps", d.relearning_steps),
        maximum_interval_days=section.integer(
            "maximum_interval_days", d.maximum_interval_days, MAXIMUM_INTERVAL_DAYS
        ),
        leech_threshold=section.integer("leech_threshold", d.leech_threshold, LEECH_THRESHOLD),
        timezone=timezone,
        push_time=_push_time(section, d.push_time),
        enable_fuzzing=section.boolean("enable_fuzzing", d.enable_fuzzing),
    )


_DURATION = re.compile(r"(?:\d+[smhd])+")
_DURATION_PART = re.compile(r"(\d+)([smhd])")
_UNITS: Final = {"s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


def _steps(section: _Section, key: str, default: tuple[timedelta, ...]) -> tuple[timedelta, ...]:
    if key not in section.table:
        return default
    steps = []
    for position, text in enumerate(section.string_list(key, ()), start=1):
        step = _parse_duration(text)
        if step is None:
            section.fail(
                key,
                f"item {position} {_quote(text)} is not a duration "
                '(use e.g. "30s", "10m", "1h", "1d")',
            )
        if step <= timedelta(0):
            section.fail(key, f"item {position} {_quote(text)} must be longer than zero")
        steps.append(step)
    return tuple(steps)


def _parse_duration(text: str) -> timedelta | None:
    """Parse ``"30s"``, ``"10m"``, ``"1h"``, ``"1d"`` or combinations like ``"1h30m"``."""
    compact = text.strip()
    if not _DURATION.fullmatch(compact):
        return None
    total = timedelta(0)
    for amount, unit in _DURATION_PART.findall(compact):
        total += timedelta(**{_UNITS[unit]: int(amount)})
    return total


def _push_time(section: _Section, default: time) -> time:
    value = section.table.get("push_time")
    if value is None:
        return default
    # A TOML local time (push_time = 09:00:00) is accepted as well as "09:00".
    if isinstance(value, time) and value.tzinfo is None:
        return value.replace(microsecond=0)
    text = section.string("push_time", "")
    push = parse_clock(text.strip())
    if push is None:
        section.fail("push_time", f'{_quote(text)} is not a time of day "HH:MM" (e.g. "09:00")')
    return push


def _logging(section: _Section) -> LoggingSettings:
    d = LoggingSettings()
    level = section.string("level", d.level).strip().upper()
    if level not in _LOG_LEVELS:
        section.fail(
            "level",
            f"{_quote(level)} is not a log level (expected one of {', '.join(_LOG_LEVELS)})",
        )
    fmt = section.string("format", d.format, non_empty=True)
    if fmt == JSON_LOGS:
        return LoggingSettings(level=level, format=fmt)
    try:
        logging.Formatter(fmt, validate=True)
    except ValueError:
        section.fail(
            "format",
            'is neither "json" nor a %-style logging format (e.g. "%(levelname)s %(message)s")',
        )
    return LoggingSettings(level=level, format=fmt)


def _ops(section: _Section) -> OpsSettings:
    d = OpsSettings()
    return OpsSettings(
        enabled=section.boolean("enabled", d.enabled),
        host=section.string("host", d.host, non_empty=True).strip(),
        port=section.integer("port", d.port, Bounds(1, 65535)),
    )


def _web(section: _Section, env: Mapping[str, str]) -> WebSettings:
    """``[web]``: the browser workspace; ``public_url`` is checked whenever it is set and
    required when ``enabled``."""
    d = WebSettings()
    enabled = section.boolean("enabled", d.enabled)
    public_url = _public_url(section, section.string("public_url", d.public_url).strip())
    if enabled and not public_url:
        section.fail(
            "public_url",
            "is needed when the workspace is enabled: the https:// address browsers open",
        )
    secret = section.string("secret", "").strip()
    env_secret = _env(env, ENV_WEB_SECRET)
    if env_secret is not None:
        secret = env_secret.strip()
        if len(secret) < _WEB_SECRET_MIN:
            _env_fail(ENV_WEB_SECRET, f"must be at least {_WEB_SECRET_MIN} characters")
    elif secret and len(secret) < _WEB_SECRET_MIN:
        section.fail("secret", f"must be at least {_WEB_SECRET_MIN} characters")
    return WebSettings(
        enabled=enabled,
        host=section.string("host", d.host, non_empty=True).strip(),
        port=section.integer("port", d.port, Bounds(1, 65535)),
        public_url=public_url,
        secret=Secret(secret) if secret else None,
        init_data_max_age_seconds=section.integer(
            "init_data_max_age_seconds", d.init_data_max_age_seconds, Bounds(30, 86400)
        ),
        link_minutes=section.integer("link_minutes", d.link_minutes, Bounds(1, 1440)),
        session_hours=section.integer("session_hours", d.session_hours, Bounds(1, 720)),
        requests_per_minute=section.integer(
            "requests_per_minute", d.requests_per_minute, Bounds(10, 10000)
        ),
    )


def _public_url(section: _Section, text: str) -> str:
    """``[web] public_url`` without its trailing slashes: https://, or http:// to a
    loopback host; a path prefix is kept, a query, fragment or user name is refused."""
    if not text:
        return ""
    try:
        parts = urlsplit(text)
        host = parts.hostname or ""
        parts.port  # noqa: B018 - raises ValueError for a port out of range
    except ValueError:
        section.fail("public_url", "is not a URL")
    if parts.scheme not in ("https", "http") or not host:
        section.fail("public_url", "must be an https:// URL (e.g. https://study.example.org)")
    if parts.scheme == "http" and host not in _LOOPBACK_HOSTS:
        section.fail(
            "public_url", "must be https:// (plain http:// only to 127.0.0.1, localhost or ::1)"
        )
    if parts.query or parts.fragment or text.endswith(("?", "#")):
        section.fail("public_url", "must not have a query (?) or fragment (#)")
    if parts.username is not None or parts.password is not None:
        section.fail("public_url", "must not hold a user name or password")
    if any(c.isspace() for c in text):
        section.fail("public_url", "must not contain spaces")
    return text.rstrip("/")


def _decks(section: _Section, base_dir: Path) -> DecksSettings:
    """``[decks]``: the shipped decks (unless ``shipped = false``), then ``paths``, each of
    which must exist."""
    paths = [SHIPPED_DECKS] if section.boolean("shipped", True) else []
    for position, text in enumerate(section.string_list("paths", ()), start=1):
        if not text.strip():
            section.fail("paths", f"item {position} is an empty string")
        path = _resolve(section, "paths", Path(text), base_dir)
        if not path.exists():
            section.fail("paths", f"{_quote(text)} does not exist (looked for {path})")
        paths.append(path)
    default = section.string_list("default", ())
    seen: set[str] = set()
    for position, deck_id in enumerate(default, start=1):
        if not deck_id.strip():
            section.fail("default", f"item {position} is an empty string")
        if deck_id in seen:
            section.fail("default", f"deck {_quote(deck_id)} is listed twice")
        seen.add(deck_id)
    return DecksSettings(paths=tuple(paths), default=default)


# --------------------------------------------------------------------------- sections


def _sections(document: Mapping[str, Any], label: str) -> dict[str, _Section]:
    for name, value in document.items():
        if name not in _SCHEMA:
            hint = difflib.get_close_matches(name, list(_SCHEMA), n=1)
            suggestion = f" (did you mean [{hint[0]}]?)" if hint else ""
            raise ConfigError(
                f"{label}: [{_key(name)}]: unknown section{suggestion}", file=label, key=name
            )
        if not isinstance(value, dict):
            raise ConfigError(
                f"{label}: [{name}]: expected a table, got {_type_name(value)}",
                file=label,
                key=name,
            )
    sections = {name: _Section(label, name, document.get(name, {})) for name in _SCHEMA}
    for section in sections.values():
        section.check_keys()
    return sections


class _Section:
    """Typed access to one TOML table, failing with messages that name file and key."""

    def __init__(self, label: str, name: str, table: Mapping[str, Any]) -> None:
        self.label = label
        self.name = name
        self.table = table

    def fail(self, key: str, what: str) -> NoReturn:
        raise ConfigError(
            f"{self.label}: [{self.name}] {_key(key)}: {what}", file=self.label, key=key
        )

    def check_keys(self) -> None:
        valid = _SCHEMA[self.name]
        for key in self.table:
            if key in valid:
                continue
            hint = difflib.get_close_matches(key, valid, n=1)
            if hint:
                self.fail(key, f'unknown key (did you mean "{hint[0]}"?)')
            elsewhere = [name for name, keys in _SCHEMA.items() if key in keys]
            if elsewhere:
                self.fail(key, f"unknown key (it belongs in [{elsewhere[0]}])")
            self.fail(key, "unknown key")

    def _wrong_type(self, key: str, expected: str, value: object) -> NoReturn:
        self.fail(key, f"expected {expected}, got {_type_name(value)}")

    def string(self, key: str, default: str, *, non_empty: bool = False) -> str:
        # No message here may show the value: tokens and database URLs come through here.
        value = self.table.get(key, default)
        if not isinstance(value, str):
            self._wrong_type(key, "a string", value)
        if non_empty and not value.strip():
            self.fail(key, "must not be empty")
        return value

    def boolean(self, key: str, default: bool) -> bool:
        value = self.table.get(key, default)
        if not isinstance(value, bool):
            self._wrong_type(key, "a boolean (true or false)", value)
        return value

    def integer(self, key: str, default: int, bounds: Bounds[int]) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self._wrong_type(key, "an integer", value)
        self._check_range(key, value, value, bounds)
        return value

    def number(self, key: str, default: float, bounds: Bounds[float]) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._wrong_type(key, "a number", value)
        number = float(value)
        self._check_range(key, number, value, bounds)
        return number

    def _check_range(
        self, key: str, number: float, value: object, bounds: Bounds[int] | Bounds[float]
    ) -> None:
        """Fail unless ``number`` is in ``bounds`` (nan never is); show ``value`` as written."""
        if number not in bounds:
            low, high = bounds.low, bounds.high
            limits = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.fail(key, f"must be {limits}, got {value}")

    def string_list(self, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
        value = self.table.get(key, list(default))
        if not isinstance(value, list):
            self._wrong_type(key, "an array of strings", value)
        for position, item in enumerate(value, start=1):
            if not isinstance(item, str):
                self.fail(
                    key,
                    f"expected an array of strings, got {_type_name(item)} at item {position}",
                )
        return tuple(value)


# --------------------------------------------------------------------------- helpers


def _env(env: Mapping[str, str], name: str) -> str | None:
    value = env.get(name)
    return value if value and value.strip() else None


def _env_fail(name: str, what: str) -> NoReturn:
    raise ConfigError(f"{_ENV_LABEL}: {name}: {what}", file=_ENV_LABEL, key=name)


def _resolve(section: _Section, key: str, path: Path, base_dir: Path) -> Path:
    try:
        return (base_dir / path.expanduser()).resolve()
    except (RuntimeError, OSError) as exc:
        section.fail(key, f"cannot resolve path: {exc}")


def _resolve_env(name: str, text: str) -> Path:
    try:
        return (Path.cwd() / Path(text).expanduser()).resolve()
    except (RuntimeError, OSError) as exc:
        _env_fail(name, f"cannot resolve path: {exc}")


def _type_name(value: object) -> str:
    # Order matters: bool is an int, datetime is a date.
    for kind, name in (
        (bool, "boolean"),
        (int, "integer"),
        (float, "float"),
        (str, "string"),
        (list, "array"),
        (dict, "table"),
        (datetime, "datetime"),
        (date, "date"),
        (time, "time"),
    ):
        if isinstance(value, kind):
            return name
    return type(value).__name__


_BARE_KEY = re.compile(r"[A-Za-z0-9_-]+")


def _key(key: str) -> str:
    return key if _BARE_KEY.fullmatch(key) else _quote(key)


def _quote(text: str) -> str:
    return json.dumps(text)


def _one_of(choices: tuple[str, ...]) -> str:
    quoted = [_quote(c) for c in choices]
    return f"{', '.join(quoted[:-1])} or {quoted[-1]}"
