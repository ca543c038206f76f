"""The ComfyUI backends one worker drives: one HTTP client and one socket each.

A backend is ``ready`` while its socket is open, ``down`` after a failure until a retry
(with backoff) reconnects it. The pool answers ``/health`` from memory (it implements the
API's ``BackendHealth``) and tells the claim loop which backends can take a prompt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable, Sequence
from enum import StrEnum
from typing import TYPE_CHECKING

from comfy_gateway.backend_health import BackendState
from comfy_gateway.comfy import (
    BackendConnection,
    ComfyHttpClient,
    ComfyTimeouts,
    ReconnectPolicy,
    backend_slug,
)
from comfy_gateway.comfy.client_identity import make_client_id
from comfy_gateway.config import GatewaySettings
from comfy_gateway.errors import ComfyError
from comfy_gateway.supervisor import SupervisedBackends
from comfy_gateway.worker.history_janitor import HistoryJanitor
from comfy_gateway.worker.retry_backoff import RetryBackoff

if TYPE_CHECKING:
    from comfy_gateway.worker.supervised_backend import CrashHandler, SupervisedBackend

logger = logging.getLogger(__name__)
MAINTENANCE_INTERVAL_S = 0.2
#: ``/system_stats`` is cheap even while a prompt runs: an answer slower than this is none.
PROBE_TIMEOUT_S = 5.0


class BackendStatus(StrEnum):
    CONNECTING = "connecting"
    READY = "ready"
    DOWN = "down"


class Backend:
    """One ComfyUI: its clients, its state, and how many of our prompts it holds."""

    def __init__(
        self,
        url: str,
        *,
        http: ComfyHttpClient,
        policy: ReconnectPolicy,
        client_id: str | None = None,
    ) -> None:
        self.url = url
        self.name = backend_slug(url)
        self.http = http
        self.policy = policy
        self.client_id = client_id  # None: this process's own (one worker per process)
        self.connection: BackendConnection | None = None
        self.status = BackendStatus.CONNECTING
        self.detail: str | None = None
        self.failures = 0
        self.retry_at = 0.0
        self.in_flight = 0
        #: Deletes finished prompts from this backend's history, gathered.
        self.history = HistoryJanitor(lambda: self.http)
        #: Set while its socket is reconnecting and it does not answer HTTP either: no new
        #: prompts go there, but the socket keeps its budget for the running prompt.
        self.unreachable = False
        self._output_classes: frozenset[str] | None = None

    @property
    def ready(self) -> bool:
        """Can take a new prompt."""
        return self.status is BackendStatus.READY and not self.unreachable and self.socket_open

    @property
    def claimable(self) -> bool:
        """A job may be claimed for it: ready, or (supervised) startable for the job."""
        return self.ready

    def connectable(self) -> bool:
        """Worth a connection attempt now (a supervised one: once its process is ready)."""
        return True

    async def prepare(self) -> None:
        """Before a job uses it: nothing here (a supervised backend starts on demand)."""

    @property
    def socket_open(self) -> bool:
        """Open, or reconnecting within its budget."""
        connection = self.connection
        return connection is not None and connection.connected

    def require_connection(self) -> BackendConnection:
        if self.connection is None or not self.ready:
            raise ComfyError(f"backend {self.url} is not connected", backend=self.name)
        return self.connection

    async def output_node_classes(self) -> frozenset[str]:
        """Classes whose nodes are outputs here, from ``/object_info`` (asked once)."""
        if self._output_classes is None:
            definitions = await self.http.object_info()
            self._output_classes = frozenset(
                name for name, definition in definitions.items() if definition.output_node
            )
        return self._output_classes

    async def connect(self) -> None:
        """Check the backend answers, then open its one socket (ComfyError if not)."""
        await self.close_connection()
        await self.http.system_stats()
        connection = BackendConnection(self.http, policy=self.policy, client_id=self.client_id)
        await connection.start()
        self.connection = connection
        # A restarted backend may have other nodes installed: ask again.
        self._output_classes = None
        self.status, self.detail, self.failures = BackendStatus.READY, None, 0
        self.unreachable = False

    async def answers(self, timeout_s: float = PROBE_TIMEOUT_S) -> bool:
        """Whether ``/system_stats`` answers within ``timeout_s``."""
        try:
            await asyncio.wait_for(self.http.system_stats(), timeout_s)
        except (ComfyError, TimeoutError):
            return False
        return True

    async def close_connection(self) -> None:
        connection, self.connection = self.connection, None
        if connection is not None:
            await connection.aclose()

    def health(self) -> BackendState:
        return BackendState(
            url=self.url, reachable=self.ready, state=self.status.value, detail=self.detail
        )


class BackendPool:
    """Every configured backend; implements the API's ``BackendHealth``."""

    def __init__(
        self,
        urls: Sequence[str],
        *,
        reconnect_policy: ReconnectPolicy | None = None,
        retry: RetryBackoff | None = None,
        timeouts: ComfyTimeouts | None = None,
        clock: Callable[[], float] = time.monotonic,
        client_token: str | None = None,
        supervised: Sequence[SupervisedBackend] = (),
    ) -> None:
        """``client_token`` replaces the process token in the sockets' client ids, for
        two workers in one process (tests); ``supervised`` are the ComfyUIs we run."""
        policy = reconnect_policy or ReconnectPolicy()
        self.members: tuple[Backend, ...] = tuple(
            Backend(
                url,
                http=ComfyHttpClient(url, backend=backend_slug(url), timeouts=timeouts),
                policy=policy,
                client_id=make_client_id(url, token=client_token) if client_token else None,
            )
            for url in dict.fromkeys(url.rstrip("/") for url in urls)
        ) + tuple(supervised)
        self.supervised = tuple(supervised)
        self.retry = retry or RetryBackoff()
        self._clock = clock

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> BackendPool:
        """One backend per ``comfy_urls``; a socket that cannot be reopened within
        ``backend_lost_after_s`` gives its running jobs back to the queue."""
        policy = ReconnectPolicy(budget=settings.backend_lost_after_s)
        # Imported here: the supervised member is itself a Backend of this module.
        from comfy_gateway.worker.supervised_backend import supervised_backends

        supervised = supervised_backends(settings, policy=policy)
        return cls(settings.comfy_urls, reconnect_policy=policy, supervised=supervised)

    # -- BackendHealth -----------------------------------------------------------------

    def backends(self) -> list[BackendState]:
        return [backend.health() for backend in self.members]

    def can_start_lazily(self) -> bool:
        """A supervised backend is not ready yet but will be, on demand or by restart."""
        return self._supervision().can_start_lazily()

    def _supervision(self) -> SupervisedBackends:
        return SupervisedBackends([member.supervisor for member in self.supervised])

    async def start_supervised(self) -> None:
        """Eager start: launch every supervised ComfyUI now (readiness comes later)."""
        await self._supervision().start_all()

    async def stop_supervised(self) -> None:
        """Stop every supervised ComfyUI (after the worker drained and let go)."""
        await self._supervision().stop_all()

    def set_crash_handler(self, handler: CrashHandler) -> None:
        """Who hears at once that a supervised ComfyUI died (the worker)."""
        for member in self.supervised:
            member.on_crash = handler

    # -- for the worker ----------------------------------------------------------------

    @property
    def any_ready(self) -> bool:
        return any(backend.ready for backend in self.members)

    def by_url(self, url: str | None) -> Backend | None:
        return next((backend for backend in self.members if backend.url == url), None)

    def with_free_slot(self, slots_per_backend: int) -> list[Backend]:
        """Ready backends that can take another prompt, least busy first."""
        free = [b for b in self.members if b.claimable and b.in_flight < slots_per_backend]
        return sorted(free, key=lambda backend: backend.in_flight)

    async def start(self) -> None:
        """Try every backend once; those that do not answer are retried by ``maintain``."""
        await asyncio.gather(*(self._try_connect(backend) for backend in self.members))

    async def aclose(self) -> None:
        for backend in self.members:
            await backend.history.flush()
            await backend.close_connection()
            await backend.http.aclose()

    async def maintain(self, stop: asyncio.Event) -> None:
        """Until ``stop``: notice broken sockets, reconnect down backends when due."""
        while not stop.is_set():
            for backend in self.members:
                try:
                    await self.check_backend(backend)
                except Exception:  # one backend's surprise must not stop the others' care
                    logger.exception("checking backend %s failed", backend.url)
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(stop.wait(), MAINTENANCE_INTERVAL_S)

    async def report_failure(self, backend: Backend, error: ComfyError) -> None:
        """A call to ``backend`` failed as if it were unreachable: check before giving up."""
        try:
            await backend.http.system_stats()
        except ComfyError:
            await self._mark_down(backend, str(error))

    async def check_backend(self, backend: Backend) -> None:
        """One maintenance step: a broken socket → down; a down backend due → retry."""
        if backend.status is BackendStatus.READY and not backend.socket_open:
            await self._mark_down(backend, "the WebSocket could not be reopened")
        elif backend.status is BackendStatus.DOWN and self._clock() >= backend.retry_at:
            await self._try_connect(backend)

    async def _try_connect(self, backend: Backend) -> None:
        if not backend.connectable():
            return
        try:
            await backend.connect()
        except ComfyError as exc:
            await self._mark_down(backend, str(exc))
        else:
            logger.info("backend %s is ready", backend.url)

    async def _mark_down(self, backend: Backend, detail: str) -> None:
        if backend.status is not BackendStatus.DOWN:
            logger.warning("backend %s is down: %s", backend.url, detail)
        await backend.close_connection()
        backend.status, backend.detail = BackendStatus.DOWN, detail
        backend.retry_at = self._clock() + self.retry.delay(backend.failures)
        backend.failures += 1
