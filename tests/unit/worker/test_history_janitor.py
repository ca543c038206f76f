"""The history janitor gathers finished prompts and deletes them in one call."""

from __future__ import annotations

import asyncio
from typing import cast

import pytest

from comfy_gateway.comfy import ComfyHttpClient
from comfy_gateway.errors import ComfyUnavailable
from comfy_gateway.worker.history_janitor import HistoryJanitor


class RecordingHistory:
    """Stands in for a ComfyUI's ``POST /history`` delete: records each call."""

    def __init__(self, *, fail: bool = False) -> None:
        self.calls: list[list[str]] = []
        self.called = asyncio.Event()
        self._fail = fail

    async def delete_history(self, prompt_ids: list[str]) -> None:
        self.calls.append(list(prompt_ids))
        self.called.set()
        if self._fail:
            raise ComfyUnavailable("backend down", backend="sim")


def janitor(history: RecordingHistory, delay_s: float) -> HistoryJanitor:
    return HistoryJanitor(lambda: cast(ComfyHttpClient, history), delay_s=delay_s)


async def test_prompts_ending_close_together_are_deleted_in_one_call() -> None:
    history = RecordingHistory()
    cleaner = janitor(history, delay_s=0.01)
    for prompt_id in ("a", "b", "c"):
        cleaner.forget(prompt_id)
    await asyncio.wait_for(history.called.wait(), 5)
    assert history.calls == [["a", "b", "c"]]


async def test_flush_deletes_at_once_and_later_ids_start_a_new_batch() -> None:
    history = RecordingHistory()
    cleaner = janitor(history, delay_s=3600)  # only the flush can delete here
    cleaner.forget("a")
    await cleaner.flush()
    assert history.calls == [["a"]]
    await cleaner.flush()  # nothing waiting: no call
    assert history.calls == [["a"]]


async def test_a_failed_delete_is_dropped_not_raised(caplog: pytest.LogCaptureFixture) -> None:
    history = RecordingHistory(fail=True)
    cleaner = janitor(history, delay_s=3600)
    cleaner.forget("a")
    with caplog.at_level("INFO"):
        await cleaner.flush()
    assert history.calls == [["a"]]
    assert "could not delete 1 prompts from history" in caplog.text
    await cleaner.flush()
    assert history.calls == [["a"]]  # not retried: a leftover entry is harmless
