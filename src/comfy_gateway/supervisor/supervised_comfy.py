"""One supervised ComfyUI process (one per GPU): start, watch, restart, stop.

A single background task owns the process: it ends a stale one from an earlier run (the
pidfile), launches, waits for readiness, waits for the exit, and after a crash backs off
and launches again — until too many crashes (``failed``) or ``stop()``.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import TypeVar

import httpx

from comfy_gateway.backend_health import BackendState
from comfy_gateway.errors import ComfyUnavailable
from comfy_gateway.supervisor.child_process import end_group, pick_port, spawn
from comfy_gateway.supervisor.events import (
    CrashReport,
    Listeners,
    StateWatch,
    SupervisorEvent,
    SupervisorEventKind,
    SupervisorListener,
)
from comfy_gateway.supervisor.launch import BackendFolders, LaunchSpec, build_launch
from comfy_gateway.supervisor.lifecycle import SupervisorState, check_transition
from comfy_gateway.supervisor.log_tail import LogTail, pump_output
from comfy_gateway.supervisor.pidfile import end_stale_process, remove_pidfile, write_pidfile
from comfy_gateway.supervisor.process_group import signal_group
from comfy_gateway.supervisor.readiness import POLL_INTERVAL_S, Readiness, wait_until_ready
from comfy_gateway.supervisor.restart_policy import RestartPolicy

logger = logging.getLogger(__name__)
output_logger = logging.getLogger("comfy_gateway.supervisor.comfyui_output")
_S = SupervisorState
T = TypeVar("T")
_PATH_TO_FAILED: dict[SupervisorState, tuple[SupervisorState, ...]] = {
    _S.STARTING: (_S.CRASHED, _S.FAILED),
    _S.READY: (_S.CRASHED, _S.FAILED),
    _S.CRASHED: (_S.FAILED,),
    _S.BACKOFF: (_S.STARTING, _S.CRASHED, _S.FAILED),
}
_SETTLED_FOR_CALLERS = frozenset({_S.READY, _S.FAILED, _S.STOPPING, _S.STOPPED})


@dataclass(frozen=True, kw_only=True)
class SupervisorOptions:
    """How patient the supervisor is; the defaults are API.md's."""

    startup_timeout_s: float = 120.0
    stop_grace_s: float = 10.0
    log_tail_lines: int = 200
    restart: RestartPolicy = field(default_factory=RestartPolicy)
    poll_interval_s: float = POLL_INTERVAL_S


