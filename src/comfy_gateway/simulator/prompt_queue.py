"""The prompt queue: a heap by number (ComfyUI exposes the heap list itself, unsorted).

`get` blocks the executor thread until a prompt is pending; the item then counts as
running until `finish`. Every change calls `on_change` so the server can broadcast a
`status` message, as ComfyUI's `queue_updated` does.
"""

from __future__ import annotations

import heapq
import itertools
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, kw_only=True)
class QueueItem:
    """One accepted prompt: what GET /queue shows as `[number, id, prompt, extra, outputs]`."""

    number: float
    prompt_id: str
    prompt: dict[str, Any]
    extra_data: dict[str, Any]
    outputs_to_execute: list[str]

    @property
    def client_id(self) -> str | None:
        client_id = self.extra_data.get("client_id")
        return client_id if isinstance(client_id, str) else None

    def as_list(self) -> list[Any]:
        return [self.number, self.prompt_id, self.prompt, self.extra_data, self.outputs_to_execute]


@dataclass(order=True, frozen=True)
class _HeapEntry:
    number: float
    prompt_id: str
    sequence: int
    item: QueueItem = field(compare=False)


class PromptQueue:
    """Pending prompts (a heap) plus the one that is running."""

    def __init__(self, on_change: Callable[[], None]) -> None:
        self._condition = threading.Condition()
        self._heap: list[_HeapEntry] = []
        self._running: QueueItem | None = None
        self._sequence = itertools.count()
        self._on_change = on_change
        self._closed = False

    def put(self, item: QueueItem) -> None:
        with self._condition:
            entry = _HeapEntry(item.number, item.prompt_id, next(self._sequence), item)
            heapq.heappush(self._heap, entry)
            self._condition.notify_all()
        self._on_change()

    def get(self, timeout: float | None = None) -> QueueItem | None:
        """The next prompt to run (now counted as running), or None on close/timeout."""
        with self._condition:
            if not self._condition.wait_for(lambda: self._heap or self._closed, timeout):
                return None
            if self._closed:
                return None
            self._running = heapq.heappop(self._heap).item
            item = self._running
        self._on_change()
        return item

    def finish(self) -> None:
        with self._condition:
            self._running = None
            self._condition.notify_all()
        self._on_change()

    def wait_idle(self, timeout: float) -> bool:
        with self._condition:
            return self._condition.wait_for(lambda: self._running is None, timeout)

    def delete(self, prompt_id: str) -> bool:
        """Remove the first pending item with this id (the running one is untouchable)."""
        with self._condition:
            index = next(
                (i for i, entry in enumerate(self._heap) if entry.prompt_id == prompt_id), None
            )
            if index is not None:
                # pop + heapify, as ComfyUI does, so GET /queue shows the same heap order
                self._heap.pop(index)
                heapq.heapify(self._heap)
        if index is not None:
            self._on_change()
        return index is not None

    def clear(self) -> None:
        with self._condition:
            self._heap = []
        self._on_change()

    def close(self) -> None:
        with self._condition:
            self._closed = True
            self._condition.notify_all()

    @property
    def running(self) -> QueueItem | None:
        with self._condition:
            return self._running

    def snapshot(self) -> tuple[list[QueueItem], list[QueueItem]]:
        """(running, pending in heap order)."""
        with self._condition:
            running = [] if self._running is None else [self._running]
            return running, [entry.item for entry in self._heap]

    def remaining(self) -> int:
        with self._condition:
            return len(self._heap) + (0 if self._running is None else 1)

    def contains(self, prompt_id: str) -> bool:
        running, pending = self.snapshot()
        return any(item.prompt_id == prompt_id for item in running + pending)
