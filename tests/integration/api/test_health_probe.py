"""`ComfyBackendProbe`: real probes of a simulated ComfyUI and of a dead port, caching,
and the health routes of an API-only process that uses it."""

from __future__ import annotations

import dataclasses
import socket

import httpx

from comfy_gateway.api.app import create_app
from comfy_gateway.api.backend_probe import ComfyBackendProbe
from comfy_gateway.api.context import ApiContext
from integration.api.conftest import ACME_KEY, BASE_URL
from support.simulator_process import SimulatorProcess


def closed_port_url() -> str:
    """A local URL nothing listens on (the port was free a moment ago)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


class ManualClock:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


async def test_probe_reports_a_live_simulator_and_a_dead_port(
    simulator: SimulatorProcess,
) -> None:
    dead = closed_port_url()
    probe = ComfyBackendProbe([simulator.url + "/", dead], timeout_s=2.0)
    assert [state.state for state in probe.backends()] == ["unknown", "unknown"]
    live_state, dead_state = await probe.refresh()
    assert (live_state.url, live_state.reachable, live_state.state) == (
        simulator.url,
        True,
        "ready",
    )
    assert (dead_state.reachable, dead_state.state) == (False, "unreachable")
    assert dead_state.detail


async def test_probe_treats_an_error_status_as_not_ready() -> None:
    transport = httpx.MockTransport(lambda request: httpx.Response(500, text="oops"))
    probe = ComfyBackendProbe(["http://gpu0:8188"], transport=transport)
    [state] = await probe.refresh()
    assert (state.reachable, state.state) == (False, "error")
    assert state.detail is not None
    assert "500" in state.detail


async def test_probe_answers_are_cached_for_max_age() -> None:
    calls: list[str] = []

    def answer(request: httpx.Request) -> httpx.Response:
        calls.append(request.url.path)
        return httpx.Response(200, json={"system": {}})

    clock = ManualClock()
    probe = ComfyBackendProbe(
        ["http://gpu0:8188"], max_age_s=2.0, transport=httpx.MockTransport(answer), clock=clock
    )
    await probe.refresh_if_stale()
    clock.now += 1.9
    await probe.refresh_if_stale()
    assert calls == ["/system_stats"]
    clock.now += 0.2
    await probe.refresh_if_stale()
    assert calls == ["/system_stats", "/system_stats"]
    assert probe.backends()[0].reachable


async def test_api_only_process_health_and_ready_use_the_probe(
    api_context: ApiContext, simulator: SimulatorProcess
) -> None:
    live = ComfyBackendProbe([simulator.url])
    dead = ComfyBackendProbe([closed_port_url()])
    live_app = create_app(dataclasses.replace(api_context, health=live))
    dead_app = create_app(dataclasses.replace(api_context, health=dead))
    headers = {"X-API-Key": ACME_KEY}
    async with (
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=live_app), base_url=BASE_URL, headers=headers
        ) as live_client,
        httpx.AsyncClient(
            transport=httpx.ASGITransport(app=dead_app), base_url=BASE_URL
        ) as dead_client,
    ):
        health = (await live_client.get("/health")).json()
        assert health["comfy"] is True
        assert health["backends"][0]["state"] == "ready"
        assert (await live_client.get("/ready")).status_code == 200
        assert (await dead_client.get("/health")).json()["comfy"] is False
        assert (await dead_client.get("/ready")).status_code == 503
