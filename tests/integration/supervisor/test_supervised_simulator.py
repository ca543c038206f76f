"""SupervisedComfy driving real processes: the simulator, and commands that misbehave."""

from __future__ import annotations

import asyncio
import os
import shlex
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from comfy_gateway.errors import ComfyUnavailable
from comfy_gateway.supervisor import (
    LaunchSpec,
    RestartPolicy,
    SupervisedComfy,
    SupervisorEvent,
    SupervisorEventKind,
    SupervisorOptions,
    SupervisorState,
)
from comfy_gateway.supervisor.pidfile import read_identity, read_pidfile

PYTHON = shlex.quote(sys.executable)
SIMULATOR_CMD = f"{PYTHON} -m comfy_gateway simulate --port {{port}} --data-dir {{data_dir}}"
FAST_RESTART = RestartPolicy(initial_s=0.01, maximum_s=0.05)
WAIT_S = 30.0


def group_exists(pgid: int) -> bool:
    """Any live (not zombie) process left in the session the child led (ps, not our code)."""
    listing = subprocess.run(
        ["ps", "-s", str(pgid), "-o", "stat="], capture_output=True, text=True, check=False
    )
    return any(not state.startswith("Z") for state in listing.stdout.split())


class EventLog:
    """Collects a supervisor's events and lets a test wait for the next one of a kind."""

    def __init__(self, supervisor: SupervisedComfy) -> None:
        self.events: list[SupervisorEvent] = []
        self._queue: asyncio.Queue[SupervisorEvent] = asyncio.Queue()
        supervisor.add_listener(self._record)

    def _record(self, event: SupervisorEvent) -> None:
        self.events.append(event)
        self._queue.put_nowait(event)

    async def next(self, kind: SupervisorEventKind) -> SupervisorEvent:
        async with asyncio.timeout(WAIT_S):
            while (event := await self._queue.get()).kind is not kind:
                pass
        return event

    def of_kind(self, kind: SupervisorEventKind) -> list[SupervisorEvent]:
        return [event for event in self.events if event.kind is kind]


def supervisor_for(
    tmp_path: Path, command: str, options: SupervisorOptions | None = None
) -> SupervisedComfy:
    spec = LaunchSpec(comfy_cmd=command)
    chosen = options or SupervisorOptions(startup_timeout_s=WAIT_S, restart=FAST_RESTART)
    return SupervisedComfy(spec, work_dir=tmp_path / "backend", options=chosen)


@pytest.fixture
async def simulator_backend(tmp_path: Path) -> AsyncIterator[SupervisedComfy]:
    supervisor = supervisor_for(tmp_path, SIMULATOR_CMD)
    async with supervisor:
        yield supervisor


async def system_stats_status(url: str) -> int:
    async with httpx.AsyncClient() as client:
        return (await client.get(f"{url}/system_stats")).status_code


async def test_lazy_start_becomes_ready_and_stop_leaves_no_process(
    simulator_backend: SupervisedComfy,
) -> None:
    assert simulator_backend.state is SupervisorState.STOPPED
    assert simulator_backend.pid is None  # lazy: nothing runs before the first job

    url = await simulator_backend.ensure_started(timeout_s=WAIT_S)

    assert simulator_backend.health().state == "ready"
    assert await system_stats_status(url) == 200
    pid = simulator_backend.pid
    assert pid is not None
    assert os.getpgid(pid) == pid  # its own process group
    record = read_pidfile(simulator_backend.folders.pidfile)
    assert record is not None
    assert record.pid == pid
    assert simulator_backend.health().reachable

    await simulator_backend.stop()

    assert simulator_backend.state is SupervisorState.STOPPED
    assert not group_exists(pid)
    assert not simulator_backend.folders.pidfile.exists()
    assert not simulator_backend.health().reachable


