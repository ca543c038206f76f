"""A pool member whose ComfyUI we run ourselves (``supervisor/``).

It differs from a configured backend in three ways: it may be started on demand (the
first job that goes there waits for the launch), its URL may change when a restart finds
the old port taken (the member is keyed by its supervisor, not its URL), and its crashes
are reported at once, so the worker can retry the running job with the crash on record
instead of waiting for the socket's reconnect budget to run out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import replace

from comfy_gateway.backend_health import BackendState
from comfy_gateway.comfy import ComfyHttpClient, ComfyTimeouts, ReconnectPolicy, backend_slug
from comfy_gateway.config import GatewaySettings
from comfy_gateway.supervisor import (
    CrashReport,
    LaunchSpec,
    SupervisedComfy,
    SupervisorEvent,
    SupervisorEventKind,
    SupervisorOptions,
    SupervisorState,
    check_comfy_path,
    parse_gpus,
    supervisors_for_gpus,
)
from comfy_gateway.worker.backend_pool import Backend, BackendStatus

logger = logging.getLogger(__name__)
#: How many of the crashed process's last lines go into the job's attempt (and error).
CRASH_TAIL_LINES = 20
CrashHandler = Callable[["SupervisedBackend", CrashReport], None]


class SupervisedBackend(Backend):
    """One supervised ComfyUI as the worker sees it."""

    def __init__(
        self,
        supervisor: SupervisedComfy,
        *,
        policy: ReconnectPolicy,
        lazy: bool,
        timeouts: ComfyTimeouts | None = None,
    ) -> None:
        url = supervisor.url
        http = ComfyHttpClient(url, backend=backend_slug(url), timeouts=timeouts)
        super().__init__(url, http=http, policy=policy)
        self.supervisor = supervisor
        self.lazy = lazy
        self.on_crash: CrashHandler | None = None
        self._timeouts = timeouts
        # The first job and the pool's maintenance may both connect once it is ready: one
        # socket must win, not the later one closing the socket a job already follows.
        self._connecting = asyncio.Lock()
        # Down until its process is ready; the pool's maintenance connects it then.
        self.status, self.detail = BackendStatus.DOWN, None
        supervisor.add_listener(self._on_event)

    @property
    def startable_on_demand(self) -> bool:
        return self.lazy and self.supervisor.state is SupervisorState.STOPPED

    @property
    def claimable(self) -> bool:
        return self.ready or self.startable_on_demand

    def connectable(self) -> bool:
        # Connecting to a process that is not ready would only count failures.
        return self.supervisor.state is SupervisorState.READY

    async def prepare(self) -> None:
        """Lazy start: launch ComfyUI unless someone did, wait until ready, connect."""
        if self.ready:
            return
        await self.supervisor.ensure_started()
        await self.connect()

    async def connect(self) -> None:
        async with self._connecting:
            if self.ready and self.url == self.supervisor.url:
                return  # connected by someone else while we waited
            await self._follow_url()
            await super().connect()

    def health(self) -> BackendState:
        # The supervisor's state says more (starting, backoff, failed) than ours.
        return replace(self.supervisor.health(), url=self.url, reachable=self.ready)

    async def _follow_url(self) -> None:
        """A restart may have moved to another port: talk to the new one."""
        url = self.supervisor.url
        if url == self.url:
            return
        await self.close_connection()
        previous = self.http
        self.http = ComfyHttpClient(url, backend=backend_slug(url), timeouts=self._timeouts)
        self.url, self.name = url, backend_slug(url)
        await previous.aclose()

    def _on_event(self, event: SupervisorEvent) -> None:
        if event.kind is SupervisorEventKind.READY:
            self.retry_at = 0.0  # reconnect at the pool's next round, not after a backoff
        elif event.kind in (SupervisorEventKind.CRASHED, SupervisorEventKind.FAILED):
            self.status, self.detail = BackendStatus.DOWN, f"ComfyUI {event.kind.value}"
            if event.kind is SupervisorEventKind.CRASHED and event.crash is not None:
                self._report_crash(event.crash)

    def _report_crash(self, crash: CrashReport) -> None:
        if self.on_crash is None:
            return
        try:
            self.on_crash(self, crash)
        except Exception:  # the supervisor must go on restarting whatever we got wrong
            logger.exception("handling the crash of %s failed", self.supervisor.name)


def crash_detail(backend: SupervisedBackend, crash: CrashReport) -> str:
    """What a job's attempt (and, if it finally fails, its error) says about a crash."""
    tail = "\n".join(crash.log_tail[-CRASH_TAIL_LINES:])
    name = backend.supervisor.name
    return f"supervised ComfyUI {name} crashed ({crash.reason}); last output:\n{tail}"


def supervised_backends(
    settings: GatewaySettings, *, policy: ReconnectPolicy, timeouts: ComfyTimeouts | None = None
) -> list[SupervisedBackend]:
    """One member per GPU when ``--comfy-path``/``--comfy-cmd`` is set, else none."""
    if not settings.supervises_comfy:
        return []
    spec = LaunchSpec(comfy_path=settings.comfy_path, comfy_cmd=settings.comfy_cmd)
    if spec.comfy_path is not None:
        check_comfy_path(spec.comfy_path)
    options = SupervisorOptions(startup_timeout_s=settings.comfy_startup_timeout_s)
    supervisors = supervisors_for_gpus(
        spec, data_dir=settings.data_dir, gpus=parse_gpus(settings.gpus), options=options
    )
    lazy = not settings.comfy_eager
    return [
        SupervisedBackend(supervisor, policy=policy, lazy=lazy, timeouts=timeouts)
        for supervisor in supervisors
    ]
