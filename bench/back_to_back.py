"""Back-to-back: does the backend ever wait for the gateway between two queued jobs?

The simulator makes one node take 50 ms. The API starts with ``--no-worker`` so that all
jobs (each graph distinct) are queued before the first starts; then ``comfy-gateway
worker`` starts and drains them. Makespan (last execution end − first execution start on
the backend, from ``/_sim/executions``) ÷ the sum of the prompts' own durations: 1.00 means
the backend never idled. Beside it, a direct client submitting and waiting one by one.

With ``--comfy-url`` (a real ComfyUI, whose node times cannot be set) the graphs run as
they are, and the times come from elsewhere: for the gateway, each job's ``started_at``
and ``timings.execution_ms`` (execution start to end as the gateway saw them on the
socket: the gateway deletes finished prompts from ComfyUI's history); for the direct
client, the ``execution_start`` / ``execution_success`` timestamps in ComfyUI's history.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import tempfile
import time
from datetime import datetime
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


async def through_gateway(
    folder: Path, comfy_url: str, count: int, *, simulated: bool
) -> dict[str, Any]:
    data_dir = folder / "gateway"
    with running_gateway(serve_args(data_dir, comfy_url, ["--no-worker"])) as api:
        assert api.url is not None
        skip = len(await executions(comfy_url)) if simulated else 0
        ids = await submit_all(api.url, count, colour_offset())
        with running_gateway(worker_args(data_dir, comfy_url)):
            if simulated:
                runs = await wait_for_ended(comfy_url, skip, count)
            else:
                runs = await runs_seen_by_gateway(api.url, ids)
        figures = makespan_figures(runs)
        figures["job_statuses"] = await statuses(api.url, ids)
        return figures


async def runs_seen_by_gateway(gateway_url: str, ids: list[str]) -> list[dict[str, Any]]:
    """Each job's execution as the gateway timed it, once every job has ended."""
    deadline = time.monotonic() + DRAIN_TIMEOUT_S
    async with httpx.AsyncClient(base_url=gateway_url, headers=HEADERS, timeout=60) as client:
        runs: list[dict[str, Any]] = []
        for job_id in ids:
            while (job := (await client.get(f"/v1/jobs/{job_id}")).json())["status"] in (
                "queued",
                "running",
            ):
                if time.monotonic() > deadline:
                    raise RuntimeError(f"job {job_id} did not end in {DRAIN_TIMEOUT_S} s")
                await asyncio.sleep(POLL_INTERVAL_S)
            runs.append(job_run(job))
        return runs


def job_run(job: dict[str, Any]) -> dict[str, Any]:
    started = datetime.fromisoformat(job["started_at"].replace("Z", "+00:00")).timestamp()
    execution_s = job["timings"].get("execution_ms", 0) / 1000
    outcome = "success" if job["status"] == "completed" else job["status"]
    return {"started_at": started, "ended_at": started + execution_s, "outcome": outcome}


async def run_from_history(http: ComfyHttpClient, prompt_id: str) -> dict[str, Any]:
    """One prompt's execution from ComfyUI's history (its messages carry timestamps)."""
    entry = await http.history(prompt_id)
    if entry is None:
        raise RuntimeError(f"prompt {prompt_id} is not in the history")
    stamps = {name: data.get("timestamp") for name, data in entry.messages}
    started, ended = stamps.get("execution_start"), stamps.get("execution_success")
    if started is None or ended is None:
        raise RuntimeError(f"prompt {prompt_id} has no start/success timestamps: {stamps}")
    return {"started_at": started / 1000, "ended_at": ended / 1000, "outcome": "success"}


async def direct_one_by_one(comfy_url: str, count: int, *, simulated: bool) -> dict[str, Any]:
    skip = len(await executions(comfy_url)) if simulated else 0
    colour = colour_offset() + 5_000_000
    prompt_ids = []
    async with ComfyHttpClient(comfy_url) as http, BackendConnection(http) as connection:
        for index in range(count):
            prompt = run_prompt(http, connection, tiny_graph(colour + index), timeout=60)
            result = await prompt.wait()
            if not isinstance(result, PromptSucceeded):
                raise RuntimeError(f"direct prompt did not succeed: {result}")
            prompt_ids.append(result.prompt_id)
        if not simulated:
            runs = [await run_from_history(http, prompt_id) for prompt_id in prompt_ids]
            return makespan_figures(runs)
    return makespan_figures(await wait_for_ended(comfy_url, skip, count))


async def slow_down(comfy_url: str, seconds: float) -> None:
    async with httpx.AsyncClient(base_url=comfy_url, timeout=30) as client:
        body = {"node_seconds": 0.0, "node_seconds_by_class": {SLOW_CLASS: seconds}}
        (await client.put("/_sim/config", json=body)).raise_for_status()


async def measure(
    folder: Path, comfy_url: str, args: argparse.Namespace, *, simulated: bool
) -> dict[str, Any]:
    clock = CpuClock()
    if simulated:
        await slow_down(comfy_url, args.node_ms / 1000)
    gateway = await through_gateway(folder, comfy_url, args.count, simulated=simulated)
    direct = await direct_one_by_one(comfy_url, args.count, simulated=simulated)
    return {
        "benchmark": "back_to_back",
        "target": "simulator" if simulated else comfy_url,
        "node_ms": args.node_ms if simulated else None,
        "gateway_queued": gateway,
        "direct_one_by_one": direct,
        "target_makespan_ratio": 1.02,
        "load_generator": clock.share(),
        "machine": machine(),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        if args.comfy_url:
            return await measure(Path(folder), args.comfy_url, args, simulated=False)
        async with running_dev_simulator(Path(folder) / "sim") as comfy_url:
            return await measure(Path(folder), comfy_url, args, simulated=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--node-ms", type=float, default=50.0, help="simulator only")
    parser.add_argument("--comfy-url", default=None, help="a real ComfyUI instead")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args)), indent=2))


if __name__ == "__main__":
    main()