class SupervisedComfy:
    """One ComfyUI we launch and keep alive; ``url`` is where it answers."""

    def __init__(
        self,
        spec: LaunchSpec,
        *,
        work_dir: Path,
        gpu: str | None = None,
        options: SupervisorOptions | None = None,
        monotonic: Callable[[], float] = time.monotonic,
        name: str | None = None,
    ) -> None:
        self._spec = spec
        self._folders = BackendFolders(work_dir=work_dir)
        self._gpu = gpu
        self._options = options or SupervisorOptions()
        self._monotonic = monotonic
        self.name = name or ("comfyui" if gpu is None else f"comfyui-gpu{gpu}")
        self._port = pick_port(spec.host)
        self._watch = StateWatch()
        self._listeners = Listeners()
        self._tail = LogTail(self._options.log_tail_lines)
        self._crash_times: list[float] = []
        self._launches = 0
        self._detail: str | None = "not started; starts on the first job"
        self._process: asyncio.subprocess.Process | None = None
        self._task: asyncio.Task[None] | None = None
        self._stop_requested = asyncio.Event()
        self._pump: asyncio.Task[None] | None = None
        self._launch_pid: int | None = None  # kept after exit, for the crash event
        self.last_crash: CrashReport | None = None

    # -- what others read -------------------------------------------------------------

    @property
    def url(self) -> str:
        """Base URL of the backend (the port may change if a restart finds it taken)."""
        return f"http://{self._spec.host}:{self._port}"

    @property
    def state(self) -> SupervisorState:
        return self._watch.state

    @property
    def pid(self) -> int | None:
        """The running child's pid (also its process group id), if one runs."""
        process = self._process
        return process.pid if process and process.returncode is None else None

    @property
    def gpu(self) -> str | None:
        return self._gpu

    @property
    def launches(self) -> int:
        return self._launches

    @property
    def folders(self) -> BackendFolders:
        return self._folders

    def log_tail(self) -> list[str]:
        """The last lines the process printed (for our log and the failed job's error)."""
        return self._tail.lines()

    def health(self) -> BackendState:
        """This backend as `/health` shows it (no log lines: they may hold tenant data)."""
        return BackendState(
            url=self.url, reachable=self.state is _S.READY, state=self.state.value,
            detail=self._detail,
        )  # fmt: skip

    def add_listener(self, callback: SupervisorListener) -> None:
        """Call ``callback`` on every ready (incl. restarted), crashed, failed, stopped."""
        self._listeners.add(callback)

    async def wait_for_state(
        self, *states: SupervisorState, timeout_s: float | None = None
    ) -> SupervisorState:
        """Return once the state is one of ``states``; TimeoutError after ``timeout_s``."""
        return await self._watch.wait_for(frozenset(states), timeout_s)

    # -- what others call -------------------------------------------------------------

    async def start(self) -> None:
        """Begin launching (eager start) without waiting for readiness; idempotent."""
        if self.state is not _S.STOPPED:
            return
        self._stop_requested = asyncio.Event()
        self._crash_times = []
        self._move(_S.STARTING, "ending any leftover process, then launching")
        self._task = asyncio.create_task(self._supervise(), name=f"supervise-{self.name}")

    async def ensure_started(self, timeout_s: float | None = None) -> str:
        """Start if stopped (lazy start) and wait until ready; the URL to talk to.

        Raises ComfyUnavailable when it failed for good or is being stopped.
        """
        await self.start()
        state = await self.wait_for_state(*_SETTLED_FOR_CALLERS, timeout_s=timeout_s)
        if state is not _S.READY:
            raise ComfyUnavailable(
                f"supervised ComfyUI {self.name} is {state.value}: {self._detail}",
                backend=self.url,
            )
        return self.url

    async def stop(self) -> None:
        """SIGTERM the process group, SIGKILL after the grace period; wait until done."""
        if self.state in (_S.STOPPED, _S.STOPPING):
            await self.wait_for_state(_S.STOPPED)
            return
        self._move(_S.STOPPING, "stopping")
        self._stop_requested.set()
        if self._task is not None:
            await self._task
        self._move(_S.STOPPED, "stopped")
        self._emit(SupervisorEventKind.STOPPED)

    async def __aenter__(self) -> SupervisedComfy:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()

    # -- the supervising task ---------------------------------------------------------

    async def _supervise(self) -> None:
        try:
            await asyncio.to_thread(
                end_stale_process, self._folders.pidfile, grace_s=self._options.stop_grace_s
            )
            while not self._stop_requested.is_set():
                crash = await self._run_once()
                if crash is None or not await self._recover(crash):
                    return
        except Exception as exc:  # a bug of ours: give up visibly rather than hang waiters
            logger.exception("supervising ComfyUI %s failed", self.name)
            self._give_up(f"supervisor error: {exc!r}")

    def _give_up(self, reason: str) -> None:
        for step in _PATH_TO_FAILED.get(self.state, ()):
            self._move(step, reason)

    async def _run_once(self) -> CrashReport | None:
        """One launch until it crashes (its report) or a stop is asked for (None)."""
        self._launches += 1
        self._port = pick_port(self._spec.host, self._port)
        self._folders.create()
        command = build_launch(self._spec, port=self._port, folders=self._folders, gpu=self._gpu)
        self._tail.add(f"--- launch {self._launches}: {' '.join(command.argv)}")
        try:
            process = await spawn(command)
        except OSError as exc:
            return CrashReport(reason=f"could not start: {exc}", exit_code=None)
        self._process = process
        self._launch_pid = process.pid
        write_pidfile(self._folders.pidfile, pid=process.pid, argv=command.argv)
        self._emit(SupervisorEventKind.LAUNCHED)
        try:
            return await self._watch_process(process)
        finally:
            await self._clean_up(process)

    async def _watch_process(self, process: asyncio.subprocess.Process) -> CrashReport | None:
        assert process.stdout is not None  # spawn pipes it
        self._pump = asyncio.create_task(
            pump_output(process.stdout, self._tail, logger=output_logger, label=self.name)
        )
        exited: asyncio.Future[int] = asyncio.ensure_future(process.wait())
        readiness = await self._until_stop(self._readiness(exited))
        if readiness is None:
            return None
        if readiness is Readiness.TIMED_OUT:
            timeout = self._options.startup_timeout_s
            return CrashReport(reason=f"not ready within {timeout:g} s", exit_code=None)
        if readiness is Readiness.READY:
            self._move(_S.READY, None)
            self._emit(SupervisorEventKind.READY)
            if await self._until_stop(exited) is None:
                return None
        code = process.returncode
        return CrashReport(reason=f"exited with code {code}", exit_code=code)

    async def _readiness(self, exited: asyncio.Future[int]) -> Readiness:
        # No proxies from the environment: the child listens on our own loopback.
        async with httpx.AsyncClient(trust_env=False) as client:
            return await wait_until_ready(
                client, self.url, exited=exited,
                timeout_s=self._options.startup_timeout_s,
                poll_interval_s=self._options.poll_interval_s,
            )  # fmt: skip

    async def _until_stop(self, awaitable: Awaitable[T]) -> T | None:
        """The result of ``awaitable``, or None (and it is cancelled) if stop() comes first."""
        work = asyncio.ensure_future(awaitable)
        stop = asyncio.ensure_future(self._stop_requested.wait())
        try:
            await asyncio.wait({work, stop}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stop.cancel()
            if not work.done():
                work.cancel()
        if self._stop_requested.is_set() or work.cancelled():
            return None
        return work.result()

    async def _clean_up(self, process: asyncio.subprocess.Process) -> None:
        """End the group (or what a crashed leader left of it) and keep its last words."""
        try:
            await end_group(process, grace_s=self._options.stop_grace_s)
            if self._pump is not None:
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._pump, self._options.stop_grace_s)
        except BaseException:
            signal_group(process.pid, signal.SIGKILL)  # cancelled: never leave it running
            raise
        finally:
            remove_pidfile(self._folders.pidfile)
            self._process = None

    async def _recover(self, crash: CrashReport) -> bool:
        """Record a crash, then back off and return True, or give up and return False."""
        if self._stop_requested.is_set():
            return False
        policy = self._options.restart
        now = self._monotonic()
        decision = policy.after_crash([*self._crash_times, now], now)
        self._crash_times = policy.recent([*self._crash_times, now], now)
        report = replace(crash, log_tail=tuple(self._tail.lines()))
        self.last_crash = report
        logger.warning(
            "supervised ComfyUI %s %s; its last output:\n%s",
            self.name, crash.reason, "\n".join(report.log_tail[-20:]),
        )  # fmt: skip
        self._move(_S.CRASHED, crash.reason)
        self._emit(SupervisorEventKind.CRASHED, crash=report)
        if decision.give_up:
            window = policy.window_s
            detail = f"{decision.recent_crashes} crashes within {window:g} s; last: {crash.reason}"
            self._move(_S.FAILED, detail)
            self._emit(SupervisorEventKind.FAILED, crash=report)
            return False
        return await self._back_off(decision.delay_s, crash.reason)

    async def _back_off(self, delay_s: float, reason: str) -> bool:
        self._move(_S.BACKOFF, f"restarting in {delay_s:g} s after: {reason}")
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._stop_requested.wait(), delay_s)
        if self._stop_requested.is_set():
            return False
        self._move(_S.STARTING, f"restarting after: {reason}")
        return True

    # -- bookkeeping ------------------------------------------------------------------

    def _move(self, new: SupervisorState, detail: str | None) -> None:
        if self._stop_requested.is_set() and new not in (_S.STOPPING, _S.STOPPED):
            return  # a stop under way wins over whatever the supervising task saw
        check_transition(self.state, new)
        self._detail = detail
        self._watch.set(new)

    def _emit(self, kind: SupervisorEventKind, *, crash: CrashReport | None = None) -> None:
        event = SupervisorEvent(
            kind=kind, name=self.name, url=self.url, launch=self._launches, pid=self._launch_pid,
            crash=crash,
        )  # fmt: skip
        self._listeners.emit(event)
