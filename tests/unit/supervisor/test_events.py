"""Listeners and waiting for a state, without a process."""

from __future__ import annotations

import pytest

from comfy_gateway.supervisor.events import (
    Listeners,
    StateWatch,
    SupervisorEvent,
    SupervisorEventKind,
)
from comfy_gateway.supervisor.lifecycle import SupervisorState

S = SupervisorState


def event(kind: SupervisorEventKind, launch: int = 1) -> SupervisorEvent:
    return SupervisorEvent(kind=kind, name="comfyui", url="http://127.0.0.1:1", launch=launch)


def test_ready_after_the_first_launch_is_a_restart() -> None:
    assert not event(SupervisorEventKind.READY, launch=1).restarted
    assert event(SupervisorEventKind.READY, launch=2).restarted
    assert not event(SupervisorEventKind.CRASHED, launch=2).restarted


def test_a_failing_listener_does_not_stop_the_others() -> None:
    listeners = Listeners()
    seen: list[SupervisorEventKind] = []

    def broken(_: SupervisorEvent) -> None:
        raise RuntimeError("listener bug")

    listeners.add(broken)
    listeners.add(lambda received: seen.append(received.kind))
    listeners.emit(event(SupervisorEventKind.CRASHED))
    assert seen == [SupervisorEventKind.CRASHED]


async def test_wait_returns_at_once_when_already_there() -> None:
    watch = StateWatch()
    assert await watch.wait_for(frozenset({S.STOPPED}), timeout_s=0) is S.STOPPED


async def test_wait_resolves_on_the_first_wanted_state() -> None:
    watch = StateWatch()
    waiting = watch.waiter(frozenset({S.READY, S.FAILED}))
    watch.set(S.STARTING)
    assert not waiting.done()
    watch.set(S.FAILED)
    assert waiting.result() is S.FAILED


async def test_wait_times_out() -> None:
    watch = StateWatch()
    with pytest.raises(TimeoutError):
        await watch.wait_for(frozenset({S.READY}), timeout_s=0.01)
