"""What a supervisor tells the worker: lifecycle events, and a way to await a state."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from enum import StrEnum

from comfy_gateway.supervisor.lifecycle import SupervisorState

logger = logging.getLogger(__name__)


class SupervisorEventKind(StrEnum):
    LAUNCHED = "launched"  # a process was spawned (``pid`` set); not ready yet
    READY = "ready"  # first start, or a restart when ``restarted`` is true
    CRASHED = "crashed"  # exited (or never got ready); a restart may follow
    FAILED = "failed"  # too many crashes: no more restarts
    STOPPED = "stopped"  # stop() finished


@dataclass(frozen=True, kw_only=True)
class CrashReport:
    """Why a run ended badly, with the output that led up to it."""

    reason: str
    exit_code: int | None
    log_tail: tuple[str, ...] = ()


@dataclass(frozen=True, kw_only=True)
class SupervisorEvent:
    """One lifecycle event of one supervised backend."""

    kind: SupervisorEventKind
    name: str
    url: str
    launch: int  # which launch this is about, counting from 1
    pid: int | None = None
    crash: CrashReport | None = None

    @property
    def restarted(self) -> bool:
        return self.kind is SupervisorEventKind.READY and self.launch > 1


SupervisorListener = Callable[[SupervisorEvent], None]


@dataclass
class Listeners:
    """Callbacks for events; one that raises is logged and does not stop the others."""

    _callbacks: list[SupervisorListener] = field(default_factory=list)

    def add(self, callback: SupervisorListener) -> None:
        self._callbacks.append(callback)

    def emit(self, event: SupervisorEvent) -> None:
        for callback in list(self._callbacks):
            try:
                callback(event)
            except Exception:  # a listener's bug must not stop supervision
                logger.exception("supervisor listener failed on %s", event.kind)


@dataclass
class StateWatch:
    """The current state, and futures for code waiting for one of some states."""

    state: SupervisorState = SupervisorState.STOPPED
    _waiters: list[tuple[frozenset[SupervisorState], asyncio.Future[SupervisorState]]] = field(
        default_factory=list
    )

    def set(self, state: SupervisorState) -> None:
        self.state = state
        waiting = []
        for wanted, future in self._waiters:
            if future.done():
                continue
            if state in wanted:
                future.set_result(state)
            else:
                waiting.append((wanted, future))
        self._waiters = waiting

    def waiter(self, wanted: frozenset[SupervisorState]) -> asyncio.Future[SupervisorState]:
        """A future resolved with the first state in ``wanted`` (at once if already there)."""
        future: asyncio.Future[SupervisorState] = asyncio.get_running_loop().create_future()
        if self.state in wanted:
            future.set_result(self.state)
        else:
            self._waiters.append((wanted, future))
        return future

    async def wait_for(
        self, wanted: frozenset[SupervisorState], timeout_s: float | None
    ) -> SupervisorState:
        """The first state in ``wanted`` (now or later); TimeoutError after ``timeout_s``."""
        return await asyncio.wait_for(self.waiter(wanted), timeout_s)
