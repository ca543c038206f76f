"""Opaque list cursors: the (created_at, job_id) of the last job on a page.

Keyset paging on that pair is stable under inserts: new jobs are newer than every
cursor, so they never shift the pages a client is walking through.
"""

from __future__ import annotations

import base64
import binascii
import json
from dataclasses import dataclass
from datetime import datetime

from comfy_gateway.jobs.errors import InvalidCursor


@dataclass(frozen=True, kw_only=True, slots=True)
class ListPosition:
    """Where a page ended: the next page starts strictly after (older than) this."""

    created_at: datetime
    job_id: str


def encode_cursor(position: ListPosition) -> str:
    """The opaque string a client sends back to get the next page."""
    raw = json.dumps([position.created_at.isoformat(), position.job_id]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> ListPosition:
    """The position inside a cursor; :class:`InvalidCursor` if we did not make it."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        created_text, job_id = json.loads(raw)
        created_at = datetime.fromisoformat(created_text)
    except (binascii.Error, ValueError, TypeError, UnicodeDecodeError) as exc:
        raise InvalidCursor(cursor) from exc
    if not isinstance(job_id, str) or created_at.tzinfo is None:
        raise InvalidCursor(cursor)
    return ListPosition(created_at=created_at, job_id=job_id)
