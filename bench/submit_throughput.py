"""Submit throughput: 64 concurrent clients send N (default 10,000) distinct jobs.

The gateway runs as ``comfy-gateway serve`` with default settings (API keys on, its
worker on) and a backend URL nobody answers, so no job starts and the figure is the
intake alone: a 202 means the job is committed. The clients
spread over 16 tenants so that the default per-tenant queue limit (1,000) holds. Afterwards every
accepted job must be found by listing the tenant's jobs through the API with the cursor.
Prints accepted/s, latency percentiles and the load generator's own CPU share.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench_processes import (
    TENANT_KEYS,
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

PAGE_SIZE = 500


async def client_loop(
    url: str, api_key: str, colours: list[int], latencies: list[float], ids: list[str]
) -> None:
    async with RawHttpConnection(url, {"X-API-Key": api_key}) as connection:
        while colours:
            colour = colours.pop()
            started = time.perf_counter()
            answer = await connection.post_json("/v1/jobs", {"workflow": tiny_graph(colour)})
            latencies.append((time.perf_counter() - started) * 1000)
            if answer.status != 202:
                raise RuntimeError(f"submit refused: {answer.status} {answer.body!r}")
            ids.append(answer.json()["job_id"])


async def submit_all(url: str, count: int, clients: int) -> tuple[float, list[float], list[str]]:
    """Client ``i`` submits for tenant ``i % TENANT_COUNT``, from that tenant's share."""
    base = colour_offset()
    keys = list(TENANT_KEYS.values())
    shares: list[list[int]] = [[] for _ in keys]
    for index in range(count):
        shares[index % len(keys)].append(base + index)
    latencies: list[float] = []
    ids: list[str] = []
    loops = (
        client_loop(url, keys[number % len(keys)], shares[number % len(keys)], latencies, ids)
        for number in range(clients)
    )
    started = time.perf_counter()
    await asyncio.gather(*loops)
    return time.perf_counter() - started, latencies, ids


async def listed_ids(url: str, api_key: str) -> set[str]:
    """Every job id of one tenant, page by page with the cursor."""
    found: set[str] = set()
    cursor: str | None = None
    headers = {"X-API-Key": api_key}
    async with httpx.AsyncClient(base_url=url, headers=headers, timeout=120) as client:
        while True:
            params: dict[str, Any] = {"limit": PAGE_SIZE}
            if cursor:
                params["cursor"] = cursor
            page = (await client.get("/v1/jobs", params=params)).raise_for_status().json()
            found.update(job["job_id"] for job in page["jobs"])
            cursor = page["next_cursor"]
            if not cursor:
                return found


async def all_listed_ids(url: str) -> set[str]:
    found: set[str] = set()
    for api_key in TENANT_KEYS.values():
        found |= await listed_ids(url, api_key)
    return found


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        arguments = serve_args(Path(folder), args.comfy_url)
        with running_gateway(arguments) as gateway:
            assert gateway.url is not None
            clock, serve_clock = CpuClock(), ProcessCpuClock(gateway.process.pid)
            elapsed, latencies, ids = await submit_all(gateway.url, args.count, args.clients)
            load, serve_cpu = clock.share(), serve_clock.share()
            missing = set(ids) - await all_listed_ids(gateway.url)
    return {
        "benchmark": "submit_throughput",
        "server": "serve (worker on, its backend unreachable: intake only)",
        "clients": args.clients,
        "tenants": len(TENANT_KEYS),
        "submissions": args.count,
        "accepted": len(ids),
        "accepted_per_s": round(len(ids) / elapsed, 1),
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "all_jobs_listed": not missing and len(set(ids)) == args.count,
        "missing_from_list": len(missing),
        "target_accepted_per_s": 2000,
        "load_generator": load,
        "serve_cpu": serve_cpu,
        "machine": machine(),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--comfy-url", default=UNANSWERED_BACKEND)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args)), indent=2))


if __name__ == "__main__":
    main()
