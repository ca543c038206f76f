"""Start the gateway (`comfy-gateway serve` or `worker`) as a real subprocess for tests.

Both commands print ``GATEWAY READY ...`` on stdout once they are usable (``serve``: the
base URL it listens on; ``worker``: the word ``worker``). We wait for that line instead of
sleeping, keep every output line for failure messages, and stop the process the way an
operator would: SIGINT, then SIGTERM, then SIGKILL if it will not go.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import IO

import httpx

READY_PREFIX = "GATEWAY READY "
START_TIMEOUT_S = 30.0
STOP_TIMEOUT_S = 20.0
#: Settings of the test runner's own environment must not leak into the gateway under test.
_SETTINGS_PREFIX = "COMFY_GATEWAY_"


@dataclass
class GatewayProcess:
    """A running gateway process: its base URL (None for a worker), data folder, output."""

    url: str | None
    data_dir: Path
    process: subprocess.Popen[str]
    output_lines: list[str] = field(default_factory=list)
    #: Set when the block ends: the signal that stopped the process (None: it had exited).
    stopped_by: str | None = None

    def client(self, api_key: str | None = None, timeout: float = 30.0) -> httpx.Client:
        """An HTTP client for the API, sending ``api_key`` as ``X-API-Key`` when given."""
        return httpx.Client(
            base_url=self._base_url(), headers=_key_header(api_key), timeout=timeout
        )

    def async_client(
        self, api_key: str | None = None, timeout: float = 30.0, max_connections: int = 64
    ) -> httpx.AsyncClient:
        limits = httpx.Limits(max_connections=max_connections)
        return httpx.AsyncClient(
            base_url=self._base_url(), headers=_key_header(api_key), timeout=timeout, limits=limits
        )

    def log_tail(self, lines: int = 60) -> str:
        """The last output lines, to put in an assertion message."""
        return "".join(self.output_lines[-lines:])

    def _base_url(self) -> str:
        if self.url is None:
            raise RuntimeError("a worker process serves no HTTP API")
        return self.url


def _key_header(api_key: str | None) -> dict[str, str]:
    return {} if api_key is None else {"X-API-Key": api_key}


def _pump(stream: IO[str], sink: list[str], ready: threading.Event, found: list[str]) -> None:
    for line in stream:
        sink.append(line)
        if line.startswith(READY_PREFIX) and not found:
            found.append(line[len(READY_PREFIX) :].strip())
            ready.set()
    ready.set()  # stream closed: the process ended


def gateway_env(extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """The runner's environment without its COMFY_GATEWAY_* settings, plus ``extra``."""
    env = {
        name: value for name, value in os.environ.items() if not name.startswith(_SETTINGS_PREFIX)
    }
    env["PYTHONUNBUFFERED"] = "1"
    env.update(extra or {})
    return env


def serve_command(
    data_dir: Path, comfy_urls: Sequence[str], extra_args: Sequence[str]
) -> list[str]:
    urls = [arg for url in comfy_urls for arg in ("--comfy-url", url)]
    return [
        *("serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data_dir)),
        *urls,
        *extra_args,
    ]


def worker_command(data_dir: Path, comfy_urls: Sequence[str]) -> list[str]:
    urls = [arg for url in comfy_urls for arg in ("--comfy-url", url)]
    return ["worker", "--data-dir", str(data_dir), *urls]


@contextmanager
def run_serve(
    data_dir: Path,
    comfy_urls: Sequence[str],
    extra_args: Sequence[str] = (),
    env: Mapping[str, str] | None = None,
) -> Iterator[GatewayProcess]:
    """``comfy-gateway serve --port 0`` until the block ends."""
    with run_gateway(serve_command(data_dir, comfy_urls, extra_args), data_dir, env) as gateway:
        yield gateway


@contextmanager
def run_worker(
    data_dir: Path, comfy_urls: Sequence[str], env: Mapping[str, str] | None = None
) -> Iterator[GatewayProcess]:
    """``comfy-gateway worker`` until the block ends (its ``url`` is None)."""
    with run_gateway(worker_command(data_dir, comfy_urls), data_dir, env) as gateway:
        yield gateway


@contextmanager
def run_gateway(
    arguments: Sequence[str], data_dir: Path, env: Mapping[str, str] | None = None
) -> Iterator[GatewayProcess]:
    """Run ``python -m comfy_gateway ARGUMENTS``, wait for READY, stop it when the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", "comfy_gateway", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=gateway_env(env),
    )
    lines: list[str] = []
    found: list[str] = []
    ready = threading.Event()
    assert process.stdout is not None
    pump = threading.Thread(target=_pump, args=(process.stdout, lines, ready, found), daemon=True)
    pump.start()
    gateway = GatewayProcess(url=None, data_dir=data_dir, process=process, output_lines=lines)
    try:
        ready.wait(START_TIMEOUT_S)
        if not found:
            raise RuntimeError("gateway did not start:\n" + "".join(lines))
        gateway.url = found[0] if found[0].startswith("http") else None
        yield gateway
    finally:
        gateway.stopped_by = stop_process(process)
        pump.join(5)
        process.stdout.close()


def stop_process(process: subprocess.Popen[str]) -> str | None:
    """SIGINT, then SIGTERM, then SIGKILL, each after a timeout; the one that ended it
    (None if the process had already exited)."""
    stops: tuple[tuple[str, Callable[[], None]], ...] = (
        ("SIGINT", partial(process.send_signal, signal.SIGINT)),
        ("SIGTERM", process.terminate),
        ("SIGKILL", process.kill),
    )
    for name, stop in stops:
        if process.poll() is not None:
            return None
        stop()
        try:
            process.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            continue
        return name
    return None
