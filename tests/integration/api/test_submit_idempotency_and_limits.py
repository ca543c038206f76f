"""Idempotency-Key replays and reuse, and the queue depth limits (429 + Retry-After).

A submit refused or replayed after its media were stored must delete them: only the
first job's media stay in the blob store.
"""

from __future__ import annotations

import asyncio
import base64
import json
from typing import Any

import httpx
import pytest

from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.store import SqlJobStore
from integration.api.submit_fixtures import (  # noqa: F401  (fixtures)
    PNG_BYTES,
    blob_files,
    image_workflow,
    settings_fixture,
)


def png_body(extra_bytes: bytes = b"", **fields: Any) -> dict[str, Any]:
    data = base64.b64encode(PNG_BYTES + extra_bytes).decode("ascii")
    return {
        "workflow": image_workflow("in.png"),
        "media": [{"name": "in.png", "data": data}],
        **fields,
    }


async def submit(
    client: httpx.AsyncClient, body: dict[str, Any], key: str | None = None
) -> httpx.Response:
    headers = {"Idempotency-Key": key} if key is not None else {}
    return await client.post("/v1/jobs", json=body, headers=headers)


def media_files_of(blobs: LocalBlobStore, job_id: str) -> list[str]:
    return [path.name for path in blob_files(blobs) if job_id in path.parts]


async def test_same_key_and_body_replays_the_first_job(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    first = await submit(client, png_body(), key="order-1")
    # Key order and the answer-only `wait` fields do not make another request.
    replay_body = json.loads(json.dumps(png_body(), sort_keys=True))
    replay = await submit(client, {**replay_body, "wait": False}, key="order-1")

    assert first.status_code == 202, first.text
    assert replay.status_code == 200, replay.text
    assert replay.headers["idempotent-replayed"] == "true"
    assert "idempotent-replayed" not in first.headers
    job_id = first.json()["job_id"]
    assert replay.json()["job_id"] == job_id
    assert replay.headers["location"] == f"/v1/jobs/{job_id}"
    assert [job.job_id for job in (await store.list_jobs("acme")).jobs] == [job_id]
    assert len(blob_files(blobs)) == len(media_files_of(blobs, job_id)) == 1  # a .png: no sidecar


async def test_same_key_with_another_body_is_refused(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    first = await submit(client, png_body(), key="order-2")
    other = await submit(client, png_body(extra_bytes=b"!"), key="order-2")

    assert other.status_code == 422, other.text
    error = other.json()["error"]
    job_id = first.json()["job_id"]
    assert (error["code"], error["job_id"]) == ("idempotency_key_reused", job_id)
    assert len((await store.list_jobs("acme")).jobs) == 1
    assert len(blob_files(blobs)) == len(media_files_of(blobs, job_id))


async def test_a_different_uploaded_file_is_a_different_request(
    client: httpx.AsyncClient, store: SqlJobStore
) -> None:
    form = {"request": json.dumps({"workflow": image_workflow("f.png")})}
    headers = {"Idempotency-Key": "upload-1"}
    first = await client.post(
        "/v1/jobs", data=form, files={"f": ("f.png", PNG_BYTES)}, headers=headers
    )
    same = await client.post(
        "/v1/jobs", data=form, files={"f": ("f.png", PNG_BYTES)}, headers=headers
    )
    other = await client.post(
        "/v1/jobs", data=form, files={"f": ("f.png", PNG_BYTES + b"x")}, headers=headers
    )

    assert (first.status_code, same.status_code, other.status_code) == (202, 200, 422)
    assert same.json()["job_id"] == first.json()["job_id"]
    assert other.json()["error"]["code"] == "idempotency_key_reused"


async def test_concurrent_duplicates_make_one_job(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore
) -> None:
    responses = await asyncio.gather(*(submit(client, png_body(), key="race") for _ in range(6)))

    statuses = sorted(response.status_code for response in responses)
    assert statuses == [200] * 5 + [202]
    (job,) = (await store.list_jobs("acme")).jobs
    assert {response.json()["job_id"] for response in responses} == {job.job_id}
    assert len(blob_files(blobs)) == len(media_files_of(blobs, job.job_id))


async def test_keys_are_per_tenant(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    mine = await submit(client, png_body(), key="shared-key")
    theirs = await submit(other_client, png_body(extra_bytes=b"other"), key="shared-key")

    assert (mine.status_code, theirs.status_code) == (202, 202)
    assert mine.json()["job_id"] != theirs.json()["job_id"]


@pytest.mark.parametrize("key", ["has space", "", "x" * 256, "tab\tkey"])
async def test_unusable_keys_are_refused(
    client: httpx.AsyncClient, store: SqlJobStore, key: str
) -> None:
    response = await submit(client, png_body(), key=key)

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "invalid_idempotency_key"
    assert (await store.list_jobs("acme")).jobs == ()


@pytest.mark.parametrize("settings", [{"tenant_queue_depth_limit": 1}], indirect=True)
async def test_a_full_tenant_queue_answers_429_and_reads_keep_working(
    client: httpx.AsyncClient,
    other_client: httpx.AsyncClient,
    store: SqlJobStore,
    blobs: LocalBlobStore,
) -> None:
    first = await submit(client, png_body())
    refused = await submit(client, png_body(extra_bytes=b"2"))
    other_tenant = await submit(other_client, png_body())

    assert refused.status_code == 429, refused.text
    assert refused.json()["error"]["code"] == "queue_full"
    assert int(refused.headers["retry-after"]) > 0
    assert other_tenant.status_code == 202
    job_id = first.json()["job_id"]
    assert (await client.get(f"/v1/jobs/{job_id}")).status_code == 200
    assert [job.job_id for job in (await store.list_jobs("acme")).jobs] == [job_id]
    acme_files = [path for path in blob_files(blobs) if "acme" in path.parts]
    assert len(acme_files) == len(media_files_of(blobs, job_id))


@pytest.mark.parametrize("settings", [{"queue_depth_limit": 1}], indirect=True)
async def test_a_full_gateway_queue_refuses_every_tenant(
    client: httpx.AsyncClient, other_client: httpx.AsyncClient
) -> None:
    assert (await submit(client, png_body())).status_code == 202
    refused = await submit(other_client, png_body())

    assert refused.status_code == 429
    assert "retry-after" in refused.headers
