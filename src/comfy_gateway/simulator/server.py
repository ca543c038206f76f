"""Run the simulator under uvicorn and announce `SIMULATOR READY <url>` once it listens."""

from __future__ import annotations

import asyncio
import contextlib
import signal
import socket
import warnings
from collections.abc import Generator

import uvicorn

from comfy_gateway.simulator.app import create_app
from comfy_gateway.simulator.config import SimulatorSettings
from comfy_gateway.simulator.state import Simulator

READY_PREFIX = "SIMULATOR READY"
SERVER_HEADER = "Python/3.11 aiohttp/3.14.5"  # what the captured server announced


class _QuietExitServer(uvicorn.Server):
    """uvicorn re-raises SIGINT/SIGTERM after shutting down; we want a clean exit code."""

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)


def bind_socket(host: str, port: int) -> socket.socket:
    """Bind first, so `--port 0` learns its port before uvicorn starts."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    # IPPROTO_TCP explicitly: asyncio only sets TCP_NODELAY on accepted sockets whose
    # proto is TCP, and Nagle + delayed ACK would add ~40 ms to every response.
    sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind((host, port))
    return sock


def base_url(host: str, port: int) -> str:
    return f"http://[{host}]:{port}" if ":" in host else f"http://{host}:{port}"


async def _serve(server: uvicorn.Server, sock: socket.socket, host: str) -> None:
    serving = asyncio.create_task(server.serve(sockets=[sock]))
    while not server.started and not serving.done():  # noqa: ASYNC110
        await asyncio.sleep(0.01)  # uvicorn offers no "started" event to wait on
    if server.started:
        print(f"{READY_PREFIX} {base_url(host, sock.getsockname()[1])}", flush=True)
    await serving


def run_simulator(settings: SimulatorSettings) -> None:
    """Serve until SIGINT/SIGTERM."""
    # The brief pins uvicorn's "websockets" implementation, which warns that it is legacy.
    warnings.filterwarnings("ignore", message="The `websockets` implementation is deprecated")
    warnings.filterwarnings("ignore", category=DeprecationWarning, module="websockets")
    simulator = Simulator(settings)
    config = uvicorn.Config(
        create_app(simulator),
        ws="websockets",
        lifespan="on",
        log_level="warning",
        timeout_graceful_shutdown=3,
        server_header=False,
        headers=[("Server", SERVER_HEADER)],
    )
    sock = bind_socket(settings.host, settings.port)
    asyncio.run(_serve(_QuietExitServer(config), sock, settings.host))
