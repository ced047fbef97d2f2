"""Settings: one TOML file plus a few environment variables, read once at start.

:func:`load_settings` turns ``config.toml`` (see ``config.example.toml``) and the
``STUDYBOT_*`` environment variables into frozen, typed :class:`Settings`. Every
problem is reported as a :class:`ConfigError` with a single line of the form
``"<file>: [section] key: <what is wrong>"`` (``"environment: VAR: ..."`` for
environment variables). Tokens and database passwords never appear in error
messages, in ``repr()`` of the settings, or -- once :func:`configure_logging` or
:func:`install_secret_filter` has run -- in log output.

Environment variables (a variable that is set but empty is ignored):

``STUDYBOT_DATA_DIR``
    Overrides ``[bot] data_dir``; a relative path is taken from the current directory.
``STUDYBOT_DATABASE_URL``
    Overrides ``[database] url``.
``STUDYBOT_TELEGRAM_TOKEN`` / ``STUDYBOT_DISCORD_TOKEN``
    Override ``[telegram] token`` / ``[discord] token``; preferred over the file.
"""

from __future__ import annotations

import difflib
import hmac
import json
import logging
import os
import re
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from pathlib import Path
from typing import Any, Final, NoReturn
from urllib.parse import parse_qsl, unquote, urlencode, urlsplit
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

__all__ = [
    "ENV_DATABASE_URL",
    "ENV_DATA_DIR",
    "ENV_DISCORD_TOKEN",
    "ENV_TELEGRAM_TOKEN",
    "ConfigError",
    "DatabaseSettings",
    "DecksSettings",
    "DiscordSettings",
    "LoggingSettings",
    "PushSettings",
    "QuizSettings",
    "Secret",
    "Settings",
    "StudySettings",
    "TelegramSettings",
    "configure_logging",
    "default_settings",
    "install_secret_filter",
    "load_settings",
]

log = logging.getLogger(__name__)

ENV_DATA_DIR: Final = "STUDYBOT_DATA_DIR"
ENV_DATABASE_URL: Final = "STUDYBOT_DATABASE_URL"
ENV_TELEGRAM_TOKEN: Final = "STUDYBOT_TELEGRAM_TOKEN"
ENV_DISCORD_TOKEN: Final = "STUDYBOT_DISCORD_TOKEN"
ENV_TELEGRAM_WEBHOOK_SECRET: Final = "STUDYBOT_TELEGRAM_WEBHOOK_SECRET"

_ENV_LABEL: Final = "environment"
_MASK: Final = "***"
_DEFAULT_DATA_DIR: Final = "data"
_DEFAULT_DECK_PATHS: Final = ("decks",)
_DATABASE_FILE: Final = "studybot.sqlite3"
_LOG_LEVELS: Final = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_SECRET_QUERY_KEYS: Final = frozenset({"password", "passwd", "pass", "pwd"})

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
    ),
    "discord": ("token", "shard_count", "shard_ids"),
    "quiz": ("window_minutes",),
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
    "decks": ("paths", "default"),
    "logging": ("level", "format"),
}


class ConfigError(Exception):
    """The configuration is unusable; the message is one line naming the file and key.

    The message never contains a token or password. ``file`` is the config file
    name as given (or ``"environment"``) and ``key`` the offending key, if any.
    """

    def __init__(self, message: str, *, file: str | None = None, key: str | None = None) -> None:
        super().__init__(" ".join(message.splitlines()))
        self.file = file
        self.key = key


