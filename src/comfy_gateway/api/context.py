"""Everything a request handler needs, assembled once and kept on ``app.state.context``."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Protocol

from fastapi import Request

from comfy_gateway.auth import KeyRegistry
from comfy_gateway.config import GatewaySettings
from comfy_gateway.events import JobEvents
from comfy_gateway.net.safe_fetch import SafeFetcher
from comfy_gateway.storage import BlobStore
from comfy_gateway.store.interface import JobStore


@dataclass(frozen=True, kw_only=True)
class BackendState:
    """What `/health` reports of one ComfyUI backend."""

    url: str
    reachable: bool
    state: str
    detail: str | None = None


class BackendHealth(Protocol):
    """Who knows the backends' state: the worker's pool, or a prober in an API-only process."""

    def backends(self) -> list[BackendState]: ...

    def can_start_lazily(self) -> bool:
        """True when a backend is down but will be started on demand (supervised)."""
        ...


@dataclass(frozen=True, kw_only=True)
class ApiContext:
    """The services behind the API (one instance per app)."""

    settings: GatewaySettings
    store: JobStore
    blobs: BlobStore
    events: JobEvents
    keys: KeyRegistry
    fetcher: SafeFetcher
    health: BackendHealth
    extra: dict[str, object] = field(default_factory=dict)


def api_context(request: Request) -> ApiContext:
    """FastAPI dependency: the app's `ApiContext`."""
    context = request.app.state.context
    assert isinstance(context, ApiContext)
    return context
