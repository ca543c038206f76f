"""Settings → supervised pool members (no process is started by building them)."""

from __future__ import annotations

from pathlib import Path

import pytest

from comfy_gateway.comfy import ReconnectPolicy
from comfy_gateway.config import GatewaySettings
from comfy_gateway.errors import ConfigError
from comfy_gateway.supervisor import SupervisorState
from comfy_gateway.worker import BackendPool
from comfy_gateway.worker.supervised_backend import supervised_backends

COMMAND = "simulator --port {port} --data-dir {data_dir}"


def test_the_environment_configures_one_member_per_gpu(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("COMFY_GATEWAY_COMFY_CMD", COMMAND)
    monkeypatch.setenv("COMFY_GATEWAY_GPUS", "0,1")
    monkeypatch.setenv("COMFY_GATEWAY_COMFY_EAGER", "true")
    monkeypatch.setenv("COMFY_GATEWAY_COMFY_STARTUP_TIMEOUT_S", "7")
    settings = GatewaySettings(data_dir=tmp_path)

    members = supervised_backends(settings, policy=ReconnectPolicy())

    assert [member.supervisor.name for member in members] == ["comfyui-gpu0", "comfyui-gpu1"]
    assert [member.supervisor.gpu for member in members] == ["0", "1"]
    assert [member.lazy for member in members] == [False, False]
    assert members[0].supervisor.folders.work_dir == tmp_path / "comfyui-gpu0"
    assert all(member.supervisor.state is SupervisorState.STOPPED for member in members)


def test_lazy_members_join_the_configured_urls_in_the_pool(tmp_path: Path) -> None:
    settings = GatewaySettings(
        data_dir=tmp_path, comfy_cmd=COMMAND, comfy_urls=["http://127.0.0.1:8188"]
    )

    pool = BackendPool.from_settings(settings)

    [supervised] = pool.supervised
    assert [member.url for member in pool.members] == ["http://127.0.0.1:8188", supervised.url]
    assert (supervised.lazy, supervised.claimable, supervised.ready) == (True, True, False)
    assert pool.can_start_lazily()
    assert [state.state for state in pool.backends()][1] == "stopped"


def test_no_supervision_without_a_path_or_command(tmp_path: Path) -> None:
    settings = GatewaySettings(data_dir=tmp_path, comfy_urls=["http://127.0.0.1:8188"])
    assert supervised_backends(settings, policy=ReconnectPolicy()) == []
    assert not BackendPool.from_settings(settings).can_start_lazily()


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"comfy_cmd": COMMAND, "comfy_path": Path()}, "exactly one"),
        ({"comfy_path": Path("no-such-checkout")}, "main.py"),
        ({"comfy_cmd": "simulator --port 8188"}, "{port}"),
        ({"comfy_cmd": COMMAND, "gpus": "0,0"}, "distinct"),
    ],
)
def test_unusable_supervision_settings_are_refused(
    tmp_path: Path, fields: dict[str, object], message: str
) -> None:
    settings = GatewaySettings.model_validate({"data_dir": tmp_path, **fields})
    with pytest.raises(ConfigError, match=message):
        supervised_backends(settings, policy=ReconnectPolicy())
