"""Acceptance fixtures: a real `comfy-gateway serve` process against the session simulator."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from support.gateway_process import GatewayProcess, run_serve
from support.simulator_process import SimulatorProcess


@pytest.fixture
def sim(simulator: SimulatorProcess) -> SimulatorProcess:
    """The session simulator, reset to a clean state (no queue, history, faults, delays)."""
    simulator.reset()
    return simulator


@pytest.fixture(scope="module")
def gateway(
    simulator: SimulatorProcess, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[GatewayProcess]:
    """One `serve` process (API + worker) for the module, driving the session simulator."""
    with run_serve(tmp_path_factory.mktemp("gateway"), [simulator.url]) as process:
        yield process
