"""One SupervisedComfy per GPU, and their health together (nothing launched)."""

from __future__ import annotations

from pathlib import Path

from comfy_gateway.supervisor import (
    LaunchSpec,
    SupervisedBackends,
    SupervisorState,
    parse_gpus,
    supervisors_for_gpus,
)

SPEC = LaunchSpec(comfy_cmd="sim --port {port}")


def test_one_supervisor_per_gpu_each_with_its_own_folder_and_port(tmp_path: Path) -> None:
    supervisors = supervisors_for_gpus(SPEC, data_dir=tmp_path, gpus=parse_gpus("0,1"))
    assert [supervisor.gpu for supervisor in supervisors] == ["0", "1"]
    assert supervisors[0].folders.work_dir != supervisors[1].folders.work_dir
    assert supervisors[0].name == "comfyui-gpu0"
    assert len({supervisor.url for supervisor in supervisors}) == 2


def test_stopped_backends_are_unreachable_but_start_lazily(tmp_path: Path) -> None:
    backends = SupervisedBackends(supervisors_for_gpus(SPEC, data_dir=tmp_path, gpus=[None]))
    [health] = backends.backends()
    assert health.state == SupervisorState.STOPPED.value
    assert not health.reachable
    assert health.url.startswith("http://127.0.0.1:")
    assert backends.can_start_lazily()


def test_no_backends_cannot_start_lazily() -> None:
    assert not SupervisedBackends([]).can_start_lazily()
