"""Assembly: settings → store, blobs, events, keys, fetcher. Done once, here.

`serve` runs the API (uvicorn) and, unless ``--no-worker``, the worker in the same event
loop; `worker` runs the worker alone. Both use `open_services` so a deployment behaves the
same whichever way it is split.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import Iterator
from dataclasses import dataclass

from comfy_gateway.auth import KeyRegistry, load_key_registry
from comfy_gateway.config import GatewaySettings
from comfy_gateway.errors import ConfigError
from comfy_gateway.events import InProcessJobEvents, JobEvents
from comfy_gateway.events.store_polling import StorePollingJobEvents
from comfy_gateway.net.address_guard import AddressPolicy
from comfy_gateway.net.safe_fetch import SafeFetcher
from comfy_gateway.storage import BlobStore, LocalBlobStore
from comfy_gateway.store import JobStore, open_sqlite_store
from comfy_gateway.templates import TemplateRegistry

log = logging.getLogger("comfy_gateway")


@dataclass(frozen=True, kw_only=True)
class Services:
    """The long-lived components of one process."""

    settings: GatewaySettings
    store: JobStore
    blobs: BlobStore
    events: JobEvents
    keys: KeyRegistry
    fetcher: SafeFetcher

    async def close(self) -> None:
        """Close the store, then the blob store's own files (the small-blob database)."""
        await self.store.close()
        close_blobs = getattr(self.blobs, "close", None)
        if close_blobs is not None:
            close_blobs()


async def open_store(settings: GatewaySettings) -> JobStore:
    if settings.database_url and not settings.database_url.startswith("sqlite"):
        raise ConfigError(
            f"database URL {settings.database_url!r} is not supported yet: use SQLite "
            "(leave COMFY_GATEWAY_DATABASE_URL unset for ./data/comfy-gateway.sqlite3)"
        )
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    return await open_sqlite_store(
        settings.sqlite_path, idempotency_ttl_s=settings.idempotency_retention_s
    )


async def open_services(settings: GatewaySettings, *, worker_in_process: bool) -> Services:
    """Open everything; events are in-process when API and worker share this process."""
    keys = load_key_registry(
        settings.api_keys, settings.api_keys_file, require_api_key=settings.require_api_key
    )
    store = await open_store(settings)
    events: JobEvents = (
        InProcessJobEvents()
        if worker_in_process
        else StorePollingJobEvents(store, poll_interval_s=settings.events_poll_interval_s)
    )
    fetcher = SafeFetcher(
        policy=AddressPolicy.from_entries(settings.fetch_allow_list),
        timeout_s=settings.fetch_timeout_s,
    )
    return Services(
        settings=settings,
        store=store,
        blobs=LocalBlobStore(settings.blobs_dir),
        events=events,
        keys=keys,
        fetcher=fetcher,
    )


def describe_auth(keys: KeyRegistry) -> str:
    if keys.is_open:
        return "no API keys configured: the API is OPEN and every caller is tenant 'default'"
    tenants = sorted({tenant for _, tenant in keys.entries})
    return f"API keys required ({len(keys.entries)} keys, tenants: {', '.join(tenants)})"


def load_templates(settings: GatewaySettings) -> TemplateRegistry:
    """The built-in templates and those of the configured folders (bad files skipped)."""
    registry = TemplateRegistry(settings.template_folders)
    _log_templates(registry)
    return registry


def _log_templates(registry: TemplateRegistry) -> None:
    names = ", ".join(template.name for template in registry.templates())
    log.info("templates: %s", names or "none")
    for problem in registry.problems:
        log.warning("template file %s skipped: %s", problem.path, problem.reason)


def _reload_templates(registry: TemplateRegistry) -> None:
    registry.reload()
    _log_templates(registry)


@contextlib.contextmanager
def reload_templates_on_sighup(registry: TemplateRegistry) -> Iterator[None]:
    """While the block runs (inside the event loop), SIGHUP reloads the templates."""
    loop = asyncio.get_running_loop()
    # The reload reads a handful of small files: quick enough for the loop's own thread,
    # and it swaps the new set in whole, so a request never sees half of it.
    loop.add_signal_handler(signal.SIGHUP, _reload_templates, registry)
    try:
        yield
    finally:
        loop.remove_signal_handler(signal.SIGHUP)
