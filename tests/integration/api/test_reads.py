"""GET /v1/jobs/{id} (with and without inlined outputs) and GET /v1/jobs."""

from __future__ import annotations

import base64
import re
import uuid

import httpx
import pytest

from comfy_gateway.api.routes.jobs_read import INLINE_LIMIT_BYTES
from comfy_gateway.jobs.ids import new_job_id
from comfy_gateway.storage import LocalBlobStore
from integration.api.worker_side import OutputFile, WorkerSide

RFC3339_MS = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")


async def test_get_returns_the_job_body(client: httpx.AsyncClient, worker_side: WorkerSide) -> None:
    job = await worker_side.submit("acme", priority=3)
    response = await client.get(f"/v1/jobs/{job.job_id}")
    assert response.status_code == 200
    body = response.json()
    assert body["job_id"] == job.job_id
    assert body["status"] == "queued"
    assert body["priority"] == 3
    assert RFC3339_MS.match(body["created_at"])
    assert body["outputs"] == []
    assert "workflow" not in body


async def test_completed_job_lists_outputs_with_urls(
    client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    job = await worker_side.submit()
    await worker_side.start(job.job_id)
    await worker_side.complete(job.job_id, [OutputFile(filename="a.png", data=b"png-bytes")])
    body = (await client.get(f"/v1/jobs/{job.job_id}")).json()
    assert body["status"] == "completed"
    [output] = body["outputs"]
    assert output["url"] == f"/v1/jobs/{job.job_id}/outputs/0"
    assert output["size_bytes"] == len(b"png-bytes")


@pytest.mark.parametrize(
    "job_id",
    ["not-a-uuid", str(uuid.uuid4()), "0" * 36, new_job_id().upper()],
    ids=["junk", "uuid4", "zeros", "uppercase"],
)
async def test_malformed_or_unknown_ids_are_404(client: httpx.AsyncClient, job_id: str) -> None:
    response = await client.get(f"/v1/jobs/{job_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "job_not_found"


async def test_unknown_uuid7_is_404(client: httpx.AsyncClient) -> None:
    response = await client.get(f"/v1/jobs/{new_job_id()}")
    assert response.status_code == 404


async def test_another_tenants_job_is_404(
    other_client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    job = await worker_side.submit("acme")
    response = await other_client.get(f"/v1/jobs/{job.job_id}")
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "job_not_found"


async def test_include_base64_inlines_every_output(
    client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    files = [
        OutputFile(filename="a.png", data=b"\x89PNG-one"),
        OutputFile(filename="b.mp4", data=bytes(range(256)), kind="video"),
    ]
    job = await worker_side.submit()
    await worker_side.start(job.job_id)
    await worker_side.complete(job.job_id, files)
    response = await client.get(f"/v1/jobs/{job.job_id}", params={"include": "base64"})
    assert response.status_code == 200
    outputs = response.json()["outputs"]
    assert [base64.b64decode(o["base64"]) for o in outputs] == [f.data for f in files]


async def test_include_base64_over_the_limit_is_413(
    client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    half = INLINE_LIMIT_BYTES // 2 + 1
    files = [
        OutputFile(filename="a.png", data=b"a" * half),
        OutputFile(filename="b.png", data=b"b" * half),
    ]
    job = await worker_side.submit()
    await worker_side.start(job.job_id)
    await worker_side.complete(job.job_id, files)
    response = await client.get(f"/v1/jobs/{job.job_id}", params={"include": "base64"})
    assert response.status_code == 413
    error = response.json()["error"]
    assert error["code"] == "inline_too_large"
    assert error["size_bytes"] == 2 * half


async def test_include_base64_of_an_expired_output_is_410(
    client: httpx.AsyncClient, worker_side: WorkerSide, blobs: LocalBlobStore
) -> None:
    job = await worker_side.submit()
    await worker_side.start(job.job_id)
    done = await worker_side.complete(job.job_id, [OutputFile(filename="a.png", data=b"x")])
    assert await blobs.delete(done.outputs[0].storage_key)
    response = await client.get(f"/v1/jobs/{job.job_id}", params={"include": "base64"})
    assert response.status_code == 410
    assert response.json()["error"]["code"] == "output_expired"


async def test_include_with_another_value_is_422(
    client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    job = await worker_side.submit()
    response = await client.get(f"/v1/jobs/{job.job_id}", params={"include": "everything"})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


async def test_list_is_newest_first_and_only_the_tenants(
    client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    ids = [(await worker_side.submit("acme")).job_id for _ in range(3)]
    await worker_side.submit("beta")
    response = await client.get("/v1/jobs")
    assert response.status_code == 200
    body = response.json()
    assert [job["job_id"] for job in body["jobs"]] == ids[::-1]
    assert body["next_cursor"] is None


async def test_cursor_walks_every_page_once(
    client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    ids = [(await worker_side.submit()).job_id for _ in range(5)]
    seen: list[str] = []
    cursor: str | None = None
    pages = 0
    while True:
        params = {"limit": "2", **({"cursor": cursor} if cursor else {})}
        body = (await client.get("/v1/jobs", params=params)).json()
        seen += [job["job_id"] for job in body["jobs"]]
        pages += 1
        cursor = body["next_cursor"]
        if cursor is None:
            break
    assert seen == ids[::-1]
    assert pages == 3


async def test_status_filter_takes_a_comma_list(
    client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    running = await worker_side.submit()
    await worker_side.start(running.job_id)
    failed = await worker_side.submit()
    await worker_side.fail(failed.job_id)
    queued = await worker_side.submit()
    body = (await client.get("/v1/jobs", params={"status": "running,failed"})).json()
    assert {job["job_id"] for job in body["jobs"]} == {running.job_id, failed.job_id}
    only_queued = (await client.get("/v1/jobs", params={"status": "queued"})).json()
    assert [job["job_id"] for job in only_queued["jobs"]] == [queued.job_id]
    [failed_body] = [job for job in body["jobs"] if job["status"] == "failed"]
    assert failed_body["error"]["code"] == "execution_error"


async def test_unknown_status_is_422(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/jobs", params={"status": "queued,sleeping"})
    assert response.status_code == 422
    error = response.json()["error"]
    assert error["code"] == "invalid_status"
    assert "sleeping" in error["message"]


@pytest.mark.parametrize("limit", ["0", "501", "ten"])
async def test_limit_out_of_range_is_422(client: httpx.AsyncClient, limit: str) -> None:
    response = await client.get("/v1/jobs", params={"limit": limit})
    assert response.status_code == 422
    assert response.json()["error"]["code"] == "invalid_request"


async def test_limit_500_is_allowed(client: httpx.AsyncClient) -> None:
    response = await client.get("/v1/jobs", params={"limit": "500"})
    assert response.status_code == 200


@pytest.mark.parametrize("cursor", ["garbage!", "bm90LWpzb24", "WyIyMDI2IiwgMV0"])
async def test_bad_cursor_is_400(client: httpx.AsyncClient, cursor: str) -> None:
    response = await client.get("/v1/jobs", params={"cursor": cursor})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_cursor"


async def test_list_of_another_tenant_is_empty_not_an_error(
    other_client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    await worker_side.submit("acme")
    body = (await other_client.get("/v1/jobs")).json()
    assert body == {"jobs": [], "next_cursor": None}
