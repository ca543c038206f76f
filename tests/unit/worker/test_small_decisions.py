"""Backoff, timings and media de-duplication."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from comfy_gateway.jobs.model import MediaRef
from comfy_gateway.worker.media_upload import distinct_media
from comfy_gateway.worker.options import WorkerOptions
from comfy_gateway.worker.retry_backoff import RetryBackoff
from comfy_gateway.worker.timings import PhaseTimer, elapsed_ms, queue_wait_ms


def test_backoff_doubles_up_to_the_cap() -> None:
    backoff = RetryBackoff(initial=0.5, factor=2.0, maximum=3.0)
    assert [backoff.delay(n) for n in range(5)] == [0.5, 1.0, 2.0, 3.0, 3.0]
    assert backoff.delay(10_000) == 3.0
    with pytest.raises(ValueError, match="start at 0"):
        backoff.delay(-1)
    with pytest.raises(ValueError, match="unusable"):
        RetryBackoff(initial=2.0, maximum=1.0)


def test_elapsed_and_queue_wait() -> None:
    assert elapsed_ms(1.0, 1.2345) == 234
    assert elapsed_ms(None, 1.0) is None
    created = datetime(2026, 1, 1, tzinfo=UTC)
    assert queue_wait_ms(created, created + timedelta(milliseconds=1500)) == 1500
    assert queue_wait_ms(created, None) is None


def test_phase_timer_reports_only_phases_that_happened() -> None:
    ticks = iter([10.0, 10.5, 20.0])
    timer = PhaseTimer(clock=lambda: next(ticks))
    timer.mark("upload_start")
    timer.mark("upload_end")
    timer.mark("upload_end")  # the first mark wins: no clock read
    timer.mark("execution_start")
    timer.queue_wait = 7
    assert timer.as_dict() == {"queue_wait_ms": 7, "upload_ms": 500}


def media(name: str, filename: str) -> MediaRef:
    return MediaRef(
        name=name,
        filename=filename,
        content_type="image/png",
        size_bytes=1,
        sha256=filename.split(".", maxsplit=1)[0],
        storage_key=f"t/media/{filename}",
    )


def test_identical_bytes_are_uploaded_once() -> None:
    refs = [media("a.png", "aa.png"), media("b.png", "bb.png"), media("c.png", "aa.png")]
    assert [ref.filename for ref in distinct_media(refs)] == ["aa.png", "bb.png"]


def test_worker_options_refuse_nonsense() -> None:
    assert WorkerOptions(worker_id="w", lease_s=3.0).heartbeat_interval_s == 1.0
    assert WorkerOptions(worker_id="w", lease_s=30.0).heartbeat_interval_s == 2.0
    with pytest.raises(ValueError, match="unusable"):
        WorkerOptions(worker_id="w", prompts_per_backend=0)
