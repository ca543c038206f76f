"""How long the HTTP side of one backend waits, whichever wire carries the bytes.

Kept apart from :mod:`.http_client` so that each wire can read it without importing the
client that builds the wire.
"""

from __future__ import annotations

from dataclasses import dataclass

import httpx


@dataclass(frozen=True, kw_only=True)
class ComfyTimeouts:
    """Seconds for each wait; ``read`` bounds one answer, not a whole prompt run."""

    connect: float = 5.0
    read: float = 60.0
    write: float = 60.0
    pool: float = 10.0

    def as_httpx(self) -> httpx.Timeout:
        return httpx.Timeout(connect=self.connect, read=self.read, write=self.write, pool=self.pool)
