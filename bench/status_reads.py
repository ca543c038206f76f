"""Status reads: ``GET /v1/jobs/{id}`` per second under 64 concurrent readers.

The gateway runs as ``comfy-gateway serve`` with default settings (API keys on, its
worker on) and a backend URL nobody answers; a few hundred jobs are submitted first,
then 64 readers each read random job ids for about ``--seconds`` (default 10). Prints
reads/s, latency percentiles and the load generator's own CPU share.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

from bench_processes import (
    HEADERS,
    UNANSWERED_BACKEND,
    CpuClock,
    ProcessCpuClock,
    colour_offset,
    machine,
    percentile,
    running_gateway,
    serve_args,
    tiny_graph,
)
from raw_http import RawHttpConnection


async def seed_jobs(url: str, count: int) -> list[str]:
    base = colour_offset()
    ids = []
    async with RawHttpConnection(url, HEADERS) as connection:
        for index in range(count):
            answer = await connection.post_json("/v1/jobs", {"workflow": tiny_graph(base + index)})
            if answer.status != 202:
                raise RuntimeError(f"submit refused: {answer.status} {answer.body!r}")
            ids.append(answer.json()["job_id"])
    return ids


async def reader(url: str, ids: list[str], until: float, latencies: list[float]) -> None:
    chooser = random.Random(len(latencies))
    async with RawHttpConnection(url, HEADERS) as connection:
        while time.perf_counter() < until:
            job_id = chooser.choice(ids)
            started = time.perf_counter()
            answer = await connection.get(f"/v1/jobs/{job_id}")
            latencies.append((time.perf_counter() - started) * 1000)
            if answer.status != 200 or answer.json()["job_id"] != job_id:
                raise RuntimeError(f"read failed: {answer.status} {answer.body!r}")


async def read_for(
    url: str, serve_pid: int, args: argparse.Namespace
) -> tuple[float, list[float], dict[str, dict[str, float]]]:
    ids = await seed_jobs(url, args.jobs)
    latencies: list[float] = []
    clock, serve_clock = CpuClock(), ProcessCpuClock(serve_pid)  # the reads, not the seeding
    started = time.perf_counter()
    until = started + args.seconds
    await asyncio.gather(*(reader(url, ids, until, latencies) for _ in range(args.readers)))
    cpu = {"load_generator": clock.share(), "serve": serve_clock.share()}
    return time.perf_counter() - started, latencies, cpu


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        arguments = serve_args(Path(folder), args.comfy_url)
        with running_gateway(arguments) as gateway:
            assert gateway.url is not None
            elapsed, latencies, cpu = await read_for(gateway.url, gateway.process.pid, args)
    return {
        "benchmark": "status_reads",
        "server": "serve (worker on, its backend unreachable)",
        "readers": args.readers,
        "jobs_stored": args.jobs,
        "reads": len(latencies),
        "seconds": round(elapsed, 2),
        "reads_per_s": round(len(latencies) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "target_reads_per_s": 5000,
        "load_generator": cpu["load_generator"],
        "serve_cpu": cpu["serve"],
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--readers", type=int, default=64)
    parser.add_argument("--jobs", type=int, default=200)
    parser.add_argument("--comfy-url", default=UNANSWERED_BACKEND)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args)), indent=2))


if __name__ == "__main__":
    main()
