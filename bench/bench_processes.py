"""What every benchmark shares: the gateway as a real process, the machine, percentiles.

The gateway runs as ``python -m comfy_gateway serve`` (or ``worker``) with API keys on and
default settings; we wait for its ``GATEWAY READY`` line rather than sleeping, and stop it
with SIGINT, then SIGTERM, then SIGKILL. Benchmarks run from ``bench/`` as scripts, so
this module is imported by name (it must not import anything from ``tests/``).
"""

from __future__ import annotations

import os
import platform
import resource
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

#: Several tenants, because the default per-tenant queue limit (1,000 queued jobs) would
#: refuse a 10,000-job burst from one tenant; benchmarks keep the default settings.
TENANT_COUNT = 16
TENANT_KEYS = {
    f"bench-{index}": f"bench-key-{index:02d}-0123456789abcdef" for index in range(TENANT_COUNT)
}
API_KEYS_SETTING = ",".join(f"{tenant}:{key}" for tenant, key in TENANT_KEYS.items())
API_KEY = TENANT_KEYS["bench-0"]
HEADERS = {"X-API-Key": API_KEY}
READY_PREFIX = "GATEWAY READY "
#: A backend URL nobody answers: a gateway given it never claims a job (intake only).
UNANSWERED_BACKEND = "http://127.0.0.1:9"
START_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 20.0


@dataclass
class GatewayProcess:
    """A running gateway: base URL (None for a worker), the process and its output."""

    url: str | None
    process: subprocess.Popen[str]
    output_lines: list[str] = field(default_factory=list)


def machine() -> dict[str, Any]:
    return {
        "cpus": os.cpu_count(),
        "platform": platform.platform(),
        "python": platform.python_version(),
    }


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


def tiny_graph(colour: int) -> dict[str, Any]:
    """EmptyImage → ImageInvert → SaveImage; a new colour each time defeats the cache."""
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": colour},
        },
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "b"}},
    }


def colour_offset() -> int:
    """A start colour unlikely to repeat across runs against one long-lived backend."""
    return int(time.time() * 1000) % 10_000_000


class CpuClock:
    """This process's CPU seconds against wall seconds: the load generator's share."""

    def __init__(self) -> None:
        self._cpu = self._cpu_now()
        self._wall = time.perf_counter()

    @staticmethod
    def _cpu_now() -> float:
        usage = resource.getrusage(resource.RUSAGE_SELF)
        return usage.ru_utime + usage.ru_stime

    def share(self) -> dict[str, float]:
        cpu = self._cpu_now() - self._cpu
        wall = time.perf_counter() - self._wall
        return {"cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "cpu_share": round(cpu / wall, 3)}


def process_cpu_s(pid: int) -> float:
    """User + system CPU seconds of process ``pid``, all its threads (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


class ProcessCpuClock:
    """Another process's CPU seconds against wall seconds: how much of a core ``serve``
    used while a benchmark ran."""

    def __init__(self, pid: int) -> None:
        self._pid = pid
        self._cpu = self._cpu_now()
        self._wall = time.perf_counter()

    def _cpu_now(self) -> float:
        return process_cpu_s(self._pid)

    def share(self) -> dict[str, float]:
        cpu = self._cpu_now() - self._cpu
        wall = time.perf_counter() - self._wall
        return {"cpu_s": round(cpu, 2), "wall_s": round(wall, 2), "cpu_share": round(cpu / wall, 3)}


def proc_status_kib(pid: int, field_name: str) -> int:
    """A ``kB`` line of ``/proc/<pid>/status`` (``VmHWM``: peak RSS, ``VmRSS``: current)."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        name, _, value = line.partition(":")
        if name == field_name:
            return int(value.split()[0])
    raise KeyError(f"{field_name} not in /proc/{pid}/status")


def reset_peak_rss(pid: int) -> bool:
    """Reset the process's VmHWM to its current RSS (Linux ``clear_refs`` 5); False if refused."""
    try:
        Path(f"/proc/{pid}/clear_refs").write_text("5")
    except OSError:
        return False
    return True


def gateway_env() -> dict[str, str]:
    """Our environment without COMFY_GATEWAY_* settings, plus the bench API key."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("COMFY_GATEWAY_")}
    env["PYTHONUNBUFFERED"] = "1"
    env["COMFY_GATEWAY_API_KEYS"] = API_KEYS_SETTING
    return env


def _pump(stream: IO[str], sink: list[str], ready: threading.Event, found: list[str]) -> None:
    for line in stream:
        sink.append(line)
        del sink[:-200]  # keep only the tail: a long run must not grow our memory
        if line.startswith(READY_PREFIX) and not found:
            found.append(line[len(READY_PREFIX) :].strip())
            ready.set()
    ready.set()  # stream closed: the process ended


def serve_args(data_dir: Path, comfy_url: str, extra: Sequence[str] = ()) -> list[str]:
    return [
        *("serve", "--host", "127.0.0.1", "--port", "0", "--data-dir", str(data_dir)),
        *("--comfy-url", comfy_url, *extra),
    ]


def worker_args(data_dir: Path, comfy_url: str) -> list[str]:
    return ["worker", "--data-dir", str(data_dir), "--comfy-url", comfy_url]


@contextmanager
def running_gateway(arguments: Sequence[str]) -> Iterator[GatewayProcess]:
    """``python -m comfy_gateway ARGUMENTS`` until the block ends."""
    process = subprocess.Popen(
        [sys.executable, "-m", "comfy_gateway", *arguments],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env=gateway_env(),
    )
    assert process.stdout is not None
    lines: list[str] = []
    found: list[str] = []
    ready = threading.Event()
    pump = threading.Thread(target=_pump, args=(process.stdout, lines, ready, found), daemon=True)
    pump.start()
    try:
        ready.wait(START_TIMEOUT_S)
        if not found:
            raise RuntimeError("gateway did not start:\n" + "".join(lines))
        url = found[0] if found[0].startswith("http") else None
        yield GatewayProcess(url=url, process=process, output_lines=lines)
    finally:
        stop_process(process)
        pump.join(5)


def stop_process(process: subprocess.Popen[str]) -> None:
    """SIGINT, then SIGTERM, then SIGKILL, each given a timeout to work."""
    for stop in (lambda: process.send_signal(signal.SIGINT), process.terminate, process.kill):
        if process.poll() is not None:
            return
        stop()
        try:
            process.wait(STOP_TIMEOUT_S)
            return
        except subprocess.TimeoutExpired:
            continue
