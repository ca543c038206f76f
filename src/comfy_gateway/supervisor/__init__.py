"""Supervised ComfyUI: launch it (one process per GPU), watch it, restart it, stop it.

The worker (wired by the serving layer) creates one :class:`SupervisedComfy` per GPU with
:func:`supervisors_for_gpus`, calls ``ensure_started()`` before the first job (or
``start()`` eagerly), listens for ``crashed``/``ready`` events, and ``stop()``s them all
on shutdown.
"""

from comfy_gateway.supervisor.events import (
    CrashReport,
    SupervisorEvent,
    SupervisorEventKind,
    SupervisorListener,
)
from comfy_gateway.supervisor.group import SupervisedBackends, supervisors_for_gpus
from comfy_gateway.supervisor.launch import LaunchSpec, check_comfy_path, parse_gpus
from comfy_gateway.supervisor.lifecycle import IllegalSupervisorTransition, SupervisorState
from comfy_gateway.supervisor.restart_policy import RestartDecision, RestartPolicy
from comfy_gateway.supervisor.supervised_comfy import SupervisedComfy, SupervisorOptions

__all__ = [
    "CrashReport",
    "IllegalSupervisorTransition",
    "LaunchSpec",
    "RestartDecision",
    "RestartPolicy",
    "SupervisedBackends",
    "SupervisedComfy",
    "SupervisorEvent",
    "SupervisorEventKind",
    "SupervisorListener",
    "SupervisorOptions",
    "SupervisorState",
    "check_comfy_path",
    "parse_gpus",
    "supervisors_for_gpus",
]