async def test_kill_9_of_the_child_is_detected_and_it_restarts(
    simulator_backend: SupervisedComfy,
) -> None:
    events = EventLog(simulator_backend)
    await simulator_backend.ensure_started(timeout_s=WAIT_S)
    first_pid = simulator_backend.pid
    assert first_pid is not None

    os.kill(first_pid, signal.SIGKILL)

    crashed = await events.next(SupervisorEventKind.CRASHED)
    ready = await events.next(SupervisorEventKind.READY)
    assert crashed.pid == first_pid
    assert crashed.crash is not None
    assert crashed.crash.exit_code == -signal.SIGKILL
    assert any("launch 1" in line for line in crashed.crash.log_tail)
    assert ready.restarted
    assert ready.launch == 2
    assert ready.url == simulator_backend.url  # the port it is on now, whichever it is
    assert simulator_backend.state is SupervisorState.READY
    assert simulator_backend.pid not in (None, first_pid)
    assert await system_stats_status(simulator_backend.url) == 200


async def test_five_crashes_in_five_minutes_mark_it_failed(tmp_path: Path) -> None:
    crashing = (
        f"{PYTHON} -c \"import sys; print('boom on port', sys.argv[1]); sys.exit(3)\" {{port}}"
    )
    supervisor = supervisor_for(tmp_path, crashing)
    events = EventLog(supervisor)
    async with supervisor:
        with pytest.raises(ComfyUnavailable, match="failed"):
            await supervisor.ensure_started(timeout_s=WAIT_S)

        assert supervisor.state is SupervisorState.FAILED
        crashes = events.of_kind(SupervisorEventKind.CRASHED)
        assert len(crashes) == 5
        assert all(event.crash and event.crash.exit_code == 3 for event in crashes)
        assert len(events.of_kind(SupervisorEventKind.FAILED)) == 1
        assert any("boom on port" in line for line in supervisor.log_tail())
        health = supervisor.health()
        assert health.state == "failed"
        assert not health.reachable
        assert health.detail is not None
        assert "5 crashes" in health.detail


async def test_a_command_that_cannot_be_started_ends_failed(tmp_path: Path) -> None:
    supervisor = supervisor_for(tmp_path, f"{tmp_path}/no-such-comfyui --port {{port}}")
    events = EventLog(supervisor)
    async with supervisor:
        with pytest.raises(ComfyUnavailable, match="could not start"):
            await supervisor.ensure_started(timeout_s=WAIT_S)
    crashes = events.of_kind(SupervisorEventKind.CRASHED)
    assert len(crashes) == 5
    assert all(event.crash and event.crash.exit_code is None for event in crashes)
    assert supervisor.state is SupervisorState.STOPPED


async def test_crashes_spread_over_more_than_the_window_keep_restarting(tmp_path: Path) -> None:
    ticks = iter(range(0, 10_000, 80))  # each crash 80 s after the previous one
    crashing = f'{PYTHON} -c "raise SystemExit(4)" {{port}}'
    options = SupervisorOptions(startup_timeout_s=WAIT_S, restart=FAST_RESTART)
    supervisor = SupervisedComfy(
        LaunchSpec(comfy_cmd=crashing),
        work_dir=tmp_path / "backend",
        options=options,
        monotonic=lambda: float(next(ticks)),
    )
    events = EventLog(supervisor)
    async with supervisor:
        await supervisor.start()
        for _ in range(7):
            await events.next(SupervisorEventKind.CRASHED)
        assert supervisor.state is not SupervisorState.FAILED
    assert not events.of_kind(SupervisorEventKind.FAILED)


async def test_not_ready_within_the_startup_timeout_counts_as_a_crash(tmp_path: Path) -> None:
    silent = f'{PYTHON} -c "import time; time.sleep(300)" {{port}}'
    options = SupervisorOptions(startup_timeout_s=0.3, stop_grace_s=5, restart=FAST_RESTART)
    supervisor = supervisor_for(tmp_path, silent, options)
    events = EventLog(supervisor)
    async with supervisor:
        await supervisor.start()
        launched = await events.next(SupervisorEventKind.LAUNCHED)
        crashed = await events.next(SupervisorEventKind.CRASHED)
        assert crashed.crash is not None
        assert "not ready within 0.3 s" in crashed.crash.reason
        assert launched.pid is not None
        assert not group_exists(launched.pid)


