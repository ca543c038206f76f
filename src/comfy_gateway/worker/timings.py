"""The job's ``timings``: milliseconds spent in each phase, from monotonic marks."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime


def elapsed_ms(start: float | None, end: float | None) -> int | None:
    """Whole milliseconds between two monotonic marks, or None if one is missing."""
    if start is None or end is None:
        return None
    return max(0, round((end - start) * 1000))


def queue_wait_ms(created_at: datetime, started_at: datetime | None) -> int | None:
    if started_at is None:
        return None
    return max(0, round((started_at - created_at).total_seconds() * 1000))


@dataclass
class PhaseTimer:
    """Marks taken as a job moves on; ``as_dict`` keeps only the phases that happened."""

    clock: Callable[[], float] = time.monotonic
    marks: dict[str, float] = field(default_factory=dict)
    queue_wait: int | None = None

    def mark(self, name: str) -> None:
        if name not in self.marks:  # the first mark of a phase wins
            self.marks[name] = self.clock()

    def as_dict(self) -> dict[str, int]:
        phases = {
            "queue_wait_ms": self.queue_wait,
            "upload_ms": self._between("upload_start", "upload_end"),
            "execution_ms": self._between("execution_start", "execution_end"),
            "collect_ms": self._between("collect_start", "collect_end"),
        }
        return {name: value for name, value in phases.items() if value is not None}

    def _between(self, start: str, end: str) -> int | None:
        return elapsed_ms(self.marks.get(start), self.marks.get(end))
