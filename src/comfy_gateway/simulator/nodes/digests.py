"""Stable fingerprints of node values, so simulated outputs depend on every input."""

from __future__ import annotations

import dataclasses
import hashlib
from typing import Any

import numpy as np


def digest_of(*values: Any) -> str:
    """Hex SHA-256 over a canonical rendering of `values` (arrays by their bytes)."""
    digest = hashlib.sha256()
    for value in values:
        _feed(digest, value)
    return digest.hexdigest()


def seed_from(*values: Any) -> int:
    """A 64-bit random seed derived from `values`."""
    return int(digest_of(*values)[:16], 16)


def _feed(digest: Any, value: Any) -> None:
    if isinstance(value, np.ndarray):
        digest.update(f"array{value.shape}{value.dtype}".encode())
        digest.update(np.ascontiguousarray(value).tobytes())
    elif isinstance(value, dict):
        for key in sorted(value, key=str):
            digest.update(f"key:{key}".encode())
            _feed(digest, value[key])
    elif isinstance(value, list | tuple):
        digest.update(f"seq{len(value)}".encode())
        for item in value:
            _feed(digest, item)
    elif dataclasses.is_dataclass(value) and not isinstance(value, type):
        digest.update(type(value).__name__.encode())
        for field in dataclasses.fields(value):
            _feed(digest, getattr(value, field.name))
    else:
        digest.update(f"{type(value).__name__}:{value!r}".encode())
