"""Backoff arithmetic and the client id scheme."""

from __future__ import annotations

import pytest

from comfy_gateway.comfy.client_identity import PROCESS_TOKEN, backend_slug, make_client_id
from comfy_gateway.comfy.connection import websocket_url
from comfy_gateway.comfy.reconnect_policy import ReconnectPolicy


def test_delays_double_then_cap() -> None:
    policy = ReconnectPolicy(initial=0.5, factor=2.0, maximum=3.0, budget=60.0)
    assert [policy.delay(attempt) for attempt in range(6)] == [0.5, 1.0, 2.0, 3.0, 3.0, 3.0]


def test_huge_attempt_numbers_do_not_overflow() -> None:
    assert ReconnectPolicy(maximum=5.0).delay(10_000) == 5.0


def test_budget_shortens_the_last_wait_then_gives_up() -> None:
    policy = ReconnectPolicy(initial=1.0, factor=2.0, maximum=8.0, budget=10.0)
    assert policy.next_delay(3, elapsed=0.0) == 8.0
    assert policy.next_delay(3, elapsed=7.5) == 2.5
    assert policy.next_delay(0, elapsed=10.0) is None


@pytest.mark.parametrize(
    "kwargs",
    [{"initial": 0.0}, {"factor": 0.5}, {"initial": 2.0, "maximum": 1.0}, {"budget": -1.0}],
)
def test_unusable_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="unusable"):
        ReconnectPolicy(**kwargs)


def test_client_id_is_per_process_and_per_backend() -> None:
    first = make_client_id("http://127.0.0.1:8188")
    assert first == f"cgw-{PROCESS_TOKEN}-127-0-0-1-8188"
    assert make_client_id("http://127.0.0.1:8188") == first
    assert make_client_id("http://127.0.0.1:8189") != first
    assert make_client_id("GPU 0", token="abc") == "cgw-abc-gpu-0"
    assert backend_slug("!!!") == "backend"


def test_websocket_url_follows_the_scheme() -> None:
    assert websocket_url("http://h:1/", "c") == "ws://h:1/ws?clientId=c"
    assert websocket_url("https://h/comfy", "c") == "wss://h/comfy/ws?clientId=c"
