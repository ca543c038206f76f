"""After a crash: restart after how long, or give up (pure arithmetic, clock passed in)."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class RestartDecision:
    """What to do after a crash: wait ``delay_s`` then restart, or give up for good."""

    give_up: bool
    delay_s: float
    recent_crashes: int


@dataclass(frozen=True, kw_only=True)
class RestartPolicy:
    """Exponential backoff from ``initial_s`` to ``maximum_s``; ``crash_limit`` crashes
    within ``window_s`` seconds mean the process cannot run here and we stop trying."""

    initial_s: float = 1.0
    factor: float = 2.0
    maximum_s: float = 60.0
    crash_limit: int = 5
    window_s: float = 300.0

    def __post_init__(self) -> None:
        if self.initial_s <= 0 or self.factor < 1 or self.maximum_s < self.initial_s:
            raise ValueError(f"unusable restart backoff: {self}")
        if self.crash_limit < 1 or self.window_s <= 0:
            raise ValueError(f"unusable crash limit: {self}")

    def delay(self, earlier_crashes: int) -> float:
        """The wait before restarting after ``earlier_crashes`` recent crashes before this one."""
        if earlier_crashes < 0:
            raise ValueError("crash counts start at 0")
        delay = self.initial_s
        for _ in range(earlier_crashes):
            delay *= self.factor
            if delay >= self.maximum_s:  # stop before a huge exponent overflows
                return self.maximum_s
        return delay

    def recent(self, crash_times: Sequence[float], now: float) -> list[float]:
        """The crash times that still count: those within the window ending at ``now``."""
        return [at for at in crash_times if now - at < self.window_s]

    def after_crash(self, crash_times: Sequence[float], now: float) -> RestartDecision:
        """Decide after a crash; ``crash_times`` includes the crash that just happened.

        Backoff grows with the crashes still inside the window, so a process that has
        run well for a while is restarted after ``initial_s`` again.
        """
        recent = self.recent(crash_times, now)
        count = len(recent)
        if count >= self.crash_limit:
            return RestartDecision(give_up=True, delay_s=0.0, recent_crashes=count)
        delay = self.delay(max(count - 1, 0))
        return RestartDecision(give_up=False, delay_s=delay, recent_crashes=count)
