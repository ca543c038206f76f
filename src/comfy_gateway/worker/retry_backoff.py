"""How long to wait before trying a down backend again (pure arithmetic)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class RetryBackoff:
    """``initial`` seconds after the first failure, times ``factor`` each time, capped."""

    initial: float = 0.5
    factor: float = 2.0
    maximum: float = 30.0

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.factor < 1 or self.maximum < self.initial:
            raise ValueError(f"unusable retry backoff: {self}")

    def delay(self, failures: int) -> float:
        """The wait after ``failures`` earlier consecutive failures (0 for the first)."""
        if failures < 0:
            raise ValueError("failure counts start at 0")
        delay = self.initial
        for _ in range(failures):
            delay *= self.factor
            if delay >= self.maximum:  # stop before a huge exponent overflows
                return self.maximum
        return delay
