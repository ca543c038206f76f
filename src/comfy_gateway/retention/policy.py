"""How long things are kept (API.md "Outputs"), and the cut-off times that follow.

Pure: the sweeper passes in the store's current time and gets back, for each kind of
thing, the latest end (or creation) time that is already due for deletion.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from comfy_gateway.config import GatewaySettings


@dataclass(frozen=True, kw_only=True, slots=True)
class RetentionCutoffs:
    """Anything that ended (or, for idempotency keys, was made) at or before these
    times is due."""

    jobs_ended_before: datetime
    outputs_ended_before: datetime
    media_ended_before: datetime
    keys_created_before: datetime


@dataclass(frozen=True, kw_only=True, slots=True)
class RetentionPolicy:
    """Retention ages in seconds, the sweep interval and the rows per transaction."""

    output_retention_s: float = 7 * 24 * 3600.0
    job_retention_s: float = 30 * 24 * 3600.0
    media_retention_s: float = 24 * 3600.0
    idempotency_retention_s: float = 24 * 3600.0
    sweep_interval_s: float = 300.0
    batch_size: int = 200

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise ValueError(f"a sweep batch needs at least 1 row, not {self.batch_size}")

    @classmethod
    def from_settings(cls, settings: GatewaySettings) -> RetentionPolicy:
        return cls(
            output_retention_s=settings.output_retention_s,
            job_retention_s=settings.job_retention_s,
            media_retention_s=settings.media_retention_s,
            idempotency_retention_s=settings.idempotency_retention_s,
            sweep_interval_s=settings.sweep_interval_s,
            batch_size=settings.sweep_batch_size,
        )

    def cutoffs(self, now: datetime) -> RetentionCutoffs:
        def before(age_s: float) -> datetime:
            return now - timedelta(seconds=age_s)

        return RetentionCutoffs(
            jobs_ended_before=before(self.job_retention_s),
            outputs_ended_before=before(self.output_retention_s),
            media_ended_before=before(self.media_retention_s),
            keys_created_before=before(self.idempotency_retention_s),
        )
