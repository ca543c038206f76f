"""Prompt history (GET/POST /history) and the simulator's own record of executions.

History mirrors ComfyUI: an insertion-ordered dict capped at `history_max` (oldest
dropped), with ComfyUI's `max_items` / `offset` paging. The execution record is ours: every
prompt that ever started, kept even when its history entry is deleted.
"""

from __future__ import annotations

import copy
import threading
import time
from dataclasses import dataclass
from typing import Any


def status_entry(status_str: str, completed: bool, messages: list[list[Any]]) -> dict[str, Any]:
    return {"status_str": status_str, "completed": completed, "messages": messages}


class HistoryStore:
    """Finished prompts by prompt id, oldest first."""

    def __init__(self, max_items: int) -> None:
        self._lock = threading.Lock()
        self._entries: dict[str, dict[str, Any]] = {}
        self._max_items = max_items

    def add(self, prompt_id: str, entry: dict[str, Any]) -> None:
        with self._lock:
            self._entries[prompt_id] = entry
            while len(self._entries) > self._max_items:
                del self._entries[next(iter(self._entries))]

    def page(self, max_items: int | None, offset: int) -> dict[str, Any]:
        """ComfyUI's paging: no offset + max_items → the newest; else from index `offset`."""
        with self._lock:
            if offset < 0 and max_items is not None:
                offset = len(self._entries) - max_items
            keys = list(self._entries)[max(offset, 0) :]
            if max_items is not None:
                keys = keys[: max(max_items, 0)] if max_items > 0 else keys[:1]
            return {key: copy.deepcopy(self._entries[key]) for key in keys}

    def one(self, prompt_id: str) -> dict[str, Any]:
        with self._lock:
            if prompt_id not in self._entries:
                return {}
            return {prompt_id: copy.deepcopy(self._entries[prompt_id])}

    def contains(self, prompt_id: str) -> bool:
        with self._lock:
            return prompt_id in self._entries

    def delete(self, prompt_id: str) -> None:
        with self._lock:
            self._entries.pop(prompt_id, None)

    def clear(self) -> None:
        with self._lock:
            self._entries.clear()


@dataclass(kw_only=True)
class Execution:
    prompt_id: str
    number: float
    client_id: str | None
    outcome: str
    started_at: float
    ended_at: float | None = None

    def as_json(self) -> dict[str, Any]:
        return {
            "prompt_id": self.prompt_id,
            "number": self.number,
            "client_id": self.client_id,
            "outcome": self.outcome,
            "started_at": self.started_at,
            "ended_at": self.ended_at,
        }


class ExecutionLog:
    """Every prompt that started executing, oldest first (GET /_sim/executions)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._executions: list[Execution] = []

    def started(self, prompt_id: str, number: float, client_id: str | None) -> Execution:
        execution = Execution(
            prompt_id=prompt_id,
            number=number,
            client_id=client_id,
            outcome="running",
            started_at=time.time(),
        )
        with self._lock:
            self._executions.append(execution)
        return execution

    def ended(self, execution: Execution, outcome: str) -> None:
        with self._lock:
            execution.outcome = outcome
            execution.ended_at = time.time()

    def as_json(self) -> list[dict[str, Any]]:
        with self._lock:
            return [execution.as_json() for execution in self._executions]

    def clear(self) -> None:
        with self._lock:
            self._executions.clear()
