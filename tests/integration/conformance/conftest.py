"""A clean simulator per conformance test (shared process, state reset between tests)."""

from __future__ import annotations

import shutil
from collections.abc import AsyncIterator

import httpx
import pytest

from support.simulator_process import SimulatorProcess

# The captured runs numbered their files from 00001: earlier outputs must not linger.
DATA_FOLDERS = ("input", "output", "temp")


def _empty_data_folders(sim: SimulatorProcess) -> None:
    for name in DATA_FOLDERS:
        folder = sim.data_dir / name
        if not folder.is_dir():
            continue
        for child in folder.iterdir():
            if child.is_dir():
                shutil.rmtree(child)
            else:
                child.unlink()


@pytest.fixture
def clean_simulator(simulator: SimulatorProcess) -> SimulatorProcess:
    simulator.reset()
    _empty_data_folders(simulator)
    return simulator


@pytest.fixture
async def sim_http(clean_simulator: SimulatorProcess) -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(base_url=clean_simulator.url, timeout=10.0) as client:
        yield client
