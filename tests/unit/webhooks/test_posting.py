"""The guarded POST: checked, pinned addresses; 2xx delivers; nothing else does."""

from __future__ import annotations

import ipaddress

import httpx
import pytest

from comfy_gateway.net.address_guard import AddressPolicy, IPAddress
from comfy_gateway.net.safe_fetch import Resolver
from comfy_gateway.webhooks.message import WebhookMessage
from comfy_gateway.webhooks.posting import WebhookPoster

PUBLIC = ipaddress.ip_address("93.184.216.34")


def message(url: str) -> WebhookMessage:
    return WebhookMessage(url=url, body=b'{"event":"job.completed"}', headers={"webhook-id": "1"})


class Recorder:
    """A MockTransport handler that answers a fixed status and keeps each request."""

    def __init__(self, status: int = 204) -> None:
        self.status = status
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return httpx.Response(self.status, headers={"location": "http://10.0.0.1/"})


def resolving_to(*addresses: IPAddress) -> Resolver:
    async def resolve(host: str, port: int) -> list[IPAddress]:
        return list(addresses)

    return resolve


def poster(
    handler: Recorder, *, allow: tuple[str, ...] = (), resolver: Resolver | None = None
) -> WebhookPoster:
    return WebhookPoster(
        policy=AddressPolicy.from_entries(allow),
        transport=httpx.MockTransport(handler),
        resolver=resolver or resolving_to(PUBLIC),
    )


async def test_a_public_host_is_posted_to_its_checked_address() -> None:
    handler = Recorder(200)
    result = await poster(handler).post(message("https://hooks.example:8443/in?x=1"))
    assert (result.delivered, result.status_code) == (True, 200)
    [request] = handler.requests
    assert request.method == "POST"
    assert str(request.url) == "https://93.184.216.34:8443/in?x=1"
    assert request.headers["host"] == "hooks.example:8443"
    assert request.extensions["sni_hostname"] == "hooks.example"
    assert request.content == b'{"event":"job.completed"}'
    assert request.headers["webhook-id"] == "1"


@pytest.mark.parametrize("status", [301, 400, 410, 500, 503])
async def test_anything_but_2xx_is_a_failure_worth_retrying(status: int) -> None:
    handler = Recorder(status)
    result = await poster(handler).post(message("https://hooks.example/in"))
    assert (result.delivered, result.status_code, result.permanent) == (False, status, False)
    assert result.error == f"the receiver answered HTTP {status}"
    assert len(handler.requests) == 1  # a redirect is not followed


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:9/in", "http://[::ffff:10.0.0.1]/", "http://169.254.169.254/latest"],
)
async def test_private_addresses_are_refused_for_good_without_a_request(url: str) -> None:
    handler = Recorder()
    result = await poster(handler).post(message(url))
    assert (result.delivered, result.permanent) == (False, True)
    assert result.error is not None
    assert "refusing to connect" in result.error
    assert handler.requests == []


async def test_a_name_resolving_to_a_private_address_is_refused() -> None:
    handler = Recorder()
    resolver = resolving_to(PUBLIC, ipaddress.ip_address("10.1.2.3"))
    result = await poster(handler, resolver=resolver).post(message("https://sneaky.example/"))
    assert (result.delivered, result.permanent) == (False, True)
    assert handler.requests == []


async def test_the_allow_list_lets_a_local_receiver_through() -> None:
    handler = Recorder(200)
    result = await poster(handler, allow=("127.0.0.0/8",)).post(message("http://127.0.0.1:9/in"))
    assert result.delivered
    assert len(handler.requests) == 1


@pytest.mark.parametrize("url", ["ftp://hooks.example/", "http://user:pw@hooks.example/", "nope"])
async def test_unusable_urls_fail_for_good(url: str) -> None:
    result = await poster(Recorder()).post(message(url))
    assert (result.delivered, result.permanent) == (False, True)


async def test_a_connection_error_is_worth_retrying() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    post = WebhookPoster(
        policy=AddressPolicy(), transport=httpx.MockTransport(refuse), resolver=resolving_to(PUBLIC)
    )
    result = await post.post(message("https://hooks.example/"))
    assert (result.delivered, result.permanent, result.status_code) == (False, False, None)
    assert result.error is not None
    assert "ConnectError" in result.error
