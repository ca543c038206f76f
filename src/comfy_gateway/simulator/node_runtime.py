"""The engine side of a running node: interrupts, progress, previews (a NodeContext).

Node code runs on the executor thread; messages it causes are handed to the SocketHub,
which is thread-safe. Progress frames follow the captured order: `progress_state`, the
binary preview for sockets that announced metadata (event 4), `progress`, then the legacy
preview (event 1) for the other sockets.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from comfy_gateway.simulator import messages
from comfy_gateway.simulator.nodes.context import Interrupted
from comfy_gateway.simulator.progress import ProgressRegistry
from comfy_gateway.simulator.sockets import SocketHub


class RunControl:
    """The interrupt flag of the executor (ComfyUI's `interrupt_processing`)."""

    def __init__(self) -> None:
        self._interrupt = threading.Event()

    def request_interrupt(self) -> None:
        self._interrupt.set()

    def clear(self) -> None:
        self._interrupt.clear()

    @property
    def interrupt_requested(self) -> bool:
        return self._interrupt.is_set()

    def raise_if_interrupted(self) -> None:
        if self._interrupt.is_set():
            raise Interrupted("Processing interrupted")

    def sleep(self, seconds: float) -> None:
        """Simulated work: ends early when an interrupt arrives (the caller decides what then)."""
        if seconds > 0:
            self._interrupt.wait(seconds)

    def block_until_interrupted(self) -> None:
        """A hung node: nothing but an interrupt (or a reset) frees it."""
        self._interrupt.wait()
        raise Interrupted("Processing interrupted")


@dataclass(frozen=True, kw_only=True)
class RunChannel:
    """Where one prompt's messages go: ComfyUI's `send_sync(..., client_id)` rules."""

    hub: SocketHub
    prompt_id: str
    client_id: str | None

    def to_client(self, event: str, data: dict[str, Any]) -> None:
        """Execution messages: only to the prompt's socket, to no one without a client id."""
        if self.client_id is not None:
            self.hub.send(event, data, self.client_id)

    def to_client_or_all(self, event: str, data: dict[str, Any]) -> None:
        """Progress messages: to the prompt's socket, broadcast without a client id."""
        self.hub.send(event, data, self.client_id)


@dataclass(frozen=True, kw_only=True)
class _Preview:
    image_bytes: bytes
    image_format: str


class EngineNodeContext:
    """The NodeContext the executor hands to one node execution."""

    def __init__(
        self,
        *,
        node_id: str,
        channel: RunChannel,
        progress: ProgressRegistry,
        control: RunControl,
        folders: tuple[Path, Path, Path],
        step_seconds: float,
    ) -> None:
        self._node_id = node_id
        self._channel = channel
        self._progress = progress
        self._control = control
        self._input_dir, self._output_dir, self._temp_dir = folders
        self._step_seconds = step_seconds
        self._preview: _Preview | None = None

    @property
    def prompt_id(self) -> str:
        return self._channel.prompt_id

    @property
    def node_id(self) -> str:
        return self._node_id

    @property
    def input_dir(self) -> Path:
        return self._input_dir

    @property
    def output_dir(self) -> Path:
        return self._output_dir

    @property
    def temp_dir(self) -> Path:
        return self._temp_dir

    def check_interrupted(self) -> None:
        self._control.raise_if_interrupted()

    def report_progress(self, value: int, total: int) -> None:
        self._control.raise_if_interrupted()
        self._progress.update(self._node_id, value, total)
        self._channel.to_client_or_all("progress_state", self._progress.state_data())
        preview, self._preview = self._preview, None
        self._send_preview(preview, with_metadata=True)
        data = messages.progress_data(value, total, self.prompt_id, self._node_id)
        self._channel.to_client_or_all("progress", data)
        self._send_preview(preview, with_metadata=False)

    def simulate_steps(self, steps: int) -> None:
        for step in range(steps):
            self._control.sleep(self._step_seconds)
            self.report_progress(step + 1, steps)

    def send_preview(self, image_bytes: bytes, image_format: str) -> None:
        """Attach a preview to the next progress report (ComfyUI sends them together)."""
        self.flush_preview()
        self._preview = _Preview(image_bytes=image_bytes, image_format=image_format.upper())

    def flush_preview(self) -> None:
        """Send a preview no progress report picked up."""
        preview, self._preview = self._preview, None
        self._send_preview(preview, with_metadata=True)
        self._send_preview(preview, with_metadata=False)

    def _send_preview(self, preview: _Preview | None, *, with_metadata: bool) -> None:
        if preview is None:
            return
        self._channel.hub.send_preview(
            preview.image_bytes,
            preview.image_format,
            prompt_id=self.prompt_id,
            node_id=self._node_id,
            sid=self._channel.client_id,
            with_metadata=with_metadata,
        )
