"""Built-in WAN templates through the API, the action form on ``POST /v1/jobs``, OpenAPI."""

from __future__ import annotations

import base64
import hashlib
from pathlib import Path
from typing import Any

import httpx

from comfy_gateway.api.context import ApiContext
from comfy_gateway.jobs.graph.values import Graph
from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.store import SqlJobStore
from integration.api.submit_fixtures import NothingLeft, nothing_left_fixture, stored_bytes  # noqa: F401
from integration.api.template_fixtures import (  # noqa: F401  (fixtures)
    SOLID_COLOR,
    api_context_fixture,
    template_folder_fixture,
    tiny_png_base64,
)


def classes(graph: Graph) -> list[str]:
    return sorted(node["class_type"] for node in graph.values())


def nodes_of(graph: Graph, class_type: str) -> list[dict[str, Any]]:
    return [node for node in graph.values() if node["class_type"] == class_type]


async def test_wan22_i2v_job_holds_the_rendered_graph_with_the_image_wired(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    png = tiny_png_base64()
    body = {"prompt": "a red square drifts", "image": png, "use_lora": True, "seed": 77}
    response = await client.post("/v1/templates/wan22-i2v/jobs", json=body)

    assert response.status_code == 202, response.text
    resolved = response.json()["resolved_params"]
    assert (resolved["steps"], resolved["cfg"], resolved["seed"]) == (4, 1.0, 77)
    assert resolved["image"] == "template-image"  # the media name, never the bytes
    job = await store.get_job("acme", response.json()["job_id"])
    assert job.workflow is not None
    found = classes(job.workflow)
    assert found.count("KSamplerAdvanced") == 2
    assert {"WanImageToVideo", "CLIPLoader", "VAEDecode", "CreateVideo", "SaveVideo"} <= set(found)
    assert found.count("LoraLoaderModelOnly") == 2
    digest = hashlib.sha256(base64.b64decode(png)).hexdigest()
    (load_image,) = nodes_of(job.workflow, "LoadImage")
    assert load_image["inputs"]["image"] == f"comfy-gateway/{digest}.png"
    (media,) = job.media
    assert (media.name, media.sha256) == ("template-image", digest)
    assert await stored_bytes(blobs, media.storage_key) == base64.b64decode(png)
    (clip,) = nodes_of(job.workflow, "CLIPLoader")
    assert clip["inputs"]["type"] == "wan"


async def test_wan22_i2v_takes_a_data_uri_and_the_image_base64_alias(
    client: httpx.AsyncClient, store: SqlJobStore
) -> None:
    png = tiny_png_base64()
    for image in ({"image": f"data:image/png;base64,{png}"}, {"image_base64": png}):
        response = await client.post(
            "/v1/templates/wan22-i2v/jobs", json={**image, "prompt": "p", "seed": 1}
        )
        assert response.status_code == 202, response.text
        job = await store.get_job("acme", response.json()["job_id"])
        assert job.workflow is not None
        (load_image,) = nodes_of(job.workflow, "LoadImage")
        assert load_image["inputs"]["image"].startswith("comfy-gateway/")


async def test_wan22_i2v_without_its_image_is_422_naming_it(
    client: httpx.AsyncClient, nothing_left: NothingLeft
) -> None:
    response = await client.post("/v1/templates/wan22-i2v/jobs", json={"prompt": "x"})

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["parameter"]) == ("missing_parameter", "image")
    await nothing_left()


async def test_wan22_i2v_with_bad_base64_is_refused_and_stores_nothing(
    client: httpx.AsyncClient, nothing_left: NothingLeft
) -> None:
    response = await client.post(
        "/v1/templates/wan22-i2v/jobs", json={"image": "@@@", "prompt": "p"}
    )

    assert response.status_code == 422, response.text
    assert response.json()["error"]["parameter"] == "image"
    await nothing_left()


async def test_action_form_submits_the_template(
    client: httpx.AsyncClient, store: SqlJobStore
) -> None:
    body: dict[str, Any] = {"action": "wan22_i2v", "prompt": "p", "image_base64": tiny_png_base64()}
    body |= {"steps": 6, "priority": 2}
    response = await client.post("/v1/jobs", json=body)

    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["priority"] == 2
    assert answer["resolved_params"]["steps"] == 6
    job = await store.get_job("acme", answer["job_id"])
    assert job.workflow is not None
    assert [node["inputs"]["steps"] for node in nodes_of(job.workflow, "KSamplerAdvanced")] == [
        6,
        6,
    ]


async def test_action_form_wrapped_in_input(client: httpx.AsyncClient, store: SqlJobStore) -> None:
    response = await client.post("/v1/jobs", json={"input": {"action": "solid_color", "color": 5}})

    assert response.status_code == 202, response.text
    job = await store.get_job("acme", response.json()["job_id"])
    assert job.workflow is not None
    assert job.workflow["1"]["inputs"]["color"] == 5
    assert job.resolved_params["color"] == 5


async def test_action_form_refusals(client: httpx.AsyncClient, nothing_left: NothingLeft) -> None:
    unknown = await client.post("/v1/jobs", json={"action": "no_such_template"})
    bad_param = await client.post("/v1/jobs", json={"action": "solid_color", "hue": 1})
    bad_action = await client.post("/v1/jobs", json={"action": 12})

    assert unknown.status_code == 404, unknown.text
    assert bad_param.status_code == 422, bad_param.text
    assert bad_param.json()["error"]["parameter"] == "hue"
    assert bad_action.status_code == 422, bad_action.text
    assert bad_action.json()["error"]["code"] == "invalid_action"
    await nothing_left()


async def test_a_raw_workflow_submit_is_not_taken_for_an_action(
    client: httpx.AsyncClient, store: SqlJobStore
) -> None:
    # "input" that is not an action form stays what it was: an unknown field (422).
    response = await client.post("/v1/jobs", json={"input": {"prompt": "x"}})

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_request"


async def test_openapi_lists_each_templates_parameters(client: httpx.AsyncClient) -> None:
    response = await client.get("/openapi.json")

    assert response.status_code == 200, response.text
    document = response.json()
    schemas = document["components"]["schemas"]
    solid = schemas[f"TemplateJob_{SOLID_COLOR}"]
    assert {"color", "size", "seed", "wait", "priority"} <= set(solid["properties"])
    i2v = schemas["TemplateJob_wan22-i2v"]
    assert {"prompt", "image", "steps", "use_lora", "frames"} <= set(i2v["properties"])
    operation = document["paths"][f"/v1/templates/{SOLID_COLOR}/jobs"]["post"]
    reference = operation["requestBody"]["content"]["application/json"]["schema"]["$ref"]
    assert reference == f"#/components/schemas/TemplateJob_{SOLID_COLOR}"
    assert "/v1/templates/{name}/jobs" in document["paths"]


async def test_openapi_follows_a_registry_reload(
    client: httpx.AsyncClient, api_context: ApiContext, template_folder: Path
) -> None:
    (template_folder / "solid.json").unlink()
    assert api_context.templates is not None
    api_context.templates.reload()

    document = (await client.get("/openapi.json")).json()
    assert f"TemplateJob_{SOLID_COLOR}" not in document["components"]["schemas"]
    assert "TemplateJob_wan22-i2v" in document["components"]["schemas"]
    assert (await client.get(f"/v1/templates/{SOLID_COLOR}")).status_code == 404
