"""``POST /v1/jobs`` checks the graph against a node catalogue before storing anything.

The catalogue is the captured ComfyUI 0.3.64 ``object_info.json`` (no models installed),
standing in because no backend was ever seen.
"""

from __future__ import annotations

import base64
import json
import sqlite3
from pathlib import Path
from typing import Any

import httpx
import pytest

from comfy_gateway.config import GatewaySettings
from integration.api.conftest import ACME_KEY
from integration.api.submit_fixtures import (  # noqa: F401  (fixtures)
    PNG_BYTES,
    NothingLeft,
    image_workflow,
    nothing_left_fixture,
)

OBJECT_INFO = Path("/work/shared/comfyui/object_info.json")


@pytest.fixture
def settings(tmp_path: Path) -> GatewaySettings:
    return GatewaySettings(
        data_dir=tmp_path / "data", api_keys=f"acme:{ACME_KEY}", catalogue_file=OBJECT_INFO
    )


def checkpoint_workflow(ckpt_name: str) -> dict[str, Any]:
    """Checkpoint → VAE decode of an empty latent → SaveImage."""
    return {
        "1": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": ckpt_name}},
        "2": {
            "class_type": "EmptyLatentImage",
            "inputs": {"width": 64, "height": 64, "batch_size": 1},
        },
        "3": {"class_type": "VAEDecode", "inputs": {"samples": ["2", 0], "vae": ["1", 2]}},
        "4": {"class_type": "SaveImage", "inputs": {"images": ["3", 0], "filename_prefix": "o"}},
    }


async def submit(client: httpx.AsyncClient, workflow: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/jobs", json={"workflow": workflow})


def only_node_error(answer: dict[str, Any], node_id: str) -> dict[str, Any]:
    error = answer["error"]
    assert error["code"] == "workflow_invalid"
    assert error["comfy_type"] == "prompt_outputs_failed_validation"
    assert set(error["node_errors"]) == {node_id}
    entry = error["node_errors"][node_id]
    assert entry["dependent_outputs"]
    first: dict[str, Any] = entry["errors"][0]
    return first


async def test_unknown_class_is_refused_naming_the_class(
    client: httpx.AsyncClient, nothing_left: NothingLeft
) -> None:
    workflow = image_workflow("x.png")
    workflow["1"] = {"class_type": "NoSuchNodeAnywhere", "inputs": {}}

    response = await submit(client, workflow)

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "workflow_invalid"
    assert error["comfy_type"] == "invalid_prompt"
    assert "NoSuchNodeAnywhere" in error["message"]
    await nothing_left()


async def test_missing_input_is_refused_naming_node_and_field(
    client: httpx.AsyncClient, nothing_left: NothingLeft
) -> None:
    workflow = image_workflow()
    del workflow["1"]["inputs"]["image"]

    response = await submit(client, workflow)

    assert response.status_code == 422, response.text
    first = only_node_error(response.json(), "1")
    assert first["type"] == "required_input_missing"
    assert first["extra_info"]["input_name"] == "image"
    message = response.json()["error"]["message"]
    assert "'1' (LoadImage) input 'image'" in message
    await nothing_left()


async def test_model_file_not_installed_is_refused_naming_file(
    client: httpx.AsyncClient, nothing_left: NothingLeft
) -> None:
    response = await submit(client, checkpoint_workflow("absent_model.safetensors"))

    assert response.status_code == 422, response.text
    first = only_node_error(response.json(), "1")
    assert first["type"] == "value_not_in_list"
    assert first["extra_info"]["input_name"] == "ckpt_name"
    assert "absent_model.safetensors" in json.dumps(first)
    assert "ckpt_name" in response.json()["error"]["message"]
    await nothing_left()


async def test_media_named_by_load_image_is_accepted_with_requirements(
    client: httpx.AsyncClient, db_path: Path
) -> None:
    body = {
        "workflow": image_workflow("input.png"),
        "media": [{"name": "input.png", "data": base64.b64encode(PNG_BYTES).decode()}],
    }

    response = await client.post("/v1/jobs", json=body)

    assert response.status_code == 202, response.text
    with sqlite3.connect(db_path) as conn:
        (stored,) = conn.execute(
            "SELECT requirements FROM jobs WHERE job_id = ?", (response.json()["job_id"],)
        ).fetchone()
    assert json.loads(stored) == {"node_classes": ["LoadImage", "SaveImage"], "model_files": {}}


async def test_without_any_catalogue_the_job_is_accepted(
    client: httpx.AsyncClient, settings: GatewaySettings, db_path: Path
) -> None:
    settings.catalogue_file = None  # read lazily, at the first submit

    response = await submit(client, checkpoint_workflow("absent_model.safetensors"))

    assert response.status_code == 202, response.text
    with sqlite3.connect(db_path) as conn:
        (stored,) = conn.execute("SELECT requirements FROM jobs").fetchone()
    assert stored is None
