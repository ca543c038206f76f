"""POST a webhook without letting its URL reach a private address.

Like media fetching (``net/safe_fetch.py``): we resolve the host ourselves, every
address must pass the guard, and the connection goes to the checked address (the name
kept in ``Host`` and TLS SNI), so DNS cannot answer differently between the check and
the connect. Redirects are not followed: a receiver answers 2xx or the attempt failed.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

import httpx

from comfy_gateway.net.address_guard import (
    AddressPolicy,
    AddressRefused,
    FetchFailed,
    check_address,
    parse_ip_literal,
)
from comfy_gateway.net.safe_fetch import Resolver, resolve_host
from comfy_gateway.webhooks.message import WebhookMessage

DEFAULT_TIMEOUT_S = 10.0


@dataclass(frozen=True, kw_only=True)
class PostResult:
    """How one attempt went. ``permanent``: retrying cannot help (refused URL);
    ``retry_now``: the attempt never finished (shutdown), so no backoff is due."""

    delivered: bool
    status_code: int | None = None
    error: str | None = None
    permanent: bool = False
    retry_now: bool = False


class UnusableUrl(FetchFailed):
    """The URL can never be posted to (scheme, credentials, refused address)."""


@dataclass(frozen=True, kw_only=True)
class WebhookPoster:
    """Sends :class:`WebhookMessage` s under an `AddressPolicy`."""

    policy: AddressPolicy
    timeout_s: float = DEFAULT_TIMEOUT_S
    resolver: Resolver = resolve_host
    transport: httpx.AsyncBaseTransport | None = None

    async def post(self, message: WebhookMessage) -> PostResult:
        try:
            url, headers, sni = await self._pinned_target(message.url)
        except UnusableUrl as exc:
            return PostResult(delivered=False, error=str(exc), permanent=True)
        except FetchFailed as exc:
            return PostResult(delivered=False, error=str(exc))
        return await self._send(url, {**message.headers, **headers}, message.body, sni)

    async def _pinned_target(self, raw_url: str) -> tuple[httpx.URL, dict[str, str], str]:
        parsed = _parse_postable(raw_url)
        host = parsed.host
        if self.policy.host_is_allowed(host):
            return parsed, {}, host
        port = parsed.port or (443 if parsed.scheme == "https" else 80)
        literal = parse_ip_literal(host)
        addresses = [literal] if literal is not None else await self.resolver(host, port)
        if not addresses:
            raise FetchFailed(f"host {host!r} resolves to no address")
        try:
            for address in addresses:
                check_address(address, self.policy)
        except AddressRefused as exc:
            raise UnusableUrl(str(exc)) from exc
        pinned = parsed.copy_with(host=str(addresses[0]))
        return pinned, {"host": parsed.netloc.decode("ascii")}, host

    async def _send(
        self, url: httpx.URL, headers: Mapping[str, str], body: bytes, sni: str
    ) -> PostResult:
        async with httpx.AsyncClient(
            timeout=self.timeout_s, follow_redirects=False, transport=self.transport
        ) as client:
            request = client.build_request(
                "POST", url, headers=dict(headers), content=body, extensions={"sni_hostname": sni}
            )
            try:
                response = await client.send(request, stream=True)
            except httpx.HTTPError as exc:
                return PostResult(delivered=False, error=f"POST failed: {exc!r}")
            await response.aclose()
        if 200 <= response.status_code < 300:
            return PostResult(delivered=True, status_code=response.status_code)
        return PostResult(
            delivered=False,
            status_code=response.status_code,
            error=f"the receiver answered HTTP {response.status_code}",
        )


def _parse_postable(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise UnusableUrl(f"{url[:300]!r} is not a valid URL") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise UnusableUrl(f"{url[:300]!r}: only http and https URLs with a host")
    if parsed.userinfo:
        raise UnusableUrl(f"{url[:300]!r}: URLs with credentials are not accepted")
    return parsed
