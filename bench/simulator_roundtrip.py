"""Round-trip latency of tiny prompts through our ComfyUI client against the simulator.

Starts `comfy-gateway simulate` as a real process (or uses ``--comfy-url``), opens one
socket, then runs N distinct tiny graphs (EmptyImage → ImageInvert → SaveImage, a new
colour each time so nothing is cached): submit, follow to the end marker, download the
output. Prints JSON figures; this is a benchmark, not a test.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from comfy_gateway.comfy import (
    BackendConnection,
    ComfyHttpClient,
    PromptSucceeded,
    run_prompt,
)
from comfy_gateway.dev_simulator import running_dev_simulator


def tiny_graph(colour: int) -> dict[str, Any]:
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": 64, "height": 64, "batch_size": 1, "color": colour},
        },
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {"class_type": "SaveImage", "inputs": {"images": ["2", 0], "filename_prefix": "b"}},
    }


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(fraction * (len(ordered) - 1)))]


async def one_round_trip(
    http: ComfyHttpClient, connection: BackendConnection, colour: int
) -> float:
    started = time.perf_counter()
    result = await run_prompt(http, connection, tiny_graph(colour), timeout=60).wait()
    if not isinstance(result, PromptSucceeded):
        raise RuntimeError(f"prompt did not succeed: {result}")
    for items in result.outputs.values():
        for item in items.get("images", []):
            await http.read_file(item["filename"], item["subfolder"], item["type"])
    return (time.perf_counter() - started) * 1000


async def measure(url: str, count: int, offset: int) -> list[float]:
    async with ComfyHttpClient(url) as http, BackendConnection(http) as connection:
        await one_round_trip(http, connection, offset)  # warm-up, not counted
        return [await one_round_trip(http, connection, offset + 1 + i) for i in range(count)]


async def main_async(args: argparse.Namespace) -> dict[str, Any]:
    offset = int(time.time()) % 10_000_000
    if args.comfy_url:
        latencies = await measure(args.comfy_url, args.count, offset)
        target = args.comfy_url
    else:
        with tempfile.TemporaryDirectory() as folder:
            async with running_dev_simulator(Path(folder)) as url:
                latencies = await measure(url, args.count, offset)
        target = "simulator"
    return {
        "benchmark": "client_round_trip",
        "target": target,
        "prompts": args.count,
        "p50_ms": round(statistics.median(latencies), 2),
        "p99_ms": round(percentile(latencies, 0.99), 2),
        "mean_ms": round(statistics.fmean(latencies), 2),
        "machine": {
            "cpus": os.cpu_count(),
            "platform": platform.platform(),
            "python": platform.python_version(),
        },
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--count", type=int, default=200)
    parser.add_argument("--comfy-url", default=None)
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    figures = asyncio.run(main_async(args))
    text = json.dumps(figures, indent=2)
    print(text)
    if args.out:
        args.out.write_text(text + "\n")


if __name__ == "__main__":
    sys.exit(main())
