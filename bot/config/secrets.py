"""Keeping tokens and passwords out of output: :class:`Secret`, URL redaction, a log filter.

A token is held in a :class:`Secret`, which never shows itself. A database URL
is kept as text (SQLAlchemy needs it) and shown through :func:`redact_url`.
:func:`install_secret_filter` masks every known secret string in what the root
logger's handlers emit, including exception tracebacks and stacks, and every
secret it recognises by its shape (:data:`SECRET_PATTERNS`): the per-interaction
tokens discord.py's debug lines show in URLs (``/interactions/<id>/<token>``,
``/webhooks/<app id>/<token>``) and gateway payloads (``'token': ...``), bot
tokens of either platform, whoever configured them, and the browser workspace's
one-time links (``#link=<token>``). A secret is masked also as a URL
carries it, percent-encoded: python-telegram-bot downloads a file a person sent from
``<base_file_url><token>/<path>`` with the token's ``:`` written ``%3A``, and httpx
logs that URL at DEBUG.
"""

from __future__ import annotations

import hmac
import logging
import re
from collections.abc import Iterable
from typing import Final
from urllib.parse import parse_qsl, quote, urlencode, urlsplit

__all__ = [
    "SECRET_PATTERNS",
    "Secret",
    "install_secret_filter",
    "redact",
    "redact_url",
    "url_secrets",
]

_MASK: Final = "***"
#: Secrets known by their shape: (pattern, replacement). Each keeps what says where the
#: secret was (the path, the key) and masks the secret itself.
SECRET_PATTERNS: Final = (
    # An interaction's token, or a webhook's, in a Discord API path.
    (re.compile(r"(/(?:interactions|webhooks)/\d+/)[^/\s?#'\"<>]+"), rf"\1{_MASK}"),
    # A token field of a payload, as a Python dict or JSON ('token': '...', "token":"...").
    (
        re.compile(r"""(['"](?:token|secret_token|access_token)['"]\s*:\s*['"])[^'"]+"""),
        rf"\1{_MASK}",
    ),
    # A Telegram bot token (in a Bot API URL, or anywhere), its colon percent-encoded too
    # (in a file download's URL).
    (re.compile(r"(?<![0-9])([0-9]{5,}(?::|%3[Aa]))[A-Za-z0-9_-]{30,}"), rf"\1{_MASK}"),
    # A Discord bot token (three base64url parts), or an Authorization header.
    (re.compile(r"(?<![\w-])[\w-]{20,}\.[\w-]{5,8}\.[\w-]{25,}"), _MASK),
    (re.compile(r"(Authorization['\"]?\s*[:=]\s*['\"]?(?:Bot|Bearer) )[^'\"\s,]+"), rf"\1{_MASK}"),
    # A one-time link to the browser workspace (``.../app?open=...#link=<token>``): it
    # signs its holder in, and discord.py's debug line of the message carrying it shows it.
    (re.compile(r"(#link=)[A-Za-z0-9_.-]+"), rf"\1{_MASK}"),
    # Telegram's webhook secret header.
    (
        re.compile(r"(X-Telegram-Bot-Api-Secret-Token['\"]?\s*[:=]\s*['\"]?)[^'\"\s,]+", re.I),
        rf"\1{_MASK}",
    ),
)
_SECRET_QUERY_KEYS: Final = frozenset({"password", "passwd", "pass", "pwd"})


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


def url_secrets(url: str) -> list[str]:
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


def redact_url(url: str) -> str:
    """Mask the password in ``scheme://user:password@host/...`` and ``?password=``.

    A URL that cannot be parsed is masked whole.
    """
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


class _SecretFilter(logging.Filter):
    """Replace known secret strings in a record's message, exception and stack."""

    def __init__(self, secrets: Iterable[str]) -> None:
        super().__init__()
        known = {s for s in secrets if s}
        # As a URL's path or query carries them, too (percent-encoded).
        known |= {quote(s, safe=safe) for s in known for safe in ("", "/")}
        # Longest first, so a secret containing another is masked whole.
        self.secrets = tuple(sorted(known, key=len, reverse=True))

    def redact(self, text: str) -> str:
        for secret in self.secrets:
            text = text.replace(secret, _MASK)
        for pattern, replacement in SECRET_PATTERNS:
            text = pattern.sub(replacement, text)
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


def redact(text: str, secrets: Iterable[str]) -> str:
    """``text`` with each of ``secrets`` masked as ``***`` (for output that is not a log)."""
    return _SecretFilter(secrets).redact(text)


def install_secret_filter(secrets: Iterable[str]) -> None:
    """Mask ``secrets``, and the secrets known by their shape (:data:`SECRET_PATTERNS`),
    as ``***`` in everything the root logger's handlers emit.

    The filter goes on each handler the root logger has now (so records from child
    loggers are covered too); it replaces any filter installed by an earlier call.
    """
    secret_filter = _SecretFilter(secrets)
    for handler in logging.getLogger().handlers:
        for old in [f for f in handler.filters if isinstance(f, _SecretFilter)]:
            handler.removeFilter(old)
        handler.addFilter(secret_filter)
