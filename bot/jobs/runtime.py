"""The running app, for persistent job targets.

APScheduler stores a job as a module-level function name plus plain
arguments (they are pickled into the database), so a job target cannot
close over the app: it looks it up here. The composition root sets it when
the scheduler starts and clears it when it stops.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from bot.app import App

_app: App | None = None


def set_app(app: App | None) -> None:
    """Make ``app`` the one persistent jobs run against (None when stopping)."""
    global _app
    _app = app


def current_app() -> App:
    """The running app.

    Raises:
        RuntimeError: when no app is running (a job fired outside ``studybot run``).
    """
    if _app is None:
        raise RuntimeError("no running app for a scheduled job")
    return _app
