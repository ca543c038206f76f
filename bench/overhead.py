"""Overhead: tiny jobs through the gateway (``wait``) against a direct ComfyUI client.

Starts the simulator and ``comfy-gateway serve`` (API keys on, default settings) as real
processes, or uses ``--comfy-url``. The direct client opens its socket once before
timing; then, job by job alternately, one distinct tiny graph goes through the gateway
(POST /v1/jobs with wait, GET of its output) and one straight to the backend (POST
/prompt, follow the socket to the end, GET /view). Prints JSON figures.

Both sides use the same HTTP client library (``--client``): the gateway's own cost is
the difference, and it should not include a difference between two client libraries.
With ``aiohttp`` (the default) the direct side is ``ComfyHttpClient``'s own aiohttp
wire; with ``httpx`` both sides use httpx (the direct side through ComfyHttpClient's
httpx transport). The per-request cost of the client library counts twice against the
gateway (its two requests are extra hops), so the figure for a slower client is larger.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import statistics
import tempfile
import time
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import aiohttp
import httpx

from bench_processes import (
    HEADERS,
    CpuClock,
    colour_offset,
    machine,
    percentile,
    running_gateway,
    serve_args,
    tiny_graph,
)
from comfy_gateway.comfy import BackendConnection, ComfyHttpClient, PromptSucceeded, run_prompt
from comfy_gateway.dev_simulator import running_dev_simulator


async def direct_job(http: ComfyHttpClient, connection: BackendConnection, colour: int) -> float:
    started = time.perf_counter()
    result = await run_prompt(http, connection, tiny_graph(colour), timeout=60).wait()
    if not isinstance(result, PromptSucceeded):
        raise RuntimeError(f"direct prompt did not succeed: {result}")
    for items in result.outputs.values():
        for item in items.get("images", []):
            await http.read_file(item["filename"], item["subfolder"], item["type"])
    return (time.perf_counter() - started) * 1000


GatewayJob = Callable[[int], Awaitable[float]]


def _completed(status: int, body: dict[str, Any]) -> list[str]:
    if status != 200 or body.get("status") != "completed":
        raise RuntimeError(f"gateway job did not complete: {status} {body}")
    return [output["url"] for output in body["outputs"]]


@asynccontextmanager
async def aiohttp_gateway_client(gateway_url: str) -> AsyncIterator[GatewayJob]:
    async with aiohttp.ClientSession(gateway_url, headers=HEADERS) as session:

        async def job(colour: int) -> float:
            started = time.perf_counter()
            body = {"workflow": tiny_graph(colour), "wait": True}
            async with session.post("/v1/jobs", json=body) as answer:
                urls = _completed(answer.status, await answer.json())
            for url in urls:
                async with session.get(url) as output:
                    output.raise_for_status()
                    await output.read()
            return (time.perf_counter() - started) * 1000

        yield job


@asynccontextmanager
async def httpx_gateway_client(gateway_url: str) -> AsyncIterator[GatewayJob]:
    async with httpx.AsyncClient(base_url=gateway_url, headers=HEADERS, timeout=120) as client:

        async def job(colour: int) -> float:
            started = time.perf_counter()
            body = {"workflow": tiny_graph(colour), "wait": True}
            answer = await client.post("/v1/jobs", json=body)
            for url in _completed(answer.status_code, answer.json()):
                (await client.get(url)).raise_for_status()
            return (time.perf_counter() - started) * 1000

        yield job


def direct_http(comfy_url: str, library: str) -> ComfyHttpClient:
    if library == "httpx":
        return ComfyHttpClient(comfy_url, transport=httpx.AsyncHTTPTransport())
    return ComfyHttpClient(comfy_url)


async def alternate(
    gateway_url: str, comfy_url: str, count: int, library: str
) -> dict[str, list[float]]:
    colour = colour_offset()
    timings: dict[str, list[float]] = {"gateway": [], "direct": []}
    gateway_client = httpx_gateway_client if library == "httpx" else aiohttp_gateway_client
    async with (
        gateway_client(gateway_url) as gateway_job,
        direct_http(comfy_url, library) as http,
        BackendConnection(http) as connection,
    ):
        await gateway_job(colour)  # warm-up of both paths, not counted
        await direct_job(http, connection, colour + 1)
        for index in range(count):
            base = colour + 2 * (index + 1)
            timings["gateway"].append(await gateway_job(base))
            timings["direct"].append(await direct_job(http, connection, base + 1))
    return timings


def summary(values: list[float]) -> dict[str, float]:
    return {
        "p50_ms": round(statistics.median(values), 2),
        "p99_ms": round(percentile(values, 0.99), 2),
        "mean_ms": round(statistics.fmean(values), 2),
    }


def figures(
    timings: dict[str, list[float]], target: str, library: str, clock: CpuClock
) -> dict[str, Any]:
    gateway, direct = summary(timings["gateway"]), summary(timings["direct"])
    return {
        "benchmark": "overhead",
        "target": target,
        "client_library": library,
        "jobs_each": len(timings["gateway"]),
        "gateway": gateway,
        "direct": direct,
        "overhead_p50_ms": round(gateway["p50_ms"] - direct["p50_ms"], 2),
        "overhead_p99_ms": round(gateway["p99_ms"] - direct["p99_ms"], 2),
        "ratio_p50": round(gateway["p50_ms"] / direct["p50_ms"], 3),
        "ratio_p99": round(gateway["p99_ms"] / direct["p99_ms"], 3),
        "target_overhead_p50_ms": 5.0,
        "load_generator": clock.share(),
        "machine": machine(),
    }


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        if args.comfy_url:
            return await measure(Path(folder), args.comfy_url, args, args.comfy_url)
        async with running_dev_simulator(Path(folder) / "sim") as comfy_url:
            return await measure(Path(folder), comfy_url, args, "simulator")


async def measure(
    folder: Path, comfy_url: str, args: argparse.Namespace, target: str
) -> dict[str, Any]:
    with running_gateway(serve_args(folder / "gateway", comfy_url)) as gateway:
        assert gateway.url is not None
        clock = CpuClock()
        timings = await alternate(gateway.url, comfy_url, args.count, args.client)
        return figures(timings, target, args.client, clock)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--comfy-url", default=None)
    parser.add_argument(
        "--client", choices=["aiohttp", "httpx"], default="aiohttp", help="both sides use it"
    )
    args = parser.parse_args()
    print(json.dumps(asyncio.run(main_async(args)), indent=2))


if __name__ == "__main__":
    main()
