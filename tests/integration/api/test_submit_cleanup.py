"""Nothing half-written: when storing fails part-way, the blobs already written go too."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from comfy_gateway.storage import BlobInfo, LocalBlobStore
from comfy_gateway.storage.blobs import BlobStoreError
from comfy_gateway.store import SqlJobStore
from integration.api.submit_fixtures import (  # noqa: F401  (fixtures)
    PNG_BYTES,
    WAV_BYTES,
    assert_nothing_stored,
    blob_files,
    image_workflow,
    settings_fixture,
)


class DiskFullAfterOnePut(LocalBlobStore):
    """A local store whose second write fails half-way, as a full disk would."""

    def __init__(self, root: Path) -> None:
        super().__init__(root)
        self.puts = 0

    async def put(
        self, key: str, chunks: AsyncIterator[bytes], *, content_type: str | None = None
    ) -> BlobInfo:
        self.puts += 1
        if self.puts == 2:
            raise BlobStoreError("no space left on device")
        return await super().put(key, chunks, content_type=content_type)


@pytest.fixture(name="blobs")
def flaky_blobs(tmp_path: Path) -> DiskFullAfterOnePut:
    return DiskFullAfterOnePut(tmp_path / "blobs")


async def test_a_failed_second_put_removes_the_first_and_stores_no_job(
    client: httpx.AsyncClient, store: SqlJobStore, blobs: DiskFullAfterOnePut
) -> None:
    workflow = image_workflow("a.png")
    workflow["3"] = {"class_type": "LoadAudio", "inputs": {"audio": "b.wav"}}
    media = [
        {"name": "a.png", "data": base64.b64encode(PNG_BYTES).decode()},
        {"name": "b.wav", "data": base64.b64encode(WAV_BYTES).decode()},
    ]
    response = await client.post("/v1/jobs", json={"workflow": workflow, "media": media})

    assert response.status_code == 503, response.text
    assert response.json()["error"]["code"] == "storage_unavailable"
    assert blobs.puts == 2
    await assert_nothing_stored(store, blobs)
