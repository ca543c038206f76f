"""Restart backoff and the crash limit: pure arithmetic with the clock passed in."""

from __future__ import annotations

import pytest

from comfy_gateway.supervisor.restart_policy import RestartPolicy

POLICY = RestartPolicy()


def test_defaults_are_the_documented_ones() -> None:
    assert (POLICY.initial_s, POLICY.maximum_s) == (1.0, 60.0)
    assert (POLICY.crash_limit, POLICY.window_s) == (5, 300.0)


@pytest.mark.parametrize(
    ("earlier", "delay"), [(0, 1.0), (1, 2.0), (2, 4.0), (5, 32.0), (6, 60.0), (10_000, 60.0)]
)
def test_delay_doubles_up_to_the_cap(earlier: int, delay: float) -> None:
    assert POLICY.delay(earlier) == delay


def test_negative_crash_count_is_refused() -> None:
    with pytest.raises(ValueError, match="start at 0"):
        POLICY.delay(-1)


@pytest.mark.parametrize(
    "kwargs",
    [{"initial_s": 0}, {"factor": 0.5}, {"maximum_s": 0.5}, {"crash_limit": 0}, {"window_s": 0}],
)
def test_unusable_policies_are_refused(kwargs: dict[str, float]) -> None:
    with pytest.raises(ValueError, match="unusable"):
        RestartPolicy(**kwargs)  # type: ignore[arg-type]


def test_first_crash_restarts_after_the_initial_delay() -> None:
    decision = POLICY.after_crash([1000.0], now=1000.0)
    assert not decision.give_up
    assert decision.delay_s == 1.0
    assert decision.recent_crashes == 1


def test_backoff_grows_with_crashes_inside_the_window() -> None:
    decision = POLICY.after_crash([0.0, 10.0, 20.0], now=20.0)
    assert decision.delay_s == 4.0
    assert decision.recent_crashes == 3


def test_fifth_crash_within_five_minutes_gives_up() -> None:
    crashes = [0.0, 60.0, 120.0, 180.0, 299.0]
    decision = POLICY.after_crash(crashes, now=299.0)
    assert decision.give_up
    assert decision.recent_crashes == 5


def test_crashes_older_than_the_window_no_longer_count() -> None:
    crashes = [0.0, 60.0, 120.0, 180.0, 300.0]  # the first is exactly 300 s old
    decision = POLICY.after_crash(crashes, now=300.0)
    assert not decision.give_up
    assert decision.recent_crashes == 4
    assert decision.delay_s == 8.0


def test_a_long_healthy_run_resets_the_backoff() -> None:
    decision = POLICY.after_crash([0.0, 10.0, 20.0, 5000.0], now=5000.0)
    assert decision.delay_s == 1.0


def test_recent_keeps_only_the_window() -> None:
    assert POLICY.recent([0.0, 101.0, 400.0], now=400.0) == [101.0, 400.0]
