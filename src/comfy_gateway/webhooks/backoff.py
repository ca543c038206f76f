"""When to try a failed webhook delivery again (pure; the random draw is passed in).

The default schedule spreads six attempts over about a quarter of an hour: a receiver
that is restarting gets the event seconds later, one that is down for a deploy still
gets it. Jitter keeps many deliveries that failed together from retrying together.
"""

from __future__ import annotations

from collections.abc import Sequence

# Seconds to wait after the 1st, 2nd, … failed attempt (the last repeats if needed).
DEFAULT_SCHEDULE_S: tuple[float, ...] = (5.0, 30.0, 120.0, 300.0, 480.0)
DEFAULT_MAX_ATTEMPTS = 6
DEFAULT_JITTER = 0.2


def retry_delay(
    attempt: int,
    *,
    max_attempts: int = DEFAULT_MAX_ATTEMPTS,
    schedule: Sequence[float] = DEFAULT_SCHEDULE_S,
    jitter: float = DEFAULT_JITTER,
    draw: float = 0.5,
) -> float | None:
    """Seconds before the attempt after ``attempt`` (1-based) failed; ``None``: give up.

    ``draw`` is a random number in [0, 1): the delay moves by up to ±``jitter`` of
    itself, 0.5 leaving it unchanged.
    """
    if attempt >= max_attempts or not schedule:
        return None
    base = schedule[min(attempt, len(schedule)) - 1]
    return max(0.0, base * (1.0 + jitter * (2.0 * draw - 1.0)))
