"""What `/health` knows about ComfyUI backends: shared by the API and the worker."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


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
