"""Pieces of the worker against real sockets: the pool's states, output collection."""

from __future__ import annotations

import hashlib
import socket
from pathlib import Path
from typing import Any

import httpx

from comfy_gateway.comfy import ComfyHttpClient
from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.worker import BackendPool, RetryBackoff
from comfy_gateway.worker.output_collection import collect_outputs
from integration.worker.harness import backend_pool_for
from support.simulator_process import SimulatorProcess


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


async def test_pool_reports_a_reachable_backend(sim: SimulatorProcess) -> None:
    pool = backend_pool_for(sim.url)
    try:
        assert [state.state for state in pool.backends()] == ["connecting"]
        await pool.start()
        [state] = pool.backends()
        assert (state.url, state.reachable, state.state) == (sim.url, True, "ready")
        assert pool.any_ready
        backend = pool.members[0]
        assert backend.connection is not None
        assert backend.name in backend.connection.client_id
        assert "SaveImage" in await backend.output_node_classes()
        assert "ImageInvert" not in await backend.output_node_classes()
        assert pool.with_free_slot(2) == [backend]
        backend.in_flight = 2
        assert pool.with_free_slot(2) == []
    finally:
        await pool.aclose()


async def test_pool_marks_an_unreachable_backend_down_with_backoff() -> None:
    now = [100.0]
    pool = BackendPool([closed_port_url()], retry=RetryBackoff(initial=1.0), clock=lambda: now[0])
    try:
        await pool.start()
        [state] = pool.backends()
        assert (state.reachable, state.state) == (False, "down")
        assert state.detail
        backend = pool.members[0]
        first_retry = backend.retry_at
        assert first_retry == 100.0 + pool.retry.delay(0)
        now[0] = first_retry
        await pool.check_backend(backend)  # due: tried again, failed again, waits longer
        assert backend.retry_at == first_retry + pool.retry.delay(1)
        assert not pool.any_ready
    finally:
        await pool.aclose()


def view_transport(files: dict[str, bytes]) -> httpx.MockTransport:
    def answer(request: httpx.Request) -> httpx.Response:
        name = request.url.params.get("filename", "")
        if request.url.path == "/view" and name in files:
            return httpx.Response(200, content=files[name])
        return httpx.Response(404, text="404: Not Found")

    return httpx.MockTransport(answer)


async def test_collection_stores_files_and_text_and_reports_missing(tmp_path: Path) -> None:
    data = b"\x89PNG fake image bytes" * 100
    executed: dict[str, dict[str, Any]] = {
        "9": {
            "images": [
                {"filename": "a_00001_.png", "subfolder": "comfy-gateway/j/x", "type": "output"}
            ]
        },
        "10": {"text": ["hello"]},
        "11": {"images": [{"filename": "gone.png", "subfolder": "", "type": "output"}]},
    }
    blobs = LocalBlobStore(tmp_path)
    async with ComfyHttpClient(
        "http://comfy", transport=view_transport({"a_00001_.png": data})
    ) as http:
        collected = await collect_outputs(http, blobs, tenant_id="t", job_id="j", executed=executed)

    image, text = collected.outputs
    assert (image.index, image.kind, image.subfolder) == (0, "image", "x")
    assert image.sha256 == hashlib.sha256(data).hexdigest()
    assert image.size_bytes == len(data)
    assert image.storage_key == "t/j/0-a_00001_.png"
    assert (text.index, text.kind, text.content_type) == (1, "text", "text/plain; charset=utf-8")
    assert b"".join([chunk async for chunk in blobs.read(text.storage_key)]) == b"hello"
    assert len(collected.missing) == 1
    assert "gone.png" in collected.missing[0]
