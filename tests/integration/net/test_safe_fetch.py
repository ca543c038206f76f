"""The safe fetcher against a real HTTP server on loopback."""

from __future__ import annotations

import ipaddress
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from comfy_gateway.net.address_guard import AddressPolicy, AddressRefused, FetchFailed, IPAddress
from comfy_gateway.net.safe_fetch import FetchTooLarge, SafeFetcher

BODY = b"\x89PNG fake media bytes" * 10


@dataclass
class Origin:
    port: int
    hosts_seen: list[str] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


@pytest.fixture
def origin() -> Iterator[Origin]:
    state = Origin(port=0)

    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.hosts_seen.append(self.headers.get("Host", ""))
            if self.path.startswith("/redirect?to="):
                self.send_response(302)
                self.send_header("Location", self.path.split("=", 1)[1])
                self.end_headers()
                return
            if self.path == "/loop":
                self.send_response(302)
                self.send_header("Location", "/loop")
                self.end_headers()
                return
            self.send_response(200)
            self.send_header("Content-Type", "image/png")
            self.send_header("Content-Length", str(len(BODY)))
            self.end_headers()
            self.wfile.write(BODY)

        def log_message(self, *args: object) -> None:
            return

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    yield state
    server.shutdown()
    server.server_close()


class Collector:
    def __init__(self) -> None:
        self.data = b""

    async def __call__(self, chunk: bytes) -> None:
        self.data += chunk


LOOPBACK = AddressPolicy.from_entries(["127.0.0.0/8"])


async def test_loopback_is_refused_before_any_connection(origin: Origin) -> None:
    with pytest.raises(AddressRefused):
        await SafeFetcher(policy=AddressPolicy()).fetch(
            origin.url("/a"), Collector(), max_bytes=10**6
        )
    assert origin.hosts_seen == []


async def test_allow_listed_network_fetches_the_body(origin: Origin) -> None:
    sink = Collector()
    body = await SafeFetcher(policy=LOOPBACK).fetch(origin.url("/a"), sink, max_bytes=10**6)
    assert sink.data == BODY
    assert (body.size_bytes, body.content_type) == (len(BODY), "image/png")


@pytest.mark.parametrize(
    "target", ["http://10.0.0.1/x", "http://169.254.169.254/latest/meta-data", "http://[::1]/"]
)
async def test_redirect_to_a_private_address_is_refused(origin: Origin, target: str) -> None:
    fetcher = SafeFetcher(policy=AddressPolicy.from_entries(["localhost"]))
    with pytest.raises(AddressRefused):
        await fetcher.fetch(
            origin.url(f"/redirect?to={target}", host="localhost"), Collector(), max_bytes=10**6
        )
    assert len(origin.hosts_seen) == 1  # only the first hop was ever contacted


async def test_connection_goes_to_the_checked_address_with_the_original_host(
    origin: Origin,
) -> None:
    async def resolver(host: str, port: int) -> list[IPAddress]:
        assert host == "media.example"
        return [ipaddress.ip_address("127.0.0.1")]

    fetcher = SafeFetcher(policy=LOOPBACK, resolver=resolver)
    sink = Collector()
    await fetcher.fetch(origin.url("/a", host="media.example"), sink, max_bytes=10**6)
    assert sink.data == BODY
    assert origin.hosts_seen == [f"media.example:{origin.port}"]


async def test_a_name_resolving_to_any_private_address_is_refused(origin: Origin) -> None:
    async def resolver(host: str, port: int) -> list[IPAddress]:
        return [ipaddress.ip_address("93.184.215.14"), ipaddress.ip_address("10.0.0.7")]

    with pytest.raises(AddressRefused):
        await SafeFetcher(policy=AddressPolicy(), resolver=resolver).fetch(
            "http://rebind.example/a", Collector(), max_bytes=10**6
        )


async def test_body_over_the_cap_is_refused(origin: Origin) -> None:
    with pytest.raises(FetchTooLarge):
        await SafeFetcher(policy=LOOPBACK).fetch(origin.url("/a"), Collector(), max_bytes=10)


async def test_endless_redirects_stop_after_the_limit(origin: Origin) -> None:
    with pytest.raises(FetchFailed, match="redirected more than 5"):
        await SafeFetcher(policy=LOOPBACK).fetch(origin.url("/loop"), Collector(), max_bytes=10**6)
    assert len(origin.hosts_seen) == 6


@pytest.mark.parametrize(
    "url", ["file:///etc/passwd", "ftp://x/y", "http://user:pw@1.1.1.1/", "nonsense"]
)
async def test_unfetchable_urls_are_refused(url: str) -> None:
    with pytest.raises(FetchFailed):
        await SafeFetcher(policy=AddressPolicy()).fetch(url, Collector(), max_bytes=10)
