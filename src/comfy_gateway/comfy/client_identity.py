"""The WebSocket ``clientId`` of this process towards one backend.

ComfyUI routes a prompt's execution messages only to the socket whose clientId equals
the prompt's ``client_id``, and a second socket with the same id replaces the first.
So each process gets one random token, and each backend one id derived from it:
``cgw-<token>-<backend-slug>``.
"""

from __future__ import annotations

import re
import secrets
from urllib.parse import urlsplit

PROCESS_TOKEN = secrets.token_hex(6)
_NOT_SLUG = re.compile(r"[^a-z0-9]+")


def backend_slug(name_or_url: str) -> str:
    """``http://127.0.0.1:8188`` → ``127-0-0-1-8188``; a plain name is slugified."""
    parts = urlsplit(name_or_url)
    text = parts.netloc + parts.path if parts.scheme and parts.netloc else name_or_url
    slug = _NOT_SLUG.sub("-", text.lower()).strip("-")
    return slug[:48] or "backend"


def make_client_id(backend: str, *, token: str = PROCESS_TOKEN) -> str:
    return f"cgw-{token}-{backend_slug(backend)}"
