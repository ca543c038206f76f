"""Start the simulator as a real subprocess (`comfy-gateway simulate`) for tests.

The simulator prints ``SIMULATOR READY <base-url>`` on stdout once it accepts
connections; we wait for that line instead of sleeping or polling blindly.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import httpx

READY_PREFIX = "SIMULATOR READY "
START_TIMEOUT_S = 30.0


@dataclass
class SimulatorProcess:
    """A running simulator: its base URL, data folder and process."""

    url: str
    data_dir: Path
    process: subprocess.Popen[str]
    output_lines: list[str] = field(default_factory=list)

    @property
    def ws_url(self) -> str:
        return self.url.replace("http://", "ws://", 1) + "/ws"

    def control(self) -> httpx.Client:
        """A plain HTTP client for the simulator-only `/_sim/...` control routes."""
        return httpx.Client(base_url=self.url, timeout=10.0)

    def reset(self) -> None:
        with self.control() as client:
            client.post("/_sim/reset").raise_for_status()


def _pump(stream: object, sink: list[str], ready: threading.Event, found: list[str]) -> None:
    for line in stream:  # type: ignore[attr-defined]
        sink.append(line)
        if line.startswith(READY_PREFIX) and not found:
            found.append(line[len(READY_PREFIX) :].strip())
            ready.set()
    ready.set()  # stream closed: the process ended


@contextmanager
def run_simulator(data_dir: Path, extra_args: Sequence[str] = ()) -> Iterator[SimulatorProcess]:
    """Run ``comfy-gateway simulate --port 0`` until the block ends, then SIGINT it."""
    command = [
        sys.executable,
        "-m",
        "comfy_gateway",
        "simulate",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        *extra_args,
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        command,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=env,
    )
    lines: list[str] = []
    found: list[str] = []
    ready = threading.Event()
    pump = threading.Thread(target=_pump, args=(process.stdout, lines, ready, found), daemon=True)
    pump.start()
    try:
        ready.wait(START_TIMEOUT_S)
        if not found:
            raise RuntimeError("simulator did not start:\n" + "".join(lines))
        yield SimulatorProcess(url=found[0], data_dir=data_dir, process=process, output_lines=lines)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait(5)
        pump.join(5)
        if process.stdout is not None:
            process.stdout.close()
