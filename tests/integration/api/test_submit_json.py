"""``POST /v1/jobs`` with a JSON body: the happy path and every refused input.

Every refusal is checked to leave nothing behind: no job row, no blob file.
"""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.store import SqlJobStore
from integration.api.recording_events import RecordingJobEvents
from integration.api.submit_fixtures import (  # noqa: F401  (fixtures)
    MB,
    PNG_BYTES,
    WAV_BYTES,
    NothingLeft,
    assert_nothing_stored,
    blob_files,
    image_workflow,
    nothing_left_fixture,
    settings_fixture,
    sha256_hex,
    stored_bytes,
)


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


async def post_json(client: httpx.AsyncClient, body: dict[str, Any]) -> httpx.Response:
    return await client.post("/v1/jobs", json=body)


async def test_json_with_base64_media_is_stored_and_wired(
    client: httpx.AsyncClient,
    store: SqlJobStore,
    blobs: LocalBlobStore,
    events: RecordingJobEvents,
) -> None:
    body = {
        "workflow": image_workflow("input.png"),
        "media": [{"name": "input.png", "data": b64(PNG_BYTES)}],
        "priority": 3,
    }
    response = await post_json(client, body)

    assert response.status_code == 202, response.text
    answer = response.json()
    job_id = answer["job_id"]
    assert response.headers["location"] == f"/v1/jobs/{job_id}"
    assert answer["status"] == "queued"
    assert answer["priority"] == 3
    digest = sha256_hex(PNG_BYTES)
    job = await store.get_job("acme", job_id)
    assert job.workflow is not None
    assert job.workflow["1"]["inputs"]["image"] == f"comfy-gateway/{digest}.png"
    assert job.workflow["2"]["inputs"]["filename_prefix"] == f"comfy-gateway/{job_id}/out"
    (ref,) = job.media
    assert (ref.name, ref.filename, ref.sha256) == ("input.png", f"{digest}.png", digest)
    assert ref.storage_key == f"acme/{job_id}/media/{digest}.png"
    assert ref.size_bytes == len(PNG_BYTES)
    assert await stored_bytes(blobs, ref.storage_key) == PNG_BYTES  # bytes unchanged
    assert [published.job_id for published in events.published] == [job_id]


async def test_media_typed_inputs_and_aliases_are_wired_without_a_name(
    client: httpx.AsyncClient, store: SqlJobStore
) -> None:
    workflow = image_workflow("placeholder.png")
    workflow["3"] = {"class_type": "LoadAudio", "inputs": {"audio": "x.wav"}}
    body = {
        "workflow": workflow,
        "inputs": [
            {"node": 1, "field": "image", "image_base64": b64(PNG_BYTES)},
            {"node": "3", "field": "audio", "value": b64(WAV_BYTES), "type": "base64"},
            {"node": "2", "field": "filename_prefix", "value": "renamed"},
        ],
    }
    response = await post_json(client, body)

    assert response.status_code == 202, response.text
    job = await store.get_job("acme", response.json()["job_id"])
    assert job.workflow is not None
    assert job.workflow["1"]["inputs"]["image"] == f"comfy-gateway/{sha256_hex(PNG_BYTES)}.png"
    assert job.workflow["3"]["inputs"]["audio"] == f"comfy-gateway/{sha256_hex(WAV_BYTES)}.wav"
    assert job.workflow["2"]["inputs"]["filename_prefix"].endswith("/renamed")
    assert sorted(ref.filename.rsplit(".", 1)[1] for ref in job.media) == ["png", "wav"]


async def test_params_fill_placeholders(client: httpx.AsyncClient, store: SqlJobStore) -> None:
    workflow = image_workflow("__IMAGE__")
    response = await post_json(client, {"workflow": workflow, "params": {"image": "a.png"}})

    assert response.status_code == 202, response.text
    job = await store.get_job("acme", response.json()["job_id"])
    assert job.workflow is not None
    assert job.workflow["1"]["inputs"]["image"] == "a.png"
    assert job.resolved_params == {"image": "a.png"}


@pytest.mark.parametrize(
    ("raw", "content_type", "expected"),
    [
        (b'{"workflow": {', "application/json", (400, "invalid_json")),
        (b"\xff\xfe not utf-8", "application/json", (400, "invalid_json")),
        (b'{"workflow": {}}', "text/plain", (415, "unsupported_media_type")),
        (b'{"workflow": {}}', "application/x-www-form-urlencoded", (415, "unsupported_media_type")),
        (b"[1, 2]", "application/json", (422, "invalid_request")),
    ],
)
async def test_unreadable_bodies_are_refused(
    client: httpx.AsyncClient,
    nothing_left: NothingLeft,
    raw: bytes,
    content_type: str,
    expected: tuple[int, str],
) -> None:
    response = await client.post("/v1/jobs", content=raw, headers={"Content-Type": content_type})

    assert response.status_code == expected[0], response.text
    assert response.json()["error"]["code"] == expected[1]
    await nothing_left()


