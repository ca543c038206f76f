"""All supervised backends of one worker (one per GPU), as `/health` and shutdown see them."""

from __future__ import annotations

import asyncio
from collections.abc import Sequence
from pathlib import Path

from comfy_gateway.backend_health import BackendState
from comfy_gateway.supervisor.launch import LaunchSpec, work_dir_for
from comfy_gateway.supervisor.lifecycle import SupervisorState
from comfy_gateway.supervisor.supervised_comfy import SupervisedComfy, SupervisorOptions

# States from which a job can still get a ready backend without anyone stepping in.
_WILL_BE_READY = frozenset(
    {
        SupervisorState.STOPPED,
        SupervisorState.STARTING,
        SupervisorState.CRASHED,
        SupervisorState.BACKOFF,
    }
)


def supervisors_for_gpus(
    spec: LaunchSpec,
    *,
    data_dir: Path,
    gpus: Sequence[str | None],
    options: SupervisorOptions | None = None,
) -> list[SupervisedComfy]:
    """One SupervisedComfy per GPU (``parse_gpus("0,1")``), each in its own folder."""
    return [
        SupervisedComfy(spec, work_dir=work_dir_for(data_dir, gpu), gpu=gpu, options=options)
        for gpu in gpus
    ]


class SupervisedBackends:
    """The supervised backends together; implements the API's ``BackendHealth``."""

    def __init__(self, supervisors: Sequence[SupervisedComfy]) -> None:
        self.supervisors = list(supervisors)

    def backends(self) -> list[BackendState]:
        return [supervisor.health() for supervisor in self.supervisors]

    def can_start_lazily(self) -> bool:
        """True when some backend is not ready yet but will be, on demand or by restart."""
        return any(supervisor.state in _WILL_BE_READY for supervisor in self.supervisors)

    async def start_all(self) -> None:
        """Eager start: begin launching every backend (does not wait for readiness)."""
        for supervisor in self.supervisors:
            await supervisor.start()

    async def stop_all(self) -> None:
        """Stop every backend at once, so shutdown takes one grace period, not N."""
        await asyncio.gather(*(supervisor.stop() for supervisor in self.supervisors))
