"""The wire: what :class:`ComfyHttpClient` needs from an HTTP library, and no more.

aiohttp carries production traffic (its client costs a fraction of httpx's per request,
and a job makes several); httpx stays for tests and in-process apps, whose transports
(``MockTransport``, ``ASGITransport``) only plug into httpx. Both speak these neutral
requests and answers, and both reduce their exceptions to a
:class:`~.http_errors.TransportFault`, so the client builds, parses and maps errors the
same way whichever library is underneath.
"""

from __future__ import annotations

import codecs
import contextlib
import json
from collections.abc import AsyncIterator, Mapping
from dataclasses import dataclass, field
from typing import Any, Protocol

from comfy_gateway.comfy.http_errors import TransportFault

Body = bytes | AsyncIterator[bytes]


@dataclass(frozen=True, kw_only=True)
class WireRequest:
    """One request; ``path`` is relative to the backend's base URL, ``params`` unencoded."""

    method: str
    path: str
    params: Mapping[str, str] | None = None
    content: Body | None = None
    headers: Mapping[str, str] = field(default_factory=dict)


def json_request(method: str, path: str, value: Any) -> WireRequest:
    """A request whose body is ``value`` as JSON (no body at all when it is None)."""
    if value is None:
        return WireRequest(method=method, path=path)
    return WireRequest(
        method=method,
        path=path,
        content=encode_json(value),
        headers={"Content-Type": "application/json"},
    )


def encode_json(value: Any) -> bytes:
    """Compact UTF-8 JSON, the same bytes on every wire (and what httpx's ``json=`` sends)."""
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"), allow_nan=False).encode()


def decode_text(body: bytes, charset: str | None) -> str:
    """An answer's text: its declared charset if Python knows it, else UTF-8; never raises."""
    encoding = "utf-8"
    if charset:
        with contextlib.suppress(LookupError):
            encoding = codecs.lookup(charset).name
    return body.decode(encoding, errors="replace")


@dataclass(frozen=True, kw_only=True)
class WireAnswer:
    """A complete answer: status and body (read in full)."""

    status: int
    body: bytes
    charset: str | None = None

    @property
    def text(self) -> str:
        return decode_text(self.body, self.charset)


class WireStream(Protocol):
    """An answer whose headers arrived and whose body is still on the wire."""

    @property
    def status(self) -> int: ...

    @property
    def charset(self) -> str | None: ...

    async def read(self) -> bytes:
        """The rest of the body, in one piece (for error answers)."""
        ...

    def chunks(self) -> AsyncIterator[bytes]:
        """The body, chunk by chunk as it arrives."""
        ...

    async def aclose(self) -> None:
        """Give the connection back (or drop it when the body was not read to the end)."""
        ...


class Wire(Protocol):
    """Sends requests to one backend; its methods raise the library's own exceptions."""

    async def send(self, request: WireRequest) -> WireAnswer: ...

    async def open(self, request: WireRequest) -> WireStream:
        """Send ``request`` and return once the answer's headers are in."""
        ...

    def fault_of(self, exc: Exception) -> TransportFault | None:
        """What ``exc`` says about the transport; None when it is not a transport failure."""
        ...

    async def aclose(self) -> None: ...