async def test_stop_kills_a_group_that_ignores_sigterm(tmp_path: Path) -> None:
    # The shell and its background child both ignore SIGTERM: only SIGKILL ends them.
    stubborn = "sh -c \"trap '' TERM; sleep 300 & wait; sleep 300\" sh {port}"
    options = SupervisorOptions(startup_timeout_s=WAIT_S, stop_grace_s=0.3)
    supervisor = supervisor_for(tmp_path, stubborn, options)
    events = EventLog(supervisor)
    await supervisor.start()
    launched = await events.next(SupervisorEventKind.LAUNCHED)
    assert launched.pid is not None
    assert group_exists(launched.pid)

    await supervisor.stop()

    assert supervisor.state is SupervisorState.STOPPED
    assert not group_exists(launched.pid)
    assert events.of_kind(SupervisorEventKind.STOPPED)


ORPHANING_RUN = """
import asyncio, sys
from pathlib import Path
from comfy_gateway.supervisor import LaunchSpec, SupervisedComfy, SupervisorOptions

async def main() -> None:
    supervisor = SupervisedComfy(
        LaunchSpec(comfy_cmd=sys.argv[1]), work_dir=Path(sys.argv[2]),
        options=SupervisorOptions(startup_timeout_s=30),
    )
    await supervisor.ensure_started()
    print("READY", supervisor.pid, flush=True)
    await asyncio.Event().wait()

asyncio.run(main())
"""


def run_and_kill_9_an_earlier_gateway(command: str, work_dir: Path) -> int:
    """A gateway process that supervises ``command`` and dies by SIGKILL: the child's pid."""
    earlier = subprocess.Popen(
        [sys.executable, "-c", ORPHANING_RUN, command, str(work_dir)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert earlier.stdout is not None
        line = earlier.stdout.readline()  # blocks until ready (or the process ends)
        assert line.startswith("READY "), line
        return int(line.split()[1])
    finally:
        earlier.kill()
        earlier.wait(WAIT_S)
        if earlier.stdout is not None:
            earlier.stdout.close()


async def test_a_stale_process_from_a_killed_gateway_is_ended_before_start(
    tmp_path: Path,
) -> None:
    work_dir = tmp_path / "backend"
    orphan = await asyncio.to_thread(run_and_kill_9_an_earlier_gateway, SIMULATOR_CMD, work_dir)
    assert read_identity(orphan) is not None  # the orphan outlived its gateway

    supervisor = SupervisedComfy(
        LaunchSpec(comfy_cmd=SIMULATOR_CMD),
        work_dir=work_dir,
        options=SupervisorOptions(startup_timeout_s=WAIT_S),
    )
    async with supervisor:
        url = await supervisor.ensure_started(timeout_s=WAIT_S)
        assert read_identity(orphan) is None
        assert supervisor.pid != orphan
        assert await system_stats_status(url) == 200


async def test_a_pidfile_pointing_at_someone_elses_process_leaves_it_alone(
    tmp_path: Path,
) -> None:
    work_dir = tmp_path / "backend"
    work_dir.mkdir()
    bystander = await asyncio.create_subprocess_exec(
        sys.executable, "-c", "import time; time.sleep(300)"
    )
    try:
        # The pid is live, but its command line is not the one the pidfile recorded.
        record = f'{{"pid": {bystander.pid}, "argv": ["comfy", "main.py"], "start_ticks": null}}'
        (work_dir / "comfyui.pid").write_text(record)
        supervisor = supervisor_for(tmp_path, SIMULATOR_CMD)
        async with supervisor:
            await supervisor.ensure_started(timeout_s=WAIT_S)
            assert bystander.returncode is None
            assert read_identity(bystander.pid) is not None
    finally:
        bystander.kill()
        await bystander.wait()
