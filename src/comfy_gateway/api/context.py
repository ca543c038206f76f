"""Everything a request handler needs, assembled once and kept on ``app.state.context``."""

# BackendState and BackendHealth live in a neutral module (the worker implements
# BackendHealth and must not import api/); they are re-exported here for the routes.

from __future__ import annotations

from dataclasses import dataclass, field

from fastapi import Request

from comfy_gateway.auth import KeyRegistry
from comfy_gateway.backend_health import BackendHealth, BackendState
from comfy_gateway.config import GatewaySettings
from comfy_gateway.events import JobEvents
from comfy_gateway.jobs.hand_off import JobHandOff
from comfy_gateway.net.safe_fetch import SafeFetcher
from comfy_gateway.storage import BlobStore
from comfy_gateway.store.interface import JobStore
from comfy_gateway.templates import TemplateRegistry


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
    # None: the built-in templates only (see api/template_jobs.py).
    templates: TemplateRegistry | None = None
    # A worker in this process that may take a job as it is stored (jobs/hand_off.py).
    hand_off: JobHandOff | None = None


async def api_context(request: Request) -> ApiContext:
    """FastAPI dependency: the app's `ApiContext` (async: FastAPI would run a plain
    function on its thread pool, a thread hop per request for a dictionary lookup)."""
    context = request.app.state.context
    assert isinstance(context, ApiContext)
    return context


__all__ = ["ApiContext", "BackendHealth", "BackendState", "api_context"]
