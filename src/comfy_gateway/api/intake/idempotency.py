"""The request hash behind ``Idempotency-Key``: same key + same request → the first job.

The hash covers the canonical JSON of the validated request (defaults filled in, aliases
normalised, keys sorted, no insignificant whitespace, so a client re-serialising its body
is not "another request") minus the
fields that only say how to answer (``wait``), plus the name and sha256 of every uploaded
file part, which the JSON does not contain. URL media count by their URL: a retry of the
same request is the same request even if the remote file changed in between.
"""

from __future__ import annotations

import hashlib
import json
import re
from collections.abc import Iterable
from typing import Any

from comfy_gateway.api.errors import ApiError
from comfy_gateway.api.submit_models import ANSWER_ONLY_FIELDS, SubmitRequest

MAX_KEY_LENGTH = 255
_PRINTABLE_ASCII = re.compile(r"^[\x21-\x7e]+$")


def check_idempotency_key(key: str | None) -> str | None:
    """The header's value if usable: 1-255 printable ASCII characters, no spaces."""
    if key is None:
        return None
    if len(key) > MAX_KEY_LENGTH or not _PRINTABLE_ASCII.match(key):
        raise ApiError(
            422,
            "invalid_idempotency_key",
            f"Idempotency-Key must be 1-{MAX_KEY_LENGTH} printable ASCII characters "
            "without spaces (a UUID is a good choice)",
        )
    return key


def canonical_json(value: Any) -> bytes:
    # ASCII escapes: JSON may carry lone surrogates ("\\ud800") that UTF-8 cannot encode.
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode(
        "ascii"
    )


def request_hash(request: SubmitRequest, uploaded: Iterable[tuple[str, str]]) -> str:
    """sha256 over the canonical request and the ``(name, sha256)`` of each uploaded file."""
    relevant = request.model_dump(exclude=set(ANSWER_ONLY_FIELDS))
    digest = hashlib.sha256(canonical_json(relevant))
    for name, sha256 in sorted(uploaded):
        digest.update(b"\n" + canonical_json(["file", name, sha256]))
    return digest.hexdigest()
