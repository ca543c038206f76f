"""`JobEvents`: how SSE, `wait` and cancel learn that a job changed.

In-process when the API and the worker share a process; store polling (≤ 250 ms) when
they don't; PostgreSQL NOTIFY later. Every implementation delivers *snapshots* (the job as
it is now, with its version), never deltas, so a slow listener skips intermediate states
instead of falling behind.
"""

from comfy_gateway.events.in_process import InProcessJobEvents
from comfy_gateway.events.interface import JobEvents, JobWatch

__all__ = ["InProcessJobEvents", "JobEvents", "JobWatch"]
