"""Large output: one 1 GiB file from the backend into the gateway's storage and out again.

Starts the simulator and ``comfy-gateway serve`` (API keys on, default settings) as real
processes, or uses ``--comfy-url`` (which must list the simulator-only node class). One
job runs ``SimulatorOnlyLargeFile`` (``--size-mb`` MiB); the client submits with ``wait``
and then streams ``GET /v1/jobs/{id}/outputs/0`` in chunks, checking its sha256.

Figures (MB = 10^6 bytes for rates; memory in MiB):
- backend → storage: the output's ``size_bytes`` ÷ the job's ``timings.collect_ms``;
- storage → client: bytes read ÷ the timed streaming download;
- end to end: submit until the last byte was read;
- the ``serve`` process's peak RSS growth: VmHWM after the download − VmHWM just before
  submitting (the peak is first reset to the current RSS through ``/proc/<pid>/clear_refs``
  when the kernel allows it, so an earlier start-up peak cannot hide the transfer's).
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench_processes import (
    HEADERS,
    CpuClock,
    machine,
    proc_status_kib,
    reset_peak_rss,
    running_gateway,
    serve_args,
)
from comfy_gateway.dev_simulator import running_dev_simulator

CLASS_TYPE = "SimulatorOnlyLargeFile"
MIB = 1 << 20
DOWNLOAD_CHUNK = MIB
WAIT_TIMEOUT_S = 600.0
TARGET_GROWTH_MIB = 64.0


class MissingNodeClass(Exception):
    """The backend does not offer the simulator-only node class."""


def large_file_graph(size_mb: int, seed: int) -> dict[str, Any]:
    inputs = {"size_mb": size_mb, "filename_prefix": "bench/large", "seed": seed}
    return {"1": {"class_type": CLASS_TYPE, "inputs": inputs}}


async def check_node_class(comfy_url: str) -> None:
    async with httpx.AsyncClient(base_url=comfy_url, timeout=30) as client:
        answer = await client.get(f"/object_info/{CLASS_TYPE}")
        answer.raise_for_status()
        if CLASS_TYPE not in answer.json():
            raise MissingNodeClass(
                f"{comfy_url} has no node class {CLASS_TYPE!r} in /object_info: it is "
                "simulator-only; run without --comfy-url, or against `comfy-gateway simulate`"
            )


def memory_kib(pid: int) -> dict[str, int]:
    return {"VmHWM": proc_status_kib(pid, "VmHWM"), "VmRSS": proc_status_kib(pid, "VmRSS")}


async def submit_and_wait(client: httpx.AsyncClient, size_mb: int) -> dict[str, Any]:
    body = {
        "workflow": large_file_graph(size_mb, time.time_ns() % 1_000_000_007),
        "wait": True,
        "wait_timeout_s": WAIT_TIMEOUT_S,
    }
    answer = await client.post("/v1/jobs", json=body)
    job: dict[str, Any] = answer.json()
    if answer.status_code != 200 or job.get("status") != "completed":
        raise RuntimeError(f"job did not complete: {answer.status_code} {job}")
    return job


async def download(client: httpx.AsyncClient, url: str) -> tuple[int, str, float]:
    """Stream the output: (bytes read, their sha256, seconds from request to last byte)."""
    digest = hashlib.sha256()
    size = 0
    started = time.perf_counter()
    async with client.stream("GET", url) as answer:
        answer.raise_for_status()
        async for chunk in answer.aiter_bytes(DOWNLOAD_CHUNK):
            digest.update(chunk)
            size += len(chunk)
    return size, digest.hexdigest(), time.perf_counter() - started


def megabytes_per_second(size: int, seconds: float) -> float | None:
    return round(size / 1e6 / seconds, 1) if seconds > 0 else None


async def transfer(gateway_url: str, pid: int, size_mb: int) -> dict[str, Any]:
    async with httpx.AsyncClient(base_url=gateway_url, headers=HEADERS, timeout=None) as client:
        peak_reset = reset_peak_rss(pid)
        before = memory_kib(pid)
        started = time.perf_counter()
        job = await submit_and_wait(client, size_mb)
        output = job["outputs"][0]
        size, sha256, download_s = await download(client, output["url"])
        end_to_end_s = time.perf_counter() - started
        after = memory_kib(pid)
    if size != output["size_bytes"] or sha256 != output["sha256"]:
        raise RuntimeError(f"download mismatch: {size} bytes, sha256 {sha256}, job {output}")
    if size != size_mb * MIB:
        raise RuntimeError(f"output is {size} bytes, expected {size_mb} MiB")
    return figures(job, size, download_s, end_to_end_s, (before, after, peak_reset))


def figures(
    job: dict[str, Any],
    size: int,
    download_s: float,
    end_to_end_s: float,
    memory: tuple[dict[str, int], dict[str, int], bool],
) -> dict[str, Any]:
    before, after, peak_reset = memory
    collect_ms = job["timings"].get("collect_ms")
    growth_mib = (after["VmHWM"] - before["VmHWM"]) / 1024
    return {
        "size_mib": size // MIB,
        "timings_ms": job["timings"],
        "backend_to_storage_MB_per_s": (
            megabytes_per_second(size, collect_ms / 1000) if collect_ms else None
        ),
        "storage_to_client_MB_per_s": megabytes_per_second(size, download_s),
        "download_s": round(download_s, 3),
        "end_to_end_s": round(end_to_end_s, 3),
        "serve_memory": {
            "peak_reset_before_submit": peak_reset,
            "vmhwm_before_mib": round(before["VmHWM"] / 1024, 1),
            "vmhwm_after_mib": round(after["VmHWM"] / 1024, 1),
            "vmrss_before_mib": round(before["VmRSS"] / 1024, 1),
            "vmrss_after_mib": round(after["VmRSS"] / 1024, 1),
            "peak_rss_growth_mib": round(growth_mib, 1),
            "target_growth_mib": TARGET_GROWTH_MIB,
            "within_target": growth_mib <= TARGET_GROWTH_MIB,
        },
        "sha256_checked": True,
    }


async def measure(folder: Path, comfy_url: str, size_mb: int, target: str) -> dict[str, Any]:
    await check_node_class(comfy_url)
    with running_gateway(serve_args(folder / "gateway", comfy_url)) as gateway:
        assert gateway.url is not None
        clock = CpuClock()
        result = await transfer(gateway.url, gateway.process.pid, size_mb)
        return {
            "benchmark": "large_output",
            "target": target,
            **result,
            "load_generator": clock.share(),
            "machine": machine(),
        }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        if args.comfy_url:
            return await measure(Path(folder), args.comfy_url, args.size_mb, args.comfy_url)
        async with running_dev_simulator(Path(folder) / "sim") as comfy_url:
            return await measure(Path(folder), comfy_url, args.size_mb, "simulator")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--size-mb", type=int, default=1024, help="output size in MiB")
    parser.add_argument("--comfy-url", default=None)
    args = parser.parse_args()
    try:
        result = asyncio.run(main_async(args))
    except MissingNodeClass as exc:
        print(f"error: {exc}", file=sys.stderr)
        raise SystemExit(2) from exc
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
