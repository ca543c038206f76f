"""``POST /v1/templates/{name}/jobs`` as multipart: fields for parameters, file parts for media."""

from __future__ import annotations

import base64
import hashlib

import httpx

from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.store import SqlJobStore
from integration.api.submit_fixtures import NothingLeft, nothing_left_fixture, stored_bytes  # noqa: F401
from integration.api.template_fixtures import (  # noqa: F401  (fixtures)
    SOLID_COLOR,
    api_context_fixture,
    template_folder_fixture,
    tiny_png_base64,
)


async def test_form_fields_are_typed_like_json_values(
    client: httpx.AsyncClient, store: SqlJobStore
) -> None:
    # A None filename makes httpx send a plain multipart field.
    fields = [("color", (None, "12")), ("size", (None, "16")), ("priority", (None, "3"))]
    response = await client.post(f"/v1/templates/{SOLID_COLOR}/jobs", files=fields)

    assert response.status_code == 202, response.text
    answer = response.json()
    assert answer["priority"] == 3
    assert (answer["resolved_params"]["color"], answer["resolved_params"]["size"]) == (12, 16)
    job = await store.get_job("acme", answer["job_id"])
    assert job.workflow is not None
    assert job.workflow["1"]["inputs"]["color"] == 12


async def test_image_file_part_named_after_the_parameter_is_wired(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    png = base64.b64decode(tiny_png_base64())
    form = {"prompt": "a red square", "steps": "6", "use_lora": "false", "seed": "5"}
    files = {"image": ("first-frame.png", png, "image/png")}
    response = await client.post("/v1/templates/wan22-i2v/jobs", data=form, files=files)

    assert response.status_code == 202, response.text
    resolved = response.json()["resolved_params"]
    assert (resolved["steps"], resolved["seed"], resolved["use_lora"]) == (6, 5, False)
    job = await store.get_job("acme", response.json()["job_id"])
    assert job.workflow is not None
    digest = hashlib.sha256(png).hexdigest()
    loads = [node for node in job.workflow.values() if node["class_type"] == "LoadImage"]
    assert [node["inputs"]["image"] for node in loads] == [f"comfy-gateway/{digest}.png"]
    (media,) = job.media
    assert await stored_bytes(blobs, media.storage_key) == png


async def test_unknown_form_field_and_repeated_field_are_422(
    client: httpx.AsyncClient, nothing_left: NothingLeft
) -> None:
    files = {"extra": ("x.png", b"\x89PNG\r\n\x1a\n", "image/png")}
    unknown = await client.post(f"/v1/templates/{SOLID_COLOR}/jobs", files=files)
    repeated = await client.post(
        f"/v1/templates/{SOLID_COLOR}/jobs",
        files=[("color", (None, "1")), ("color", (None, "2"))],
    )

    assert unknown.status_code == 422, unknown.text
    assert unknown.json()["error"]["parameter"] == "extra"
    assert repeated.status_code == 422, repeated.text
    assert repeated.json()["error"]["parameter"] == "color"
    await nothing_left()
