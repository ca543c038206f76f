"""The durability knobs: drain timeout and attempt limit from flags and environment, and
when a lost prompt stops being retried."""

from __future__ import annotations

import gc
from typing import Any

import pytest
from typer.testing import CliRunner

from comfy_gateway import serving
from comfy_gateway.cli import app
from comfy_gateway.config import GatewaySettings
from comfy_gateway.worker.job_outcome import out_of_attempts
from comfy_gateway.worker.options import WorkerOptions


def test_a_lost_prompt_is_retried_until_the_attempt_limit() -> None:
    assert out_of_attempts("backend gone", attempts=1, max_attempts=3) is None
    assert out_of_attempts("backend gone", attempts=2, max_attempts=3) is None
    error = out_of_attempts("backend gone", attempts=3, max_attempts=3)
    assert error is not None
    assert error.code == "backend_unavailable"
    assert error.message == "backend gone; gave up after 3 attempts"


def test_defaults_follow_the_contract() -> None:
    options = WorkerOptions.from_settings(GatewaySettings(), worker_id="w")
    assert (options.drain_timeout_s, options.max_attempts) == (30.0, 3)
    assert options.reap_every_s == options.lease_s


def test_environment_sets_drain_timeout_and_attempt_limit(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("COMFY_GATEWAY_DRAIN_TIMEOUT_S", "2.5")
    monkeypatch.setenv("COMFY_GATEWAY_MAX_ATTEMPTS", "5")
    options = WorkerOptions.from_settings(GatewaySettings(), worker_id="w")
    assert (options.drain_timeout_s, options.max_attempts) == (2.5, 5)


@pytest.mark.parametrize(
    "overrides", [{"max_attempts": 0}, {"drain_timeout_s": -1.0}, {"lease_s": 0.0}]
)
def test_unusable_options_are_refused(overrides: dict[str, Any]) -> None:
    with pytest.raises(ValueError, match="unusable"):
        WorkerOptions(worker_id="w", **overrides)


@pytest.mark.parametrize("command", ["serve", "worker"])
def test_the_drain_timeout_flag_reaches_the_settings(
    command: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    seen: list[GatewaySettings] = []

    async def fake_run(settings: GatewaySettings, **_: Any) -> None:
        seen.append(settings)

    monkeypatch.setattr(serving, "serve", fake_run)
    monkeypatch.setattr(serving, "run_worker", fake_run)
    monkeypatch.setattr(serving, "configure_logging", lambda: None)
    monkeypatch.setattr(gc, "freeze", lambda: None)  # the real one would pin test objects
    result = CliRunner().invoke(app, [command, "--drain-timeout", "0.5"])

    assert result.exit_code == 0, result.output
    assert [settings.drain_timeout_s for settings in seen] == [0.5]
