"""A tiny HTTP receiver on loopback for webhook tests: it answers each POST with the
next status of a script (then 200) and hands every request to the test via a queue."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field


@dataclass(frozen=True, kw_only=True)
class ReceivedPost:
    path: str
    headers: dict[str, str]
    body: bytes
    answered: int


@dataclass
class Receiver:
    url: str
    statuses: list[int]
    received: asyncio.Queue[ReceivedPost] = field(default_factory=asyncio.Queue)
    history: list[ReceivedPost] = field(default_factory=list)

    async def next_post(self, timeout_s: float = 10.0) -> ReceivedPost:
        return await asyncio.wait_for(self.received.get(), timeout_s)

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            request_line = (await reader.readline()).decode("latin-1")
            headers = await _read_headers(reader)
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            status = self.statuses.pop(0) if self.statuses else 200
            post = ReceivedPost(
                path=request_line.split(" ")[1], headers=headers, body=body, answered=status
            )
            writer.write(
                f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n\r\n".encode()
            )
            await writer.drain()
            self.history.append(post)
            self.received.put_nowait(post)
        finally:
            writer.close()


async def _read_headers(reader: asyncio.StreamReader) -> dict[str, str]:
    headers: dict[str, str] = {}
    while (line := (await reader.readline()).decode("latin-1").strip()) != "":
        name, _, value = line.partition(":")
        headers[name.strip().lower()] = value.strip()
    return headers


@asynccontextmanager
async def running_receiver(statuses: Sequence[int] = ()) -> AsyncIterator[Receiver]:
    receiver = Receiver(url="", statuses=list(statuses))
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    receiver.url = f"http://127.0.0.1:{port}/hooks"
    try:
        yield receiver
    finally:
        server.close()
        await server.wait_closed()
