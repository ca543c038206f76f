"""Retention ages → cut-off times (pure)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from comfy_gateway.config import GatewaySettings
from comfy_gateway.retention import RetentionCutoffs, RetentionPolicy

NOW = datetime(2026, 3, 1, 12, tzinfo=UTC)


def test_defaults_follow_the_api_design() -> None:
    cutoffs = RetentionPolicy.from_settings(GatewaySettings()).cutoffs(NOW)
    assert cutoffs == RetentionCutoffs(
        jobs_ended_before=NOW - timedelta(days=30),
        outputs_ended_before=NOW - timedelta(days=7),
        media_ended_before=NOW - timedelta(hours=24),
        keys_created_before=NOW - timedelta(hours=24),
    )


def test_settings_reach_the_policy() -> None:
    settings = GatewaySettings(
        output_retention_s=60,
        job_retention_s=120,
        media_retention_s=30,
        idempotency_retention_s=10,
        sweep_interval_s=5,
        sweep_batch_size=7,
    )
    policy = RetentionPolicy.from_settings(settings)
    assert (policy.sweep_interval_s, policy.batch_size) == (5, 7)
    assert policy.cutoffs(NOW) == RetentionCutoffs(
        jobs_ended_before=NOW - timedelta(seconds=120),
        outputs_ended_before=NOW - timedelta(seconds=60),
        media_ended_before=NOW - timedelta(seconds=30),
        keys_created_before=NOW - timedelta(seconds=10),
    )


def test_settings_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMFY_GATEWAY_OUTPUT_RETENTION_S", "3600")
    monkeypatch.setenv("COMFY_GATEWAY_SWEEP_BATCH_SIZE", "50")
    settings = GatewaySettings()
    assert (settings.output_retention_s, settings.sweep_batch_size) == (3600, 50)


def test_a_batch_must_hold_a_row() -> None:
    with pytest.raises(ValueError, match="at least 1"):
        RetentionPolicy(batch_size=0)
