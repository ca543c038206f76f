"""The async HTTP side of one ComfyUI backend, over a swappable wire.

Requests are built and answers parsed by :mod:`.http_protocol`; failures are mapped by
:mod:`.http_errors`. Bytes travel over aiohttp (:mod:`.aiohttp_wire`) unless a caller
passes ``transport=`` (``httpx.MockTransport``, ``ASGITransport``): then over httpx
(:mod:`.httpx_wire`), like httpx itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from types import TracebackType
from typing import Any, TypeVar

import httpx

from comfy_gateway.comfy import http_protocol as protocol
from comfy_gateway.comfy.aiohttp_wire import AiohttpWire
from comfy_gateway.comfy.http_errors import (
    RequestLabel,
    error_for_prompt_answer,
    error_for_status,
    error_for_transport,
)
from comfy_gateway.comfy.httpx_wire import HttpxWire
from comfy_gateway.comfy.multipart_upload import (
    build_multipart_frame,
    multipart_body,
    read_file_chunks,
)
from comfy_gateway.comfy.node_definitions import NodeDefinition, parse_object_info
from comfy_gateway.comfy.timeouts import ComfyTimeouts
from comfy_gateway.comfy.wire import (
    Wire,
    WireAnswer,
    WireRequest,
    WireStream,
    decode_text,
    json_request,
)

# ComfyTimeouts lives in .timeouts (the wires read it); it is still importable from here.
__all__ = ["ComfyHttpClient", "ComfyTimeouts"]

ErrorMapper = Callable[[int, str, RequestLabel], Exception | None]
T = TypeVar("T")


class ComfyHttpClient:
    """One wire (connection pool) per backend; every method maps errors to errors.py."""

    def __init__(
        self,
        base_url: str,
        *,
        backend: str | None = None,
        timeouts: ComfyTimeouts | None = None,
        transport: httpx.AsyncBaseTransport | None = None,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.backend = backend
        self.timeouts = timeouts or ComfyTimeouts()
        self._wire: Wire = (
            AiohttpWire(self.base_url, self.timeouts)
            if transport is None
            else HttpxWire(self.base_url, self.timeouts, transport)
        )

    async def __aenter__(self) -> ComfyHttpClient:
        return self

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        await self.aclose()

    async def aclose(self) -> None:
        await self._wire.aclose()

    def _label(self, method: str, path: str) -> RequestLabel:
        return RequestLabel(base_url=self.base_url, method=method, path=path, backend=self.backend)

    async def _guarded(self, step: Awaitable[T], label: RequestLabel) -> T:
        """Await one step on the wire, raising its transport failure as our error."""
        try:
            return await step
        except Exception as exc:
            fault = self._wire.fault_of(exc)
            if fault is None:
                raise
            raise error_for_transport(fault, label) from exc

    async def _send(
        self, request: WireRequest, *, mapper: ErrorMapper = error_for_status
    ) -> WireAnswer:
        label = self._label(request.method, request.path)
        answer = await self._guarded(self._wire.send(request), label)
        error = mapper(answer.status, answer.text, label)
        if error is not None:
            raise error
        return answer

    async def _json(self, path: str, params: dict[str, str] | None = None) -> Any:
        answer = await self._send(WireRequest(method="GET", path=path, params=params))
        return protocol.decode_json(answer.text, f"ComfyUI at {self.base_url} GET {path}")

    # -- read-only routes --------------------------------------------------------------

    async def system_stats(self) -> dict[str, Any]:
        data = await self._json("/system_stats")
        return dict(data)

    async def features(self) -> dict[str, Any]:
        data = await self._json("/features")
        return dict(data)

    async def object_info_raw(self, class_type: str | None = None) -> dict[str, Any]:
        path = "/object_info" if class_type is None else f"/object_info/{class_type}"
        data = await self._json(path)
        return dict(data)

    async def object_info(self, class_type: str | None = None) -> dict[str, NodeDefinition]:
        """Typed node definitions; an unknown class gives an empty dict (ComfyUI answers {})."""
        return parse_object_info(await self.object_info_raw(class_type))

    async def queue(self) -> protocol.QueueSnapshot:
        return protocol.parse_queue(await self._json("/queue"))

    async def history(self, prompt_id: str) -> protocol.HistoryEntry | None:
        """The history entry of one prompt, or None while it is unknown or unfinished."""
        entries = protocol.parse_history(await self._json(f"/history/{prompt_id}"))
        return entries.get(prompt_id)

    async def history_all(
        self, *, max_items: int, offset: int | None = None
    ) -> dict[str, protocol.HistoryEntry]:
        """The newest ``max_items`` entries (an explicit bound: the full history can be huge)."""
        params = {"max_items": str(max_items)}
        if offset is not None:
            params["offset"] = str(offset)
        return protocol.parse_history(await self._json("/history", params))

    # -- prompts -----------------------------------------------------------------------

    async def queue_prompt(
        self,
        prompt: dict[str, Any],
        *,
        client_id: str,
        prompt_id: str | None = None,
        front: bool = False,
        extra_data: dict[str, Any] | None = None,
    ) -> protocol.QueuedPrompt:
        body = protocol.build_prompt_body(
            prompt, client_id=client_id, prompt_id=prompt_id, front=front, extra_data=extra_data
        )

        def mapper(status: int, text: str, label: RequestLabel) -> Exception | None:
            return error_for_prompt_answer(status, text, label, prompt_id=prompt_id)

        answer = await self._send(json_request("POST", "/prompt", body), mapper=mapper)
        where = f"ComfyUI at {self.base_url} POST /prompt"
        return protocol.parse_queued_prompt(protocol.decode_json(answer.text, where))

    async def interrupt(self, prompt_id: str | None = None) -> None:
        """Interrupt the running prompt; with ``prompt_id`` only if that one is running."""
        body = {"prompt_id": prompt_id} if prompt_id is not None else None
        await self._send(json_request("POST", "/interrupt", body))

    async def delete_from_queue(self, prompt_ids: list[str]) -> None:
        """Drop pending prompts (a running one is not affected: interrupt it instead)."""
        await self._send(json_request("POST", "/queue", {"delete": list(prompt_ids)}))

    async def clear_queue(self) -> None:
        await self._send(json_request("POST", "/queue", {"clear": True}))

    async def delete_history(self, prompt_ids: list[str]) -> None:
        await self._send(json_request("POST", "/history", {"delete": list(prompt_ids)}))

    async def free(self, *, unload_models: bool = False, free_memory: bool = False) -> None:
        body = {"unload_models": unload_models, "free_memory": free_memory}
        await self._send(json_request("POST", "/free", body))

    # -- files -------------------------------------------------------------------------

    async def upload(
        self,
        source: Path | AsyncIterator[bytes],
        *,
        filename: str | None = None,
        subfolder: str = "",
        folder_type: protocol.FolderType = "input",
        overwrite: bool = False,
        content_type: str = "application/octet-stream",
    ) -> protocol.UploadedFile:
        """Stream a file to POST /upload/image; the answer holds the name ComfyUI kept."""
        filename, content, size = await _upload_source(source, filename)
        frame = build_multipart_frame(
            file_field="image",
            filename=filename,
            fields=protocol.build_upload_fields(
                subfolder=subfolder, folder_type=folder_type, overwrite=overwrite
            ),
            content_type=content_type,
        )
        headers = {"Content-Type": frame.content_type}
        if size is not None:  # else the wire sends the body chunked
            headers["Content-Length"] = str(len(frame.head) + size + len(frame.tail))
        body = multipart_body(frame, content)
        request = WireRequest(method="POST", path="/upload/image", content=body, headers=headers)
        try:
            answer = await self._send(request)
        finally:
            # A failed send leaves the generators half-read: close them (and the file) now.
            await body.aclose()
        where = f"ComfyUI at {self.base_url} POST /upload/image"
        return protocol.parse_uploaded_file(protocol.decode_json(answer.text, where))

    @asynccontextmanager
    async def view(
        self, filename: str, subfolder: str = "", folder_type: str = "output"
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """``async with client.view(...) as chunks: async for chunk in chunks: ...``"""
        label = self._label("GET", f"/view?filename={filename}")
        params = protocol.build_view_params(filename, subfolder, folder_type)
        request = WireRequest(method="GET", path="/view", params=params)
        stream = await self._guarded(self._wire.open(request), label)
        try:
            if stream.status >= 400:
                body = await self._guarded(stream.read(), label)
                error = error_for_status(stream.status, decode_text(body, stream.charset), label)
                if error is not None:
                    raise error
            # Only the wire's own steps are mapped: what the caller's block raises is not.
            yield self._mapped_chunks(stream, label)
        finally:
            await self._guarded(stream.aclose(), label)

    async def _mapped_chunks(self, stream: WireStream, label: RequestLabel) -> AsyncIterator[bytes]:
        chunks = stream.chunks()
        while (chunk := await self._guarded(anext(chunks, None), label)) is not None:
            yield chunk

    async def download(
        self, filename: str, destination: Path, subfolder: str = "", folder_type: str = "output"
    ) -> int:
        """Stream an output file to ``destination``; returns the number of bytes written."""
        written = 0
        handle = await asyncio.to_thread(destination.open, "wb")
        try:
            async with self.view(filename, subfolder, folder_type) as chunks:
                async for chunk in chunks:
                    await asyncio.to_thread(handle.write, chunk)
                    written += len(chunk)
        finally:
            await asyncio.to_thread(handle.close)
        return written

    async def read_file(
        self, filename: str, subfolder: str = "", folder_type: str = "output"
    ) -> bytes:
        async with self.view(filename, subfolder, folder_type) as chunks:
            return b"".join([chunk async for chunk in chunks])


async def _upload_source(
    source: Path | AsyncIterator[bytes], filename: str | None
) -> tuple[str, AsyncIterator[bytes], int | None]:
    """The stored name, the byte stream and its size (known only for a file)."""
    if isinstance(source, Path):
        size = await asyncio.to_thread(lambda: source.stat().st_size)
        return filename or source.name, read_file_chunks(source), size
    if filename is None:
        raise ValueError("upload from a byte iterator needs a filename")
    return filename, source, None
