"""Drive the simulator the way the transcript recorder drove the real ComfyUI.

Raw httpx and ``websockets`` only: the project's own ComfyUI client must not sit
between the capture and the simulator, or a shared misunderstanding would pass.
Every wait is for a frame (with a timeout), never a sleep.
"""

from __future__ import annotations

import asyncio
import json
import uuid
from collections.abc import AsyncIterator, Callable, Mapping, Sequence
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from .transcript_matching import received_item

WAIT_SECONDS = 20.0
Frame = dict[str, Any]
FramePredicate = Callable[[Frame], bool]


class SocketRecorder:
    """Collects every message a socket receives, and lets a test wait for one."""

    def __init__(self, connection: ClientConnection) -> None:
        self.connection = connection
        self.items: list[Frame] = []
        self.closed = False
        self._changed = asyncio.Condition()

    async def read_until_closed(self) -> None:
        try:
            async for message in self.connection:
                async with self._changed:
                    self.items.append(received_item(message))
                    self._changed.notify_all()
        finally:
            async with self._changed:
                self.closed = True
                self._changed.notify_all()

    async def wait_for(self, predicate: FramePredicate, *, start: int, what: str) -> int:
        """Index of the first item from ``start`` on that satisfies ``predicate``."""
        try:
            async with asyncio.timeout(WAIT_SECONDS), self._changed:
                while True:
                    for index in range(start, len(self.items)):
                        if predicate(self.items[index]):
                            return index
                    if self.closed:
                        raise AssertionError(f"socket closed while waiting for {what}")
                    await self._changed.wait()
        except TimeoutError:
            received = [item.get("type", "BINARY") for item in self.items]
            raise AssertionError(f"timed out waiting for {what}; received {received}") from None

    async def send_json(self, frame: Mapping[str, Any]) -> None:
        await self.connection.send(json.dumps(frame))


@asynccontextmanager
async def open_socket(url: str) -> AsyncIterator[SocketRecorder]:
    async with connect(url, max_size=None) as connection:
        recorder = SocketRecorder(connection)
        reader = asyncio.create_task(recorder.read_until_closed())
        try:
            yield recorder
        finally:
            reader.cancel()
            with suppress(asyncio.CancelledError):
                await reader


def landmark(expected: Frame) -> FramePredicate:
    """A predicate recognising the replay's counterpart of a captured frame."""
    kind = expected.get("type")
    data = expected.get("data", {})

    def matches(actual: Frame) -> bool:
        got = actual.get("data", {})
        if actual.get("type") != kind:
            return False
        if kind == "executing":
            return bool(got.get("node") == data.get("node"))
        if kind == "progress":
            return bool(got.get("value", -1) >= data["value"])
        if kind == "status":
            return got.get("status") == data["status"] and ("sid" in got) == ("sid" in data)
        return True

    return matches


def describe(frame: Frame) -> str:
    return json.dumps(frame)[:160]


def frame_entries(entries: Sequence[Mapping[str, Any]]) -> list[tuple[int, Frame]]:
    return [(i, e["frame"]) for i, e in enumerate(entries) if e["kind"] == "frame"]


def last_frame_before(entries: Sequence[Mapping[str, Any]], index: int) -> tuple[int, Frame] | None:
    found = [pair for pair in frame_entries(entries) if pair[0] < index]
    return found[-1] if found else None


@dataclass
class ScenarioDriver:
    """Performs a socket transcript's NOTE actions, each after the frame that preceded it."""

    http: httpx.AsyncClient
    bodies: list[dict[str, Any]]
    prompt_responses: list[httpx.Response] = field(default_factory=list)
    extra_actions: dict[str, Callable[[], Any]] = field(default_factory=dict)

    @property
    def prompt_ids(self) -> list[str]:
        return [response.json()["prompt_id"] for response in self.prompt_responses]

    async def play(self, recorder: SocketRecorder, entries: Sequence[Mapping[str, Any]]) -> None:
        cursor, waited_entry = 0, -1
        for index, entry in enumerate(entries):
            if entry["kind"] == "sent":
                await self._send(recorder, entry["frame"])
            elif entry["kind"] == "note":
                before = last_frame_before(entries, index)
                if before is not None and before[0] > waited_entry:
                    found = await recorder.wait_for(
                        landmark(before[1]), start=cursor, what=describe(before[1])
                    )
                    cursor, waited_entry = found + 1, before[0]
                await self.perform(entry["text"])
        final_index, final = frame_entries(entries)[-1]
        if final_index > waited_entry:
            await recorder.wait_for(landmark(final), start=cursor, what=describe(final))

    async def _send(self, recorder: SocketRecorder, frame: Mapping[str, Any]) -> None:
        """Send a client frame; a feature_flags announcement is answered before we go on.

        In the capture the reply overtook the POST /prompt that followed at once;
        waiting for it makes that order deterministic instead of a race.
        """
        await recorder.send_json(frame)
        if frame.get("type") == "feature_flags":
            reply = frame["type"]
            await recorder.wait_for(lambda item: item.get("type") == reply, start=0, what=reply)

    async def perform(self, note: str) -> None:
        if note in self.extra_actions:
            await self.extra_actions[note]()
        elif note.startswith("POST /prompt returned"):
            return
        elif note.startswith("POST /prompt"):
            body = self.bodies[len(self.prompt_responses)]
            self.prompt_responses.append(await self.http.post("/prompt", json=body))
        elif note.startswith("POST /interrupt"):
            await self._interrupt(note)
        else:
            raise NotImplementedError(f"no replay action for NOTE {note!r}")

    async def _interrupt(self, note: str) -> None:
        if "not-running" in note:
            response = await self.http.post("/interrupt", json={"prompt_id": str(uuid.uuid4())})
        elif "running id" in note:
            response = await self.http.post("/interrupt", json={"prompt_id": self.prompt_ids[-1]})
        else:
            response = await self.http.post("/interrupt")
        assert response.status_code == 200, response.text
