"""Drive one streaming request through the ASGI app and read its body as it is sent.

`httpx.ASGITransport` buffers a whole response before returning it, which never happens
for an open SSE stream. This driver calls the app directly: body chunks arrive on a
queue as the app sends them, and `disconnect()` plays a client that goes away.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable, MutableMapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import urlencode

Message = MutableMapping[str, Any]
AsgiApp = Callable[..., Any]


@dataclass(frozen=True, kw_only=True)
class SseMessage:
    """One parsed SSE block: an event (``event``/``id``/``data``), a comment, or retry."""

    event: str | None = None
    event_id: str | None = None
    data: str | None = None
    comment: str | None = None
    retry: int | None = None


def parse_block(block: str) -> SseMessage:
    fields: dict[str, Any] = {}
    for line in block.split("\n"):
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "":
            fields["comment"] = value
        elif name == "id":
            fields["event_id"] = value
        elif name == "retry":
            fields["retry"] = int(value)
        elif name in {"event", "data"}:
            fields[name] = value
    return SseMessage(**fields)


@dataclass
class StreamingCall:
    """A request in flight: status and headers once started, then the body's messages."""

    status: int | None = None
    headers: dict[str, str] = field(default_factory=dict)
    started: asyncio.Event = field(default_factory=asyncio.Event)
    chunks: asyncio.Queue[bytes | None] = field(default_factory=asyncio.Queue)
    disconnected: asyncio.Event = field(default_factory=asyncio.Event)
    task: asyncio.Task[None] | None = None
    request_sent: bool = False
    _buffer: str = ""

    async def send(self, message: Message) -> None:
        if message["type"] == "http.response.start":
            self.status = message["status"]
            self.headers = {k.decode().lower(): v.decode() for k, v in message["headers"]}
            self.started.set()
        elif message["type"] == "http.response.body":
            await self.chunks.put(message.get("body", b""))
            if not message.get("more_body", False):
                await self.chunks.put(None)

    async def receive(self) -> Message:
        if not self.request_sent:
            self.request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await self.disconnected.wait()
        return {"type": "http.disconnect"}

    async def next_message(self, timeout_s: float = 5.0) -> SseMessage | None:
        """The next SSE block, or None once the body has ended."""
        async with asyncio.timeout(timeout_s):
            while "\n\n" not in self._buffer:
                chunk = await self.chunks.get()
                if chunk is None:
                    return None
                self._buffer += chunk.decode()
        block, self._buffer = self._buffer.split("\n\n", 1)
        return parse_block(block)

    async def next_event(self, timeout_s: float = 5.0) -> SseMessage | None:
        """The next event, skipping comments and ``retry`` blocks; None at the end."""
        while True:
            message = await self.next_message(timeout_s)
            if message is None or message.event is not None:
                return message

    async def rest(self, timeout_s: float = 5.0) -> list[SseMessage]:
        """Every remaining message until the body ends."""
        messages = []
        while (message := await self.next_message(timeout_s)) is not None:
            messages.append(message)
        return messages

    def disconnect(self) -> None:
        self.disconnected.set()

    async def finished(self, timeout_s: float = 5.0) -> None:
        assert self.task is not None
        await asyncio.wait_for(asyncio.shield(self.task), timeout_s)


@contextlib.asynccontextmanager
async def streaming_get(
    app: AsgiApp,
    path: str,
    *,
    headers: dict[str, str] | None = None,
    query: dict[str, str] | None = None,
) -> AsyncIterator[StreamingCall]:
    """Start ``GET path``; on exit, disconnect and wait for the app to finish."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": urlencode(query or {}).encode(),
        "root_path": "",
        "headers": [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()],
        "server": ("gateway.test", 80),
        "client": ("127.0.0.1", 50000),
        "state": {},
    }
    call = StreamingCall()
    call.task = asyncio.create_task(app(scope, call.receive, call.send))
    try:
        await asyncio.wait_for(call.started.wait(), 5.0)
        yield call
    finally:
        call.disconnect()
        await asyncio.wait_for(call.task, 5.0)
