"""Media URLs through a real gateway: a redirect to a private address is refused at that hop.

The media server runs on loopback, so this gateway allow-lists 127.0.0.1 and nothing
else: the direct fetch works (the control), and a redirect from it to a private or
link-local address must still be refused.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import httpx
import pytest

from acceptance.gateway_checks import assert_address_refused, wait_for_status
from acceptance.workflows import load_invert_save_graph, png_bytes
from support.gateway_process import GatewayProcess, run_serve
from support.simulator_process import SimulatorProcess

PNG = png_bytes([(9, 8, 7)] * 4, width=2)
REDIRECTS = {
    "/to-private.png": "http://10.0.0.1/cat.png",
    "/to-metadata.png": "http://169.254.169.254/latest/meta-data/",
    "/to-ipv6-loopback.png": "http://[::1]:9/cat.png",
}


class _MediaHandler(BaseHTTPRequestHandler):
    def do_GET(self) -> None:
        if self.path in REDIRECTS:
            self.send_response(302)
            self.send_header("Location", REDIRECTS[self.path])
            self.send_header("Content-Length", "0")
            self.end_headers()
            return
        self.send_response(200)
        self.send_header("Content-Type", "image/png")
        self.send_header("Content-Length", str(len(PNG)))
        self.end_headers()
        self.wfile.write(PNG)

    def log_message(self, format: str, *args: object) -> None:
        return


@pytest.fixture(scope="module")
def media_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _MediaHandler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)


@pytest.fixture(scope="module")
def loopback_allowed_gateway(
    simulator: SimulatorProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    env = {"COMFY_GATEWAY_FETCH_ALLOW_LIST": "127.0.0.1/32"}
    with run_serve(tmp_path_factory.mktemp("urls"), [simulator.url], env=env) as process:
        yield process


def _submit_url(client: httpx.Client, url: str) -> httpx.Response:
    media = [{"name": "cat.png", "url": url}]
    return client.post(
        "/v1/jobs", json={"workflow": load_invert_save_graph("cat.png"), "media": media}
    )


def test_an_allow_listed_url_is_fetched(
    loopback_allowed_gateway: GatewayProcess, media_server: str, sim: SimulatorProcess
) -> None:
    with loopback_allowed_gateway.client() as client:
        response = _submit_url(client, f"{media_server}/cat.png")
        assert response.status_code == 202, response.text
        job = wait_for_status(client, response.json()["job_id"], {"completed", "failed"})
        assert job["status"] == "completed", job


@pytest.mark.parametrize("path", sorted(REDIRECTS))
def test_a_redirect_to_a_private_address_is_refused(
    loopback_allowed_gateway: GatewayProcess, media_server: str, path: str
) -> None:
    with loopback_allowed_gateway.client() as client:
        before = client.get("/v1/jobs").json()["jobs"]
        assert_address_refused(_submit_url(client, media_server + path))
        assert client.get("/v1/jobs").json()["jobs"] == before
