"""When to retry a dropped WebSocket, and when to give up (pure arithmetic)."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, kw_only=True)
class ReconnectPolicy:
    """Exponential backoff, capped, within an overall budget of seconds.

    Attempt 0 waits ``initial``, attempt n waits ``initial * factor**n`` but never more
    than ``maximum``. Once ``budget`` seconds have passed since the socket dropped, the
    connection gives up and its followers get ComfySocketClosed.
    """

    initial: float = 0.1
    factor: float = 2.0
    maximum: float = 5.0
    budget: float = 60.0

    def __post_init__(self) -> None:
        if self.initial <= 0 or self.factor < 1 or self.maximum < self.initial or self.budget < 0:
            raise ValueError(f"unusable reconnect policy: {self}")

    def delay(self, attempt: int) -> float:
        """Seconds to wait before reconnect attempt number ``attempt`` (from 0)."""
        if attempt < 0:
            raise ValueError("attempt numbers start at 0")
        # Compare exponents rather than computing factor**attempt, which overflows.
        delay = self.initial
        for _ in range(attempt):
            delay *= self.factor
            if delay >= self.maximum:
                return self.maximum
        return min(delay, self.maximum)

    def next_delay(self, attempt: int, elapsed: float) -> float | None:
        """The wait before the next attempt, or None when the budget is spent.

        The last wait is shortened so that the final attempt happens at the budget's end
        rather than after it.
        """
        remaining = self.budget - elapsed
        if remaining <= 0:
            return None
        return min(self.delay(attempt), remaining)
