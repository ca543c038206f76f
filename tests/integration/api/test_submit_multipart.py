"""``POST /v1/jobs`` as ``multipart/form-data``: a request part and media file parts."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.store import SqlJobStore
from integration.api.submit_fixtures import (  # noqa: F401  (fixtures)
    MB,
    PNG_BYTES,
    WAV_BYTES,
    NothingLeft,
    assert_nothing_stored,
    image_workflow,
    multipart_body,
    nothing_left_fixture,
    settings_fixture,
    sha256_hex,
    stored_bytes,
    streamed_multipart,
)

BOUNDARY = "test-boundary-7f3a"
MULTIPART = {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}


async def test_a_file_part_is_media_named_by_its_filename(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    request = {"workflow": image_workflow("cat.png"), "priority": 2}
    response = await client.post(
        "/v1/jobs",
        data={"request": json.dumps(request)},
        files={"media": ("cat.png", PNG_BYTES, "image/png")},
    )

    assert response.status_code == 202, response.text
    job_id = response.json()["job_id"]
    assert response.headers["location"] == f"/v1/jobs/{job_id}"
    job = await store.get_job("acme", job_id)
    digest = sha256_hex(PNG_BYTES)
    assert job.priority == 2
    assert job.workflow is not None
    assert job.workflow["1"]["inputs"]["image"] == f"comfy-gateway/{digest}.png"
    (ref,) = job.media
    assert ref.name == "cat.png"
    assert await stored_bytes(blobs, ref.storage_key) == PNG_BYTES


async def test_a_workflow_part_holds_just_the_graph(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    workflow = image_workflow("voice.wav")
    response = await client.post(
        "/v1/jobs",
        files=[
            ("workflow", ("workflow.json", json.dumps(workflow).encode(), "application/json")),
            ("file", ("voice.wav", WAV_BYTES, "application/octet-stream")),
        ],
    )

    assert response.status_code == 202, response.text
    job = await store.get_job("acme", response.json()["job_id"])
    assert job.workflow is not None
    assert job.workflow["1"]["inputs"]["image"] == f"comfy-gateway/{sha256_hex(WAV_BYTES)}.wav"
    assert [ref.name for ref in job.media] == ["voice.wav"]


@pytest.mark.parametrize(
    ("files", "status", "code"),
    [
        ([("../../etc/passwd", PNG_BYTES)], 422, "unsafe_media_name"),
        ([(".hidden.png", PNG_BYTES)], 422, "unsafe_media_name"),
        ([("input.png", PNG_BYTES), ("spare.png", PNG_BYTES)], 422, "unreferenced_media"),
        ([(f"m{i}.png", PNG_BYTES) for i in range(11)], 422, "too_many_media"),
    ],
)
async def test_bad_file_parts_are_refused_and_leave_nothing(
    client: httpx.AsyncClient,
    nothing_left: NothingLeft,
    files: list[tuple[str, bytes]],
    status: int,
    code: str,
) -> None:
    body = multipart_body(BOUNDARY, {"workflow": image_workflow(files[0][0])}, files)
    response = await client.post("/v1/jobs", content=body, headers=MULTIPART)

    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    await nothing_left()


@pytest.mark.parametrize(
    ("body", "status", "code"),
    [
        (multipart_body(BOUNDARY, None, [("a.png", PNG_BYTES)]), 422, "invalid_request"),
        (b"--not-the-boundary\r\ngarbage", 400, "invalid_multipart"),
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="request"\r\n\r\n'
            f"{{not json\r\n--{BOUNDARY}--\r\n".encode(),
            400,
            "invalid_json",
        ),
        (
            f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="seed"\r\n\r\n'
            f"42\r\n--{BOUNDARY}--\r\n".encode(),
            422,
            "unexpected_form_field",
        ),
    ],
)
async def test_malformed_forms_are_refused(
    client: httpx.AsyncClient,
    nothing_left: NothingLeft,
    body: bytes,
    status: int,
    code: str,
) -> None:
    response = await client.post("/v1/jobs", content=body, headers=MULTIPART)

    assert response.status_code == status, response.text
    assert response.json()["error"]["code"] == code
    await nothing_left()


async def test_a_51_mb_file_part_is_refused_while_it_streams(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    body = streamed_multipart(BOUNDARY, {"workflow": image_workflow("big.png")}, "big.png", 51 * MB)
    response = await client.post("/v1/jobs", content=body, headers=MULTIPART)

    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert (error["code"], error["name"], error["limit_bytes"]) == (
        "media_too_large",
        "big.png",
        50 * MB,
    )
    await assert_nothing_stored(store, blobs)


@pytest.mark.parametrize("settings", [{"max_body_bytes": 64 * 1024}], indirect=True)
@pytest.mark.parametrize("declared", [False, True])
async def test_a_multipart_body_over_its_cap_is_refused(
    client: httpx.AsyncClient, nothing_left: NothingLeft, declared: bool
) -> None:
    request = {"workflow": image_workflow("a.png")}
    if declared:  # Content-Length says it all: refused before reading
        body: Any = multipart_body(BOUNDARY, request, [("a.png", bytes(MB))])
    else:  # no Content-Length: counted while read
        body = streamed_multipart(BOUNDARY, request, "a.png", MB)
    response = await client.post("/v1/jobs", content=body, headers=MULTIPART)

    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert (error["code"], error["limit_bytes"]) == ("payload_too_large", 64 * 1024)
    await nothing_left()


@pytest.mark.parametrize("settings", [{"max_json_body_bytes": 4096}], indirect=True)
@pytest.mark.parametrize("as_file", [False, True])
async def test_a_request_part_over_the_json_cap_is_413(
    client: httpx.AsyncClient, nothing_left: NothingLeft, as_file: bool
) -> None:
    request = json.dumps({"workflow": image_workflow("a.png"), "params": {"x": "y" * 5000}})
    if as_file:
        response = await client.post("/v1/jobs", files={"request": ("r.json", request.encode())})
    else:
        response = await client.post("/v1/jobs", data={"request": request}, files={"f": ("a", b"")})

    assert response.status_code == 413, response.text
    error = response.json()["error"]
    assert (error["code"], error["limit_bytes"]) == ("payload_too_large", 4096)
    await nothing_left()
