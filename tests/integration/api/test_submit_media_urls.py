"""URL media are fetched at submit time through the address guard (a real loopback
server stands in for the internet; it is reachable only when allow-listed)."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.store import SqlJobStore
from integration.api.submit_fixtures import (  # noqa: F401  (fixtures)
    PNG_BYTES,
    Origin,
    assert_nothing_stored,
    image_workflow,
    origin_fixture,
    settings_fixture,
    sha256_hex,
    stored_bytes,
)

LOOPBACK_ALLOWED = {"fetch_allow_list": ["127.0.0.0/8"]}
LOCALHOST_NAME_ALLOWED = {"fetch_allow_list": ["localhost"]}


def url_media(url: str, name: str = "input.png") -> dict[str, Any]:
    return {"workflow": image_workflow(name), "media": [{"name": name, "url": url}]}


@pytest.mark.parametrize("settings", [LOOPBACK_ALLOWED], indirect=True)
async def test_allow_listed_url_media_is_fetched_and_stored(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore, origin: Origin
) -> None:
    # Served as octet-stream under a name without extension: the bytes say PNG.
    origin.files["cat"] = (PNG_BYTES, "application/octet-stream")
    response = await client.post("/v1/jobs", json=url_media(origin.url("/media/cat")))

    assert response.status_code == 202, response.text
    job = await store.get_job("acme", response.json()["job_id"])
    digest = sha256_hex(PNG_BYTES)
    assert job.workflow is not None
    assert job.workflow["1"]["inputs"]["image"] == f"comfy-gateway/{digest}.png"
    (ref,) = job.media
    assert await stored_bytes(blobs, ref.storage_key) == PNG_BYTES
    assert origin.requests == ["/media/cat"]


@pytest.mark.parametrize("settings", [LOOPBACK_ALLOWED], indirect=True)
async def test_an_image_url_input_is_fetched_and_wired(
    client: httpx.AsyncClient, store: SqlJobStore, origin: Origin
) -> None:
    origin.files["photo.png"] = (PNG_BYTES, "image/png")
    body = {
        "workflow": image_workflow("unused-default.png"),
        "inputs": [{"node": "1", "field": "image", "image_url": origin.url("/media/photo.png")}],
    }
    response = await client.post("/v1/jobs", json=body)

    assert response.status_code == 202, response.text
    job = await store.get_job("acme", response.json()["job_id"])
    assert job.workflow is not None
    assert job.workflow["1"]["inputs"]["image"] == f"comfy-gateway/{sha256_hex(PNG_BYTES)}.png"


async def test_loopback_is_refused_without_the_allow_list(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore, origin: Origin
) -> None:
    origin.files["cat.png"] = (PNG_BYTES, "image/png")
    response = await client.post("/v1/jobs", json=url_media(origin.url("/media/cat.png")))

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert error["code"] == "media_fetch_failed"
    assert "127.0.0.1" in error["reason"]
    assert origin.requests == []  # refused before any connection
    await assert_nothing_stored(store, blobs)


@pytest.mark.parametrize(
    "url",
    [
        "http://10.0.0.1/cat.png",
        "http://169.254.169.254/latest/meta-data/iam",
        "http://[::ffff:127.0.0.1]/cat.png",
        "file:///etc/passwd",
    ],
)
async def test_private_and_odd_urls_are_refused(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore, url: str
) -> None:
    response = await client.post("/v1/jobs", json=url_media(url))

    assert response.status_code == 422, response.text
    error = response.json()["error"]
    assert (error["code"], error["name"], error["url"]) == ("media_fetch_failed", "input.png", url)
    await assert_nothing_stored(store, blobs)


@pytest.mark.parametrize("settings", [LOCALHOST_NAME_ALLOWED], indirect=True)
@pytest.mark.parametrize(
    "target", ["http://127.0.0.1:{port}/media/cat.png", "http://169.254.169.254/latest"]
)
async def test_a_redirect_to_a_private_address_is_refused(
    client: httpx.AsyncClient,
    store: SqlJobStore,
    blobs: LocalBlobStore,
    origin: Origin,
    target: str,
) -> None:
    origin.files["cat.png"] = (PNG_BYTES, "image/png")
    first_hop = f"/redirect?to={target.format(port=origin.port)}"
    response = await client.post("/v1/jobs", json=url_media(origin.url(first_hop, "localhost")))

    assert response.status_code == 422, response.text
    assert response.json()["error"]["code"] == "media_fetch_failed"
    assert origin.requests == [first_hop]  # the allowed first hop only, never the target
    await assert_nothing_stored(store, blobs)


@pytest.mark.parametrize(
    "settings", [{**LOOPBACK_ALLOWED, "max_media_bytes": len(PNG_BYTES) - 1}], indirect=True
)
async def test_a_fetch_failure_names_its_reason(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: LocalBlobStore, origin: Origin
) -> None:
    origin.files["cat.png"] = (PNG_BYTES, "image/png")
    missing = await client.post("/v1/jobs", json=url_media(origin.url("/media/gone.png")))
    too_big = await client.post("/v1/jobs", json=url_media(origin.url("/media/cat.png")))

    assert missing.status_code == too_big.status_code == 422
    assert missing.json()["error"]["code"] == too_big.json()["error"]["code"]
    assert "404" in missing.json()["error"]["reason"]
    assert str(len(PNG_BYTES)) in too_big.json()["error"]["reason"]
    await assert_nothing_stored(store, blobs)