class Secret:
    """A token that does not show itself in ``repr()``, ``str()`` or f-strings."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        if not isinstance(value, str):
            raise TypeError("Secret wraps a str")
        self._value = value

    def reveal(self) -> str:
        """Return the wrapped value; only call this where the token is actually used."""
        return self._value

    def __repr__(self) -> str:
        return "Secret('***')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Secret):
            return NotImplemented
        return hmac.compare_digest(self._value.encode(), other._value.encode())

    def __hash__(self) -> int:
        return hash(self._value)

    def __bool__(self) -> bool:
        return bool(self._value)


@dataclass(frozen=True, slots=True, repr=False)
class DatabaseSettings:
    """``[database]``: where the data lives and how the schema is kept current."""

    url: str
    #: When false the bot refuses to start on an out-of-date schema and asks for
    #: ``studybot db upgrade``; when true it upgrades the schema itself at start.
    auto_upgrade: bool = False
    #: Log every SQL statement (SQLAlchemy ``echo``).
    echo: bool = False

    def safe_url(self) -> str:
        """Return :attr:`url` with any password replaced by ``***``, fit for logs."""
        return _redact_url(self.url)

    def password(self) -> str | None:
        """Return the (decoded) password carried by :attr:`url`, if any."""
        secrets = _url_secrets(self.url)
        return unquote(secrets[0]) if secrets else None

    def __repr__(self) -> str:
        return (
            f"DatabaseSettings(url={self.safe_url()!r}, auto_upgrade={self.auto_upgrade!r}, "
            f"echo={self.echo!r})"
        )


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    """``[telegram]``: the bot token and the Bot API endpoints."""

    token: Secret | None = None
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    #: "polling" (long polling, the default) or "webhook".
    mode: str = "polling"
    #: Public HTTPS URL Telegram posts updates to (webhook mode).
    webhook_url: str = ""
    #: Address and port the webhook server listens on (behind your reverse proxy).
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    #: Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (webhook mode).
    webhook_secret: Secret | None = None


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    """``[discord]``: the bot token and sharding."""

    token: Secret | None = None
    #: Total shards across all processes; None lets Discord decide.
    shard_count: int | None = None
    #: Shards this process runs; empty means all of them.
    shard_ids: tuple[int, ...] = ()


@dataclass(frozen=True, slots=True)
class PushSettings:
    """``[push]``: the daily-push timer and delivery pacing."""

    #: How often the timer looks for learners whose push is due.
    tick_seconds: int = 60
    #: Days without studying after which a learner gets one gentle reminder instead.
    remind_after_days: int = 3
    #: Days without studying after which pushes stop until the learner writes again.
    stop_after_days: int = 14
    #: Delivery pace, under Telegram's ~30 messages/s.
    telegram_per_second: float = 25.0
    #: Delivery pace, well under Discord's 50 requests/s.
    discord_per_second: float = 40.0
    #: A snoozed push missed by at most this much (bot down) is still sent, once.
    misfire_grace_minutes: int = 360


@dataclass(frozen=True, slots=True)
class QuizSettings:
    """``[quiz]``: group quizzes."""

    #: How long a /quiz round stays open before the answer is posted.
    window_minutes: int = 10


@dataclass(frozen=True, slots=True)
class StudySettings:
    """``[study]``: scheduler and daily-limit parameters."""

    desired_retention: float = 0.9
    new_cards_per_day: int = 10
    max_reviews_per_day: int = 200
    learning_steps: tuple[timedelta, ...] = (timedelta(minutes=1), timedelta(minutes=10))
    relearning_steps: tuple[timedelta, ...] = (timedelta(minutes=10),)
    maximum_interval_days: int = 36500
    leech_threshold: int = 8
    timezone: str = "UTC"
    push_time: time = time(9, 0)
    enable_fuzzing: bool = True

    def zoneinfo(self) -> ZoneInfo:
        """Return :attr:`timezone` as a :class:`zoneinfo.ZoneInfo`."""
        return ZoneInfo(self.timezone)


@dataclass(frozen=True, slots=True)
class DecksSettings:
    """``[decks]``: where deck files are found and which decks new learners get."""

    paths: tuple[Path, ...]
    #: Deck ids a new learner is enrolled in; empty means all decks.
    default: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class LoggingSettings:
    """``[logging]``: level and ``%``-style format for :func:`logging.basicConfig`."""

    level: str = "INFO"
    format: str = "%(asctime)s %(levelname)s %(name)s: %(message)s"


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the bot is configured with; built once by :func:`load_settings`."""

    data_dir: Path
    database: DatabaseSettings
    telegram: TelegramSettings
    discord: DiscordSettings
    study: StudySettings
    logging: LoggingSettings
    decks: DecksSettings
    #: The config file these settings came from, or None for defaults only.
    source: Path | None = None
    quiz: QuizSettings = QuizSettings()
    push: PushSettings = PushSettings()

    def secret_values(self) -> tuple[str, ...]:
        """Return every secret string (tokens, database password) for log redaction."""
        secrets = (self.telegram.token, self.discord.token, self.telegram.webhook_secret)
        values = [t.reveal() for t in secrets if t]
        for raw in _url_secrets(self.database.url):
            values.extend({raw, unquote(raw)})
        return tuple(v for v in values if v)


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
        quiz=QuizSettings(
            window_minutes=sections["quiz"].integer(
                "window_minutes", QuizSettings().window_minutes, 1, 1440
            )
        ),
        study=_study(sections["study"]),
        logging=_logging(sections["logging"]),
        decks=_decks(sections["decks"], base_dir),
        source=source,
    )


