"""GET /v1/jobs/{id}/outputs/{index}: streaming, ranges, validators, 404/410."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import httpx
import pytest

from comfy_gateway.api.app import create_app
from comfy_gateway.api.context import ApiContext
from comfy_gateway.jobs.model import Job
from comfy_gateway.storage import LocalBlobStore
from integration.api.conftest import ACME_KEY, BASE_URL
from integration.api.worker_side import OutputFile, WorkerSide, sha256_hex

DATA = bytes(range(256)) * 4  # 1024 bytes, every offset distinguishable mod 256


@pytest.fixture
async def finished_job(worker_side: WorkerSide) -> Job:
    job = await worker_side.submit()
    await worker_side.start(job.job_id)
    files = [
        OutputFile(filename="clip.mp4", data=DATA, kind="video"),
        OutputFile(filename='été "1".png', data=b"\x89PNG small"),
    ]
    return await worker_side.complete(job.job_id, files)


def url(job: Job, index: int | str) -> str:
    return f"/v1/jobs/{job.job_id}/outputs/{index}"


async def test_whole_file_with_headers(client: httpx.AsyncClient, finished_job: Job) -> None:
    response = await client.get(url(finished_job, 0))
    assert response.status_code == 200
    assert response.content == DATA
    assert response.headers["content-type"] == "video/mp4"
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["etag"] == f'"{sha256_hex(DATA)}"'
    assert response.headers["accept-ranges"] == "bytes"
    assert response.headers["content-disposition"].startswith('attachment; filename="clip.mp4"')


async def test_non_ascii_filename_gets_an_encoded_disposition(
    client: httpx.AsyncClient, finished_job: Job
) -> None:
    response = await client.get(url(finished_job, 1))
    disposition = response.headers["content-disposition"]
    assert 'filename="_t_ _1_.png"' in disposition
    assert "filename*=UTF-8''%C3%A9t%C3%A9%20%221%22.png" in disposition
    assert response.content == b"\x89PNG small"


@pytest.mark.parametrize(
    ("header", "start", "end"),
    [
        ("bytes=0-9", 0, 9),
        ("bytes=1000-", 1000, 1023),
        ("bytes=-24", 1000, 1023),
        ("bytes=1020-5000", 1020, 1023),
        ("bytes=1023-1023", 1023, 1023),
        ("bytes=-5000", 0, 1023),
    ],
)
async def test_single_ranges_are_206(
    client: httpx.AsyncClient, finished_job: Job, header: str, start: int, end: int
) -> None:
    response = await client.get(url(finished_job, 0), headers={"Range": header})
    assert response.status_code == 206
    assert response.content == DATA[start : end + 1]
    assert response.headers["content-range"] == f"bytes {start}-{end}/{len(DATA)}"
    assert response.headers["content-length"] == str(end - start + 1)
    assert response.headers["etag"] == f'"{sha256_hex(DATA)}"'


@pytest.mark.parametrize("header", ["bytes=1024-", "bytes=5000-6000", "bytes=-0"])
async def test_ranges_outside_the_file_are_416(
    client: httpx.AsyncClient, finished_job: Job, header: str
) -> None:
    response = await client.get(url(finished_job, 0), headers={"Range": header})
    assert response.status_code == 416
    assert response.headers["content-range"] == f"bytes */{len(DATA)}"
    assert response.json()["error"]["code"] == "range_not_satisfiable"


@pytest.mark.parametrize(
    "header", ["bytes=0-1,5-6", "items=0-5", "bytes=9-2", "bytes=abc", "bytes=-"]
)
async def test_unusable_range_headers_are_ignored(
    client: httpx.AsyncClient, finished_job: Job, header: str
) -> None:
    response = await client.get(url(finished_job, 0), headers={"Range": header})
    assert response.status_code == 200
    assert response.content == DATA


async def test_if_range_with_a_stale_etag_sends_the_whole_file(
    client: httpx.AsyncClient, finished_job: Job
) -> None:
    stale = await client.get(
        url(finished_job, 0), headers={"Range": "bytes=0-9", "If-Range": '"old"'}
    )
    fresh = await client.get(
        url(finished_job, 0),
        headers={"Range": "bytes=0-9", "If-Range": f'"{sha256_hex(DATA)}"'},
    )
    assert (stale.status_code, len(stale.content)) == (200, len(DATA))
    assert (fresh.status_code, fresh.content) == (206, DATA[:10])


async def test_if_none_match_with_the_etag_is_304(
    client: httpx.AsyncClient, finished_job: Job
) -> None:
    etag = f'"{sha256_hex(DATA)}"'
    response = await client.get(url(finished_job, 0), headers={"If-None-Match": etag})
    assert response.status_code == 304
    assert response.content == b""
    other = await client.get(url(finished_job, 0), headers={"If-None-Match": '"nope"'})
    assert other.status_code == 200


@pytest.mark.parametrize("index", ["2", "-1", "x", "1.0", "99999999999"])
async def test_bad_index_is_404(client: httpx.AsyncClient, finished_job: Job, index: str) -> None:
    response = await client.get(url(finished_job, index))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "output_not_found"


async def test_another_tenants_output_is_404(
    other_client: httpx.AsyncClient, finished_job: Job
) -> None:
    response = await other_client.get(url(finished_job, 0))
    assert response.status_code == 404
    assert response.json()["error"]["code"] == "job_not_found"


async def test_no_key_is_401(anon_client: httpx.AsyncClient, finished_job: Job) -> None:
    response = await anon_client.get(url(finished_job, 0))
    assert response.status_code == 401


async def test_expired_output_is_410(
    client: httpx.AsyncClient, finished_job: Job, blobs: LocalBlobStore
) -> None:
    assert await blobs.delete(finished_job.outputs[0].storage_key)
    response = await client.get(url(finished_job, 0))
    assert response.status_code == 410
    error = response.json()["error"]
    assert (error["code"], error["index"]) == ("output_expired", 0)
    still_there = await client.get(url(finished_job, 1))
    assert still_there.status_code == 200


async def test_empty_output_is_200_and_any_range_is_416(
    client: httpx.AsyncClient, worker_side: WorkerSide
) -> None:
    job = await worker_side.submit()
    await worker_side.start(job.job_id)
    await worker_side.complete(job.job_id, [OutputFile(filename="empty.txt", data=b"")])
    whole = await client.get(f"/v1/jobs/{job.job_id}/outputs/0")
    ranged = await client.get(f"/v1/jobs/{job.job_id}/outputs/0", headers={"Range": "bytes=-1"})
    assert (whole.status_code, whole.content) == (200, b"")
    assert ranged.status_code == 416


class _PresigningBlobStore(LocalBlobStore):
    def url_for(self, key: str) -> str | None:
        return f"https://bucket.example/{key}?signature=abc"


async def test_a_store_with_direct_urls_is_redirected_to(
    api_context: ApiContext, finished_job: Job, tmp_path: Path
) -> None:
    presigning = _PresigningBlobStore(tmp_path / "blobs")
    app = create_app(dataclasses.replace(api_context, blobs=presigning))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(
        transport=transport, base_url=BASE_URL, headers={"X-API-Key": ACME_KEY}
    ) as http:
        response = await http.get(url(finished_job, 0))
    assert response.status_code == 307
    key = finished_job.outputs[0].storage_key
    assert response.headers["location"] == f"https://bucket.example/{key}?signature=abc"


async def test_head_gives_the_headers_without_the_body(
    client: httpx.AsyncClient, finished_job: Job
) -> None:
    response = await client.head(url(finished_job, 0))
    assert response.status_code == 200
    assert response.content == b""
    assert response.headers["content-length"] == str(len(DATA))
    assert response.headers["etag"] == f'"{sha256_hex(DATA)}"'
