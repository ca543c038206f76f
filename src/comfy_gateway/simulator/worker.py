"""The prompt worker thread (ComfyUI's `prompt_worker`): one prompt at a time, in order.

After a prompt ends it stores the history entry, then lets the queue broadcast `status`,
then sends `executing {"node": null}` — the order clients rely on.
"""

from __future__ import annotations

import logging
import threading
from typing import Any

from comfy_gateway.simulator import messages
from comfy_gateway.simulator.executor import EngineParts, PromptRun, RunOutcome
from comfy_gateway.simulator.history import ExecutionLog, HistoryStore, status_entry
from comfy_gateway.simulator.prompt_queue import PromptQueue, QueueItem

logger = logging.getLogger(__name__)


class ActivePrompt:
    """Which prompt runs and which node it is on (for reconnects and targeted interrupts)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._item: QueueItem | None = None
        self._node_id: str | None = None

    def begin(self, item: QueueItem) -> None:
        with self._lock:
            self._item, self._node_id = item, None

    def on_node(self, node_id: str) -> None:
        with self._lock:
            self._node_id = node_id

    def end(self) -> None:
        with self._lock:
            self._item, self._node_id = None, None

    @property
    def prompt_id(self) -> str | None:
        with self._lock:
            return None if self._item is None else self._item.prompt_id

    def current_node_for(self, client_id: str) -> str | None:
        """The running node, if the running prompt belongs to `client_id`."""
        with self._lock:
            if self._item is None or self._item.client_id != client_id:
                return None
            return self._node_id


def history_entry(item: QueueItem, outcome: RunOutcome) -> dict[str, Any]:
    completed = outcome.outcome == "success"
    return {
        "prompt": item.as_list(),
        "outputs": outcome.outputs,
        "status": status_entry(outcome.status_str, completed, outcome.messages),
        "meta": outcome.meta,
    }


class PromptWorker:
    """Runs queued prompts on a daemon thread until the queue closes."""

    def __init__(
        self,
        *,
        parts: EngineParts,
        queue: PromptQueue,
        history: HistoryStore,
        executions: ExecutionLog,
        active: ActivePrompt,
    ) -> None:
        self._parts = parts
        self._queue = queue
        self._history = history
        self._executions = executions
        self._active = active
        self._generation = 0
        self._thread = threading.Thread(target=self._loop, name="prompt-worker", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self._queue.close()
        self._parts.control.request_interrupt()
        self._thread.join(timeout=5)

    def forget_running(self) -> None:
        """After a reset the running prompt must leave no history behind."""
        self._generation += 1

    def _loop(self) -> None:
        while True:
            item = self._queue.get()
            if item is None:
                return
            self._process(item)

    def _process(self, item: QueueItem) -> None:
        generation = self._generation
        self._parts.control.clear()
        self._active.begin(item)
        execution = self._executions.started(item.prompt_id, item.number, item.client_id)
        try:
            outcome = PromptRun(item, self._parts, self._active.on_node).execute()
        except Exception:
            # A simulator bug must still end the prompt the way clients wait for.
            logger.exception("the simulator failed while running prompt %s", item.prompt_id)
            outcome = RunOutcome(outcome="error", messages=[], outputs={}, meta={})
        finally:
            self._active.end()
        self._executions.ended(execution, outcome.outcome)
        if generation == self._generation:
            self._history.add(item.prompt_id, history_entry(item, outcome))
        self._queue.finish()
        if item.client_id is not None:
            data = messages.executing_data(None, item.prompt_id)
            self._parts.hub.send("executing", data, item.client_id)
