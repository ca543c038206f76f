"""Fixtures for the simulator's own integration tests: the shared process, reset per test."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from support.simulator_process import SimulatorProcess


@pytest.fixture
def sim(simulator: SimulatorProcess) -> Iterator[SimulatorProcess]:
    """The session's simulator, reset before and after the test."""
    simulator.reset()
    yield simulator
    simulator.reset()


@pytest.fixture
async def http(sim: SimulatorProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=sim.url, timeout=10.0) as client:
        yield client
