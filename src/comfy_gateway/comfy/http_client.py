"""The async HTTP side of one ComfyUI backend (a thin shell over httpx).

Requests are built and answers parsed by :mod:`.http_protocol`; failures are mapped by
:mod:`.http_errors`. Pass ``transport=`` (``httpx.MockTransport``, ``ASGITransport``) to
swap the network out, like httpx itself.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx

from comfy_gateway.comfy import http_protocol as protocol
from comfy_gateway.comfy.http_errors import (
    RequestLabel,
    error_for_prompt_answer,
    error_for_status,
    error_for_transport,
)
from comfy_gateway.comfy.multipart_upload import (
    build_multipart_frame,
    multipart_body,
    read_file_chunks,
)
from comfy_gateway.comfy.node_definitions import NodeDefinition, parse_object_info

ErrorMapper = Callable[[int, str, RequestLabel], Exception | None]


@dataclass(frozen=True, kw_only=True)
class ComfyTimeouts:
    """Seconds for each wait; ``read`` bounds one answer, not a whole prompt run."""

    connect: float = 5.0
    read: float = 60.0
    write: float = 60.0
    pool: float = 10.0

    def as_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)


class ComfyHttpClient:
    """One ``httpx.AsyncClient`` per backend; every method maps errors to errors.py."""

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
        self._client = httpx.AsyncClient(
            base_url=self.base_url,
            timeout=self.timeouts.as_httpx(),
            transport=transport,
            # A backend is a local GPU box: never send its traffic through an env proxy.
            trust_env=False,
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
        await self._client.aclose()

    def _label(self, method: str, path: str) -> RequestLabel:
        return RequestLabel(base_url=self.base_url, method=method, path=path, backend=self.backend)

    async def _send(
        self, method: str, path: str, *, mapper: ErrorMapper = error_for_status, **kwargs: Any
    ) -> httpx.Response:
        label = self._label(method, path)
        try:
            response = await self._client.request(method, path, **kwargs)
        except httpx.HTTPError as exc:
            raise error_for_transport(exc, label) from exc
        error = mapper(response.status_code, response.text, label)
        if error is not None:
            raise error
        return response

    async def _json(self, method: str, path: str, **kwargs: Any) -> Any:
        response = await self._send(method, path, **kwargs)
        return protocol.decode_json(response.text, f"ComfyUI at {self.base_url} {method} {path}")

    # -- read-only routes --------------------------------------------------------------

    async def system_stats(self) -> dict[str, Any]:
        data = await self._json("GET", "/system_stats")
        return dict(data)

    async def features(self) -> dict[str, Any]:
        data = await self._json("GET", "/features")
        return dict(data)

    async def object_info_raw(self, class_type: str | None = None) -> dict[str, Any]:
        path = "/object_info" if class_type is None else f"/object_info/{class_type}"
        data = await self._json("GET", path)
        return dict(data)

    async def object_info(self, class_type: str | None = None) -> dict[str, NodeDefinition]:
        """Typed node definitions; an unknown class gives an empty dict (ComfyUI answers {})."""
        return parse_object_info(await self.object_info_raw(class_type))

    async def queue(self) -> protocol.QueueSnapshot:
        return protocol.parse_queue(await self._json("GET", "/queue"))

    async def history(self, prompt_id: str) -> protocol.HistoryEntry | None:
        """The history entry of one prompt, or None while it is unknown or unfinished."""
        entries = protocol.parse_history(await self._json("GET", f"/history/{prompt_id}"))
        return entries.get(prompt_id)

    async def history_all(
        self, *, max_items: int, offset: int | None = None
    ) -> dict[str, protocol.HistoryEntry]:
        """The newest ``max_items`` entries (an explicit bound: the full history can be huge)."""
        params: dict[str, int] = {"max_items": max_items}
        if offset is not None:
            params["offset"] = offset
        return protocol.parse_history(await self._json("GET", "/history", params=params))

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

        response = await self._send("POST", "/prompt", json=body, mapper=mapper)
        where = f"ComfyUI at {self.base_url} POST /prompt"
        return protocol.parse_queued_prompt(protocol.decode_json(response.text, where))

    async def interrupt(self, prompt_id: str | None = None) -> None:
        """Interrupt the running prompt; with ``prompt_id`` only if that one is running."""
        body = {"prompt_id": prompt_id} if prompt_id is not None else None
        await self._send("POST", "/interrupt", json=body)

    async def delete_from_queue(self, prompt_ids: list[str]) -> None:
        """Drop pending prompts (a running one is not affected: interrupt it instead)."""
        await self._send("POST", "/queue", json={"delete": list(prompt_ids)})

    async def clear_queue(self) -> None:
        await self._send("POST", "/queue", json={"clear": True})

    async def delete_history(self, prompt_ids: list[str]) -> None:
        await self._send("POST", "/history", json={"delete": list(prompt_ids)})

    async def free(self, *, unload_models: bool = False, free_memory: bool = False) -> None:
        body = {"unload_models": unload_models, "free_memory": free_memory}
        await self._send("POST", "/free", json=body)

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
        if size is not None:  # else httpx sends the body chunked
            headers["Content-Length"] = str(len(frame.head) + size + len(frame.tail))
        body = multipart_body(frame, content)
        try:
            response = await self._send("POST", "/upload/image", content=body, headers=headers)
        finally:
            # A failed send leaves the generators half-read: close them (and the file) now.
            await body.aclose()
        where = f"ComfyUI at {self.base_url} POST /upload/image"
        return protocol.parse_uploaded_file(protocol.decode_json(response.text, where))

    @asynccontextmanager
    async def view(
        self, filename: str, subfolder: str = "", folder_type: str = "output"
    ) -> AsyncIterator[AsyncIterator[bytes]]:
        """``async with client.view(...) as chunks: async for chunk in chunks: ...``"""
        label = self._label("GET", f"/view?filename={filename}")
        params = protocol.build_view_params(filename, subfolder, folder_type)
        try:
            async with self._client.stream("GET", "/view", params=params) as response:
                if response.status_code >= 400:
                    await response.aread()
                    error = error_for_status(response.status_code, response.text, label)
                    if error is not None:
                        raise error
                yield _mapped_chunks(response, label)
        except httpx.HTTPError as exc:
            raise error_for_transport(exc, label) from exc

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


async def _mapped_chunks(response: httpx.Response, label: RequestLabel) -> AsyncIterator[bytes]:
    try:
        async for chunk in response.aiter_bytes():
            yield chunk
    except httpx.HTTPError as exc:
        raise error_for_transport(exc, label) from exc
