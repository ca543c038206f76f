"""``POST /run``, the shim-compatible submit: its answers, its graph sources, its form rules.

The worker is played through the store (`worker_side`) once the call's wait is watching
its job, so nothing depends on timing except the budgets that are meant to run out.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import replace
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI

from comfy_gateway.api.app import create_app
from comfy_gateway.api.context import ApiContext
from comfy_gateway.jobs.status import JobStatus
from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.store import SqlJobStore
from comfy_gateway.templates.registry import TemplateRegistry
from integration.api.conftest import ACME_KEY, BASE_URL
from integration.api.recording_events import RecordingJobEvents
from integration.api.submit_fixtures import (
    PNG_BYTES,
    assert_nothing_stored,
    sha256_hex,
    stored_bytes,
)
from integration.api.worker_side import OutputFile, WorkerSide

#: A prompt and a size to fill, and an image to save.
TEXT_WORKFLOW: dict[str, Any] = {
    "1": {"class_type": "EmptyImage", "inputs": {"width": "__WIDTH__", "height": 8}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "s"}},
    "3": {"class_type": "CheckpointLoaderSimple", "inputs": {"ckpt_name": "m.safetensors"}},
    "4": {"class_type": "CLIPTextEncode", "inputs": {"text": "__PROMPT__", "clip": ["3", 1]}},
}
#: LoadImage wired at the shim's image placeholder.
IMAGE_WORKFLOW: dict[str, Any] = {
    "1": {"class_type": "LoadImage", "inputs": {"image": "__INPUT_IMAGE_FILENAME__"}},
    "2": {"class_type": "SaveImage", "inputs": {"images": ["1", 0], "filename_prefix": "s"}},
}
TEXT_FIELDS = {"prompt": "a red fox", "width": "64"}


def form(graph: dict[str, Any] | None = TEXT_WORKFLOW, /, **fields: str) -> list[tuple[str, Any]]:
    """Multipart parts: the graph as a JSON file, then plain fields (no filename)."""
    parts: list[tuple[str, Any]] = [(name, (None, value)) for name, value in fields.items()]
    if graph is not None:
        parts.insert(0, ("workflow", ("flow.json", json.dumps(graph), "application/json")))
    return parts


def write_json(path: Path, value: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


@pytest.fixture
def template_folder(tmp_path: Path) -> Path:
    """``flows/text.json`` (a bare graph) and ``doc.json`` (a template document) inside;
    ``secret.json`` outside, and ``link.json`` inside pointing at it."""
    folder = tmp_path / "templates"
    write_json(folder / "flows" / "text.json", TEXT_WORKFLOW)
    doc = {"name": "doc", "description": "", "version": 1, "parameters": []}
    write_json(folder / "doc.json", {**doc, "workflow": IMAGE_WORKFLOW})
    secret = write_json(tmp_path / "secret.json", TEXT_WORKFLOW)
    (folder / "link.json").symlink_to(secret)
    return folder


@pytest.fixture
def app(api_context: ApiContext, template_folder: Path) -> FastAPI:
    registry = TemplateRegistry([template_folder], builtins=lambda: ())
    return create_app(replace(api_context, templates=registry))


async def submitted_job_id(events: RecordingJobEvents) -> str:
    """The job of the pending call, once its wait is watching it."""
    await events.wait_for_watches(1)
    return events.published[-1].job_id


async def test_without_wait_answers_queued_and_fills_placeholders(
    client: httpx.AsyncClient, store: SqlJobStore
) -> None:
    response = await client.post("/run", files=form(wait="false", **TEXT_FIELDS))

    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {"job_id": body["job_id"], "status": "queued"}
    job = await store.get_job("acme", body["job_id"])
    assert job.workflow is not None
    assert job.workflow["4"]["inputs"]["text"] == "a red fox"
    assert job.workflow["1"]["inputs"]["width"] == "64"


async def test_wait_answers_history_shaped_outputs_with_a_url_per_file(
    client: httpx.AsyncClient, events: RecordingJobEvents, worker_side: WorkerSide
) -> None:
    pending = asyncio.create_task(client.post("/run", files=form(**TEXT_FIELDS)))
    job_id = await submitted_job_id(events)
    await worker_side.complete(job_id, [OutputFile(filename="fox.png", data=b"png-bytes")])
    response = await pending

    assert response.status_code == 200, response.text
    url = f"{BASE_URL}/v1/jobs/{job_id}/outputs/0"
    assert response.json() == {
        "job_id": job_id,
        "status": "completed",
        "outputs": {
            "2": {
                "images": [{"filename": "fox.png", "subfolder": "", "type": "output", "url": url}]
            }
        },
    }
    download = await client.get(url)
    assert (download.status_code, download.content) == (200, b"png-bytes")


async def test_wait_answers_200_for_a_failed_job_with_its_error(
    client: httpx.AsyncClient, events: RecordingJobEvents, worker_side: WorkerSide
) -> None:
    pending = asyncio.create_task(client.post("/run", files=form(wait="true", **TEXT_FIELDS)))
    job_id = await submitted_job_id(events)
    await worker_side.fail(job_id)
    response = await pending

    assert response.status_code == 200
    body = response.json()
    assert (body["job_id"], body["status"], body["outputs"]) == (job_id, "failed", {})
    assert body["error"]["code"] == "execution_error"


async def test_wait_budget_out_answers_504_with_message_and_job_id(
    client: httpx.AsyncClient, store: SqlJobStore, events: RecordingJobEvents
) -> None:
    response = await client.post("/run", files=form(wait_timeout_s="0.05", **TEXT_FIELDS))

    assert response.status_code == 504, response.text
    body = response.json()
    assert set(body) == {"message", "job_id"}
    assert response.headers["location"] == f"/v1/jobs/{body['job_id']}"
    job = await store.get_job("acme", body["job_id"])
    assert (job.status, job.cancel_requested) == (JobStatus.QUEUED, False)
    assert events.open_watches == 0


async def test_an_uploaded_image_is_wired_at_the_image_placeholder(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    files = [*form(IMAGE_WORKFLOW, wait="false"), ("image", ("cat.png", PNG_BYTES, "image/png"))]
    response = await client.post("/run", files=files)

    assert response.status_code == 200, response.text
    job = await store.get_job("acme", response.json()["job_id"])
    assert job.workflow is not None
    assert job.workflow["1"]["inputs"]["image"] == f"comfy-gateway/{sha256_hex(PNG_BYTES)}.png"
    (ref,) = job.media
    assert ref.name == "cat.png"
    assert await stored_bytes(blobs, ref.storage_key) == PNG_BYTES


async def test_an_image_the_graph_does_not_use_is_refused_by_the_media_rules(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    files = [*form(wait="false", **TEXT_FIELDS), ("image", ("cat.png", PNG_BYTES, "image/png"))]
    response = await client.post("/run", files=files)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "unreferenced_media"
    await assert_nothing_stored(store, blobs)


async def test_a_workflow_sent_as_a_plain_field_is_the_graph(
    client: httpx.AsyncClient, store: SqlJobStore
) -> None:
    parts = form(None, workflow=json.dumps(TEXT_WORKFLOW), wait="false", **TEXT_FIELDS)
    response = await client.post("/run", files=parts)

    assert response.status_code == 200, response.text
    job = await store.get_job("acme", response.json()["job_id"])
    assert job.workflow is not None
    assert job.workflow["4"]["inputs"]["text"] == "a red fox"


async def test_a_placeholder_left_unfilled_is_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/run", files=form(wait="false", prompt="only a prompt"))

    assert response.status_code == 422
    assert response.json()["error"]["code"] == "unfilled_placeholder"


@pytest.mark.parametrize(
    ("path", "field", "expected"),
    [
        ("flows/text.json", "text", "a red fox"),
        ("flows%2Ftext.json", "text", "a red fox"),
    ],
)
async def test_workflow_path_reads_a_graph_inside_the_template_folders(
    client: httpx.AsyncClient, store: SqlJobStore, path: str, field: str, expected: str
) -> None:
    parts = form(None, workflow_path=path, wait="false", **TEXT_FIELDS)
    response = await client.post("/run", files=parts)

    assert response.status_code == 200, response.text
    job = await store.get_job("acme", response.json()["job_id"])
    assert job.workflow is not None
    assert job.workflow["4"]["inputs"][field] == expected


async def test_workflow_path_may_name_a_template_document(
    client: httpx.AsyncClient, store: SqlJobStore
) -> None:
    parts = [
        *form(None, workflow_path="doc.json", wait="false"),
        ("image", ("dog.png", PNG_BYTES, "image/png")),
    ]
    response = await client.post("/run", files=parts)

    assert response.status_code == 200, response.text
    job = await store.get_job("acme", response.json()["job_id"])
    assert job.workflow is not None
    assert job.workflow["1"]["inputs"]["image"] == f"comfy-gateway/{sha256_hex(PNG_BYTES)}.png"


@pytest.mark.parametrize(
    "path",
    ["../secret.json", "/etc/passwd", "%2e%2e/secret.json", "flows/../../x.json", "link.json"],
)
async def test_workflow_path_outside_the_folders_is_403(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore, path: str
) -> None:
    response = await client.post("/run", files=form(None, workflow_path=path, **TEXT_FIELDS))

    assert response.status_code == 403, response.text
    assert response.json()["error"]["code"] == "template_path_refused"
    await assert_nothing_stored(store, blobs)


async def test_workflow_path_that_does_not_exist_is_404(client: httpx.AsyncClient) -> None:
    response = await client.post("/run", files=form(None, workflow_path="flows/none.json"))

    assert response.status_code == 404, response.text
    assert "error" in response.json()


async def test_workflow_and_workflow_path_together_are_422(client: httpx.AsyncClient) -> None:
    response = await client.post("/run", files=form(workflow_path="flows/text.json"))

    assert response.status_code == 422
    assert "workflow_path" in response.json()["error"]["message"]


async def test_no_workflow_and_no_default_is_422(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    response = await client.post("/run", files=form(None, **TEXT_FIELDS))

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "workflow_required"
    await assert_nothing_stored(store, blobs)


@asynccontextmanager
async def client_with_default(
    api_context: ApiContext, path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    """A client of an app whose settings name ``path`` as the default workflow."""
    settings = api_context.settings.model_copy(update={"default_workflow": path})
    transport = httpx.ASGITransport(app=create_app(replace(api_context, settings=settings)))
    headers = {"X-API-Key": ACME_KEY}
    async with httpx.AsyncClient(transport=transport, base_url=BASE_URL, headers=headers) as http:
        yield http


@pytest.fixture
async def default_client(
    api_context: ApiContext, tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    path = write_json(tmp_path / "default.json", TEXT_WORKFLOW)
    async with client_with_default(api_context, path) as http:
        yield http


async def test_without_a_workflow_the_configured_default_runs(
    default_client: httpx.AsyncClient, store: SqlJobStore
) -> None:
    response = await default_client.post("/run", files=form(None, wait="0", **TEXT_FIELDS))

    assert response.status_code == 200, response.text
    job = await store.get_job("acme", response.json()["job_id"])
    assert job.workflow is not None
    assert job.workflow["4"]["inputs"]["text"] == "a red fox"


@pytest.mark.parametrize(
    ("fields", "field"),
    [({"wait": "perhaps"}, "wait"), ({"wait_timeout_s": "-3"}, "wait_timeout_s")],
)
async def test_bad_control_fields_are_422_naming_the_field(
    client: httpx.AsyncClient, fields: dict[str, str], field: str
) -> None:
    response = await client.post("/run", files=form(**fields, **TEXT_FIELDS))

    assert response.status_code == 422
    assert response.json()["error"]["field"] == field


async def test_a_json_body_is_415(client: httpx.AsyncClient) -> None:
    response = await client.post("/run", json={"workflow": TEXT_WORKFLOW})

    assert response.status_code == 415
    assert response.json()["error"]["code"] == "unsupported_media_type"


@pytest.mark.parametrize("content", [None, "{broken"])
async def test_an_unreadable_default_workflow_is_our_500_not_the_clients_fault(
    api_context: ApiContext, tmp_path: Path, content: str | None
) -> None:
    path = tmp_path / "default.json"
    if content is not None:
        path.write_text(content, encoding="utf-8")
    async with client_with_default(api_context, path) as http:
        response = await http.post("/run", files=form(None, **TEXT_FIELDS))

    assert response.status_code == 500
    error = response.json()["error"]
    assert error["code"] == "default_workflow_unreadable"
    assert str(tmp_path) not in error["message"]


async def test_two_files_in_one_field_are_422(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    images = [("image", (f"{name}.png", PNG_BYTES, "image/png")) for name in ("a", "b")]
    response = await client.post("/run", files=[*form(IMAGE_WORKFLOW, wait="false"), *images])

    assert response.status_code == 422, response.text
    assert response.json()["error"]["field"] == "image"
    await assert_nothing_stored(store, blobs)
