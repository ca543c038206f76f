"""Small outputs fetched as soon as their node reports them, before the prompt ends.

ComfyUI announces each output node's files in an ``executed`` message while the rest of
the prompt still runs (and, for the last node, a few messages before the prompt's end).
Fetching a small file then, instead of after the end, takes its ``GET /view`` off the
job's path: by the time the job is collected its bytes are in hand. Only ``output``
files are fetched early (previews are often dropped), at most ``limit`` bytes each (a
larger file is left for the collector, which streams it to storage), a few at a time;
any failure just leaves the file to the collector, which fetches it and reports its own
errors.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator

from comfy_gateway.comfy import ComfyHttpClient, Executed
from comfy_gateway.errors import ComfyError
from comfy_gateway.jobs.outputs import OutputEntry, collect_output_entries

#: Files up to this size are read early into memory (the small-blob size of storage).
PREFETCH_MAX_BYTES = 256 * 1024
#: Early fetches in flight at once for one job.
PREFETCH_CONCURRENCY = 4

FileKey = tuple[str, str, str]  # filename, subfolder, type: what /view is asked for


def file_key(entry: OutputEntry) -> FileKey:
    return (entry.filename, entry.subfolder, entry.type)


class OutputPrefetch:
    """The early fetches of one prompt's outputs; ``close`` when the job is done."""

    def __init__(
        self, http: ComfyHttpClient, *, limit: int = PREFETCH_MAX_BYTES, job_id: str | None = None
    ) -> None:
        self._http = http
        self._limit = limit
        self._job_id = job_id
        self._fetches: dict[FileKey, asyncio.Task[bytes | None]] = {}
        self._slots = asyncio.Semaphore(PREFETCH_CONCURRENCY)

    def executed(self, event: Executed) -> None:
        """Start fetching the files ``event`` reports (each at most once)."""
        for entry in collect_output_entries([(event.node, event.output)], job_id=self._job_id):
            key = file_key(entry)
            if entry.text is None and entry.type == "output" and key not in self._fetches:
                self._fetches[key] = asyncio.create_task(self._fetch(entry))

    async def take(self, entry: OutputEntry) -> bytes | None:
        """The file's bytes if they were fetched early, else None (fetch it yourself)."""
        fetch = self._fetches.pop(file_key(entry), None)
        if fetch is None:
            return None
        return await fetch

    async def close(self) -> None:
        """Stop fetches nobody took."""
        fetches, self._fetches = list(self._fetches.values()), {}
        for fetch in fetches:
            fetch.cancel()
        for fetch in fetches:
            with contextlib.suppress(asyncio.CancelledError):
                await fetch

    async def _fetch(self, entry: OutputEntry) -> bytes | None:
        async with self._slots:
            try:
                async with self._http.view(entry.filename, entry.subfolder, entry.type) as chunks:
                    return await _up_to(chunks, self._limit)
            except ComfyError:
                return None  # the collector tries again and reports what goes wrong


async def _up_to(chunks: AsyncIterator[bytes], limit: int) -> bytes | None:
    """All the bytes, or None once there are more than ``limit``."""
    parts: list[bytes] = []
    size = 0
    async for chunk in chunks:
        size += len(chunk)
        if size > limit:
            return None
        parts.append(chunk)
    return b"".join(parts)
