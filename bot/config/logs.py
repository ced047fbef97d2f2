"""Root logging set up from ``[logging]``, with secrets masked in everything it emits.

Its own module because it needs both the settings types and the secret filter,
while :mod:`bot.config.settings` itself depends on :mod:`bot.config.secrets`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable

from bot.config.secrets import install_secret_filter
from bot.config.settings import LoggingSettings

__all__ = ["configure_logging"]


def configure_logging(settings: LoggingSettings, secrets: Iterable[str] = ()) -> None:
    """Set up root logging from ``settings`` and mask ``secrets`` in its output.

    Pass ``Settings.secret_values()`` as ``secrets``. Replaces existing root handlers.
    """
    logging.basicConfig(level=settings.level, format=settings.format, force=True)
    install_secret_filter(secrets)
