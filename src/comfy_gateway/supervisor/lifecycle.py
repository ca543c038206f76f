"""The supervised ComfyUI's lifecycle: its states and the table of legal moves.

::

    stopped → starting → ready → crashed → backoff → starting → …
                  │                 └────→ failed   (too many crashes in the window)
                  └──→ crashed          (exited, or not ready within the startup timeout)
    any live state → stopping → stopped
"""

from __future__ import annotations

from enum import StrEnum

from comfy_gateway.errors import GatewayError


class SupervisorState(StrEnum):
    """Where one supervised ComfyUI process is in its life."""

    STOPPED = "stopped"
    STARTING = "starting"
    READY = "ready"
    CRASHED = "crashed"
    BACKOFF = "backoff"
    FAILED = "failed"
    STOPPING = "stopping"

    @property
    def is_settled(self) -> bool:
        """True when nothing will change without a call from outside (start or stop)."""
        return self in SETTLED_STATES


SETTLED_STATES: frozenset[SupervisorState] = frozenset(
    {SupervisorState.STOPPED, SupervisorState.READY, SupervisorState.FAILED}
)

_S = SupervisorState

# failed → stopping lets stop() clean up and a later start() try afresh; stopping is
# reachable from every live state because a shutdown can arrive at any moment.
LEGAL_TRANSITIONS: dict[SupervisorState, frozenset[SupervisorState]] = {
    _S.STOPPED: frozenset({_S.STARTING}),
    _S.STARTING: frozenset({_S.READY, _S.CRASHED, _S.STOPPING}),
    _S.READY: frozenset({_S.CRASHED, _S.STOPPING}),
    _S.CRASHED: frozenset({_S.BACKOFF, _S.FAILED, _S.STOPPING}),
    _S.BACKOFF: frozenset({_S.STARTING, _S.STOPPING}),
    _S.FAILED: frozenset({_S.STOPPING}),
    _S.STOPPING: frozenset({_S.STOPPED}),
}


class IllegalSupervisorTransition(GatewayError):
    """A lifecycle move that the supervisor's state machine does not allow (a bug)."""

    def __init__(self, old: SupervisorState, new: SupervisorState) -> None:
        super().__init__(f"a {old.value} ComfyUI supervisor cannot become {new.value}")
        self.old = old
        self.new = new


def can_transition(old: SupervisorState, new: SupervisorState) -> bool:
    """Whether the lifecycle allows ``old`` → ``new``."""
    return new in LEGAL_TRANSITIONS[old]


def check_transition(old: SupervisorState, new: SupervisorState) -> None:
    """Raise :class:`IllegalSupervisorTransition` unless ``old`` → ``new`` is legal."""
    if not can_transition(old, new):
        raise IllegalSupervisorTransition(old, new)
