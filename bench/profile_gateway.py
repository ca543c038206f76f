"""Where the gateway's time goes: CPU per request, and a sampled profile of a job run.

Starts the simulator and ``comfy-gateway serve`` (default settings, API keys on) and,
one request at a time from one client, measures wall time and the ``serve`` process's
own CPU time (from /proc) per request for: a submit (no wait), a status read, an output
download, and a whole tiny job with ``wait`` (submit → run → outputs stored → answer).
With ``--py-spy`` it also samples ``serve`` with py-spy while tiny jobs run back to back
(only samples holding the GIL: Python at work, not waiting) and prints each thread's
share and the functions that hold the most samples. Prints JSON.

This is the evidence behind the figures the throughput and overhead benchmarks cannot
reach: a request costs this much CPU in this process, on this machine.
"""

from __future__ import annotations

import argparse
import asyncio
import collections
import json
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

import httpx

from bench_processes import (
    HEADERS,
    UNANSWERED_BACKEND,
    colour_offset,
    machine,
    process_cpu_s,
    running_gateway,
    serve_args,
    tiny_graph,
)
from comfy_gateway.dev_simulator import running_dev_simulator


async def per_request(
    pid: int, count: int, request: Callable[[int], Awaitable[None]]
) -> dict[str, float]:
    """Mean wall and ``serve`` CPU milliseconds of ``count`` sequential requests."""
    for index in range(min(20, count)):  # warm-up
        await request(index)
    cpu, started = process_cpu_s(pid), time.perf_counter()
    for index in range(count):
        await request(index)
    wall = time.perf_counter() - started
    return {
        "requests": count,
        "wall_ms": round(wall / count * 1000, 2),
        "serve_cpu_ms": round((process_cpu_s(pid) - cpu) / count * 1000, 2),
    }


async def request_costs(client: httpx.AsyncClient, pid: int, count: int) -> dict[str, Any]:
    colour = colour_offset()
    answer = await client.post("/v1/jobs", json={"workflow": tiny_graph(colour), "wait": True})
    done = answer.json()

    async def read(_: int) -> None:
        (await client.get(f"/v1/jobs/{done['job_id']}")).raise_for_status()

    async def download(_: int) -> None:
        (await client.get(done["outputs"][0]["url"])).raise_for_status()

    async def job(index: int) -> None:
        graph = tiny_graph(colour + 2 * count + 40 + index)
        body = (await client.post("/v1/jobs", json={"workflow": graph, "wait": True})).json()
        if body.get("status") != "completed":
            raise RuntimeError(f"job did not complete: {body}")

    return {
        "status_read": await per_request(pid, count, read),
        "output_download": await per_request(pid, count, download),
        "tiny_job_with_wait": await per_request(pid, count // 4, job),
    }


async def submit_cost(folder: Path, count: int) -> dict[str, float]:
    """A submit alone: against a gateway whose backend nobody answers, so the jobs it
    queues never run beside the submits being measured."""
    arguments = serve_args(folder / "intake-only", UNANSWERED_BACKEND)
    with running_gateway(arguments) as gateway:
        assert gateway.url is not None
        colour = colour_offset()
        async with httpx.AsyncClient(base_url=gateway.url, headers=HEADERS, timeout=60) as client:

            async def submit(index: int) -> None:
                graph = tiny_graph(colour + index)
                (await client.post("/v1/jobs", json={"workflow": graph})).raise_for_status()

            return await per_request(gateway.process.pid, count, submit)


def sampled_profile(pid: int, seconds: float, top: int) -> dict[str, Any]:
    """py-spy samples of ``pid`` that hold the GIL: per-thread shares, hottest functions."""
    beside_python = Path(sys.executable).with_name("py-spy")
    py_spy = str(beside_python) if beside_python.exists() else shutil.which("py-spy")
    if py_spy is None:
        return {"error": "py-spy is not installed (pip install -e '.[bench]')"}
    with tempfile.NamedTemporaryFile(suffix=".txt") as raw:
        subprocess.run(
            [
                *(py_spy, "record", "--pid", str(pid), "--duration", str(int(seconds))),
                *("--rate", "250", "--gil", "--threads", "--nonblocking", "--format", "raw"),
                *("--output", raw.name),
            ],
            check=True,
            capture_output=True,
        )
        lines = Path(raw.name).read_text(errors="replace").splitlines()
    return summarise_samples(lines, top)


def summarise_samples(lines: list[str], top: int) -> dict[str, Any]:
    threads: collections.Counter[str] = collections.Counter()
    inclusive: collections.Counter[str] = collections.Counter()
    total = 0
    for line in lines:
        stack, _, count_text = line.rpartition(" ")
        if not stack or not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        threads[frames[0].split(": ", 1)[-1]] += count
        for function in {frame.split(" (")[0] + " (" + _file_of(frame) for frame in frames[1:]}:
            inclusive[function + ")"] += count
    share = lambda count: round(count / total, 3) if total else 0.0  # noqa: E731
    return {
        "gil_samples": total,
        "threads": {name: share(count) for name, count in threads.most_common()},
        "hottest_inclusive": [
            [share(count), name]
            for name, count in inclusive.most_common(top * 3)
            if "runpy" not in name and "typer" not in name and "cli" not in name
        ][:top],
    }


def _file_of(frame: str) -> str:
    inside = frame.rpartition(" (")[2]
    return inside.split(":")[0].rstrip(")")


async def run_jobs_for(client: httpx.AsyncClient, seconds: float) -> int:
    colour, done = colour_offset() + 7_000_000, 0
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        graph = tiny_graph(colour + done)
        await client.post("/v1/jobs", json={"workflow": graph, "wait": True})
        done += 1
    return done


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        async with running_dev_simulator(Path(folder) / "sim") as comfy_url:
            with running_gateway(serve_args(Path(folder) / "gateway", comfy_url)) as gateway:
                assert gateway.url is not None
                pid = gateway.process.pid
                async with httpx.AsyncClient(
                    base_url=gateway.url, headers=HEADERS, timeout=60
                ) as client:
                    figures: dict[str, Any] = {
                        "benchmark": "profile_gateway",
                        "per_request": await request_costs(client, pid, args.count),
                    }
                    if args.py_spy:
                        runner = asyncio.create_task(run_jobs_for(client, args.seconds + 2))
                        await asyncio.sleep(1)  # let the job loop reach its pace first
                        profile = await asyncio.to_thread(
                            sampled_profile, pid, args.seconds, args.top
                        )
                        profile["jobs_run"] = await runner
                        figures["sampled_tiny_jobs"] = profile
        figures["per_request"]["submit_no_wait"] = await submit_cost(Path(folder), args.count)
    figures["machine"] = machine()
    return figures


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=400, help="requests of each kind")
    parser.add_argument("--py-spy", action="store_true", help="also sample serve with py-spy")
    parser.add_argument("--seconds", type=float, default=10.0, help="py-spy sampling time")
    parser.add_argument("--top", type=int, default=40, help="hottest functions to list")
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args)), indent=2))


if __name__ == "__main__":
    main()
