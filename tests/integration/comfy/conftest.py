"""Fixtures for the client against a backend over real sockets.

``comfy_backend`` is a real ComfyUI when ``COMFYUI_URL`` is set (those tests are then
marked ``real_comfyui``), else the shared simulator, reset before each test.
"""

from __future__ import annotations

import os
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import pytest

from comfy_gateway.comfy import BackendConnection, ComfyHttpClient, ReconnectPolicy
from support.simulator_process import SimulatorProcess

REAL_COMFYUI_URL = os.environ.get("COMFYUI_URL")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    if not REAL_COMFYUI_URL:
        return
    for item in items:
        if "comfy_backend" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.real_comfyui)


@pytest.fixture
def comfy_backend(request: pytest.FixtureRequest) -> Iterator[str]:
    """The base URL of the backend under test."""
    if REAL_COMFYUI_URL:
        yield REAL_COMFYUI_URL.rstrip("/")
        return
    simulator: SimulatorProcess = request.getfixturevalue("simulator")
    simulator.reset()
    yield simulator.url


@pytest.fixture
def sim(simulator: SimulatorProcess) -> Iterator[SimulatorProcess]:
    """The shared simulator, reset before and after (for fault-injection tests)."""
    if REAL_COMFYUI_URL:
        pytest.skip("fault injection needs the simulator")
    simulator.reset()
    yield simulator
    simulator.reset()


@pytest.fixture
async def http(comfy_backend: str) -> AsyncIterator[ComfyHttpClient]:
    async with ComfyHttpClient(comfy_backend, backend="test") as client:
        yield client


@pytest.fixture
async def connection(http: ComfyHttpClient) -> AsyncIterator[BackendConnection]:
    policy = ReconnectPolicy(initial=0.05, maximum=0.5, budget=10.0)
    async with BackendConnection(http, policy=policy) as opened:
        yield opened


Graph = dict[str, Any]


@pytest.fixture
def invert_graph() -> Callable[..., Graph]:
    """``invert_graph(prefix=, color=, size=)`` builds the smallest graph with an output."""
    return build_invert_graph


def build_invert_graph(prefix: str = "cgw", color: int = 0, size: int = 32) -> Graph:
    """EmptyImage → ImageInvert → SaveImage: the smallest graph with an output."""
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": size, "height": size, "batch_size": 1, "color": color},
        },
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": prefix}},
    }
