"""Big store: p99 of create, get, list (page 1 and page 50) and claim with many jobs stored.

Inserts ``--count`` jobs (default 100,000) over 10 tenants through the store API
(``open_sqlite_store`` + ``create_job``) with realistic rows: a graph, resolved
parameters and requirements. Then times gets of random jobs, list pages 1 and 50 of one
tenant, and claims. The load generator is this process (the store runs in it), so its
CPU share is the store's. Prints JSON figures.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import random
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from bench_processes import CpuClock, machine, percentile, tiny_graph
from comfy_gateway.jobs.ids import new_job_id
from comfy_gateway.jobs.model import NewJob
from comfy_gateway.store import SqlJobStore, open_sqlite_store

TENANTS = [f"tenant-{index}" for index in range(10)]
PAGE_SIZE = 50
DEEP_PAGE = 50
SAMPLES = 300
LEASE_S = 60.0


def realistic_job(index: int) -> NewJob:
    return NewJob(
        job_id=new_job_id(),
        tenant_id=TENANTS[index % len(TENANTS)],
        workflow=tiny_graph(index),
        priority=index % 3,
        resolved_params={"seed": index, "prompt": f"a lighthouse at dusk, variant {index}"},
        requirements={"node_classes": ["EmptyImage", "ImageInvert", "SaveImage"], "models": []},
    )


def summary(latencies: list[float]) -> dict[str, float]:
    return {
        "samples": len(latencies),
        "p50_ms": round(statistics.median(latencies), 3),
        "p99_ms": round(percentile(latencies, 0.99), 3),
    }


async def timed(action: Callable[[], Awaitable[Any]], samples: int) -> list[float]:
    latencies = []
    for _ in range(samples):
        started = time.perf_counter()
        await action()
        latencies.append((time.perf_counter() - started) * 1000)
    return latencies


async def fill(store: SqlJobStore, count: int) -> tuple[list[NewJob], list[float]]:
    jobs = [realistic_job(index) for index in range(count)]
    latencies = []
    for job in jobs:
        started = time.perf_counter()
        await store.create_job(job)
        latencies.append((time.perf_counter() - started) * 1000)
    return jobs, latencies


async def deep_cursor(store: SqlJobStore, tenant: str) -> tuple[int, str | None]:
    """The cursor of page ``DEEP_PAGE`` (or of the last page when there are fewer)."""
    cursor: str | None = None
    page_number = 1
    while page_number < DEEP_PAGE:
        page = await store.list_jobs(tenant, None, PAGE_SIZE, cursor)
        if page.next_cursor is None:
            break
        cursor, page_number = page.next_cursor, page_number + 1
    return page_number, cursor


async def measure(store: SqlJobStore, args: argparse.Namespace) -> dict[str, Any]:
    clock = CpuClock()
    jobs, creates = await fill(store, args.count)
    chooser = random.Random(1)
    tenant = TENANTS[0]
    deep_page, cursor = await deep_cursor(store, tenant)

    async def get_random() -> None:
        job = chooser.choice(jobs)
        await store.get_job(job.tenant_id, job.job_id)

    gets = await timed(get_random, SAMPLES)
    first_pages = await timed(lambda: store.list_jobs(tenant, None, PAGE_SIZE), SAMPLES)
    deep_pages = await timed(lambda: store.list_jobs(tenant, None, PAGE_SIZE, cursor), SAMPLES)
    claims = await timed(lambda: store.claim_next_job("bench-worker", LEASE_S), SAMPLES)
    return {
        "benchmark": "big_store",
        "store": "sqlite",
        "jobs_stored": args.count,
        "tenants": len(TENANTS),
        "create": summary(creates),
        "get": summary(gets),
        "list_page_1": summary(first_pages),
        "list_deep_page": {"page": deep_page, **summary(deep_pages)},
        "claim": summary(claims),
        "target_p99_ms": 10.0,
        "load_generator": clock.share(),
        "machine": machine(),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        store = await open_sqlite_store(Path(folder) / "jobs.sqlite3")
        try:
            return await measure(store, args)
        finally:
            await store.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=100_000)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args)), indent=2))


if __name__ == "__main__":
    main()
