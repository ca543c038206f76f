"""Back-to-back: does the backend ever wait for the gateway between two queued jobs?

The simulator makes one node take 50 ms. The API starts with ``--no-worker`` so that all
jobs (each graph distinct) are queued before the first starts; then ``comfy-gateway
worker`` starts and drains them. Makespan (last execution end − first execution start on
the backend, from ``/_sim/executions``) ÷ the sum of the prompts' own durations: 1.00 means
the backend never idled. Beside it, a direct client submitting and waiting one by one.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from pathlib import Path
from typing import Any

import httpx

from bench_processes import (
    HEADERS,
    CpuClock,
    colour_offset,
    machine,
    running_gateway,
    serve_args,
    tiny_graph,
    worker_args,
)
from comfy_gateway.comfy import BackendConnection, ComfyHttpClient, PromptSucceeded, run_prompt
from comfy_gateway.dev_simulator import running_dev_simulator

SLOW_CLASS = "ImageInvert"
DRAIN_TIMEOUT_S = 300.0
POLL_INTERVAL_S = 0.2


async def executions(comfy_url: str) -> list[dict[str, Any]]:
    async with httpx.AsyncClient(base_url=comfy_url, timeout=30) as client:
        answer = await client.get("/_sim/executions")
        answer.raise_for_status()
        found: list[dict[str, Any]] = answer.json()["executions"]
        return found


async def wait_for_ended(comfy_url: str, skip: int, count: int) -> list[dict[str, Any]]:
    """Poll the backend's record until ``count`` executions after the first ``skip`` ended."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    while time.monotonic() < deadline:
        runs = (await executions(comfy_url))[skip:]
        if sum(run["ended_at"] is not None for run in runs) >= count:
            return runs
        await asyncio.sleep(POLL_INTERVAL_S)
    raise RuntimeError(f"the backend did not finish {count} prompts in {DRAIN_TIMEOUT_S} s")


def makespan_figures(runs: list[dict[str, Any]]) -> dict[str, Any]:
    start = min(run["started_at"] for run in runs)
    end = max(run["ended_at"] for run in runs)
    busy = sum(run["ended_at"] - run["started_at"] for run in runs)
    return {
        "prompts": len(runs),
        "failed": sum(run["outcome"] != "success" for run in runs),
        "makespan_s": round(end - start, 3),
        "execution_sum_s": round(busy, 3),
        "makespan_ratio": round((end - start) / busy, 4),
        "mean_gap_ms": round((end - start - busy) / max(1, len(runs) - 1) * 1000, 2),
    }


async def submit_all(gateway_url: str, count: int, colour: int) -> list[str]:
    async with httpx.AsyncClient(base_url=gateway_url, headers=HEADERS, timeout=60) as client:
        ids = []
        for index in range(count):
            answer = await client.post("/v1/jobs", json={"workflow": tiny_graph(colour + index)})
            if answer.status_code != 202:
                raise RuntimeError(f"submit refused: {answer.status_code} {answer.text}")
            ids.append(answer.json()["job_id"])
        return ids


async def statuses(gateway_url: str, ids: list[str]) -> dict[str, int]:
    counts: dict[str, int] = {}
    async with httpx.AsyncClient(base_url=gateway_url, headers=HEADERS, timeout=60) as client:
        for job_id in ids:
            status = (await client.get(f"/v1/jobs/{job_id}")).json()["status"]
            counts[status] = counts.get(status, 0) + 1
    return counts


async def through_gateway(folder: Path, comfy_url: str, count: int) -> dict[str, Any]:
    data_dir = folder / "gateway"
    with running_gateway(serve_args(data_dir, comfy_url, ["--no-worker"])) as api:
        assert api.url is not None
        skip = len(await executions(comfy_url))
        ids = await submit_all(api.url, count, colour_offset())
        with running_gateway(worker_args(data_dir, comfy_url)):
            runs = await wait_for_ended(comfy_url, skip, count)
        figures = makespan_figures(runs)
        figures["job_statuses"] = await statuses(api.url, ids)
        return figures


async def direct_one_by_one(comfy_url: str, count: int) -> dict[str, Any]:
    skip = len(await executions(comfy_url))
    colour = colour_offset() + 5_000_000
    async with ComfyHttpClient(comfy_url) as http, BackendConnection(http) as connection:
        for index in range(count):
            prompt = run_prompt(http, connection, tiny_graph(colour + index), timeout=60)
            result = await prompt.wait()
            if not isinstance(result, PromptSucceeded):
                raise RuntimeError(f"direct prompt did not succeed: {result}")
    return makespan_figures(await wait_for_ended(comfy_url, skip, count))


async def slow_down(comfy_url: str, seconds: float) -> None:
    async with httpx.AsyncClient(base_url=comfy_url, timeout=30) as client:
        body = {"node_seconds": 0.0, "node_seconds_by_class": {SLOW_CLASS: seconds}}
        (await client.put("/_sim/config", json=body)).raise_for_status()


async def measure(folder: Path, comfy_url: str, args: argparse.Namespace) -> dict[str, Any]:
    clock = CpuClock()
    await slow_down(comfy_url, args.node_ms / 1000)
    gateway = await through_gateway(folder, comfy_url, args.count)
    direct = await direct_one_by_one(comfy_url, args.count)
    return {
        "benchmark": "back_to_back",
        "target": "simulator",
        "node_ms": args.node_ms,
        "gateway_queued": gateway,
        "direct_one_by_one": direct,
        "target_makespan_ratio": 1.02,
        "load_generator": clock.share(),
        "machine": machine(),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        async with running_dev_simulator(Path(folder) / "sim") as comfy_url:
            return await measure(Path(folder), comfy_url, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--node-ms", type=float, default=50.0)
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args)), indent=2))


if __name__ == "__main__":
    main()
