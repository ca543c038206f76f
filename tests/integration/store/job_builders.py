"""Small builders shared by the store contract tests."""

from __future__ import annotations

from typing import Any

from comfy_gateway.jobs import Claim, JobOutput, NewJob, new_job_id
from comfy_gateway.store import JobStore

TENANT = "tenant-a"
OTHER_TENANT = "tenant-b"
LEASE_S = 30.0


def make_new_job(tenant_id: str = TENANT, **changes: Any) -> NewJob:
    fields: dict[str, Any] = {
        "job_id": new_job_id(),
        "tenant_id": tenant_id,
        "workflow": {"3": {"class_type": "KSampler", "inputs": {"seed": 1}}},
        "resolved_params": {"seed": 1},
    }
    fields.update(changes)
    return NewJob(**fields)


def make_output(index: int, **changes: Any) -> JobOutput:
    fields: dict[str, Any] = {
        "index": index,
        "node_id": "9",
        "kind": "image",
        "filename": f"out_{index:05d}_.png",
        "subfolder": "",
        "content_type": "image/png",
        "size_bytes": 100 + index,
        "sha256": f"{index:064x}",
        "temporary": False,
        "storage_key": f"{TENANT}/job/{index}-out.png",
    }
    fields.update(changes)
    return JobOutput(**fields)


async def submit_and_claim(store: JobStore, **changes: Any) -> Claim:
    """A fresh job, claimed by ``worker-1`` (the only job in the queue)."""
    await store.create_job(make_new_job(**changes))
    claim = await store.claim_next_job("worker-1", LEASE_S)
    assert claim is not None
    return claim


async def start_running(store: JobStore, claim: Claim) -> None:
    job_id, token = claim.job.job_id, claim.fencing_token
    await store.record_attempt_start(job_id, token, "gpu0", job_id, "cgw-test-gpu0")
    await store.mark_running(job_id, token)
