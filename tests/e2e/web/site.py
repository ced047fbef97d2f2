"""The browser workspace as the browser tests meet it: the real app, its web server, and
the ways in (Mini App ``initData``, Discord one-time links).

:class:`Site` is :func:`bot.app.build_app` on a new SQLite file with the shipped decks
(the system clock: the browser keeps the session cookie by real time) and the
:class:`~bot.platforms.web.server.WebServer` on 127.0.0.1 with ``[web]`` enabled.
Chromium keeps the ``__Host-sb`` cookie (``Secure; SameSite=None; Partitioned``) on
``http://127.0.0.1``: it counts loopback as a secure origin, so no https is needed.
"""

from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qsl, quote, urlencode

from sqlalchemy import ColumnElement, Connection, select

from bot.app import App
from bot.config import Secret, Settings
from bot.core.learners import Who
from bot.core.webauth import sign_init_data
from bot.core.workspace import WorkspaceService
from bot.storage.tables import challenge_runs, challenge_submissions, learners, review_logs
from tests.e2e.telegram.fake import TOKEN, TgUser

#: Telegram learners. Their Mini App logins are signed with the test bot token.
ANA = TgUser(101, "Ana", "ana")
BEN = TgUser(102, "Ben", "ben")
#: A Discord learner: they come in through one-time links.
DEE = Who("discord", "555", "Dee")
#: The group the Telegram runs are started in, and the Discord channel.
GROUP = "-1001234567890"
CHANNEL = "987654321"
#: The challenge every test runs: a derivation with a typeset prompt and reference, four
#: rubric rows and five checkpoints.
CHALLENGE = "refl-scaled-dot-product"
#: Signs Discord's one-time links in these tests.
LINK_SECRET = "web-test-link-secret-never-shown"
#: Telegram's theme for a dark client, as it appends it to the Mini App's address.
THEME = {
    "bg_color": "#17212b",
    "text_color": "#f5f5f5",
    "hint_color": "#708499",
    "link_color": "#6ab3f3",
    "button_color": "#5288c1",
    "button_text_color": "#ffffff",
    "secondary_bg_color": "#232e3c",
}

_queries = itertools.count(1)


def who(user: TgUser) -> Who:
    """The core's name for a Telegram account, as the adapter and a Mini App login give it."""
    return Who("telegram", str(user.id), user.first_name)


def init_data(user: TgUser, *, age: timedelta = timedelta(0), token: str = TOKEN) -> str:
    """A Mini App's ``initData`` for ``user``, signed with ``token`` as Telegram signs it,
    made ``age`` ago. Each call gives a new one (its own ``query_id``)."""
    auth_date = int((datetime.now(UTC) - age).timestamp())
    fields = {
        "query_id": f"AAHdF6IQAAAAAN0XohD{next(_queries):06d}",
        "user": json.dumps(
            {
                "id": user.id,
                "first_name": user.first_name,
                "username": user.username,
                "language_code": "en",
                "allows_write_to_pm": True,
            },
            separators=(",", ":"),
        ),
        "auth_date": str(auth_date),
        "chat_instance": "-3788475317572404878",
        "chat_type": "private",
    }
    return sign_init_data(token, fields)


def forged(raw: str, user: TgUser) -> str:
    """``raw`` with its ``user`` changed to ``user`` (the hash left as it was): someone
    signing in as another learner."""
    fields = dict(parse_qsl(raw, keep_blank_values=True))
    account = json.loads(fields["user"])
    account.update(id=user.id, first_name=user.first_name, username=user.username)
    fields["user"] = json.dumps(account, separators=(",", ":"))
    return urlencode(fields, quote_via=quote)


def mini_app_fragment(raw: str) -> str:
    """The fragment Telegram appends to a Mini App's address: ``initData`` and the theme."""
    return urlencode(
        {
            "tgWebAppData": raw,
            "tgWebAppVersion": "9.1",
            "tgWebAppPlatform": "tdesktop",
            "tgWebAppThemeParams": json.dumps(THEME, separators=(",", ":")),
        },
        quote_via=quote,
    )


