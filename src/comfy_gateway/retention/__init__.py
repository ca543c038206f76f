"""Retention: a batched sweeper deletes expired outputs, media, job records and
idempotency keys (API.md "Outputs")."""

from comfy_gateway.retention.policy import RetentionCutoffs, RetentionPolicy
from comfy_gateway.retention.store_protocol import DeletesBlobs, DeletesByPrefix, RetentionStore
from comfy_gateway.retention.sweeper import RetentionSweeper, SweepReport

__all__ = [
    "DeletesBlobs",
    "DeletesByPrefix",
    "RetentionCutoffs",
    "RetentionPolicy",
    "RetentionStore",
    "RetentionSweeper",
    "SweepReport",
]
