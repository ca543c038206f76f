"""Fixtures shared by every test tier."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from support.simulator_process import SimulatorProcess, run_simulator

SHARED_DIR = Path(__file__).resolve().parents[1].parent / "shared"


@pytest.fixture(scope="session")
def shared_comfyui_dir() -> Path:
    """`../shared/comfyui` beside the clone (the captured ground truth)."""
    path = SHARED_DIR / "comfyui"
    if not path.is_dir():
        if os.environ.get("CI"):
            pytest.fail(f"{path} is missing; CI runs with shared/ beside the clone")
        pytest.skip(f"{path} is not present")
    return path


@pytest.fixture(scope="session")
def simulator(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SimulatorProcess]:
    """One simulator process shared by the session; call `.reset()` for a clean state."""
    with run_simulator(tmp_path_factory.mktemp("simulator")) as sim:
        yield sim


@pytest.fixture
def fresh_simulator(tmp_path: Path) -> Iterator[SimulatorProcess]:
    """A simulator process of the test's own (for fault injection that kills it)."""
    with run_simulator(tmp_path / "simulator") as sim:
        yield sim
