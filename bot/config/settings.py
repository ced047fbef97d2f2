"""The frozen, typed settings the bot runs with, one class per config file section.

Built by :func:`bot.config.loading.load_settings`; nothing here reads a file or
the environment. ``[study]`` is the core's own :class:`LearnerSettings`: the
defaults every new learner starts with.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote

from bot.config.secrets import Secret, redact_url, url_secrets
from bot.core.model import LearnerSettings

__all__ = [
    "DISCORD_MODES",
    "TELEGRAM_MODES",
    "DatabaseSettings",
    "DecksSettings",
    "DiscordSettings",
    "FittingSettings",
    "LoggingSettings",
    "OpsSettings",
    "PushSettings",
    "QuizSettings",
    "RenderSettings",
    "Settings",
    "TelegramSettings",
    "WebSettings",
]


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
        return redact_url(self.url)

    def password(self) -> str | None:
        """Return the (decoded) password carried by :attr:`url`, if any."""
        secrets = url_secrets(self.url)
        return unquote(secrets[0]) if secrets else None

    def __repr__(self) -> str:
        return (
            f"DatabaseSettings(url={self.safe_url()!r}, auto_upgrade={self.auto_upgrade!r}, "
            f"echo={self.echo!r})"
        )


#: How a process takes Telegram updates: long polling (one process per token), a
#: webhook (any number of processes behind one URL), or not at all (it only sends).
TELEGRAM_MODES = ("polling", "webhook", "send_only")
#: Whether a process connects to Discord's gateway (commands, buttons) or only sends.
DISCORD_MODES = ("gateway", "send_only")


@dataclass(frozen=True, slots=True)
class TelegramSettings:
    """``[telegram]``: the bot token and the Bot API endpoints."""

    token: Secret | None = None
    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    #: One of :data:`TELEGRAM_MODES`: "polling" (the default), "webhook", or "send_only"
    #: (pushes and announcements go out; no updates come in).
    mode: str = "polling"
    #: Public HTTPS URL Telegram posts updates to (webhook mode).
    webhook_url: str = ""
    #: Address and port the webhook server listens on (behind your reverse proxy).
    webhook_listen: str = "127.0.0.1"
    webhook_port: int = 8443
    #: Secret Telegram sends in X-Telegram-Bot-Api-Secret-Token (webhook mode).
    webhook_secret: Secret | None = None
    #: Show a member's own quiz answer, challenge prompts and self-assessment in the group,
    #: to them alone (Bot API 10.2 ephemeral messages), when they have no private chat
    #: with the bot or the group is where they acted. Turn off for a self-hosted Bot API
    #: server older than 10.2: it would post the first one to the whole group (the bot
    #: deletes it at once and stops trying until it restarts).
    ephemeral_messages: bool = True


@dataclass(frozen=True, slots=True)
class DiscordSettings:
    """``[discord]``: the bot token, whether to take events, and sharding."""

    token: Secret | None = None
    #: One of :data:`DISCORD_MODES`: "gateway" (the default) takes commands and button
    #: presses; "send_only" only sends pushes and announcements, over HTTP.
    mode: str = "gateway"
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
    """``[quiz]``: group quizzes, and the photo answers of group challenges."""

    #: How long a /quiz round stays open before the answer is posted.
    window_minutes: int = 10
    #: A challenge's photo answer is kept up to this many megabytes (refused above).
    challenge_photo_mb: int = 8
    #: The photo answers kept for one group's challenges add up to at most this.
    challenge_photos_per_group_mb: int = 100
    #: A challenge's photo answers are dropped this many days after its reveal.
    challenge_photo_days: int = 30


@dataclass(frozen=True, slots=True)
class DecksSettings:
    """``[decks]``: where deck files are found and which decks new learners get."""

    #: Every file or folder decks are read from: the shipped decks' folder first (unless
    #: ``[decks] shipped = false``), then ``[decks] paths``.
    paths: tuple[Path, ...]
    #: Deck ids a new learner is enrolled in; empty means all decks.
    default: tuple[str, ...] = ()


#: ``[logging] format`` that writes one JSON object per line instead of text.
JSON_LOGS = "json"


@dataclass(frozen=True, slots=True)
class LoggingSettings:
    """``[logging]``: level, and a ``%``-style format for :func:`logging.basicConfig`
    or ``"json"`` (:data:`JSON_LOGS`) for one JSON object per line."""

    level: str = "INFO"
    format: str = "%(asctime)s %(levelname)s %(name)s: %(message)s"

    @property
    def json(self) -> bool:
        """Whether each record is written as one JSON object per line."""
        return self.format == JSON_LOGS


@dataclass(frozen=True, slots=True)
class OpsSettings:
    """``[ops]``: the HTTP endpoint for operators (``/healthz``, ``/metrics``); off by default."""

    enabled: bool = False
    #: The address it listens on; loopback unless a scraper elsewhere must reach it.
    host: str = "127.0.0.1"
    port: int = 9464


@dataclass(frozen=True, slots=True, repr=False)
class WebSettings:
    """``[web]``: the browser workspace (a Telegram Mini App, one-time links from
    Discord), served by ``studybot run`` itself; off by default.

    When enabled, ``public_url`` is required: the https address the learners' browsers
    reach (a reverse proxy in front of ``host``:``port``); plain http is accepted only
    for a loopback address (tests, trying it out).
    """

    enabled: bool = False
    #: The address the server listens on (behind a reverse proxy: loopback).
    host: str = "127.0.0.1"
    port: int = 8080
    #: The address learners open, without a trailing slash (``https://study.example.org``).
    public_url: str = ""
    #: Signs Discord's one-time links (at least 16 characters; ``STUDYBOT_WEB_SECRET``
    #: overrides it); unset, a key derived from the Discord token does.
    secret: Secret | None = None
    #: A Mini App login whose ``auth_date`` is older than this is refused (30-86400).
    init_data_max_age_seconds: int = 600
    #: A Discord link works once, within this many minutes of being made (1-1440).
    link_minutes: int = 15
    #: A browser session lasts this many hours (1-720).
    session_hours: int = 12
    #: Requests one learner may make per minute (beyond, 429 with Retry-After; 10-10000).
    requests_per_minute: int = 120

    def __repr__(self) -> str:
        return (
            f"WebSettings(enabled={self.enabled!r}, host={self.host!r}, port={self.port!r}, "
            f"public_url={self.public_url!r}, secret={'***' if self.secret else None}, "
            f"init_data_max_age_seconds={self.init_data_max_age_seconds!r}, "
            f"link_minutes={self.link_minutes!r}, session_hours={self.session_hours!r}, "
            f"requests_per_minute={self.requests_per_minute!r})"
        )


@dataclass(frozen=True, slots=True)
class RenderSettings:
    """``[render]``: the process that draws card images and charts."""

    #: Seconds the render worker stays up without a job; the next cold render starts
    #: it again (an image in the disk cache never needs it).
    worker_idle_seconds: float = 300.0


@dataclass(frozen=True, slots=True)
class FittingSettings:
    """``[fitting]``: the timer that fits each learner's memory model to their reviews."""

    enabled: bool = True
    #: How often the timer looks for learners whose model is due a look.
    tick_seconds: int = 60
    #: Learners one tick looks at (a count each; the few whose log calls for a fit
    #: are fitted in a thread, one after another).
    learners_per_tick: int = 100
    #: After a look, hours until the learner's model is looked at again.
    recheck_hours: int = 24


@dataclass(frozen=True, slots=True)
class Settings:
    """Everything the bot is configured with; built once by ``load_settings``."""

    data_dir: Path
    database: DatabaseSettings
    telegram: TelegramSettings
    discord: DiscordSettings
    #: ``[study]``: the settings a new learner starts with.
    study: LearnerSettings
    logging: LoggingSettings
    decks: DecksSettings
    #: The config file these settings came from, or None for defaults only.
    source: Path | None = None
    quiz: QuizSettings = QuizSettings()
    push: PushSettings = PushSettings()
    ops: OpsSettings = OpsSettings()
    render: RenderSettings = RenderSettings()
    fitting: FittingSettings = FittingSettings()
    web: WebSettings = WebSettings()

    def secret_values(self) -> tuple[str, ...]:
        """Return every secret string (tokens, database password, the web secret) for log
        redaction."""
        secrets = (
            self.telegram.token,
            self.discord.token,
            self.telegram.webhook_secret,
            self.web.secret,
        )
        values = [t.reveal() for t in secrets if t]
        for raw in url_secrets(self.database.url):
            values.extend({raw, unquote(raw)})
        return tuple(v for v in values if v)
