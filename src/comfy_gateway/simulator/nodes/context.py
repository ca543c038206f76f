"""What a simulated node may ask of the engine that runs it.

The server's executor implements :class:`NodeContext`; node code runs in the executor's
worker thread (like ComfyUI's prompt thread), so every method is blocking and thread-safe.
"""

from __future__ import annotations

from pathlib import Path
from typing import Protocol


class Interrupted(Exception):
    """The running prompt was interrupted; raised from inside a node to unwind it."""


class NodeContext(Protocol):
    """The engine-side services a node uses while it executes."""

    @property
    def prompt_id(self) -> str: ...

    @property
    def node_id(self) -> str: ...

    @property
    def input_dir(self) -> Path: ...

    @property
    def output_dir(self) -> Path: ...

    @property
    def temp_dir(self) -> Path: ...

    def report_progress(self, value: int, total: int) -> None:
        """Send a `progress` event; raises :class:`Interrupted` when one is pending."""

    def simulate_steps(self, steps: int) -> None:
        """Sleep the configured step duration per step, reporting progress each step."""

    def check_interrupted(self) -> None:
        """Raise :class:`Interrupted` when an interrupt is pending."""

    def send_preview(self, image_bytes: bytes, image_format: str) -> None:
        """Send one binary preview frame; `image_format` is "PNG" or "JPEG"."""
