"""WebSocket clients and ComfyUI's routing of messages to them.

Every outgoing frame, whether produced by an HTTP handler or by the executor thread, goes
through one FIFO queue drained by one task on the event loop, so clients see messages in
the order they were produced. Routing follows ComfyUI's `send_sync(event, data, sid)`:
`sid=None` broadcasts, otherwise only the socket registered under that client id gets it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from dataclasses import dataclass
from typing import Any

from starlette.websockets import WebSocket

from comfy_gateway.simulator import messages

logger = logging.getLogger(__name__)


@dataclass(kw_only=True)
class Connection:
    sid: str
    websocket: WebSocket
    supports_preview_metadata: bool = False


@dataclass(frozen=True, kw_only=True)
class _TextFrame:
    text: str
    sid: str | None


@dataclass(frozen=True, kw_only=True)
class _PreviewFrame:
    image_bytes: bytes
    image_format: str
    prompt_id: str
    node_id: str
    sid: str | None
    with_metadata: bool


@dataclass(frozen=True)
class _DropAll:
    pass


_Frame = _TextFrame | _PreviewFrame | _DropAll


def abort_connection(websocket: WebSocket) -> None:
    """Close the TCP connection with no close frame, as a crashed server would."""
    protocol = getattr(websocket._receive, "__self__", None)
    transport = getattr(protocol, "transport", None)
    if isinstance(transport, asyncio.Transport):
        transport.abort()


class SocketHub:
    """Connected sockets by client id, and the single ordered outbound queue."""

    def __init__(self) -> None:
        self._connections: dict[str, Connection] = {}
        self._loop: asyncio.AbstractEventLoop | None = None
        self._queue: asyncio.Queue[_Frame] | None = None

    def bind(self, loop: asyncio.AbstractEventLoop) -> None:
        """Accept frames from now on; they are delivered once `run` drains them."""
        self._loop = loop
        self._queue = asyncio.Queue()

    async def run(self) -> None:
        """Deliver queued frames until cancelled (started by the app's lifespan)."""
        if self._queue is None:
            self.bind(asyncio.get_running_loop())
        assert self._queue is not None
        while True:
            frame = await self._queue.get()
            await self._deliver(frame)

    def _post(self, frame: _Frame) -> None:
        if self._loop is None or self._queue is None:
            return
        # During shutdown the loop may close while the worker thread still reports.
        with contextlib.suppress(RuntimeError):
            self._loop.call_soon_threadsafe(self._queue.put_nowait, frame)

    def send(self, event: str, data: dict[str, Any], sid: str | None) -> None:
        """Queue a JSON message (thread-safe); `sid=None` broadcasts."""
        self._post(_TextFrame(text=messages.envelope(event, data), sid=sid))

    def send_preview(
        self, image_bytes: bytes, image_format: str, *, prompt_id: str, node_id: str,
        sid: str | None, with_metadata: bool,
    ) -> None:  # fmt: skip
        """Queue a binary preview for sockets that did (or did not) announce metadata."""
        frame = _PreviewFrame(
            image_bytes=image_bytes,
            image_format=image_format,
            prompt_id=prompt_id,
            node_id=node_id,
            sid=sid,
            with_metadata=with_metadata,
        )
        self._post(frame)

    def drop_all(self) -> None:
        """Queue an abrupt close of every open socket (thread-safe)."""
        self._post(_DropAll())

    def register(self, connection: Connection) -> None:
        """Add a socket; a second socket with the same client id replaces the first."""
        self._connections[connection.sid] = connection

    def unregister(self, connection: Connection) -> None:
        if self._connections.get(connection.sid) is connection:
            del self._connections[connection.sid]

    def _targets(self, sid: str | None) -> list[Connection]:
        if sid is None:
            return list(self._connections.values())
        connection = self._connections.get(sid)
        return [] if connection is None else [connection]

    async def _deliver(self, frame: _Frame) -> None:
        if isinstance(frame, _DropAll):
            self._drop_now()
            return
        for connection in self._targets(frame.sid):
            payload = self._payload_for(connection, frame)
            if payload is None:
                continue
            with contextlib.suppress(Exception):
                if isinstance(payload, str):
                    await connection.websocket.send_text(payload)
                else:
                    await connection.websocket.send_bytes(payload)

    @staticmethod
    def _payload_for(
        connection: Connection, frame: _TextFrame | _PreviewFrame
    ) -> str | bytes | None:
        if isinstance(frame, _TextFrame):
            return frame.text
        if frame.with_metadata != connection.supports_preview_metadata:
            return None
        if frame.with_metadata:
            return messages.preview_frame_with_metadata(
                frame.image_bytes,
                frame.image_format,
                prompt_id=frame.prompt_id,
                node_id=frame.node_id,
            )
        return messages.preview_frame_legacy(frame.image_bytes, frame.image_format)

    def _drop_now(self) -> None:
        connections = list(self._connections.values())
        self._connections.clear()
        for connection in connections:
            abort_connection(connection.websocket)
        logger.info("dropped %d websocket(s)", len(connections))
