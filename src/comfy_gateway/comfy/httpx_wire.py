"""The httpx wire: ComfyHttpClient over an injected httpx transport.

Chosen when a caller passes ``transport=`` (``httpx.MockTransport`` in unit tests,
``ASGITransport`` for an in-process app): those only plug into httpx. Production traffic
goes over :mod:`.aiohttp_wire`, which costs less per request.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx

from comfy_gateway.comfy.http_errors import FaultKind, TransportFault
from comfy_gateway.comfy.timeouts import ComfyTimeouts
from comfy_gateway.comfy.wire import WireAnswer, WireRequest


class HttpxWire:
    """One ``httpx.AsyncClient`` for one backend."""

    def __init__(
        self, base_url: str, timeouts: ComfyTimeouts, transport: httpx.AsyncBaseTransport | None
    ) -> None:
        self._client = httpx.AsyncClient(
            base_url=base_url,
            timeout=timeouts.as_httpx(),
            transport=transport,
            # A backend is a local GPU box: never send its traffic through an env proxy.
            trust_env=False,
        )

    def _build(self, request: WireRequest) -> httpx.Request:
        return self._client.build_request(
            request.method,
            request.path,
            params=request.params,
            content=request.content,
            headers=request.headers,
        )

    async def send(self, request: WireRequest) -> WireAnswer:
        response = await self._client.send(self._build(request))
        return WireAnswer(
            status=response.status_code, body=response.content, charset=response.charset_encoding
        )

    async def open(self, request: WireRequest) -> HttpxStream:
        return HttpxStream(await self._client.send(self._build(request), stream=True))

    def fault_of(self, exc: Exception) -> TransportFault | None:
        return httpx_fault(exc)

    async def aclose(self) -> None:
        await self._client.aclose()


class HttpxStream:
    """A streamed httpx answer, seen as a :class:`~.wire.WireStream`."""

    def __init__(self, response: httpx.Response) -> None:
        self._response = response

    @property
    def status(self) -> int:
        return self._response.status_code

    @property
    def charset(self) -> str | None:
        return self._response.charset_encoding

    async def read(self) -> bytes:
        return await self._response.aread()

    def chunks(self) -> AsyncIterator[bytes]:
        return self._response.aiter_bytes()

    async def aclose(self) -> None:
        await self._response.aclose()


def httpx_fault(exc: Exception) -> TransportFault | None:
    """Timeouts, failed connects, broken connections, other httpx errors; else None."""
    if isinstance(exc, httpx.TimeoutException):
        return TransportFault(kind=FaultKind.TIMEOUT, detail=_timeout_kind(exc))
    if isinstance(exc, httpx.ConnectError):
        return TransportFault(kind=FaultKind.REFUSED, detail=str(exc))
    if isinstance(exc, httpx.TransportError):
        return TransportFault(kind=FaultKind.DROPPED, detail=f"{type(exc).__name__}: {exc}")
    if isinstance(exc, httpx.HTTPError):
        return TransportFault(kind=FaultKind.OTHER, detail=f"{type(exc).__name__}: {exc}")
    return None


def _timeout_kind(exc: httpx.TimeoutException) -> str:
    names = {
        httpx.ConnectTimeout: "connect timeout",
        httpx.ReadTimeout: "read timeout",
        httpx.WriteTimeout: "write timeout",
        httpx.PoolTimeout: "connection pool timeout",
    }
    return names.get(type(exc), "timeout")
