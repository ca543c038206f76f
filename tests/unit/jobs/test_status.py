"""The job state machine: every pair of statuses is either allowed or refused."""

from __future__ import annotations

import itertools

import pytest

from comfy_gateway.errors import GatewayError
from comfy_gateway.jobs.errors import IllegalTransition
from comfy_gateway.jobs.status import JobStatus, can_transition, check_transition

Q, R, C, F, X = (
    JobStatus.QUEUED,
    JobStatus.RUNNING,
    JobStatus.COMPLETED,
    JobStatus.FAILED,
    JobStatus.CANCELLED,
)
# Written out from API.md, not derived from the module under test.
LEGAL = {(Q, R), (Q, X), (Q, F), (R, Q), (R, C), (R, F), (R, X)}
ALL_PAIRS = list(itertools.product(JobStatus, repeat=2))
ILLEGAL = [pair for pair in ALL_PAIRS if pair not in LEGAL]


def test_the_statuses_are_the_five_of_the_contract() -> None:
    assert [status.value for status in JobStatus] == [
        "queued",
        "running",
        "completed",
        "failed",
        "cancelled",
    ]


@pytest.mark.parametrize(("old", "new"), sorted(LEGAL))
def test_legal_moves_pass(old: JobStatus, new: JobStatus) -> None:
    assert can_transition(old, new)
    check_transition(old, new)


@pytest.mark.parametrize(("old", "new"), ILLEGAL)
def test_every_other_move_is_refused(old: JobStatus, new: JobStatus) -> None:
    assert not can_transition(old, new)
    with pytest.raises(IllegalTransition) as caught:
        check_transition(old, new, job_id="job-1")
    assert (caught.value.old, caught.value.new, caught.value.job_id) == (old, new, "job-1")
    assert old.value in str(caught.value)
    assert new.value in str(caught.value)


def test_the_pairs_cover_all_25_combinations() -> None:
    assert len(LEGAL) + len(ILLEGAL) == 25


@pytest.mark.parametrize("status", list(JobStatus))
def test_terminal_statuses_are_exactly_those_without_a_way_out(status: JobStatus) -> None:
    has_way_out = any(old == status for old, _ in LEGAL)
    assert status.is_terminal is not has_way_out
    assert status.is_active is has_way_out


def test_illegal_transition_belongs_to_the_error_tree() -> None:
    assert issubclass(IllegalTransition, GatewayError)
