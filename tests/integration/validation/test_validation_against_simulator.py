"""The checker and the simulator read the protocol independently; they must agree.

Each captured failing graph is sent to the simulator's POST /prompt and checked offline
against the simulator's own /object_info: the same nodes must fail with the same types.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from comfy_gateway.comfy import ComfyHttpClient
from comfy_gateway.validation import NodeCatalogue, check_graph, check_graph_with_refetch
from support.simulator_process import SimulatorProcess

CASES_DIR = Path(__file__).resolve().parents[2] / "fixtures" / "comfyui" / "prompt_cases"


def _failing_cases() -> list[dict[str, Any]]:
    cases = [json.loads(path.read_text()) for path in sorted(CASES_DIR.glob("*.json"))]
    return [
        case
        for case in cases
        if isinstance(case["request"].get("json"), dict)
        and isinstance(case["request"]["json"].get("prompt"), dict)
        and (case["status"] == 400 or case["response_json"].get("node_errors"))
    ]


FAILING_CASES = _failing_cases()


def types_by_node(body: dict[str, Any]) -> dict[str, list[str]]:
    return {
        node_id: [error["type"] for error in entry["errors"]]
        for node_id, entry in (body.get("node_errors") or {}).items()
    }


@pytest.fixture
def clean_simulator(simulator: SimulatorProcess) -> Iterator[SimulatorProcess]:
    simulator.reset()
    with simulator.control() as control:
        control.put("/_sim/config", json={"models": {"vae": []}}).raise_for_status()
    yield simulator
    simulator.reset()


@pytest.mark.parametrize("case", FAILING_CASES, ids=[case["id"] for case in FAILING_CASES])
async def test_the_simulator_fails_the_same_nodes_with_the_same_types(
    clean_simulator: SimulatorProcess, case: dict[str, Any]
) -> None:
    graph = case["request"]["json"]["prompt"]
    async with ComfyHttpClient(clean_simulator.url) as http:
        catalogue = NodeCatalogue.from_object_info(await http.object_info_raw())
    with clean_simulator.control() as control:
        answer = control.post("/prompt", json={"prompt": graph})
    assert answer.status_code == case["status"]
    ours = check_graph(graph, catalogue)
    assert ours.error is not None
    theirs = answer.json()
    assert types_by_node(ours.comfy_body()) == types_by_node(theirs)
    if answer.status_code == 400:
        assert ours.error["type"] == theirs["error"]["type"]


async def test_a_model_file_added_after_start_is_found_by_the_refetch(
    clean_simulator: SimulatorProcess,
) -> None:
    graph = {
        "1": {"class_type": "VAELoader", "inputs": {"vae_name": "late_vae.safetensors"}},
        "2": {"class_type": "PreviewAny", "inputs": {"source": ["1", 0]}},
    }
    async with ComfyHttpClient(clean_simulator.url) as http:
        cached = NodeCatalogue.from_object_info(await http.object_info_raw())
        assert not check_graph(graph, cached).ok
        with clean_simulator.control() as control:
            body = {"models": {"vae": ["late_vae.safetensors"]}}
            control.put("/_sim/config", json=body).raise_for_status()
        checked = await check_graph_with_refetch(graph, cached, http)
    assert checked.result.ok, checked.result.comfy_body()
    assert checked.refetched_classes == {"VAELoader"}
    assert "late_vae.safetensors" in checked.catalogue.installed_model_files("vae")


def load_image_graph(name: str) -> dict[str, Any]:
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": name}},
        "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "m"}},
    }


async def test_a_media_job_naming_its_item_validates_before_the_upload(
    clean_simulator: SimulatorProcess,
) -> None:
    reference = "comfy-gateway/" + "0f" * 32 + ".png"
    async with ComfyHttpClient(clean_simulator.url) as http:
        catalogue = NodeCatalogue.from_object_info(await http.object_info_raw())
    # A gateway upload reference is the job's own media, staged by the worker later.
    assert check_graph(load_image_graph(reference), catalogue).ok
    assert check_graph(load_image_graph("face.png"), catalogue, media_names={"face.png"}).ok
    refused = check_graph(load_image_graph("face.png"), catalogue)
    assert refused.node_errors["1"]["errors"][0]["type"] == "custom_validation_failed"


async def test_a_file_uploaded_after_the_cache_is_found_by_the_refetch(
    clean_simulator: SimulatorProcess, tmp_path: Path
) -> None:
    picture = tmp_path / "late.png"
    picture.write_bytes(_tiny_png())
    async with ComfyHttpClient(clean_simulator.url) as http:
        cached = NodeCatalogue.from_object_info(await http.object_info_raw())
        uploaded = await http.upload(picture, filename="late_upload.png", content_type="image/png")
        checked = await check_graph_with_refetch(load_image_graph(uploaded.name), cached, http)
    assert not check_graph(load_image_graph(uploaded.name), cached).ok
    assert checked.result.ok, checked.result.comfy_body()
    assert checked.refetched_classes == {"LoadImage"}


def _tiny_png() -> bytes:
    from io import BytesIO

    from PIL import Image

    buffer = BytesIO()
    Image.new("RGB", (2, 2), (255, 0, 0)).save(buffer, format="PNG")
    return buffer.getvalue()
