"""`comfy-gateway submit --media … --wait -o DIR` against a real `serve` process."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from acceptance.gateway_checks import get_job, sha256_hex, simulator_file
from acceptance.workflows import close_to, inverted, load_invert_save_graph, png_bytes, rgb_pixels
from support.gateway_process import GatewayProcess, gateway_env
from support.simulator_process import SimulatorProcess


def test_submit_with_media_waits_and_downloads_the_outputs(
    gateway: GatewayProcess, sim: SimulatorProcess, tmp_path: Path
) -> None:
    pixels = [(250, 5, 60), (0, 90, 180), (33, 66, 99), (255, 0, 255)]
    media = tmp_path / "photo.png"
    media.write_bytes(png_bytes(pixels, width=2))
    workflow = tmp_path / "workflow.json"
    workflow.write_text(json.dumps(load_invert_save_graph("photo.png", prefix="cli")))
    out_dir = tmp_path / "out"
    assert gateway.url is not None
    command = [
        *(sys.executable, "-m", "comfy_gateway", "submit", str(workflow)),
        *("--media", str(media), "--wait", "-o", str(out_dir), "--url", gateway.url, "--json"),
    ]
    finished = subprocess.run(
        command, capture_output=True, text=True, timeout=60, env=gateway_env(), check=False
    )
    assert finished.returncode == 0, finished.stdout + finished.stderr
    saved = sorted(out_dir.iterdir())
    assert len(saved) == 1, (saved, finished.stdout)
    got = rgb_pixels(saved[0].read_bytes())
    assert close_to(got, inverted(pixels)), got

    printed = json.loads(finished.stdout)
    job_id = printed["job_id"]
    with gateway.client() as client:
        job = get_job(client, job_id)
    assert job["status"] == printed["status"] == "completed"
    assert saved[0].name == job["outputs"][0]["filename"]
    assert job["outputs"][0]["sha256"] == sha256_hex(saved[0].read_bytes())
    written = simulator_file(sim, job_id, job["outputs"][0]["filename"]).read_bytes()
    assert sha256_hex(written) == sha256_hex(saved[0].read_bytes())
