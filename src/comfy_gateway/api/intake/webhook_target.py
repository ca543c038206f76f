"""``webhook_url`` goes through the same address guard as media URLs, at submit time.

Refusing a private target here tells the client at once; the deliverer checks again at
each delivery (DNS may answer differently by then), so this check is for feedback, not
the only line of defence.
"""

from __future__ import annotations

from collections.abc import Sequence

import httpx

from comfy_gateway.api.errors import ApiError
from comfy_gateway.net.address_guard import (
    AddressPolicy,
    FetchFailed,
    check_address,
    parse_ip_literal,
)
from comfy_gateway.net.safe_fetch import SafeFetcher


def _refused(url: str, reason: str) -> ApiError:
    return ApiError(
        422,
        "webhook_url_refused",
        f"webhook_url {url[:300]!r} cannot be used: {reason}",
        reason=reason,
    )


def _parsed(url: str) -> httpx.URL:
    try:
        parsed = httpx.URL(url)
    except (httpx.InvalidURL, TypeError) as exc:
        raise _refused(url, "it is not a valid URL") from exc
    if parsed.scheme not in ("http", "https") or not parsed.host:
        raise _refused(url, "only http and https URLs with a host are accepted")
    if parsed.userinfo:
        raise _refused(url, "URLs with credentials are not accepted")
    return parsed


async def check_webhook_url(
    url: str | None, fetcher: SafeFetcher, allow_list: Sequence[str] = ()
) -> None:
    """Refuse (422 ``webhook_url_refused``) a URL that resolves to a non-public address.

    Webhooks have their own allow-list (``webhook_allow_list``), the one the sender
    checks at delivery; the fetcher only lends its resolver."""
    if url is None:
        return
    policy = AddressPolicy.from_entries(allow_list)
    parsed = _parsed(url)
    if policy.host_is_allowed(parsed.host):
        return
    port = parsed.port or (443 if parsed.scheme == "https" else 80)
    try:
        literal = parse_ip_literal(parsed.host)
        addresses = [literal] if literal is not None else await fetcher.resolver(parsed.host, port)
        if not addresses:
            raise FetchFailed(f"host {parsed.host!r} resolves to no address")
        for address in addresses:
            check_address(address, policy)
    except FetchFailed as exc:
        raise _refused(url, str(exc)) from exc
