"""SupervisedComfy before anything is launched: lazy by default, stop is harmless."""

from __future__ import annotations

from pathlib import Path

from comfy_gateway.supervisor import (
    LaunchSpec,
    SupervisedComfy,
    SupervisorEvent,
    SupervisorState,
)

SPEC = LaunchSpec(comfy_cmd="sim --port {port}")


def test_a_new_supervisor_is_stopped_with_a_url_already(tmp_path: Path) -> None:
    supervisor = SupervisedComfy(SPEC, work_dir=tmp_path, gpu="3")
    assert supervisor.state is SupervisorState.STOPPED
    assert supervisor.url.startswith("http://127.0.0.1:")
    assert supervisor.pid is None
    assert supervisor.launches == 0
    assert supervisor.name == "comfyui-gpu3"
    assert supervisor.log_tail() == []
    health = supervisor.health()
    assert health.state == "stopped"
    assert not health.reachable
    assert health.detail is not None
    assert "first job" in health.detail


async def test_stopping_a_never_started_supervisor_does_nothing(tmp_path: Path) -> None:
    supervisor = SupervisedComfy(SPEC, work_dir=tmp_path)
    seen: list[SupervisorEvent] = []
    supervisor.add_listener(seen.append)
    await supervisor.stop()
    assert supervisor.state is SupervisorState.STOPPED
    assert seen == []
    assert not (tmp_path / "output").exists()  # nothing was launched
