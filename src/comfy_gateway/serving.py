"""Run the gateway: `serve` (API + worker in one event loop) and `worker` (worker only)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import sys
from collections.abc import AsyncIterator, Generator
from contextlib import AsyncExitStack, asynccontextmanager
from types import FrameType

import uvicorn
from fastapi import FastAPI

from comfy_gateway.api.app import create_app
from comfy_gateway.api.backend_probe import ComfyBackendProbe
from comfy_gateway.api.context import ApiContext, BackendHealth
from comfy_gateway.api.routes.events import close_event_streams
from comfy_gateway.config import GatewaySettings
from comfy_gateway.dev_simulator import running_dev_simulator
from comfy_gateway.jobs.hand_off import JobHandOff
from comfy_gateway.retention.background import start_retention_sweeper
from comfy_gateway.runtime import (
    Services,
    describe_auth,
    load_templates,
    open_services,
    reload_templates_on_sighup,
)
from comfy_gateway.templates import TemplateRegistry
from comfy_gateway.webhooks import start_webhook_sender
from comfy_gateway.worker import BackendPool, Worker, WorkerOptions
from comfy_gateway.worker.capabilities import worker_catalogues

log = logging.getLogger("comfy_gateway")
READY_PREFIX = "GATEWAY READY"


class _GatewayServer(uvicorn.Server):
    """uvicorn, but SIGINT/SIGTERM also end SSE streams and the process exits cleanly."""

    def __init__(self, config: uvicorn.Config, app: FastAPI) -> None:
        super().__init__(config)
        self._app = app

    @contextlib.contextmanager
    def capture_signals(self) -> Generator[None, None, None]:
        handled = (signal.SIGINT, signal.SIGTERM)
        previous = {sig: signal.signal(sig, self.handle_exit) for sig in handled}
        try:
            yield
        finally:
            for sig, handler in previous.items():
                signal.signal(sig, handler)

    def handle_exit(self, sig: int, frame: FrameType | None) -> None:
        close_event_streams(self._app)
        super().handle_exit(sig, frame)


@asynccontextmanager
async def backend_urls(
    settings: GatewaySettings, *, dev_simulator: bool
) -> AsyncIterator[list[str]]:
    """The configured ComfyUI URLs, or a dev simulator's when none is configured."""
    if settings.comfy_urls or settings.supervises_comfy or not dev_simulator:
        if not settings.comfy_urls and not settings.supervises_comfy:
            log.warning("no ComfyUI configured (--comfy-url): jobs will wait for a backend")
        yield list(settings.comfy_urls)
        return
    async with running_dev_simulator(settings.data_dir / "simulator") as url:
        log.warning(
            "no ComfyUI configured: using the SIMULATOR at %s (simulated models, not a GPU)", url
        )
        yield [url]


def _api_context(
    services: Services,
    health: BackendHealth,
    templates: TemplateRegistry,
    hand_off: JobHandOff | None,
) -> ApiContext:
    return ApiContext(
        settings=services.settings,
        store=services.store,
        blobs=services.blobs,
        events=services.events,
        keys=services.keys,
        fetcher=services.fetcher,
        health=health,
        templates=templates,
        hand_off=hand_off,
    )


def _announce_when_started(server: uvicorn.Server) -> asyncio.Task[None]:
    async def announce() -> None:
        while not server.started:  # noqa: ASYNC110 - uvicorn has no "started" event
            await asyncio.sleep(0.02)
        for listener in server.servers:
            for sock in listener.sockets:
                host, port = sock.getsockname()[:2]
                print(f"{READY_PREFIX} http://{host}:{port}", flush=True)
                return

    return asyncio.create_task(announce())


async def serve(settings: GatewaySettings, *, dev_simulator: bool = False) -> None:
    """API (and, unless ``no_worker``, the worker) until SIGINT/SIGTERM."""
    async with AsyncExitStack() as stack:
        urls = await stack.enter_async_context(backend_urls(settings, dev_simulator=dev_simulator))
        services = await open_services(settings, worker_in_process=not settings.no_worker)
        stack.push_async_callback(services.close)
        log.info("%s", describe_auth(services.keys))
        stop = asyncio.Event()
        worker_task: asyncio.Task[None] | None = None
        sweeper_task: asyncio.Task[None] | None = None
        webhook_task: asyncio.Task[None] | None = None
        worker: Worker | None = None
        health: BackendHealth
        if settings.no_worker:
            if settings.supervises_comfy:
                log.warning("--comfy-path/--comfy-cmd are ignored with --no-worker")
            health = ComfyBackendProbe(urls)
        else:
            pool = BackendPool.from_settings(settings.model_copy(update={"comfy_urls": urls}))
            stack.push_async_callback(pool.stop_supervised)  # after the worker let go
            if settings.comfy_eager:
                await pool.start_supervised()
            health = pool
            worker = Worker(
                WorkerOptions.from_settings(settings),
                store=services.store,
                blobs=services.blobs,
                events=services.events,
                backends=pool,
                catalogues=worker_catalogues(settings),
            )
            worker_task = asyncio.create_task(worker.run(stop))
            sweeper_task = start_retention_sweeper(settings, services.store, services.blobs, stop)
            webhook_task = start_webhook_sender(settings, services.store, stop)
        templates = load_templates(settings)
        stack.enter_context(reload_templates_on_sighup(templates))
        app = create_app(_api_context(services, health, templates, worker))
        config = uvicorn.Config(
            app,
            host=settings.host,
            port=settings.port,
            log_level="info",
            lifespan="off",
            access_log=settings.access_log,
        )
        server = _GatewayServer(config, app)
        announcer = _announce_when_started(server)
        try:
            await server.serve()
        finally:
            announcer.cancel()
            stop.set()
            if worker_task is not None:
                await worker_task
            if sweeper_task is not None:
                await sweeper_task
            if webhook_task is not None:
                await webhook_task


async def run_worker(settings: GatewaySettings) -> None:
    """The worker alone (the API runs elsewhere on the same store) until SIGINT/SIGTERM."""
    if not settings.comfy_urls and not settings.supervises_comfy:
        log.warning("no ComfyUI configured (--comfy-url): the worker will wait for a backend")
    # The API runs in another process: cancel requests reach this worker by polling the
    # store (every events_poll_interval_s) instead of waiting for the next heartbeat.
    services = await open_services(settings, worker_in_process=False)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    pool = BackendPool.from_settings(settings)
    if settings.comfy_eager:
        await pool.start_supervised()
    worker = Worker(
        WorkerOptions.from_settings(settings),
        store=services.store,
        blobs=services.blobs,
        events=services.events,
        backends=pool,
        catalogues=worker_catalogues(settings),
    )
    sweeper_task = start_retention_sweeper(settings, services.store, services.blobs, stop)
    webhook_task = start_webhook_sender(settings, services.store, stop)
    print(f"{READY_PREFIX} worker", flush=True)
    try:
        await worker.run(stop)
    finally:
        stop.set()
        if sweeper_task is not None:
            await sweeper_task
        if webhook_task is not None:
            await webhook_task
        await pool.stop_supervised()
        await services.close()


def configure_logging() -> None:
    logging.basicConfig(
        level=logging.INFO,
        stream=sys.stderr,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    # one line per ComfyUI request would drown everything else
    logging.getLogger("httpx").setLevel(logging.WARNING)
