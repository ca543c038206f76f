"""Fixtures: the shared simulator reset around each test, and a worker running on it."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

from integration.worker.harness import WorkerHarness, running_worker
from support.simulator_process import SimulatorProcess


@pytest.fixture
def sim(simulator: SimulatorProcess) -> Iterator[SimulatorProcess]:
    simulator.reset()
    yield simulator
    simulator.reset()


@pytest.fixture
async def harness(sim: SimulatorProcess, tmp_path: Path) -> AsyncIterator[WorkerHarness]:
    async with running_worker(sim.url, tmp_path) as running:
        yield running
