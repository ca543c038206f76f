"""Time-ordered job ids: UUID version 7 (RFC 9562, section 5.7).

Layout, most significant bit first::

    unix_ts_ms (48) | ver=0b0111 (4) | rand_a (12) | var=0b10 (2) | rand_b (62)

``rand_a`` and ``rand_b`` together form a 74-bit tail. Within one millisecond (or when
the clock steps back) the tail is incremented instead of redrawn (RFC 9562 6.2, method 2),
so ids from one generator are strictly increasing. The tail starts with its top bit clear
to leave room for about 2**73 increments before the timestamp has to be pushed forward.
"""

from __future__ import annotations

import secrets
import threading
import time
import uuid
from collections.abc import Callable

_TAIL_BITS = 74
_RAND_B_BITS = 62
_TIMESTAMP_LIMIT = 1 << 48
_VERSION = 0x7
_VARIANT = 0b10


def system_clock_ms() -> int:
    """Milliseconds since the Unix epoch from the wall clock."""
    return time.time_ns() // 1_000_000


def compose_uuid7(unix_ts_ms: int, tail: int) -> uuid.UUID:
    """Lay out a timestamp and a 74-bit tail as a version-7, variant-10 UUID."""
    if not 0 <= unix_ts_ms < _TIMESTAMP_LIMIT:
        raise ValueError(f"timestamp {unix_ts_ms} does not fit in 48 bits")
    if not 0 <= tail < 1 << _TAIL_BITS:
        raise ValueError("tail does not fit in 74 bits")
    rand_a = tail >> _RAND_B_BITS
    rand_b = tail & ((1 << _RAND_B_BITS) - 1)
    value = (unix_ts_ms << 80) | (_VERSION << 76) | (rand_a << 64) | (_VARIANT << 62) | rand_b
    return uuid.UUID(int=value)


def uuid7_timestamp_ms(value: uuid.UUID | str) -> int:
    """The Unix millisecond timestamp carried by a UUIDv7."""
    as_uuid = value if isinstance(value, uuid.UUID) else uuid.UUID(value)
    return as_uuid.int >> 80


class UUID7Generator:
    """Makes strictly increasing UUIDv7 values; the clock and randomness are injectable."""

    def __init__(
        self,
        *,
        clock_ms: Callable[[], int] = system_clock_ms,
        random_bits: Callable[[int], int] = secrets.randbits,
    ) -> None:
        self._clock_ms = clock_ms
        self._random_bits = random_bits
        self._lock = threading.Lock()  # ids may be made from worker threads too
        self._last_ms = -1
        self._last_tail = 0

    def new(self) -> uuid.UUID:
        """The next id: later than every id this generator made before."""
        with self._lock:
            self._last_ms, self._last_tail = next_position(
                self._last_ms,
                self._last_tail,
                self._clock_ms(),
                # A random step keeps ids of one millisecond hard to guess from each other.
                step=1 + self._random_bits(16),
                fresh_tail=self._random_bits(_TAIL_BITS - 1),
            )
            return compose_uuid7(self._last_ms, self._last_tail)


def next_position(
    last_ms: int, last_tail: int, now_ms: int, *, step: int, fresh_tail: int
) -> tuple[int, int]:
    """The (timestamp, tail) of the next id after (``last_ms``, ``last_tail``).

    A clock that moved forward gets ``fresh_tail``; one that stood still or stepped back
    keeps the last timestamp and adds ``step`` to the tail; an exhausted tail borrows
    the next millisecond rather than go backwards.
    """
    if now_ms > last_ms:
        return now_ms, fresh_tail
    tail = last_tail + step
    if tail >= 1 << _TAIL_BITS:
        return last_ms + 1, fresh_tail
    return last_ms, tail


_default_generator = UUID7Generator()


def new_job_id() -> str:
    """A fresh job id: a UUIDv7 in its canonical lowercase string form."""
    return str(_default_generator.new())


def is_job_id(text: str) -> bool:
    """Whether ``text`` is a canonical UUIDv7 string (malformed ids are simply not found)."""
    try:
        parsed = uuid.UUID(text)
    except ValueError:
        return False
    return str(parsed) == text and parsed.version == _VERSION
