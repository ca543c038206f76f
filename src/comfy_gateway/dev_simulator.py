"""`make run` without a ComfyUI: start the simulator as a child process and use it.

Only used when no ``--comfy-url`` is configured and ``--dev-simulator`` is given, and it
says so loudly: a production deployment must never silently run against a simulator.
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from comfy_gateway.errors import ConfigError

READY_PREFIX = "SIMULATOR READY "
START_TIMEOUT_S = 60.0


async def _read_ready_url(process: asyncio.subprocess.Process) -> str:
    assert process.stdout is not None
    while True:
        line = (await process.stdout.readline()).decode("utf-8", "replace")
        if not line:
            raise ConfigError("the simulator exited before it was ready")
        if line.startswith(READY_PREFIX):
            return line[len(READY_PREFIX) :].strip()


async def _drain(stream: asyncio.StreamReader) -> None:
    while await stream.readline():
        pass


@asynccontextmanager
async def running_dev_simulator(data_dir: Path) -> AsyncIterator[str]:
    """Run ``comfy-gateway simulate --port 0`` for the block; yield its base URL."""
    await asyncio.to_thread(data_dir.mkdir, parents=True, exist_ok=True)
    process = await asyncio.create_subprocess_exec(
        sys.executable,
        "-m",
        "comfy_gateway",
        "simulate",
        "--port",
        "0",
        "--data-dir",
        str(data_dir),
        stdout=asyncio.subprocess.PIPE,
    )
    drain: asyncio.Task[None] | None = None
    try:
        url = await asyncio.wait_for(_read_ready_url(process), START_TIMEOUT_S)
        assert process.stdout is not None
        drain = asyncio.create_task(_drain(process.stdout))
        yield url
    finally:
        if process.returncode is None:
            process.terminate()
            try:
                await asyncio.wait_for(process.wait(), 10)
            except TimeoutError:
                process.kill()
                await process.wait()
        if drain is not None:
            await drain
