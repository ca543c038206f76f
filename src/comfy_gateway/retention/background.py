"""The sweeper as a background task of `serve` and `worker` (started beside the worker)."""

from __future__ import annotations

import asyncio
import logging

from comfy_gateway.config import GatewaySettings
from comfy_gateway.retention.policy import RetentionPolicy
from comfy_gateway.retention.store_protocol import RetentionStore
from comfy_gateway.retention.sweeper import RetentionSweeper
from comfy_gateway.storage.blobs import BlobStore

log = logging.getLogger("comfy_gateway.retention")


def start_retention_sweeper(
    settings: GatewaySettings, store: object, blobs: BlobStore, stop: asyncio.Event
) -> asyncio.Task[None] | None:
    """Sweep until ``stop`` is set; None (and a warning) if the store cannot sweep."""
    if not isinstance(store, RetentionStore):
        log.warning("the job store %s has no retention queries: nothing expires", type(store))
        return None
    sweeper = RetentionSweeper(
        store=store, blobs=blobs, policy=RetentionPolicy.from_settings(settings)
    )
    return asyncio.create_task(sweeper.run(stop), name="retention-sweeper")