PNG_MEDIA = [{"name": "input.png", "data": b64(PNG_BYTES)}]


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        ({"workflow": [1, 2], "media": PNG_MEDIA}, 422, "workflow_invalid"),
        ({"workflow": "graph", "media": PNG_MEDIA}, 422, "workflow_invalid"),
        ({"media": PNG_MEDIA}, 422, "invalid_request"),  # no workflow at all
        (
            {"workflow": {"1": {"inputs": {"image": "input.png"}}}, "media": PNG_MEDIA},
            422,
            "workflow_invalid",
        ),
        (
            {"workflow": image_workflow(), "media": PNG_MEDIA, "colour": "red"},
            422,
            "invalid_request",
        ),
        (
            {"workflow": image_workflow(), "media": [{"name": "input.png"}]},
            422,
            "invalid_request",
        ),
        (
            {"workflow": image_workflow(), "media": [{"name": "input.png", "data": "aGk=\n"}]},
            422,
            "invalid_base64",
        ),
        (
            {"workflow": image_workflow(), "media": [{"name": "input.png", "data": "a-_b"}]},
            422,
            "invalid_base64",
        ),
        (
            {
                "workflow": image_workflow("../../etc/passwd"),
                "media": [{"name": "../../etc/passwd", "data": b64(PNG_BYTES)}],
            },
            422,
            "unsafe_media_name",
        ),
        (
            {"workflow": image_workflow("other.png"), "media": PNG_MEDIA},
            422,
            "unreferenced_media",
        ),
        (
            {"workflow": image_workflow(), "media": PNG_MEDIA + PNG_MEDIA},
            422,
            "duplicate_media_name",
        ),
        (
            {"workflow": image_workflow("__PROMPT__"), "media": []},
            422,
            "unfilled_placeholder",
        ),
        (
            {
                "workflow": image_workflow(),
                "media": PNG_MEDIA,
                "inputs": [{"node": "9", "field": "x", "value": 1}],
            },
            422,
            "unknown_override_target",
        ),
        (
            {
                "workflow": image_workflow("notes"),
                "media": [{"name": "notes", "data": b64(b"plain text, no media")}],
            },
            422,
            "unsupported_media_type",
        ),
        (
            {
                "workflow": image_workflow(),
                "media": PNG_MEDIA,
                "webhook_url": "http://169.254.169.254/latest/meta-data",
            },
            422,
            "webhook_url_refused",
        ),
        (
            {"workflow": image_workflow(), "media": PNG_MEDIA, "webhook_url": "ftp://x.example"},
            422,
            "webhook_url_refused",
        ),
    ],
)
async def test_bad_submissions_are_refused_and_leave_nothing(
    client: httpx.AsyncClient,
    nothing_left: NothingLeft,
    body: dict[str, Any],
    status: int,
    code: str,
) -> None:
    response = await post_json(client, body)

    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    await nothing_left()


async def test_eleven_media_items_are_too_many(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    workflow = image_workflow("m0.png")
    media = [{"name": f"m{i}.png", "data": b64(PNG_BYTES + bytes([i]))} for i in range(10)]
    inputs = [{"node": "1", "field": "image", "type": "base64", "value": b64(PNG_BYTES)}]
    response = await post_json(client, {"workflow": workflow, "media": media, "inputs": inputs})

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["count"], error["limit"]) == ("too_many_media", 11, 10)
    await assert_nothing_stored(store, blobs)


async def _json_with_big_media(size: int) -> AsyncIterator[bytes]:
    # Built once and sent in pieces: the payload is never concatenated on our side.
    yield b'{"workflow": {"1": {"class_type": "LoadImage", "inputs": {"image": "big.png"}}},'
    yield b' "media": [{"name": "big.png", "data": "'
    yield base64.b64encode(bytes(size))
    yield b'"}]}'


