"""A bare keep-alive HTTP/1.1 client for load generation.

httpx spends more CPU per request than the gateway under test on this 2-core machine,
so the load generator would steal the server's core and the figure would measure the
client. This one does only what the benchmarks need: one connection, one request at a
time, JSON bodies, responses framed by Content-Length (what the gateway's JSON answers
carry). Anything else is refused loudly rather than misread.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit


@dataclass(frozen=True, kw_only=True)
class RawResponse:
    status: int
    body: bytes

    def json(self) -> Any:
        return json.loads(self.body)


class RawHttpConnection:
    """One keep-alive connection to ``base_url`` sending ``headers`` with every request."""

    def __init__(self, base_url: str, headers: dict[str, str]) -> None:
        parts = urlsplit(base_url)
        self._host = parts.hostname or "127.0.0.1"
        self._port = parts.port or 80
        fixed = {"Host": f"{self._host}:{self._port}", **headers}
        self._header_text = "".join(f"{name}: {value}\r\n" for name, value in fixed.items())
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def __aenter__(self) -> RawHttpConnection:
        self._reader, self._writer = await asyncio.open_connection(self._host, self._port)
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        if self._writer is not None:
            self._writer.close()
            await self._writer.wait_closed()

    async def get(self, path: str) -> RawResponse:
        return await self.request("GET", path, b"")

    async def post_json(self, path: str, document: Any) -> RawResponse:
        return await self.request("POST", path, json.dumps(document).encode())

    async def request(self, method: str, path: str, body: bytes) -> RawResponse:
        if self._reader is None or self._writer is None:
            raise RuntimeError("open the connection with `async with` first")
        extra = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n" if body else ""
        head = f"{method} {path} HTTP/1.1\r\n{self._header_text}{extra}\r\n"
        self._writer.write(head.encode("latin-1") + body)
        return await self._read_response(self._reader)

    @staticmethod
    async def _read_response(reader: asyncio.StreamReader) -> RawResponse:
        head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
        status_line, *header_lines = head.split("\r\n")
        headers = {
            name.strip().lower(): value.strip()
            for name, _, value in (line.partition(":") for line in header_lines if line)
        }
        if "content-length" not in headers:
            raise RuntimeError(f"response without Content-Length: {status_line} {headers}")
        body = await reader.readexactly(int(headers["content-length"]))
        return RawResponse(status=int(status_line.split()[1]), body=body)
