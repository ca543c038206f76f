"""The supervisor's lifecycle table: the moves it allows and the ones it refuses."""

from __future__ import annotations

import pytest

from comfy_gateway.errors import GatewayError
from comfy_gateway.supervisor.lifecycle import (
    LEGAL_TRANSITIONS,
    IllegalSupervisorTransition,
    SupervisorState,
    can_transition,
    check_transition,
)

S = SupervisorState

HAPPY_AND_CRASH_PATH = [
    (S.STOPPED, S.STARTING),
    (S.STARTING, S.READY),
    (S.READY, S.CRASHED),
    (S.CRASHED, S.BACKOFF),
    (S.BACKOFF, S.STARTING),
    (S.STARTING, S.CRASHED),
    (S.CRASHED, S.FAILED),
    (S.FAILED, S.STOPPING),
    (S.STOPPING, S.STOPPED),
]


def test_every_state_has_a_row() -> None:
    assert set(LEGAL_TRANSITIONS) == set(SupervisorState)


@pytest.mark.parametrize(("old", "new"), HAPPY_AND_CRASH_PATH)
def test_the_documented_path_is_legal(old: SupervisorState, new: SupervisorState) -> None:
    assert can_transition(old, new)
    check_transition(old, new)


@pytest.mark.parametrize("state", [S.STARTING, S.READY, S.CRASHED, S.BACKOFF, S.FAILED])
def test_every_live_state_can_be_stopped(state: SupervisorState) -> None:
    assert can_transition(state, S.STOPPING)


@pytest.mark.parametrize(
    ("old", "new"),
    [
        (S.STOPPED, S.READY),  # never ready without starting
        (S.READY, S.STARTING),  # a restart goes through crashed and backoff
        (S.FAILED, S.STARTING),  # failed stays failed until stopped and started again
        (S.BACKOFF, S.READY),
        (S.STOPPING, S.STARTING),
        (S.STOPPED, S.STOPPING),
        (S.READY, S.FAILED),  # failing needs a crash first
    ],
)
def test_illegal_moves_are_refused(old: SupervisorState, new: SupervisorState) -> None:
    assert not can_transition(old, new)
    with pytest.raises(IllegalSupervisorTransition, match=f"{old.value}.*{new.value}"):
        check_transition(old, new)


def test_illegal_transition_is_one_of_our_errors() -> None:
    assert issubclass(IllegalSupervisorTransition, GatewayError)


def test_settled_states_are_those_that_wait_for_a_caller() -> None:
    settled = {state for state in SupervisorState if state.is_settled}
    assert settled == {S.STOPPED, S.READY, S.FAILED}