def _database(section: _Section, env: Mapping[str, str], data_dir: Path) -> DatabaseSettings:
    default_url = f"sqlite+aiosqlite:///{(data_dir / _DATABASE_FILE).as_posix()}"
    url = section.string("url", default_url)
    if not _looks_like_url(url):
        section.fail("url", _BAD_URL)
    env_url = _env(env, ENV_DATABASE_URL)
    if env_url is not None:
        if not _looks_like_url(env_url):
            _env_fail(ENV_DATABASE_URL, _BAD_URL)
        url = env_url
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
    if mode not in ("polling", "webhook"):
        section.fail("mode", 'must be "polling" or "webhook"')
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
        token=_token(section, env, ENV_TELEGRAM_TOKEN),
        base_url=base_url,
        base_file_url=base_file_url,
        mode=mode,
        webhook_url=webhook_url,
        webhook_listen=section.string("webhook_listen", defaults.webhook_listen, non_empty=True),
        webhook_port=section.integer("webhook_port", defaults.webhook_port, 1, 65535),
        webhook_secret=Secret(secret) if secret else None,
    )


def _push(section: _Section) -> PushSettings:
    d = PushSettings()
    remind = section.integer("remind_after_days", d.remind_after_days, 1, 365)
    stop = section.integer("stop_after_days", d.stop_after_days, 1, 3650)
    if stop <= remind:
        section.fail("stop_after_days", "must be more than remind_after_days")
    return PushSettings(
        tick_seconds=section.integer("tick_seconds", d.tick_seconds, 5, 3600),
        remind_after_days=remind,
        stop_after_days=stop,
        telegram_per_second=section.number("telegram_per_second", d.telegram_per_second, 0.1, 30),
        discord_per_second=section.number("discord_per_second", d.discord_per_second, 0.1, 50),
        misfire_grace_minutes=section.integer(
            "misfire_grace_minutes", d.misfire_grace_minutes, 1, 7 * 24 * 60
        ),
    )


def _discord(section: _Section, env: Mapping[str, str]) -> DiscordSettings:
    count = section.integer("shard_count", 0, 0, 100000)
    ids = section.table.get("shard_ids", [])
    if not isinstance(ids, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
        section.fail("shard_ids", f"expected an array of integers, got {_type_name(ids)}")
    if ids and not count:
        section.fail("shard_ids", "needs shard_count (the total number of shards)")
    if any(not 0 <= i < count for i in ids):
        section.fail("shard_ids", f"each id must be from 0 to shard_count - 1 ({count - 1})")
    return DiscordSettings(
        token=_token(section, env, ENV_DISCORD_TOKEN),
        shard_count=count or None,
        shard_ids=tuple(ids),
    )


def _token(section: _Section, env: Mapping[str, str], env_name: str) -> Secret | None:
    value = section.string("token", "").strip()
    env_value = _env(env, env_name)
    if env_value is not None:
        value = env_value.strip()
    return Secret(value) if value else None


def _study(section: _Section) -> StudySettings:
    d = StudySettings()
    timezone = section.string("timezone", d.timezone)
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError, OSError):
        section.fail(
            "timezone",
            f"{_quote(timezone)} is not a valid IANA timezone name "
            '(e.g. "UTC", "Europe/Berlin", "America/New_York")',
        )
    return StudySettings(
        desired_retention=section.number("desired_retention", d.desired_retention, 0.7, 0.99),
        new_cards_per_day=section.integer("new_cards_per_day", d.new_cards_per_day, 0, 500),
        max_reviews_per_day=section.integer("max_reviews_per_day", d.max_reviews_per_day, 1, 10000),
        learning_steps=_steps(section, "learning_steps", d.learning_steps),
        relearning_steps=_steps(section, "relearning_steps", d.relearning_steps),
        maximum_interval_days=section.integer(
            "maximum_interval_days", d.maximum_interval_days, 1, None
        ),
        leech_threshold=section.integer("leech_threshold", d.leech_threshold, 1, None),
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


_HHMM = re.compile(r"(\d{1,2}):(\d{2})")


def _push_time(section: _Section, default: time) -> time:
    value = section.table.get("push_time")
    if value is None:
        return default
    # A TOML local time (push_time = 09:00:00) is accepted as well as "09:00".
    if isinstance(value, time) and value.tzinfo is None:
        return value.replace(microsecond=0)
    text = section.string("push_time", "")
    match = _HHMM.fullmatch(text.strip())
    if match is None or int(match[1]) > 23 or int(match[2]) > 59:
        section.fail("push_time", f'{_quote(text)} is not a time of day "HH:MM" (e.g. "09:00")')
    return time(int(match[1]), int(match[2]))


def _logging(section: _Section) -> LoggingSettings:
    d = LoggingSettings()
    level = section.string("level", d.level).strip().upper()
    if level not in _LOG_LEVELS:
        section.fail(
            "level",
            f"{_quote(level)} is not a log level (expected one of {', '.join(_LOG_LEVELS)})",
        )
    fmt = section.string("format", d.format, non_empty=True)
    try:
        logging.Formatter(fmt, validate=True)
    except ValueError:
        section.fail("format", 'is not a %-style logging format (e.g. "%(levelname)s %(message)s")')
    return LoggingSettings(level=level, format=fmt)


def _decks(section: _Section, base_dir: Path) -> DecksSettings:
    raw_paths = section.string_list("paths", _DEFAULT_DECK_PATHS)
    paths = []
    for position, text in enumerate(raw_paths, start=1):
        if not text.strip():
            section.fail("paths", f"item {position} is an empty string")
        paths.append(_resolve(section, "paths", Path(text), base_dir))
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

    def integer(self, key: str, default: int, low: int, high: int | None) -> int:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int):
            self._wrong_type(key, "an integer", value)
        if value < low or (high is not None and value > high):
            bounds = f"between {low} and {high}" if high is not None else f"at least {low}"
            self.fail(key, f"must be {bounds}, got {value}")
        return value

    def number(self, key: str, default: float, low: float, high: float) -> float:
        value = self.table.get(key, default)
        if isinstance(value, bool) or not isinstance(value, int | float):
            self._wrong_type(key, "a number", value)
        number = float(value)
        if not low <= number <= high:  # also rejects nan
            self.fail(key, f"must be between {low} and {high}, got {value}")
        return number

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


