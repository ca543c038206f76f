"""The aiohttp wire: ComfyHttpClient's production path.

A job makes at least two ComfyUI requests (POST /prompt, GET /view); aiohttp's client
answers a local request in a fraction of httpx's time, so this is the default wire. The
session is opened on first use, inside the running loop (clients are often built before
one runs), and keeps idle connections alive for less time than ComfyUI's server (aiohttp,
75 s) or uvicorn (5 s) would, so a reused socket is not one the server is closing.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Mapping
from urllib.parse import quote, urlencode

import aiohttp
from yarl import URL

from comfy_gateway.comfy.http_errors import FaultKind, TransportFault
from comfy_gateway.comfy.timeouts import ComfyTimeouts
from comfy_gateway.comfy.wire import WireAnswer, WireRequest

KEEPALIVE_S = 4.0
CONNECTION_LIMIT = 100


def client_timeout(timeouts: ComfyTimeouts) -> aiohttp.ClientTimeout:
    """Per-wait bounds and no total: a long /view download may take as long as it takes.

    ``connect`` covers waiting for a pooled connection and opening one; aiohttp has no
    write timeout (a stalled upload ends on the read timeout of its answer).
    """
    return aiohttp.ClientTimeout(
        total=None,
        connect=timeouts.pool + timeouts.connect,
        sock_connect=timeouts.connect,
        sock_read=timeouts.read,
    )


def request_url(base_url: str, path: str, params: Mapping[str, str] | None) -> URL:
    """The full URL, percent-encoded here so every character of a value survives."""
    query = f"?{urlencode(params, quote_via=quote, safe='')}" if params else ""
    return URL(f"{base_url}{quote(path, safe='/')}{query}", encoded=True)


class AiohttpWire:
    """One ``aiohttp.ClientSession`` for one backend, opened on first use."""

    def __init__(self, base_url: str, timeouts: ComfyTimeouts) -> None:
        self._base_url = str(URL(base_url))
        self._timeout = client_timeout(timeouts)
        self._session: aiohttp.ClientSession | None = None
        self._closed = False

    def _opened(self) -> aiohttp.ClientSession:
        if self._closed:
            raise RuntimeError("Cannot send a request, as the client has been closed.")
        if self._session is None:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(
                    limit=CONNECTION_LIMIT, keepalive_timeout=KEEPALIVE_S
                ),
                timeout=self._timeout,
                # A backend is a local GPU box: never send its traffic through an env proxy.
                trust_env=False,
            )
        return self._session

    async def _start(self, request: WireRequest, content: object) -> aiohttp.ClientResponse:
        """Send ``request`` with ``content`` as its body; returns once the headers are in."""
        return await self._opened().request(
            request.method,
            request_url(self._base_url, request.path, request.params),
            data=content,
            headers=request.headers,
            allow_redirects=False,
        )

    async def send(self, request: WireRequest) -> WireAnswer:
        """The answer, returned (or the failure raised) once nothing reads the body any more."""
        if request.content is None or isinstance(request.content, bytes):
            return await self._exchange(request, request.content)
        feed = BodyFeed(request.content)
        try:
            return await self._exchange(request, feed)
        finally:
            await feed.settled()

    async def _exchange(self, request: WireRequest, content: object) -> WireAnswer:
        async with await self._start(request, content) as response:
            body = await response.read()
            return WireAnswer(status=response.status, body=body, charset=response.charset)

    async def open(self, request: WireRequest) -> AiohttpStream:
        return AiohttpStream(await self._start(request, request.content))

    def fault_of(self, exc: Exception) -> TransportFault | None:
        return aiohttp_fault(exc)

    async def aclose(self) -> None:
        self._closed = True
        if self._session is not None:
            await self._session.close()


class BodyFeed:
    """Hands a streamed body to aiohttp, and tells when aiohttp stopped pulling from it.

    aiohttp writes the body from a task of its own, which it cancels, but does not wait
    for, when the exchange fails: the caller's ``aclose()`` of its generator would then
    find it still running. :meth:`settled` waits for that task to let go of it.
    """

    def __init__(self, source: AsyncIterator[bytes]) -> None:
        self._source = source
        self._idle = asyncio.Event()
        self._idle.set()
        self._puller: asyncio.Task[object] | None = None

    def __aiter__(self) -> BodyFeed:
        return self

    async def __anext__(self) -> bytes:
        self._puller = asyncio.current_task()
        self._idle.clear()
        try:
            return await anext(self._source)
        finally:
            self._idle.set()

    async def settled(self) -> None:
        """Once the exchange is over: nothing more will be sent, so stop any pull now."""
        if not self._idle.is_set() and self._puller is not None:
            self._puller.cancel()
        await self._idle.wait()


class AiohttpStream:
    """A streamed aiohttp answer, seen as a :class:`~.wire.WireStream`."""

    def __init__(self, response: aiohttp.ClientResponse) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status

    @property
    def charset(self) -> str | None:
        return self._response.charset

    async def read(self) -> bytes:
        return await self._response.read()

    def chunks(self) -> AsyncIterator[bytes]:
        return self._response.content.iter_any()

    async def aclose(self) -> None:
        # aiohttp pools the connection only when the body was read to the end.
        self._response.release()
        await self._response.wait_for_close()


def aiohttp_fault(exc: Exception) -> TransportFault | None:
    """Timeouts, failed connects, broken connections, other aiohttp errors; else None."""
    if isinstance(exc, TimeoutError):  # aiohttp's ServerTimeoutError is one too
        return TransportFault(kind=FaultKind.TIMEOUT, detail=_timeout_kind(exc))
    if isinstance(exc, aiohttp.ClientConnectorError):
        return TransportFault(kind=FaultKind.REFUSED, detail=str(exc))
    # ServerDisconnectedError, ClientOSError (resets) and any other broken connection;
    # ClientPayloadError: the answer's body ended early.
    if isinstance(exc, aiohttp.ClientConnectionError | aiohttp.ClientPayloadError):
        return TransportFault(kind=FaultKind.DROPPED, detail=f"{type(exc).__name__}: {exc}")
    if isinstance(exc, aiohttp.ClientError):
        return TransportFault(kind=FaultKind.OTHER, detail=f"{type(exc).__name__}: {exc}")
    return None


def _timeout_kind(exc: TimeoutError) -> str:
    if isinstance(exc, aiohttp.ConnectionTimeoutError):
        return "connect timeout"
    if isinstance(exc, aiohttp.SocketTimeoutError):
        return "read timeout"
    return "timeout"
