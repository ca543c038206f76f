"""How far a job execution has got: each phase decides what stopping it means."""

from __future__ import annotations

from enum import IntEnum


class Phase(IntEnum):
    CLAIMED = 0
    SUBMITTING = 1
    PENDING = 2  # our prompt is in ComfyUI's queue
    STARTED = 3
    ENDED = 4  # the prompt left ComfyUI: collecting outputs
