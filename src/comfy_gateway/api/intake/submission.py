"""The submit use-case: a parsed request (and its file parts) in, a stored job out.

Cheap checks come first (media names and count, a rehearsal of the graph edits, the
webhook target), then media are staged (decoded, fetched, hashed), the real graph edits
run with the stored references, and only then is anything written: the media blobs,
then the job row in one store call. If that call fails, or replays an earlier job, the
blobs just written are deleted, so a refused submit leaves nothing behind.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import anyio

from comfy_gateway.api.context import ApiContext
from comfy_gateway.api.intake.graph_validation import validate_graph
from comfy_gateway.api.intake.idempotency import canonical_json, request_hash
from comfy_gateway.api.intake.media_intake import (
    MediaLimits,
    StagedSubmissionMedia,
    StoredMedia,
    check_media_plan,
    stage_media,
    store_media,
)
from comfy_gateway.api.intake.media_sources import close_staged
from comfy_gateway.api.intake.multipart import FilePart
from comfy_gateway.api.intake.webhook_target import check_webhook_url
from comfy_gateway.api.submit_models import SubmitRequest
from comfy_gateway.config import GatewaySettings
from comfy_gateway.jobs.graph import InputOverride, prepare_graph
from comfy_gateway.jobs.graph.values import Graph
from comfy_gateway.jobs.hand_off import HandOffSlot, handed_over
from comfy_gateway.jobs.ids import new_job_id
from comfy_gateway.jobs.model import Job, NewJob
from comfy_gateway.store.interface import QueueLimits

#: Stands in for a media input's stored reference while the graph edits are rehearsed.
_PENDING_REFERENCE = "comfy-gateway/pending-media"


@dataclass(frozen=True, kw_only=True)
class Submission:
    """One submit as the API received it.

    A template submit sets ``resolved_params`` (the values the template chose, which the
    job records instead of ``request.params``) and ``hash_basis`` (the request as the
    client sent it, which the Idempotency-Key hash covers instead of the rendered graph).
    ``job_id`` is chosen before anything runs, so a caller can watch the job before it
    exists (an Idempotency-Key replay answers with the earlier job's id instead).
    """

    tenant_id: str
    request: SubmitRequest
    files: Sequence[FilePart] = ()
    idempotency_key: str | None = None
    resolved_params: Mapping[str, Any] | None = None
    hash_basis: Any = None
    job_id: str = field(default_factory=new_job_id)


@dataclass(frozen=True, kw_only=True)
class SubmitOutcome:
    """The stored job; ``created`` is False when an Idempotency-Key replayed it."""

    job: Job
    created: bool


def media_limits(settings: GatewaySettings) -> MediaLimits:
    return MediaLimits(max_items=settings.max_media_items, max_bytes=settings.max_media_bytes)


def queue_limits(settings: GatewaySettings) -> QueueLimits:
    return QueueLimits(
        max_queued=settings.queue_depth_limit,
        max_queued_per_tenant=settings.tenant_queue_depth_limit,
    )


async def submit_job(context: ApiContext, submission: Submission) -> SubmitOutcome:
    """Check, stage, edit, store; raises GraphEditError, ApiError or the store's errors."""
    request, limits = submission.request, media_limits(context.settings)
    check_media_plan(request, submission.files, limits)
    job_id = submission.job_id  # before the graph edits: filename_prefix names the job
    fetches = any(item.is_media for item in request.inputs)
    if request.media or submission.files or fetches or request.webhook_url:
        # Something slow (a fetch, a DNS lookup) comes before the real edits: a bad graph
        # must fail first. Without it, the real edits below fail just as early.
        _rehearse_graph(request, submission.files, job_id)
    await check_webhook_url(
        request.webhook_url, context.fetcher, context.settings.webhook_allow_list
    )
    staged = await stage_media(request, submission.files, context.fetcher, limits)
    try:
        graph = _edited_graph(request, staged, job_id)
        media_names = {item.reference for item in staged.all_items}
        requirements = await validate_graph(context, graph, media_names)
        new_job = _new_job(context.settings, submission, job_id, graph)
        if requirements is not None:
            new_job = replace(new_job, requirements=requirements.to_json())
        return await _store_submission(context, submission, new_job, staged)
    finally:
        await close_staged(staged.all_items)


def _rehearse_graph(request: SubmitRequest, files: Sequence[FilePart], job_id: str) -> None:
    """Run the graph edits with stand-in media, so a bad graph fails before any fetch."""
    names = [item.name for item in request.media] + [part.name for part in files]
    overrides = [
        InputOverride(
            node=item.node,
            field=item.field,
            value=_PENDING_REFERENCE if item.is_media else item.value,
        )
        for item in request.inputs
    ]
    prepare_graph(
        request.workflow,
        job_id=job_id,
        params=request.params,
        overrides=overrides,
        media_refs={name: name for name in names},
    )


def _edited_graph(request: SubmitRequest, staged: StagedSubmissionMedia, job_id: str) -> Graph:
    overrides = [
        InputOverride(
            node=item.node,
            field=item.field,
            value=staged.by_input[index].reference if item.is_media else item.value,
        )
        for index, item in enumerate(request.inputs)
    ]
    prepared = prepare_graph(
        request.workflow,
        job_id=job_id,
        params=request.params,
        overrides=overrides,
        media_refs=staged.references(),
    )
    return prepared.graph


def _new_job(
    settings: GatewaySettings, submission: Submission, job_id: str, graph: Graph
) -> NewJob:
    request = submission.request
    return NewJob(
        job_id=job_id,
        tenant_id=submission.tenant_id,
        workflow=graph,
        priority=request.priority,
        resolved_params=dict(
            request.params if submission.resolved_params is None else submission.resolved_params
        ),
        timeout_s=request.timeout_s or settings.job_timeout_s,
        webhook_url=request.webhook_url,
    )


async def _store_submission(
    context: ApiContext,
    submission: Submission,
    new_job: NewJob,
    staged: StagedSubmissionMedia,
) -> SubmitOutcome:
    # Shielded: a client that hangs up mid-write must not leave blobs without a job, or
    # a job whose blobs were cleaned up. The submit either happens whole or not at all.
    with anyio.CancelScope(shield=True):
        stored = StoredMedia(blobs=context.blobs)
        slot = context.hand_off.reserve(new_job.requirements) if context.hand_off else None
        try:
            outcome = await _write(context, submission, new_job, staged, stored, slot)
        except BaseException:
            if slot is not None:
                slot.give_back()
            await stored.discard()
            raise
        if outcome.created:
            await context.events.publish(outcome.job)
        else:
            await stored.discard()  # the first job's own media serve the replay
        if slot is not None:
            _hand_over(slot, outcome)
    return outcome


def _hand_over(slot: HandOffSlot, outcome: SubmitOutcome) -> None:
    """Start the job on the reserved slot if the store gave it to that slot."""
    held = handed_over(outcome.job, slot.claim_for) if outcome.created else None
    if held is None:
        slot.give_back()
    else:
        slot.start(*held)


async def _write(  # noqa: PLR0917
    context: ApiContext,
    submission: Submission,
    new_job: NewJob,
    staged: StagedSubmissionMedia,
    stored: StoredMedia,
    slot: HandOffSlot | None,
) -> SubmitOutcome:
    refs = await store_media(staged, stored, tenant_id=submission.tenant_id, job_id=new_job.job_id)
    uploaded = [(part.name, staged.named[part.name].sha256) for part in submission.files]
    job, created = await context.store.create_job(
        replace(new_job, media=refs),
        idempotency_key=submission.idempotency_key,
        request_hash=_submission_hash(submission, uploaded),
        limits=queue_limits(context.settings),
        claim_for=None if slot is None else slot.claim_for,
    )
    return SubmitOutcome(job=job, created=created)


def _submission_hash(submission: Submission, uploaded: Iterable[tuple[str, str]]) -> str:
    if submission.hash_basis is None:
        return request_hash(submission.request, uploaded)
    files = sorted(uploaded)
    return hashlib.sha256(canonical_json(["template", submission.hash_basis, files])).hexdigest()
