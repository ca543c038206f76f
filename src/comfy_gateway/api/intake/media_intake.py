"""All media of one submission: checked, staged, then stored under the job's folder.

Order matters for "nothing half-written": names and counts are checked before any byte
is read; every item is staged (decoded, fetched, hashed) before anything is stored; and
`StoredMedia.discard` deletes what was stored if the job row is never written.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Sequence
from dataclasses import dataclass, field

from comfy_gateway.api.errors import ApiError
from comfy_gateway.api.intake.media_sources import (
    StagedMedia,
    close_staged,
    stage_base64,
    stage_upload,
    stage_url,
)
from comfy_gateway.api.intake.multipart import FilePart
from comfy_gateway.api.submit_models import InputItem, MediaItem, SubmitRequest
from comfy_gateway.jobs.media import check_media_count, validate_media_name
from comfy_gateway.jobs.model import MediaRef
from comfy_gateway.net.safe_fetch import SafeFetcher
from comfy_gateway.storage import BlobStore
from comfy_gateway.storage.blobs import BlobStoreError


@dataclass(frozen=True, kw_only=True)
class MediaLimits:
    max_items: int
    max_bytes: int


@dataclass(frozen=True, kw_only=True)
class StagedSubmissionMedia:
    """Named items (wired by name) and media-typed inputs (by their index in ``inputs``)."""

    named: dict[str, StagedMedia]
    by_input: dict[int, StagedMedia]

    @property
    def all_items(self) -> list[StagedMedia]:
        return [*self.named.values(), *self.by_input.values()]

    def references(self) -> dict[str, str]:
        return {name: item.reference for name, item in self.named.items()}


def check_media_plan(
    request: SubmitRequest, files: Sequence[FilePart], limits: MediaLimits
) -> None:
    """Count, names and duplicates, before any byte is read or fetched."""
    total = len(request.media) + len(files) + request.media_input_count
    check_media_count(total, limits.max_items)
    seen: set[str] = set()
    for name in [item.name for item in request.media] + [part.name for part in files]:
        validate_media_name(name)
        if name in seen:
            raise ApiError(
                422,
                "duplicate_media_name",
                f"two media items are named {name[:80]!r}; names must be unique",
                name=name[:200],
            )
        seen.add(name)


async def stage_media(
    request: SubmitRequest,
    files: Sequence[FilePart],
    fetcher: SafeFetcher,
    limits: MediaLimits,
) -> StagedSubmissionMedia:
    """Stage every item at once (fetches run concurrently); on any failure none is kept."""
    named = [_stage_named(item, fetcher, limits) for item in request.media]
    named += [_stage_file(part, limits) for part in files]
    media_inputs = [(i, item) for i, item in enumerate(request.inputs) if item.is_media]
    by_input = [_stage_input(i, item, fetcher, limits) for i, item in media_inputs]
    staged = await _gather_or_close([*named, *by_input])
    named_items, input_items = staged[: len(named)], staged[len(named) :]
    return StagedSubmissionMedia(
        named={item.name: item for item in named_items},
        by_input={i: item for (i, _), item in zip(media_inputs, input_items, strict=True)},
    )


def _stage_named(
    item: MediaItem, fetcher: SafeFetcher, limits: MediaLimits
) -> Awaitable[StagedMedia]:
    if item.data is not None:
        return stage_base64(item.name, item.data, limits.max_bytes)
    assert item.url is not None  # the model guarantees one source
    return stage_url(item.name, item.url, fetcher, limits.max_bytes)


def _stage_file(part: FilePart, limits: MediaLimits) -> Awaitable[StagedMedia]:
    return stage_upload(part.name, part.upload, part.content_type, limits.max_bytes)


def _stage_input(
    index: int, item: InputItem, fetcher: SafeFetcher, limits: MediaLimits
) -> Awaitable[StagedMedia]:
    label = f"inputs[{index}]"
    if item.type == "base64":
        return stage_base64(label, item.value, limits.max_bytes)
    return stage_url(label, item.value, fetcher, limits.max_bytes)


async def _gather_or_close(pending: list[Awaitable[StagedMedia]]) -> list[StagedMedia]:
    results = await asyncio.gather(*pending, return_exceptions=True)
    staged = [result for result in results if isinstance(result, StagedMedia)]
    failures = [result for result in results if isinstance(result, BaseException)]
    if failures:
        await close_staged(staged)
        raise failures[0]
    return staged


@dataclass(kw_only=True)
class StoredMedia:
    """Blobs written for one job, so they can be deleted if the job is never stored."""

    blobs: BlobStore
    keys: list[str] = field(default_factory=list)

    async def discard(self) -> None:
        for key in self.keys:
            await self.blobs.delete(key)
        self.keys.clear()


def media_key(tenant_id: str, job_id: str, item: StagedMedia) -> str:
    return f"{tenant_id}/{job_id}/media/{item.filename}"


async def store_media(
    staged: StagedSubmissionMedia, stored: StoredMedia, *, tenant_id: str, job_id: str
) -> tuple[MediaRef, ...]:
    """Write each distinct item once; ``stored`` learns every key as soon as it exists."""
    refs = []
    for item in staged.all_items:
        key = media_key(tenant_id, job_id, item)
        if key not in stored.keys:
            stored.keys.append(key)  # before the put: a failed put may leave a file
            await _put(stored.blobs, key, item)
        refs.append(_media_ref(item, key))
    return tuple(refs)


async def _put(blobs: BlobStore, key: str, item: StagedMedia) -> None:
    try:
        await blobs.put(key, item.source.chunks(), content_type=item.content_type)
    except (BlobStoreError, OSError) as exc:
        raise ApiError(
            503,
            "storage_unavailable",
            f"media {item.name[:80]!r} could not be stored ({exc}); retry later",
        ) from exc


def _media_ref(item: StagedMedia, key: str) -> MediaRef:
    return MediaRef(
        name=item.name,
        filename=item.filename,
        content_type=item.content_type,
        size_bytes=item.size_bytes,
        sha256=item.sha256,
        storage_key=key,
    )
