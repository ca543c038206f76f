"""The retry schedule: several attempts over about a quarter of an hour, then give up."""

from __future__ import annotations

import pytest

from comfy_gateway.webhooks.backoff import DEFAULT_MAX_ATTEMPTS, retry_delay


def test_the_default_schedule_spans_about_fifteen_minutes() -> None:
    delays = [retry_delay(attempt) for attempt in range(1, DEFAULT_MAX_ATTEMPTS)]
    assert delays == [5.0, 30.0, 120.0, 300.0, 480.0]
    assert 12 * 60 <= sum(d for d in delays if d is not None) <= 18 * 60


def test_after_the_last_attempt_it_gives_up() -> None:
    assert retry_delay(DEFAULT_MAX_ATTEMPTS) is None
    assert retry_delay(3, max_attempts=3) is None
    assert retry_delay(2, max_attempts=3) == 30.0


def test_the_last_delay_repeats_when_more_attempts_are_allowed() -> None:
    assert retry_delay(9, max_attempts=12, schedule=(1.0, 2.0)) == 2.0


@pytest.mark.parametrize(("draw", "expected"), [(0.0, 24.0), (0.5, 30.0), (0.999999, 36.0)])
def test_jitter_moves_the_delay_by_at_most_its_share(draw: float, expected: float) -> None:
    delay = retry_delay(2, jitter=0.2, draw=draw)
    assert delay == pytest.approx(expected, abs=1e-3)


def test_an_empty_schedule_never_retries() -> None:
    assert retry_delay(1, schedule=()) is None
