"""The worker's knobs, taken from :class:`GatewaySettings` or given directly in tests."""

from __future__ import annotations

import secrets
import socket
from dataclasses import dataclass

from comfy_gateway.config import GatewaySettings

#: One prompt running plus one waiting behind it, so the GPU never idles between jobs.
PROMPTS_PER_BACKEND = 2
#: Heartbeats also carry cancels to a worker in another process: keep them frequent.
MAX_HEARTBEAT_INTERVAL_S = 2.0
#: How long after ``execution_start`` the job's ``running`` is stored; a prompt that ends
#: sooner (a tiny graph, a prompt ComfyUI answers from its cache) goes from queued to
#: its end in one write, which records the start too.
RUNNING_WRITE_DELAY_S = 0.1


def default_worker_id() -> str:
    """``<host>-<random>``: unique per process, readable in the store's ``claimed_by``."""
    return f"{socket.gethostname()}-{secrets.token_hex(4)}"


@dataclass(frozen=True, kw_only=True)
class WorkerOptions:
    """How one worker process claims, holds and runs jobs."""

    worker_id: str
    lease_s: float = 30.0
    progress_persist_interval_s: float = 0.25
    backend_lost_after_s: float = 120.0
    claim_poll_interval_s: float = 0.05
    prompts_per_backend: int = PROMPTS_PER_BACKEND
    drain_timeout_s: float = 30.0
    #: Tries of a job whose prompt was lost with its backend before it fails for good.
    max_attempts: int = 3
    #: How often leases that ran out are handed back to the queue (0: lease_s).
    reap_interval_s: float = 0.0
    running_write_delay_s: float = RUNNING_WRITE_DELAY_S

    def __post_init__(self) -> None:
        if (
            self.lease_s <= 0
            or self.claim_poll_interval_s <= 0
            or self.prompts_per_backend < 1
            or self.max_attempts < 1
            or self.drain_timeout_s < 0
            or self.running_write_delay_s < 0
        ):
            raise ValueError(f"unusable worker options: {self}")

    @property
    def heartbeat_interval_s(self) -> float:
        # Three beats per lease: one lost or late beat never lets the lease run out; and
        # no rarer than every 2 s, as the beat is how a cancel from another process arrives.
        return min(self.lease_s / 3, MAX_HEARTBEAT_INTERVAL_S)

    @property
    def reap_every_s(self) -> float:
        return self.reap_interval_s or self.lease_s

    @classmethod
    def from_settings(
        cls, settings: GatewaySettings, *, worker_id: str | None = None
    ) -> WorkerOptions:
        return cls(
            worker_id=worker_id or default_worker_id(),
            lease_s=settings.lease_s,
            progress_persist_interval_s=settings.progress_persist_interval_s,
            backend_lost_after_s=settings.backend_lost_after_s,
            drain_timeout_s=settings.drain_timeout_s,
            max_attempts=settings.max_attempts,
        )