@dataclass
class Site:
    """The app and its web server, at :attr:`base` (``http://127.0.0.1:<port>``)."""

    app: App
    #: ``app.workspace``, known to be there (``[web]`` is on).
    workspace: WorkspaceService
    base: str
    #: Run tokens started by :meth:`start_run`, by chat.
    runs: dict[str, str] = field(default_factory=dict)

    def page(self, purpose: str, fragment: str = "") -> str:
        """The address of the workspace page opening ``purpose`` (with ``#fragment``)."""
        url = f"{self.base}/app?open={quote(purpose, safe=':')}"
        return f"{url}#{fragment}" if fragment else url

    def mini_app(self, purpose: str, raw: str) -> str:
        """The address Telegram opens for a ``web_app`` button with this ``initData``."""
        return self.page(purpose, mini_app_fragment(raw))

    async def start_run(
        self, starter: Who, chat: str, members: list[Who], *, minutes: int = 15
    ) -> str:
        """Start :data:`CHALLENGE` in ``chat`` (``starter`` is an admin there); every one
        of ``members`` joins it. Returns the run's token."""
        await self.app.challenges.start(starter, chat, CHALLENGE, minutes, is_admin=True)
        run = await self.app.db.run(lambda tx: tx.challenges.open_run(starter.platform, chat))
        assert run is not None, f"no run open in {chat}"
        for member in members:
            await self.app.challenges.join(member, run.token)
        self.runs[chat] = run.token
        return run.token

    async def reveal(self, starter: Who, chat: str) -> None:
        """Reveal the run open in ``chat`` early (``starter`` is an admin there)."""
        await self.app.challenges.reveal(starter, chat, is_admin=True)

    async def rows(self, statement: Any) -> list[tuple[Any, ...]]:
        """Run a SELECT on the app's database; its rows."""

        def work(conn: Connection) -> list[tuple[Any, ...]]:
            return [tuple(row) for row in conn.execute(statement)]

        return await self.app.db.run_connection(work)

    async def submitted(self, member: Who, run_token: str) -> list[tuple[str | None, bool]]:
        """(text, submitted) of the member's submission to the run, as the database has it."""
        return await self._submission(member, run_token, challenge_submissions.c.text)

    async def photos(self, member: Who, run_token: str) -> list[tuple[str | None, bool]]:
        """(photo reference, submitted) of the member's submission to the run."""
        return await self._submission(member, run_token, challenge_submissions.c.photo_ref)

    async def _submission(
        self, member: Who, run_token: str, column: ColumnElement[str | None]
    ) -> list[tuple[str | None, bool]]:
        statement = (
            select(column, challenge_submissions.c.submitted_at)
            .join(learners, learners.c.id == challenge_submissions.c.learner_id)
            .join(challenge_runs, challenge_runs.c.id == challenge_submissions.c.run_id)
            .where(
                learners.c.platform == member.platform,
                learners.c.platform_user_id == member.user_id,
                challenge_runs.c.token == run_token,
            )
        )
        return [(value, at is not None) for value, at in await self.rows(statement)]

    async def reviews(self, member: Who) -> list[tuple[str, int, str]]:
        """(card, rating, source) of every review in the member's log, oldest first."""
        statement = (
            select(review_logs.c.card_id, review_logs.c.rating, review_logs.c.source)
            .join(learners, learners.c.id == review_logs.c.learner_id)
            .where(
                learners.c.platform == member.platform,
                learners.c.platform_user_id == member.user_id,
            )
            .order_by(review_logs.c.id)
        )
        return [(card, rating, source) for card, rating, source in await self.rows(statement)]


def web_settings(app_settings: Settings, port: int) -> Settings:
    """``app_settings`` with ``[web]`` on at 127.0.0.1:``port`` (its public address the
    same), the test bot token, :data:`LINK_SECRET`, and photo answers of up to 1 MB."""
    web = replace(
        app_settings.web,
        enabled=True,
        host="127.0.0.1",
        port=port,
        public_url=f"http://127.0.0.1:{port}",
        secret=Secret(LINK_SECRET),
    )
    telegram = replace(app_settings.telegram, token=Secret(TOKEN))
    # Photo answers of up to 1 MB: a file over the limit is quick to send.
    quiz = replace(app_settings.quiz, challenge_photo_mb=1)
    return replace(app_settings, web=web, telegram=telegram, quiz=quiz)
