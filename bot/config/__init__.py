"""Configuration: one TOML file plus a few environment variables, read once at start.

The package's public names, so callers write ``from bot.config import ...``:

- :mod:`bot.config.settings`: the frozen, typed settings (:class:`Settings` and
  one class per section; ``[study]`` is the core's ``LearnerSettings``).
- :mod:`bot.config.loading`: :func:`load_settings`, :func:`default_settings`,
  :class:`ConfigError` and the ``STUDYBOT_*`` environment variable names.
- :mod:`bot.config.secrets`: :class:`Secret` and :func:`install_secret_filter`.
- :mod:`bot.config.logs`: :func:`configure_logging`.
"""

from bot.config.loading import (
    ENV_DATA_DIR,
    ENV_DATABASE_URL,
    ENV_DISCORD_TOKEN,
    ENV_TELEGRAM_TOKEN,
    ENV_TELEGRAM_WEBHOOK_SECRET,
    ENV_WEB_SECRET,
    ConfigError,
    default_settings,
    load_settings,
)
from bot.config.logs import configure_logging
from bot.config.secrets import Secret, install_secret_filter, redact
from bot.config.settings import (
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

__all__ = [
    "ENV_DATABASE_URL",
    "ENV_DATA_DIR",
    "ENV_DISCORD_TOKEN",
    "ENV_TELEGRAM_TOKEN",
    "ENV_TELEGRAM_WEBHOOK_SECRET",
    "ENV_WEB_SECRET",
    "ConfigError",
    "DatabaseSettings",
    "DecksSettings",
    "DiscordSettings",
    "FittingSettings",
    "LoggingSettings",
    "OpsSettings",
    "PushSettings",
    "QuizSettings",
    "RenderSettings",
    "Secret",
    "Settings",
    "TelegramSettings",
    "WebSettings",
    "configure_logging",
    "default_settings",
    "install_secret_filter",
    "load_settings",
    "redact",
]
