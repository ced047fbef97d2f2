"""Root logging set up from ``[logging]``, with secrets masked in everything it emits.

Its own module because it needs both the settings types and the secret filter,
while :mod:`bot.config.settings` itself depends on :mod:`bot.config.secrets`.
Records are written as text in the configured ``%``-style format, or, with
``format = "json"``, as one JSON object per line (:class:`JsonFormatter`).

Below DEBUG, the libraries keep to what an operator needs: the chatty ones
(:data:`QUIET_LIBRARIES`) log only warnings and errors, and the retry loops of
the chat libraries (:data:`ONE_LINE_LOGGERS`) log one line per failed attempt
instead of a traceback. At DEBUG every library says everything.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Final

from bot.config.secrets import install_secret_filter
from bot.config.settings import LoggingSettings

__all__ = ["ONE_LINE_LOGGERS", "QUIET_LIBRARIES", "JsonFormatter", "configure_logging"]


class JsonFormatter(logging.Formatter):
    """One JSON object per record, on one line.

    Keys: ``time`` (UTC, ISO 8601 with milliseconds), ``level``, ``logger``,
    ``message``, and ``exception`` (the traceback as a string) or ``stack``
    when the record has one. The secret filter has masked the record before
    it gets here, so what is masked in text logs is masked here too.
    """

    def format(self, record: logging.LogRecord) -> str:
        """Return the record as one line of JSON."""
        entry = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if record.exc_info and not record.exc_text:
            record.exc_text = self.formatException(record.exc_info)
        if record.exc_text:
            entry["exception"] = record.exc_text
        if record.stack_info:
            entry["stack"] = self.formatStack(record.stack_info)
        return json.dumps(entry, ensure_ascii=False)


#: Libraries whose INFO lines are noise at start and on every tick or request: alembic's
#: plugin and context lines, APScheduler's jobs, one line per HTTP request of the Bot API.
QUIET_LIBRARIES: Final = ("alembic", "apscheduler", "httpx", "telegram")
#: Loggers of retry loops that log a traceback each time they try again: discord.py's
#: gateway reconnects, python-telegram-bot's network loop.
ONE_LINE_LOGGERS: Final = ("discord.client", "discord.shard", "telegram.ext._utils.networkloop")


def configure_logging(settings: LoggingSettings, secrets: Iterable[str] = ()) -> None:
    """Set up root logging from ``settings`` and mask ``secrets`` in its output.

    Pass ``Settings.secret_values()`` as ``secrets``. Replaces existing root handlers,
    and what an earlier call set on the library loggers.
    """
    if settings.json:
        handler = logging.StreamHandler()
        handler.setFormatter(JsonFormatter())
        logging.basicConfig(level=settings.level, handlers=[handler], force=True)
    else:
        logging.basicConfig(level=settings.level, format=settings.format, force=True)
    install_secret_filter(secrets)
    level = logging.getLevelNamesMapping()[settings.level]
    debug = level <= logging.DEBUG
    quiet = max(logging.WARNING, level)
    for name in QUIET_LIBRARIES:
        logging.getLogger(name).setLevel(logging.NOTSET if debug else quiet)
    for name in ONE_LINE_LOGGERS:
        logger = logging.getLogger(name)
        for old in [f for f in logger.filters if isinstance(f, _OneLine)]:
            logger.removeFilter(old)
        if not debug:
            logger.addFilter(_OneLine())


class _OneLine(logging.Filter):
    """Puts a record's exception on its line, as ``: Type: message``, without the traceback."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and record.exc_info[1] is not None:
            exc = record.exc_info[1]
            detail = " ".join(str(exc).split())
            record.msg = f"{record.getMessage()}: {type(exc).__name__}" + (
                f": {detail}" if detail else ""
            )
            record.args = None
            record.exc_info = None
            record.exc_text = None
        return True