_BAD_URL: Final = 'is not a database URL (e.g. "sqlite+aiosqlite:///data/studybot.sqlite3")'
_URL_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.-]*://")


def _looks_like_url(url: str) -> bool:
    if not _URL_SCHEME.match(url.strip()):
        return False
    try:
        urlsplit(url)
    except ValueError:
        return False
    return True


def _url_secrets(url: str) -> list[str]:
    """Return the raw (still percent-encoded) password and password-like query values."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return []
    found = [parts.password] if parts.password else []
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        found.extend(v for k, v in pairs if k.lower() in _SECRET_QUERY_KEYS and v)
    return found


def _redact_url(url: str) -> str:
    """Mask the password in ``scheme://user:password@host/...`` and ``?password=``."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return _MASK
    result = url
    if parts.password is not None:
        # ``url`` is "<scheme>://<netloc>..."; the scheme may differ in case only.
        head = len(parts.scheme) + 3
        user, _, host = parts.netloc.rpartition("@")
        name = user.partition(":")[0]
        result = f"{url[:head]}{name}:{_MASK}@{host}{url[head + len(parts.netloc) :]}"
    if parts.query:
        pairs = parse_qsl(parts.query, keep_blank_values=True)
        if any(k.lower() in _SECRET_QUERY_KEYS for k, _ in pairs):
            masked = [(k, _MASK if k.lower() in _SECRET_QUERY_KEYS else v) for k, v in pairs]
            before, _, rest = result.partition("?")
            _, hash_sign, fragment = rest.partition("#")
            result = f"{before}?{urlencode(masked, safe='*')}{hash_sign}{fragment}"
    return result


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


# --------------------------------------------------------------------------- logging


class _SecretFilter(logging.Filter):
    """Replace known secret strings in a record's message, exception and stack."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        # Longest first, so a secret containing another is masked whole.
        self.secrets = tuple(sorted({s for s in secrets if s}, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, _MASK)
        return text

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # a broken call; let the handler report it
            return True
        redacted = self.redact(message)
        if redacted != message:
            record.msg = redacted
            record.args = None
        if record.exc_info and not record.exc_text:
            record.exc_text = logging.Formatter().formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = self.redact(record.exc_text)
        if record.stack_info:
            record.stack_info = self.redact(record.stack_info)
        return True


def install_secret_filter(secrets: Iterable[str]) -> None:
    """Mask ``secrets`` as ``***`` in everything the root logger's handlers emit.

    The filter goes on each handler the root logger has now (so records from child
    loggers are covered too); it replaces any filter installed by an earlier call.
    """
    secret_filter = _SecretFilter(secrets)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, _SecretFilter)]:
            handler.removeFilter(old)
        if secret_filter.secrets:
            handler.addFilter(secret_filter)


def configure_logging(settings: LoggingSettings, secrets: Iterable[str] = ()) -> None:
    """Set up root logging from ``settings`` and mask ``secrets`` in its output.

    Pass ``Settings.secret_values()`` as ``secrets``. Replaces existing root handlers.
    """
    logging.basicConfig(level=settings.level, format=settings.format, force=True)
    install_secret_filter(secrets)