async def test_a_51_mb_base64_item_is_too_large(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    response = await client.post(
        "/v1/jobs",
        content=_json_with_big_media(51 * MB),
        headers={"Content-Type": "application/json"},
    )

    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert (error["code"], error["limit_bytes"]) == ("media_too_large", 50 * MB)
    await assert_nothing_stored(store, blobs)


@pytest.mark.parametrize("settings", [{"max_json_body_bytes": 4096}], indirect=True)
async def test_a_declared_length_over_the_cap_is_refused_unread(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    body = {"workflow": image_workflow(), "media": [{"name": "input.png", "data": "A" * 8000}]}
    response = await post_json(client, body)

    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert (error["code"], error["limit_bytes"]) == ("payload_too_large", 4096)
    await assert_nothing_stored(store, blobs)


async def _chunks(total: int) -> AsyncIterator[bytes]:
    yield b'{"workflow": "'
    for _ in range(total // 1000):
        yield b"x" * 1000
    yield b'"}'


@pytest.mark.parametrize("settings", [{"max_json_body_bytes": 4096}], indirect=True)
async def test_a_chunked_body_is_counted_while_read(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    response = await client.post(
        "/v1/jobs", content=_chunks(10_000), headers={"Content-Type": "application/json"}
    )

    assert response.status_code == 413, response.text
    assert response.json()["error"]["code"] == "payload_too_large"
    await assert_nothing_stored(store, blobs)


async def test_a_submit_needs_a_key(
    anon_client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    response = await post_json(anon_client, {"workflow": image_workflow("a.png")})

    assert response.status_code == 401
    assert "www-authenticate" in response.headers
    await assert_nothing_stored(store, blobs)


async def test_jobs_belong_to_the_submitting_tenant(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient, store: SqlJobStore
) -> None:
    response = await post_json(client, {"workflow": image_workflow("a.png")})
    job_id = response.json()["job_id"]

    assert (await store.get_job("acme", job_id)).tenant_id == "acme"
    assert (await other_client.get(f"/v1/jobs/{job_id}")).status_code == 404


async def test_identical_bytes_under_two_names_are_stored_once(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    workflow = image_workflow("a.png")
    workflow["3"] = {"class_type": "LoadImage", "inputs": {"image": "b.png"}}
    media = [{"name": name, "data": b64(PNG_BYTES)} for name in ("a.png", "b.png")]
    response = await post_json(client, {"workflow": workflow, "media": media})

    assert response.status_code == 202, response.text
    job = await store.get_job("acme", response.json()["job_id"])
    assert sorted(ref.name for ref in job.media) == ["a.png", "b.png"]
    assert len({ref.storage_key for ref in job.media}) == 1
    assert job.workflow is not None
    assert job.workflow["1"]["inputs"]["image"] == job.workflow["3"]["inputs"]["image"]
    assert [path.name for path in blob_files(blobs)].count(job.media[0].filename) == 1


async def test_schema_errors_come_in_the_one_error_shape(client: httpx.AsyncClient) -> None:
    response = await post_json(client, {"workflow": image_workflow(), "priority": "high"})

    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_request"
    assert ["body", "priority"] in [detail["loc"] for detail in error["details"]]


async def test_the_submit_route_is_in_the_openapi_document(client: httpx.AsyncClient) -> None:
    document = (await client.get("/openapi.json")).json()

    operation = document["paths"]["/v1/jobs"]["post"]
    assert set(operation["requestBody"]["content"]) == {
        "application/json",
        "multipart/form-data",
    }


@pytest.mark.parametrize("settings", [{"webhook_allow_list": ["127.0.0.0/8"]}], indirect=True)
@pytest.mark.parametrize("url", ["http://93.184.216.34/hook", "http://127.0.0.1:9/hook"])
async def test_an_acceptable_webhook_url_is_stored(
    client: httpx.AsyncClient, store: SqlJobStore, url: str
) -> None:
    body = {"workflow": image_workflow("a.png"), "webhook_url": url, "timeout_s": 90}
    response = await post_json(client, body)

    assert response.status_code == 202, response.text
    job = await store.get_job("acme", response.json()["job_id"])
    assert (job.webhook_url, job.timeout_s) == (url, 90)


async def test_a_multi_megabyte_item_is_stored_byte_for_byte(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    data = PNG_BYTES + bytes(range(256)) * (3 * MB // 256)
    body = {"workflow": image_workflow(), "media": [{"name": "input.png", "data": b64(data)}]}
    response = await post_json(client, body)

    assert response.status_code == 202, response.text
    (ref,) = (await store.get_job("acme", response.json()["job_id"])).media
    assert (ref.sha256, ref.size_bytes) == (sha256_hex(data), len(data))
    assert await stored_bytes(blobs, ref.storage_key) == data
