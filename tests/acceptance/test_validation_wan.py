"""A real `serve` validates against the catalogue its worker fetched, and runs WAN 2.2.

The simulator starts with the `wan22-i2v` model files of the 20-step path installed
(``--model FOLDER/NAME``); the LightX2V LoRAs are left out, so the 4-step path must be
refused at submit with ComfyUI's per-node error naming the missing LoRA file.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from acceptance.gateway_checks import wait_for, wait_for_status
from comfy_gateway.templates import TemplateRegistry, render
from comfy_gateway.templates.builtin import wan22_i2v
from support.gateway_process import GatewayProcess, run_serve
from support.simulator_process import run_simulator

SMALL = {"width": 32, "height": 32, "frames": 5, "fps": 8, "seed": 7, "prompt": "a cat"}
SUBMIT = "/v1/templates/wan22-i2v/jobs"


def models_for(**params: Any) -> dict[str, list[str]]:
    template = TemplateRegistry().get("wan22-i2v")
    job = render(template, {**SMALL, **params, "image": "UE5H"})
    return wan22_i2v.required_models(job.resolved_params)


def png_base64() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (32, 32), (200, 40, 40)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


@pytest.fixture(scope="module")
def wan_gateway(tmp_path_factory: pytest.TempPathFactory) -> Iterator[GatewayProcess]:
    flags = [
        arg
        for folder, names in models_for(use_lora=False).items()
        for name in names
        for arg in ("--model", f"{folder}/{name}")
    ]
    with run_simulator(tmp_path_factory.mktemp("wan-sim"), flags) as sim:
        data_dir = tmp_path_factory.mktemp("wan-gateway")
        with run_serve(data_dir, [sim.url]) as gateway:
            wait_for(lambda: _saved_catalogue(data_dir), "the worker to save its catalogue")
            yield gateway


def _saved_catalogue(data_dir: Path) -> Path | None:
    return next(iter((data_dir / "catalogues").glob("*.json")), None)


def test_a_valid_wan22_job_completes_with_a_video(wan_gateway: GatewayProcess) -> None:
    with wan_gateway.client() as client:
        body = {**SMALL, "use_lora": False, "image": png_base64()}
        response = client.post(SUBMIT, json=body)
        assert response.status_code == 202, response.text

        job = wait_for_status(client, response.json()["job_id"], {"completed", "failed"}, 90)

    assert job["status"] == "completed", job.get("error")
    types = [output["content_type"] for output in job["outputs"]]
    assert any(kind.startswith("video/") for kind in types), job["outputs"]


def test_a_wan22_job_needing_a_missing_lora_is_refused_at_submit(
    wan_gateway: GatewayProcess,
) -> None:
    missing = set(models_for(use_lora=True)["loras"])
    with wan_gateway.client() as client:
        before = client.get("/v1/jobs").json()["jobs"]
        response = client.post(SUBMIT, json={**SMALL, "use_lora": True, "image": png_base64()})
        after = client.get("/v1/jobs").json()["jobs"]

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "workflow_invalid"
    assert error["comfy_type"] == "prompt_outputs_failed_validation"
    named = {
        entry["extra_info"]["input_name"]
        for node in error["node_errors"].values()
        for entry in node["errors"]
    }
    assert "lora_name" in named
    assert any(name in str(error["node_errors"]) for name in missing)
    assert after == before  # nothing was stored
