"""The Bot API's HTTP layer: python-telegram-bot's requests sent with aiohttp.

python-telegram-bot sends through httpx by default. Under load that client costs
the bot more CPU than everything else a button tap does: 1.9 ms per request on a
2-core VM (its pool, anyio and h11, all in Python), against 0.17 ms with aiohttp
(C-accelerated parser, no extra layers), a local server included in both; the
bot's CPU per review fell from 18-23 ms to 10-13 ms (benchmarks/README.md,
``e2e_load.py``). aiohttp is already there
(discord.py and the metrics server use it), so :class:`AiohttpRequest` implements
PTB's :class:`~telegram.request.BaseRequest` with one long-lived
:class:`aiohttp.ClientSession`, keeping PTB's defaults and errors:

* timeouts: read 5 s, connect 5 s, waiting for a free connection 1 s (aiohttp has
  one limit for waiting and connecting together: their sum); a timeout raises
  :class:`~telegram.error.TimedOut`, any other failure
  :class:`~telegram.error.NetworkError` naming aiohttp's error. aiohttp has no write
  timeout of its own: a request's write time counts in its read timeout.
* parameters go form-encoded, or as multipart with the files of an upload, as PTB
  sends them through httpx; the answer's status and bytes go back to PTB unchanged.
"""

from __future__ import annotations

import asyncio
import re
from typing import Final
from urllib.parse import urlencode

import aiohttp
from telegram._utils.defaultvalue import DefaultValue
from telegram._utils.types import ODVInput
from telegram.error import NetworkError, TimedOut
from telegram.request import BaseRequest, RequestData

__all__ = ["MEDIA_WRITE_TIMEOUT", "AiohttpRequest"]

_URL_PATH: Final = re.compile(r"(\w+://[^/\s'\"()]+)/[^\s'\"()]*")
#: A request that found no free connection, or could not connect, in time (aiohttp tells
#: the two apart only by its one ``connect`` limit, which covers both).
CONNECT_TIMEOUT_MESSAGE: Final = (
    "Timed out waiting for a free connection or connecting; the request was not sent"
)


#: How long sending a file may take when the caller set no write timeout (PTB's
#: ``media_write_timeout`` default).
MEDIA_WRITE_TIMEOUT: Final = 20.0


class AiohttpRequest(BaseRequest):
    """PTB's HTTP layer over one :class:`aiohttp.ClientSession` (see the module docstring).

    Args:
        connections: most connections open at once (PTB's default pool: 256; its
            getUpdates pool: 1).
        read_timeout, connect_timeout, pool_timeout: the defaults of a request that
            names none, in seconds (None: no limit).
    """

    def __init__(
        self,
        *,
        connections: int = 256,
        read_timeout: float | None = 5.0,
        connect_timeout: float | None = 5.0,
        pool_timeout: float | None = 1.0,
    ) -> None:
        self._connections = connections
        self._read_timeout = read_timeout
        self._connect_timeout = connect_timeout
        self._pool_timeout = pool_timeout
        self._session: aiohttp.ClientSession | None = None
        self._headers: Final = {"User-Agent": self.USER_AGENT}
        self._form_headers: Final = {
            **self._headers,
            "Content-Type": "application/x-www-form-urlencoded",
        }

    @property
    def read_timeout(self) -> float | None:
        """The default read timeout, in seconds."""
        return self._read_timeout

    async def initialize(self) -> None:
        """Open the session (again, after a :meth:`shutdown`)."""
        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._connections, limit_per_host=0),
                cookie_jar=aiohttp.DummyCookieJar(),
                trust_env=True,  # HTTPS_PROXY and friends, as httpx honoured them
            )

    async def shutdown(self) -> None:
        """Close the session and its connections (nothing to do if closed)."""
        session, self._session = self._session, None
        if session is not None and not session.closed:
            await session.close()

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        write_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        connect_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
        pool_timeout: ODVInput[float] = BaseRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        """Send one request; (HTTP status, body) as Telegram answered.

        Raises:
            RuntimeError: before :meth:`initialize` or after :meth:`shutdown`.
            TimedOut: a timeout passed (connecting, waiting for a connection, reading).
            NetworkError: any other failure to get an answer.
        """
        session = self._session
        if session is None or session.closed:
            raise RuntimeError("This AiohttpRequest is not initialized!")
        read = self._read_timeout if isinstance(read_timeout, DefaultValue) else read_timeout
        connect = (
            self._connect_timeout if isinstance(connect_timeout, DefaultValue) else connect_timeout
        )
        pool = self._pool_timeout if isinstance(pool_timeout, DefaultValue) else pool_timeout
        if isinstance(write_timeout, DefaultValue):  # PTB's defaults: 20 s to upload a file
            files = request_data is not None and request_data.contains_files
            write: float | None = MEDIA_WRITE_TIMEOUT if files else None
        else:
            write = write_timeout
        timeout = aiohttp.ClientTimeout(
            total=None,
            connect=None if pool is None or connect is None else pool + connect,
            sock_connect=connect,
            sock_read=None if read is None else read + (write or 0.0),
        )
        data: aiohttp.FormData | bytes | None = None
        headers = self._headers
        if request_data is not None:
            if request_data.contains_files:
                data = _multipart(request_data)
            else:  # encoded here: aiohttp's own form handling costs more than the request
                data = urlencode(request_data.json_parameters).encode()
                headers = self._form_headers
        try:
            async with session.request(
                method, url, data=data, headers=headers, timeout=timeout
            ) as response:
                return response.status, await response.read()
        # aiohttp's messages may hold the URL, whose path holds the token: the errors
        # raised say what happened without it, and without aiohttp's error chained.
        except (TimeoutError, aiohttp.ServerTimeoutError) as err:
            if isinstance(err, aiohttp.ConnectionTimeoutError):
                raise TimedOut(message=CONNECT_TIMEOUT_MESSAGE) from None
            raise TimedOut from None
        except (aiohttp.ClientError, asyncio.IncompleteReadError, OSError) as err:
            raise NetworkError(f"aiohttp.{type(err).__name__}: {_no_path(str(err))}") from None


def _no_path(message: str) -> str:
    """An error message without the path of any URL in it (the token is in the path)."""
    return _URL_PATH.sub(r"\1/...", " ".join(message.split()))


def _multipart(request_data: RequestData) -> aiohttp.FormData:
    """The parameters and files of an upload as one multipart form."""
    form = aiohttp.FormData(quote_fields=False)
    for name, value in request_data.json_parameters.items():
        form.add_field(name, value)
    for name, (filename, content, content_type) in request_data.multipart_data.items():
        form.add_field(name, content, filename=filename or name, content_type=content_type)
    return form
