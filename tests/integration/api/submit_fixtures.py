"""Fixtures and helpers of the submit tests (import them into a test module).

Import the fixtures by their function names (``settings_fixture``, ``origin_fixture``,
``nothing_left_fixture``); tests use them as ``settings``, ``origin``, ``nothing_left``.
``settings`` overrides the conftest's: parametrize it indirectly with a dict of setting
overrides (``@pytest.mark.parametrize("settings", [{...}], indirect=True)``) to test a
cap or an allow-list. `origin` is a real HTTP server on loopback that serves media and
redirects, for URL media.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from contextlib import closing
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest

from comfy_gateway.config import GatewaySettings
from comfy_gateway.storage import LocalBlobStore
from comfy_gateway.storage.local import SMALL_BLOBS_FILE
from comfy_gateway.store import SqlJobStore
from integration.api.conftest import ACME_KEY, BETA_KEY

MB = 1024 * 1024
#: PNG magic then junk: the gateway must store these bytes unchanged (not a 422).
PNG_BYTES = b"\x89PNG\r\n\x1a\n" + bytes(range(40)) + b"not really a png"
WAV_BYTES = b"RIFF\x24\x00\x00\x00WAVEfmt " + bytes(32)


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def image_workflow(image: str = "input.png") -> dict[str, Any]:
    """LoadImage → SaveImage, the image input set to ``image``."""
    return {
        "1": {"class_type": "LoadImage", "inputs": {"image": image}},
        "2": {
            "class_type": "SaveImage",
            "inputs": {"images": ["1", 0], "filename_prefix": "out"},
        },
    }


@pytest.fixture(name="settings")
def settings_fixture(tmp_path: Path, request: pytest.FixtureRequest) -> GatewaySettings:
    overrides: dict[str, Any] = getattr(request, "param", {})
    return GatewaySettings(
        data_dir=tmp_path / "data", api_keys=f"acme:{ACME_KEY},beta:{BETA_KEY}", **overrides
    )


def blob_files(blobs: LocalBlobStore) -> list[Path]:
    """Every blob stored, as the path its key names: each file under the blob store's
    root (folders left behind do not count) and each row of its small-blob database."""
    found = [
        path
        for path in blobs.root.rglob("*")
        if path.is_file() and not path.name.startswith(SMALL_BLOBS_FILE)
    ]
    database = blobs.root / SMALL_BLOBS_FILE
    if database.exists():
        with closing(sqlite3.connect(database)) as rows:
            found += [blobs.root / key for (key,) in rows.execute("SELECT key FROM blobs")]
    return sorted(found)


async def stored_bytes(blobs: LocalBlobStore, key: str) -> bytes:
    """The bytes stored under ``key``, read through the blob store."""
    return b"".join([chunk async for chunk in blobs.read(key)])


async def assert_nothing_stored(store: SqlJobStore, blobs: LocalBlobStore) -> None:
    """A refused submit leaves no job row (for any tenant) and no blob file behind."""
    for tenant in ("acme", "beta", "default"):
        page = await store.list_jobs(tenant)
        assert page.jobs == (), f"jobs of {tenant} were stored"
    assert blob_files(blobs) == []


NothingLeft = Callable[[], Awaitable[None]]


@pytest.fixture(name="nothing_left")
def nothing_left_fixture(store: SqlJobStore, blobs: LocalBlobStore) -> NothingLeft:
    """``await nothing_left()`` asserts that no job and no blob file were stored."""

    async def check() -> None:
        await assert_nothing_stored(store, blobs)

    return check


def multipart_body(
    boundary: str, request_json: dict[str, Any] | None, files: list[tuple[str, bytes]]
) -> bytes:
    """A small multipart body built by hand (for cases httpx would not produce)."""
    parts = []
    if request_json is not None:
        parts.append(
            f'--{boundary}\r\nContent-Disposition: form-data; name="request"\r\n\r\n'.encode()
            + json.dumps(request_json).encode()
            + b"\r\n"
        )
    for filename, data in files:
        head = (
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
            f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
        )
        parts.append(head.encode() + data + b"\r\n")
    return b"".join(parts) + f"--{boundary}--\r\n".encode()


async def streamed_multipart(
    boundary: str, request_json: dict[str, Any], filename: str, size: int
) -> AsyncIterator[bytes]:
    """A multipart body with one file of ``size`` zero bytes, produced 1 MB at a time
    (no Content-Length: the server has to count while it reads)."""
    yield multipart_body(boundary, request_json, [])[: -len(f"--{boundary}--\r\n")]
    yield (
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; '
        f'filename="{filename}"\r\nContent-Type: image/png\r\n\r\n'
    ).encode()
    chunk = bytes(MB)
    sent = 0
    while sent < size:
        piece = chunk[: min(MB, size - sent)]
        sent += len(piece)
        yield piece
    yield f"\r\n--{boundary}--\r\n".encode()


@dataclass
class Origin:
    """A loopback HTTP server: ``/media/<name>`` serves bytes, ``/redirect?to=`` redirects."""

    port: int = 0
    files: dict[str, tuple[bytes, str]] = field(default_factory=dict)
    requests: list[str] = field(default_factory=list)

    def url(self, path: str, host: str = "127.0.0.1") -> str:
        return f"http://{host}:{self.port}{path}"


def _handler_for(state: Origin) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def do_GET(self) -> None:
            state.requests.append(self.path)
            if self.path.startswith("/redirect?to="):
                self.send_response(302)
                self.send_header("Location", self.path.split("=", 1)[1])
                self.end_headers()
                return
            found = state.files.get(self.path.removeprefix("/media/"))
            if found is None:
                self.send_error(404)
                return
            data, content_type = found
            self.send_response(200)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(data)))
            self.end_headers()
            self.wfile.write(data)

        def log_message(self, *args: object) -> None:
            return

    return Handler


@pytest.fixture(name="origin")
def origin_fixture() -> Iterator[Origin]:
    state = Origin()
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler_for(state))
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.02,), daemon=True)
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)
