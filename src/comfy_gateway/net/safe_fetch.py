"""Fetch a user-supplied URL without letting it reach a private address.

Each hop (the first request and every redirect) is resolved by us, every resolved
address is checked by the guard, and the connection goes to the checked address (the
original name kept in ``Host`` and in TLS SNI), so DNS cannot answer differently between
the check and the connect. Bodies are streamed to the caller's sink with a byte cap.
"""

from __future__ import annotations

import asyncio
import socket
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from urllib.parse import urljoin

import httpx

from comfy_gateway.net.address_guard import (
    AddressPolicy,
    FetchFailed,
    IPAddress,
    check_address,
    parse_ip_literal,
)

Resolver = Callable[[str, int], Awaitable[list[IPAddress]]]
ChunkSink = Callable[[bytes], Awaitable[None]]
_REDIRECTS = frozenset({301, 302, 303, 307, 308})


class FetchTooLarge(FetchFailed):
    """The body is larger than the allowed size."""


@dataclass(frozen=True, kw_only=True)
class FetchedBody:
    """What a fetch delivered to the sink."""

    final_url: str
    content_type: str | None
    size_bytes: int


async def resolve_host(host: str, port: int) -> list[IPAddress]:
    """Every address the system resolver gives for ``host``."""
    loop = asyncio.get_running_loop()
    try:
        infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except OSError as exc:
        raise FetchFailed(f"cannot resolve host {host!r}: {exc}") from exc
    addresses = {parse_ip_literal(str(info[4][0])) for info in infos}
    return sorted((a for a in addresses if a is not None), key=lambda a: (a.version, int(a)))


@dataclass(frozen=True, kw_only=True)
class SafeFetcher:
    """Fetches URLs under an `AddressPolicy`; see the module docstring."""

    policy: AddressPolicy
    timeout_s: float = 30.0
    max_redirects: int = 5
    resolver: Resolver = resolve_host

    async def fetch(self, url: str, sink: ChunkSink, *, max_bytes: int) -> FetchedBody:
        async with httpx.AsyncClient(timeout=self.timeout_s, follow_redirects=False) as client:
            current = url
            for _ in range(self.max_redirects + 1):
                request = await self._pinned_request(client, current)
                response = await self._send(client, request, current)
                try:
                    location = response.headers.get("location")
                    if response.status_code in _REDIRECTS and location:
                        current = urljoin(current, location)
                        continue
                    return await self._deliver(response, current, sink, max_bytes)
                finally:
                    await response.aclose()
        raise FetchFailed(f"{url} redirected more than {self.max_redirects} times")

    async def _pinned_request(self, client: httpx.AsyncClient, url: str) -> httpx.Request:
        parsed = _parse_fetchable(url)
        host = parsed.host
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        if self.policy.host_is_allowed(host):
            return client.build_request("GET", parsed)
        literal = parse_ip_literal(host)
        addresses = [literal] if literal is not None else await self.resolver(host, port)
        if not addresses:
            raise FetchFailed(f"host {host!r} resolves to no address")
        for address in addresses:
            check_address(address, self.policy)
        pinned = parsed.copy_with(host=str(addresses[0]))
        headers = {"Host": parsed.netloc.decode("ascii")}
        return client.build_request(
            "GET", pinned, headers=headers, extensions={"sni_hostname": host}
        )

    async def _send(
        self, client: httpx.AsyncClient, request: httpx.Request, url: str
    ) -> httpx.Response:
        try:
            return await client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise FetchFailed(f"fetching {url} failed: {exc!r}") from exc

    async def _deliver(
        self, response: httpx.Response, url: str, sink: ChunkSink, max_bytes: int
    ) -> FetchedBody:
        if response.status_code != 200:
            raise FetchFailed(f"{url} answered HTTP {response.status_code}, expected 200")
        declared = response.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > max_bytes:
            raise FetchTooLarge(f"{url} is {declared} bytes, more than the {max_bytes} allowed")
        size = 0
        try:
            async for chunk in response.aiter_bytes():
                size += len(chunk)
                if size > max_bytes:
                    raise FetchTooLarge(f"{url} is larger than the {max_bytes} bytes allowed")
                await sink(chunk)
        except httpx.HTTPError as exc:
            raise FetchFailed(f"reading {url} failed: {exc!r}") from exc
        return FetchedBody(
            final_url=url, content_type=response.headers.get("content-type"), size_bytes=size
        )


def _parse_fetchable(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise FetchFailed(f"{url!r} is not a valid URL") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise FetchFailed(f"{url!r}: only http and https URLs with a host can be fetched")
    if parsed.userinfo:
        raise FetchFailed(f"{url!r}: URLs with credentials are not accepted")
    return parsed
