"""The replay driver against a fake that plays the capture back (no simulator needed).

If the driver, the fixtures and the comparison agree with each other here, a
failure against the simulator is the simulator's, not the test machinery's.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Mapping, Sequence
from typing import Any

import httpx
import pytest
from websockets.asyncio.server import ServerConnection, serve

from .captured import load_scenario, socket_of
from .replay import ScenarioDriver, open_socket
from .transcript_matching import compare_frames, expected_items


def _binary_payload(entry: Mapping[str, Any]) -> bytes:
    metadata = json.dumps(entry["metadata"]).encode() if "metadata" in entry else b""
    return bytes.fromhex(entry["first8"]) + metadata + bytes.fromhex(entry["image_prefix"])


def _is_action(entry: Mapping[str, Any]) -> bool:
    return entry["kind"] == "note" and not entry["text"].startswith("POST /prompt returned")


class CapturePlayback:
    """Sends a captured socket's frames, a NOTE-delimited segment per HTTP action."""

    def __init__(self, entries: Sequence[Mapping[str, Any]]) -> None:
        self.entries = entries
        self.position = 0
        self.connection: ServerConnection | None = None
        self.actions: list[str] = []
        self.sent: set[int] = set()

    async def handle(self, connection: ServerConnection) -> None:
        self.connection = connection
        await self.send_segment()
        async for message in connection:
            if json.loads(message).get("type") == "feature_flags":
                await self.answer_feature_flags()

    async def answer_feature_flags(self) -> None:
        """Like the real server: the reply goes out whatever NOTE comes first in the capture."""
        for index, entry in enumerate(self.entries):
            await self.send_entry(index)
            if entry["kind"] == "frame" and entry["frame"]["type"] == "feature_flags":
                return

    async def send_segment(self) -> None:
        while self.position < len(self.entries):
            if _is_action(self.entries[self.position]):
                return
            self.position += 1
            await self.send_entry(self.position - 1)

    async def send_entry(self, index: int) -> None:
        assert self.connection is not None
        entry = self.entries[index]
        if index in self.sent or entry["kind"] not in {"frame", "binary"}:
            return
        self.sent.add(index)
        if entry["kind"] == "frame":
            await self.connection.send(json.dumps(entry["frame"]))
        else:
            await self.connection.send(_binary_payload(entry))

    async def perform(self, request: httpx.Request) -> None:
        self.actions.append(f"{request.method} {request.url.path} {request.content.decode()}")
        self.position += 1  # past the action's NOTE
        await self.send_segment()


def _transport(playback: CapturePlayback, responses: list[Any]) -> httpx.MockTransport:
    async def respond(request: httpx.Request) -> httpx.Response:
        await playback.perform(request)
        if request.url.path == "/prompt":
            captured = responses.pop(0)
            return httpx.Response(captured["status"], json=captured["body"])
        return httpx.Response(200)

    return httpx.MockTransport(respond)


@pytest.mark.parametrize("key", ["a", "c2", "d", "d2", "d3", "f1", "f2", "h"])
async def test_driver_replays_a_playback_of_the_capture(key: str) -> None:
    scenario = load_scenario(key)
    socket = socket_of(scenario)
    playback = CapturePlayback(socket["entries"])
    transport = _transport(playback, list(scenario["prompt_responses"]))
    async with (
        serve(playback.handle, "127.0.0.1", 0) as server,
        httpx.AsyncClient(transport=transport, base_url="http://fake") as http,
    ):
        port = server.sockets[0].getsockname()[1]
        driver = ScenarioDriver(http=http, bodies=scenario["prompt_bodies"])
        async with open_socket(f"ws://127.0.0.1:{port}/ws?clientId={uuid.uuid4()}") as recorder:
            await driver.play(recorder, socket["entries"])
            frames = list(recorder.items)
    assert compare_frames(expected_items(socket["entries"]), frames) is None
    notes = [e["text"] for e in socket["entries"] if _is_action(e)]
    assert len(playback.actions) == len(notes)
    if key == "d2":
        assert '"prompt_id"' in playback.actions[1]
        assert scenario["prompt_responses"][0]["body"]["prompt_id"] in playback.actions[2]
