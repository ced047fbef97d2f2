"""Signing in to the browser workspace (``[web]``): pure functions, standard library only.

Two ways in, both checked here without any I/O:

- **Telegram Mini App**: Telegram hands the page an ``initData`` query string signed
  with a key derived from the bot's token. :func:`check_init_data` checks it exactly
  as Telegram documents ("Validating data received via the Mini App"): the
  data-check-string is every field but ``hash``, as ``key=value`` lines sorted by key
  and joined by ``"\\n"``; the secret key is ``HMAC-SHA256(key=b"WebAppData",
  msg=bot_token)``; the hash is the hex ``HMAC-SHA256(key=secret_key,
  msg=data_check_string)``. :func:`sign_init_data` does what Telegram does (tests).
- **Discord one-time links**: :func:`sign_link` makes a URL-safe token
  ``base64url(compact JSON) "." base64url(HMAC-SHA256)`` bound to one learner (by id
  and by platform account), one purpose and an expiry; :func:`read_link` checks the
  signature *before* it parses anything, then the expiry.

Neither check alone stops a replay: the caller records :attr:`TelegramLogin.once_key`
or ``digest(nonce)`` with :meth:`bot.core.ports.WebRepo.use_once` and refuses a key
already used (reason ``"replayed"``).

Every refusal is a :class:`LoginRefused` whose message is a sentence for the learner;
no message ever holds a token, a key, a hash or the input itself.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import re
import secrets
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Final, Literal
from urllib.parse import parse_qsl, urlencode

__all__ = [
    "CLOCK_SKEW",
    "MAX_ACCOUNT",
    "MAX_INIT_DATA",
    "MAX_LINK_TOKEN",
    "LinkClaims",
    "LoginRefused",
    "RefusalReason",
    "TelegramLogin",
    "check_init_data",
    "check_purpose",
    "digest",
    "link_key",
    "new_nonce",
    "read_link",
    "sign_init_data",
    "sign_link",
]

RefusalReason = Literal["forged", "expired", "replayed", "malformed"]

#: ``initData`` longer than this many characters is refused unread ("malformed").
MAX_INIT_DATA: Final = 8192
#: A link token longer than this many characters is refused unread ("malformed").
MAX_LINK_TOKEN: Final = 1024
#: The longest account (``<platform>:<platform user id>``) a link names.
MAX_ACCOUNT: Final = 96
#: How far in the future an ``auth_date`` may lie (clocks differ a little).
CLOCK_SKEW: Final = timedelta(seconds=60)

#: The constant Telegram keys the bot token's HMAC with.
_WEB_APP_DATA: Final = b"WebAppData"
#: What :func:`link_key` signs to derive the link key (changing it voids every link).
_LINK_KEY_LABEL: Final = b"studybot web link key v1"
_HEX64: Final = re.compile(r"[0-9a-f]{64}")
_NONCE: Final = re.compile(r"[A-Za-z0-9_-]{1,64}")
_PURPOSE: Final = re.compile(r"review|stats|challenge:[A-Za-z0-9_-]{1,64}")
#: Link payloads carry the expiry as whole microseconds since the epoch (exact).
_EPOCH: Final = datetime(1970, 1, 1, tzinfo=UTC)

_MESSAGES: Final[Mapping[RefusalReason, str]] = {
    "forged": "This sign-in could not be verified. Open the workspace again from the bot.",
    "expired": "This sign-in has expired. Open the workspace again from the bot.",
    "replayed": "This link was already used. Open the workspace again from the bot.",
    "malformed": "This sign-in could not be read. Open the workspace again from the bot.",
}


class LoginRefused(Exception):
    """A sign-in refused; ``str()`` is a friendly sentence for the learner.

    Attributes:
        reason: ``"forged"`` (the signature does not match), ``"expired"`` (too old,
            or dated in the future), ``"replayed"`` (used before: raised by the caller
            after :meth:`~bot.core.ports.WebRepo.use_once`), or ``"malformed"``
            (unreadable, too long, a field missing or of the wrong kind).
        message: the sentence shown to the learner; it never holds a secret.
    """

    def __init__(self, reason: RefusalReason) -> None:
        self.reason: RefusalReason = reason
        self.message = _MESSAGES[reason]
        super().__init__(self.message)

    def __repr__(self) -> str:
        return f"LoginRefused({self.reason!r})"


# --------------------------------------------------------------------------- Telegram


@dataclass(frozen=True, slots=True)
class TelegramLogin:
    """A Telegram user, as a checked ``initData`` names them.

    Attributes:
        user_id: the Telegram user id, as text (``learners.platform_user_id``).
        display_name: first and last name, else the username, else the id.
        auth_date: when Telegram signed the data (aware UTC).
        once_key: SHA-256 (hex) of the ``hash`` field: what
            :meth:`~bot.core.ports.WebRepo.use_once` records, so one ``initData``
            opens one session.
    """

    user_id: str
    display_name: str
    auth_date: datetime
    once_key: str


def _secret_key(bot_token: str) -> bytes:
    return hmac.new(_WEB_APP_DATA, bot_token.encode(), hashlib.sha256).digest()


def _data_check_string(fields: Mapping[str, str]) -> str:
    return "\n".join(f"{k}={fields[k]}" for k in sorted(fields) if k != "hash")


def _init_data_hash(bot_token: str, fields: Mapping[str, str]) -> str:
    data = _data_check_string(fields).encode()
    return hmac.new(_secret_key(bot_token), data, hashlib.sha256).hexdigest()


def sign_init_data(bot_token: str, fields: Mapping[str, str]) -> str:
    """Return an ``initData`` query string for ``fields``, signed as Telegram signs it.

    For tests and local trials: ``fields`` usually holds ``auth_date`` (unix seconds),
    ``user`` (JSON) and ``query_id``; a ``hash`` among them is replaced.
    """
    signed = {k: v for k, v in fields.items() if k != "hash"}
    return urlencode([*signed.items(), ("hash", _init_data_hash(bot_token, signed))])


def check_init_data(raw: str, bot_token: str, now: datetime, max_age: timedelta) -> TelegramLogin:
    """Check a Mini App's ``initData`` and return who signed in.

    Args:
        raw: the query string as the page received it (at most :data:`MAX_INIT_DATA`
            characters).
        bot_token: the Telegram bot token the data must be signed with.
        now: the current instant (aware).
        max_age: how old ``auth_date`` may be (``[web] init_data_max_age_seconds``);
            it may also lie up to :data:`CLOCK_SKEW` in the future.

    Raises:
        LoginRefused: ``"malformed"`` (too long, not a query string, a field twice,
            no ``hash``, no readable ``auth_date`` or ``user``), ``"forged"`` (the hash
            does not match: a field changed, another bot's token), ``"expired"``.
    """
    if len(raw) > MAX_INIT_DATA:
        raise LoginRefused("malformed")
    try:
        pairs = parse_qsl(raw, keep_blank_values=True, strict_parsing=True)
    except ValueError:
        raise LoginRefused("malformed") from None
    fields = dict(pairs)
    if len(fields) != len(pairs) or "hash" not in fields:
        raise LoginRefused("malformed")
    received = fields["hash"]
    if not _HEX64.fullmatch(received):
        raise LoginRefused("forged")
    if not hmac.compare_digest(_init_data_hash(bot_token, fields), received):
        raise LoginRefused("forged")
    # Signed by Telegram from here on; still checked, never trusted to be well formed.
    try:
        auth_date = datetime.fromtimestamp(int(fields["auth_date"]), UTC)
        user = json.loads(fields["user"])
    except (KeyError, ValueError, OverflowError, OSError):
        raise LoginRefused("malformed") from None
    if auth_date > now + CLOCK_SKEW or now - auth_date > max_age:
        raise LoginRefused("expired")
    if not isinstance(user, dict):
        raise LoginRefused("malformed")
    user_id = user.get("id")
    if isinstance(user_id, bool) or not isinstance(user_id, int):
        raise LoginRefused("malformed")
    return TelegramLogin(
        user_id=str(user_id),
        display_name=_display_name(user, str(user_id)),
        auth_date=auth_date,
        once_key=digest(received),
    )


def _display_name(user: Mapping[str, object], fallback: str) -> str:
    parts = [user.get("first_name"), user.get("last_name")]
    name = " ".join(p.strip() for p in parts if isinstance(p, str) and p.strip())
    if not name and isinstance(user.get("username"), str):
        name = str(user["username"]).strip()
    return name[:128] or fallback


# --------------------------------------------------------------------------- links


@dataclass(frozen=True, slots=True)
class LinkClaims:
    """What a one-time link grants.

    Attributes:
        learner_id: the learner the session will act as.
        purpose: what it opens (see :func:`check_purpose`).
        expires_at: when it stops working (aware; kept to the microsecond).
        nonce: random, unique per link (:func:`new_nonce`); ``digest(nonce)`` is what
            :meth:`~bot.core.ports.WebRepo.use_once` records.
        account: the learner's ``<platform>:<platform user id>`` (1 to
            :data:`MAX_ACCOUNT` characters) when the link was made: the caller refuses
            the link unless ``learner_id`` still names that account (a forgotten
            learner's id may be given to a new one: SQLite reuses the largest id).
    """

    learner_id: int
    purpose: str
    expires_at: datetime
    nonce: str
    account: str


def _b64encode(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64decode(text: str) -> bytes:
    """Strict base64url without padding: any other character is a ``binascii.Error``."""
    return base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_", validate=True)


def _mac(key: bytes, payload: str) -> bytes:
    return hmac.new(key, payload.encode("ascii"), hashlib.sha256).digest()


def sign_link(key: bytes, claims: LinkClaims) -> str:
    """Return the URL-safe token for ``claims``, signed with ``key`` (:func:`link_key`).

    Raises:
        ValueError: ``claims`` that :func:`read_link` would refuse (a naive expiry, a
            bad purpose or nonce, a learner id that is not positive).
    """
    if claims.expires_at.tzinfo is None:
        raise ValueError("expires_at must be aware")
    check_purpose(claims.purpose)
    if not _NONCE.fullmatch(claims.nonce):
        raise ValueError("a nonce is 1-64 characters from A-Z, a-z, 0-9, _ and -")
    if claims.learner_id <= 0:
        raise ValueError("learner_id must be positive")
    if not 0 < len(claims.account) <= MAX_ACCOUNT:
        raise ValueError(f"an account is 1-{MAX_ACCOUNT} characters")
    micros = (claims.expires_at - _EPOCH) // timedelta(microseconds=1)
    body = {
        "l": claims.learner_id,
        "a": claims.account,
        "p": claims.purpose,
        "e": micros,
        "n": claims.nonce,
    }
    payload = _b64encode(json.dumps(body, separators=(",", ":")).encode())
    return f"{payload}.{_b64encode(_mac(key, payload))}"


def read_link(key: bytes, token: str, now: datetime) -> LinkClaims:
    """Check a link token made by :func:`sign_link` and return its claims.

    The signature is checked before the payload is decoded; the token is at most
    :data:`MAX_LINK_TOKEN` characters.

    Raises:
        LoginRefused: ``"malformed"`` (too long, not two base64url parts, an unreadable
            payload), ``"forged"`` (signed with another key, or changed), ``"expired"``
            (``expires_at`` is not after ``now``).
    """
    if len(token) > MAX_LINK_TOKEN or not token.isascii():
        raise LoginRefused("malformed")
    payload, dot, signature = token.partition(".")
    if not dot or not payload or not signature or "." in signature:
        raise LoginRefused("malformed")
    try:
        received = _b64decode(signature)
    except (binascii.Error, ValueError):
        raise LoginRefused("malformed") from None
    if not hmac.compare_digest(_mac(key, payload), received):
        raise LoginRefused("forged")
    try:
        body = json.loads(_b64decode(payload))
        learner_id, purpose = body["l"], body["p"]
        micros, nonce, account = body["e"], body["n"], body["a"]
        if (
            isinstance(learner_id, bool)
            or not isinstance(learner_id, int)
            or learner_id <= 0
            or isinstance(micros, bool)
            or not isinstance(micros, int)
            or not isinstance(purpose, str)
            or not isinstance(nonce, str)
            or not _NONCE.fullmatch(nonce)
            or not isinstance(account, str)
            or not 0 < len(account) <= MAX_ACCOUNT
        ):
            raise ValueError("a field of the wrong kind")
        expires_at = _EPOCH + timedelta(microseconds=micros)
        claims = LinkClaims(learner_id, check_purpose(purpose), expires_at, nonce, account)
    except (binascii.Error, ValueError, TypeError, KeyError, OverflowError):
        raise LoginRefused("malformed") from None
    if claims.expires_at <= now:
        raise LoginRefused("expired")
    return claims


def link_key(secret: str | None, discord_token: str | None) -> bytes:
    """The key links are signed with: HMAC-SHA256 of a fixed label keyed by ``[web]
    secret`` when set, else by the Discord token (changing either voids every link).

    Raises:
        ValueError: neither is set (empty counts as unset).
    """
    material = secret or discord_token
    if not material:
        raise ValueError("[web] secret or a Discord token is needed to sign links")
    return hmac.new(material.encode(), _LINK_KEY_LABEL, hashlib.sha256).digest()


def new_nonce() -> str:
    """A fresh random nonce: 22 URL-safe characters (128 bits)."""
    return secrets.token_urlsafe(16)


def digest(value: str) -> str:
    """SHA-256 of ``value`` (UTF-8), as 64 lowercase hex digits: what is stored in place
    of a cookie, a nonce or an ``initData`` hash."""
    return hashlib.sha256(value.encode()).hexdigest()


def check_purpose(purpose: str) -> str:
    """Return ``purpose`` if the workspace can open it: ``review``, ``stats`` or
    ``challenge:<run token>`` (the token 1-64 characters from A-Z, a-z, 0-9, _ and -).

    Raises:
        ValueError: anything else.
    """
    if not _PURPOSE.fullmatch(purpose):
        raise ValueError("a purpose is review, stats or challenge:<run token>")
    return purpose
