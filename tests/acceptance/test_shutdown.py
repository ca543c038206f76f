"""Both gateway commands stop cleanly on SIGINT, as an operator's Ctrl-C expects."""

from __future__ import annotations

from pathlib import Path

from support.gateway_process import run_serve, run_worker
from support.simulator_process import SimulatorProcess


def test_serve_and_worker_exit_0_on_sigint(sim: SimulatorProcess, tmp_path: Path) -> None:
    with (
        run_serve(tmp_path, [sim.url], extra_args=["--no-worker"]) as api,
        run_worker(tmp_path, [sim.url]) as worker,
    ):
        assert worker.url is None
        with api.client() as client:
            assert client.get("/health").status_code == 200
    for process in (api, worker):
        assert process.stopped_by == "SIGINT", process.log_tail()
        assert process.process.returncode == 0, process.log_tail()
