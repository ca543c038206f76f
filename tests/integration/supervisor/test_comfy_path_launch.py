"""`--comfy-path DIR` mode: `python main.py --listen … --port …` run in DIR, one per GPU.

A stand-in checkout whose main.py records how it was launched and then serves the real
simulator on the port it was given, so readiness is the real `/system_stats`.
"""

from __future__ import annotations

import json
from pathlib import Path

from comfy_gateway.supervisor import (
    LaunchSpec,
    SupervisedBackends,
    SupervisorOptions,
    parse_gpus,
    supervisors_for_gpus,
)
from comfy_gateway.supervisor.pidfile import read_identity

FAKE_MAIN = """
import argparse, json, os, sys
from pathlib import Path
parser = argparse.ArgumentParser()
for flag in ("--listen", "--port", "--output-directory", "--temp-directory"):
    parser.add_argument(flag, required=True)
args = parser.parse_args()
launch = {"cwd": os.getcwd(), "argv": sys.argv, "gpu": os.environ.get("CUDA_VISIBLE_DEVICES"),
          "output": args.output_directory, "temp": args.temp_directory}
Path(args.output_directory, "launch.json").write_text(json.dumps(launch))
os.execv(sys.executable, [sys.executable, "-m", "comfy_gateway", "simulate", "--host",
         args.listen, "--port", args.port, "--data-dir", args.temp_directory])
"""


async def test_one_checkout_launch_per_gpu_with_its_own_folders(tmp_path: Path) -> None:
    checkout = tmp_path / "ComfyUI"
    checkout.mkdir()
    (checkout / "main.py").write_text(FAKE_MAIN)
    supervisors = supervisors_for_gpus(
        LaunchSpec(comfy_path=checkout),
        data_dir=tmp_path / "gateway",
        gpus=parse_gpus("0,1"),
        options=SupervisorOptions(startup_timeout_s=30),
    )
    backends = SupervisedBackends(supervisors)
    try:
        await backends.start_all()
        urls = [await supervisor.ensure_started(timeout_s=30) for supervisor in supervisors]
        assert all(state.reachable for state in backends.backends())
        assert len(set(urls)) == 2
        for supervisor, gpu in zip(supervisors, ["0", "1"], strict=True):
            launch = json.loads((supervisor.folders.output_dir / "launch.json").read_text())
            assert launch["gpu"] == gpu
            assert Path(launch["cwd"]) == checkout
            assert launch["argv"][0] == "main.py"
            assert launch["temp"] == str(supervisor.folders.temp_dir)
            assert supervisor.url.endswith(f":{launch['argv'][4]}")
        pids = [supervisor.pid for supervisor in supervisors]
    finally:
        await backends.stop_all()
    assert [state.state for state in backends.backends()] == ["stopped", "stopped"]
    for pid in pids:
        assert pid is not None
        assert read_identity(pid) is None  # stop_all ended both processes
