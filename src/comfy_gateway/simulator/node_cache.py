"""ComfyUI's classic output cache: node results keyed by signature, kept for one prompt.

After each prompt only the entries whose signature belongs to that prompt survive, so a
later prompt reuses what the previous prompt computed and nothing older.
"""

from __future__ import annotations

import threading
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True, kw_only=True)
class CachedNode:
    """A node's output values and, for output nodes, its UI dict."""

    outputs: tuple[Any, ...]
    ui: dict[str, Any] | None


class NodeCache:
    """Signature → cached node result; shared by the executor thread and /_sim/reset."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, CachedNode] = {}

    def get(self, signature: str) -> CachedNode | None:
        with self._lock:
            return self._entries.get(signature)

    def put(self, signature: str, entry: CachedNode) -> None:
        with self._lock:
            self._entries[signature] = entry

    def retain_only(self, signatures: Iterable[str]) -> None:
        keep = set(signatures)
        with self._lock:
            self._entries = {key: value for key, value in self._entries.items() if key in keep}

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()
