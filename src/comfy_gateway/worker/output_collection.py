"""Storing a prompt's outputs: each ``executed`` file streamed from ``/view`` into the
BlobStore (which measures size and sha256 on the way), text outputs as text blobs.

Outputs are exactly the entries ComfyUI reported for this prompt, never a folder scan.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncGenerator, AsyncIterator, Mapping
from dataclasses import dataclass
from typing import Any

from comfy_gateway.comfy import ComfyHttpClient
from comfy_gateway.errors import ComfyError
from comfy_gateway.jobs.model import JobOutput
from comfy_gateway.jobs.outputs import OutputEntry, collect_output_entries, storage_key
from comfy_gateway.storage import BlobInfo, BlobStore
from comfy_gateway.storage.blobs import BlobStoreError, StorageFull
from comfy_gateway.worker.output_prefetch import OutputPrefetch

logger = logging.getLogger(__name__)


@dataclass(frozen=True, kw_only=True)
class CollectedOutputs:
    """What was stored, a description of each output that could not be, and why
    collection stopped early if the output store ran out of space."""

    outputs: list[JobOutput]
    missing: list[str]
    storage_full: str | None = None


async def collect_outputs(
    http: ComfyHttpClient,
    blobs: BlobStore,
    *,
    tenant_id: str,
    job_id: str,
    executed: Mapping[str, Mapping[str, Any]],
    prefetch: OutputPrefetch | None = None,
) -> CollectedOutputs:
    """Store every output of ``executed`` (node id → UI dict, in reported order).

    One output that cannot be fetched or stored does not stop the others: outputs made
    before a failure are kept, and the caller decides whether the job can complete.
    """
    outputs: list[JobOutput] = []
    missing: list[str] = []
    for entry in collect_output_entries(executed.items(), job_id=job_id):
        key = storage_key(tenant_id, job_id, entry.index, entry.filename)
        try:
            info = await store_entry(http, blobs, entry, key, prefetch)
        except StorageFull as exc:
            # A full disk stays full for the next output too: stop, keep what is stored.
            logger.error("job %s: output store is full: %s", job_id, exc)
            return CollectedOutputs(outputs=outputs, missing=missing, storage_full=str(exc))
        except (ComfyError, BlobStoreError) as exc:
            logger.warning("job %s: output %s not stored: %s", job_id, entry.filename, exc)
            missing.append(f"{entry.filename}: {exc}")
            continue
        outputs.append(job_output(entry, info))
    return CollectedOutputs(outputs=outputs, missing=missing)


async def store_entry(
    http: ComfyHttpClient,
    blobs: BlobStore,
    entry: OutputEntry,
    key: str,
    prefetch: OutputPrefetch | None = None,
) -> BlobInfo:
    early = entry.text.encode() if entry.text is not None else None
    if early is None and prefetch is not None:
        early = await prefetch.take(entry)  # fetched while the prompt still ran
    if early is not None:
        return await blobs.put(key, _one_chunk(early), content_type=entry.content_type)
    # The request goes out from inside the store's write: it makes the file meanwhile.
    chunks = _viewed(http, entry)
    try:
        return await blobs.put(key, chunks, content_type=entry.content_type)
    finally:
        await chunks.aclose()  # a write that stopped early leaves no response open


def job_output(entry: OutputEntry, info: BlobInfo) -> JobOutput:
    return JobOutput(
        index=entry.index,
        node_id=entry.node_id,
        kind=entry.kind,
        filename=entry.filename,
        subfolder=entry.client_subfolder,
        content_type=entry.content_type,
        size_bytes=info.size_bytes,
        sha256=info.sha256,
        temporary=entry.temporary,
        storage_key=info.key,
    )


async def _one_chunk(data: bytes) -> AsyncIterator[bytes]:
    yield data


async def _viewed(http: ComfyHttpClient, entry: OutputEntry) -> AsyncGenerator[bytes, None]:
    async with http.view(entry.filename, entry.subfolder, entry.type) as chunks:
        async for chunk in chunks:
            yield chunk
