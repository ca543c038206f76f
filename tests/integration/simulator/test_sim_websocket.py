"""Connecting: sids, feature flags, /api/ws and binary preview frames (f1, f2)."""

from __future__ import annotations

import json
import re
import struct
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

from support.simulator_process import SimulatorProcess

from .sim_client import is_end_of, new_client_id, post_prompt, recv_any, recv_json, ws_url

PREVIEW_GRAPH = {
    "1": {
        "class_type": "EmptyImage",
        "inputs": {"width": 16, "height": 16, "batch_size": 3, "color": 16711680},
    },
    "2": {"class_type": "SaveImageWebsocket", "inputs": {"images": ["1", 0]}},
}


async def test_without_client_id_the_server_invents_a_hex_sid(sim: SimulatorProcess) -> None:
    async with connect(ws_url(sim.url)) as socket:
        first = await recv_json(socket)
    assert first["type"] == "status"
    assert re.fullmatch(r"[0-9a-f]{32}", first["data"]["sid"])
    assert first["data"]["status"] == {"exec_info": {"queue_remaining": 0}}


async def test_api_ws_and_feature_flag_handshake(sim: SimulatorProcess) -> None:
    client_id = new_client_id()
    async with connect(ws_url(sim.url, client_id, path="/api/ws")) as socket:
        flags = {"type": "feature_flags", "data": {"supports_preview_metadata": True}}
        await socket.send(json.dumps(flags))
        status = await recv_json(socket)
        reply = await recv_json(socket)
    assert status["data"]["sid"] == client_id
    assert reply == {
        "type": "feature_flags",
        "data": {"supports_preview_metadata": True, "max_upload_size": 104857600},
    }


async def _frames_until_end(socket: ClientConnection, prompt_id: str) -> list[Any]:
    frames: list[Any] = []
    while True:
        frame = await recv_any(socket)
        if isinstance(frame, bytes):
            frames.append(frame)
            continue
        message = json.loads(frame)
        frames.append(message)
        if is_end_of(message, prompt_id):
            return frames


def _kinds(frames: list[Any]) -> list[str]:
    return ["binary" if isinstance(f, bytes) else f["type"] for f in frames]


async def test_legacy_previews_follow_their_progress(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    client_id = new_client_id()
    async with connect(ws_url(sim.url, client_id)) as socket:
        await recv_json(socket)
        prompt_id = (await post_prompt(http, PREVIEW_GRAPH, client_id=client_id))["prompt_id"]
        frames = await _frames_until_end(socket, prompt_id)
    kinds = _kinds(frames)
    start = kinds.index("executing", kinds.index("executing") + 1)  # node 2
    assert kinds[start + 1 : start + 10] == ["progress_state", "progress", "binary"] * 3
    binary = [f for f in frames if isinstance(f, bytes)]
    assert all(struct.unpack(">II", f[:8]) == (1, 2) for f in binary)
    assert all(f[8:16] == b"\x89PNG\r\n\x1a\n" for f in binary)
    progress = [f["data"]["value"] for f in frames if not isinstance(f, bytes)
                and f["type"] == "progress"]  # fmt: skip
    assert progress == [0, 1, 2]
    assert "executed" not in kinds


async def test_metadata_previews_come_before_progress(
    sim: SimulatorProcess, http: httpx.AsyncClient
) -> None:
    client_id = new_client_id()
    async with connect(ws_url(sim.url, client_id)) as socket:
        await socket.send(json.dumps({"type": "feature_flags",
                                      "data": {"supports_preview_metadata": True}}))  # fmt: skip
        await recv_json(socket)  # status
        await recv_json(socket)  # feature_flags
        prompt_id = (await post_prompt(http, PREVIEW_GRAPH, client_id=client_id))["prompt_id"]
        frames = await _frames_until_end(socket, prompt_id)
    kinds = _kinds(frames)
    first_binary = kinds.index("binary")
    assert kinds[first_binary - 1 : first_binary + 2] == ["progress_state", "binary", "progress"]
    binary = next(f for f in frames if isinstance(f, bytes))
    event, length = struct.unpack(">II", binary[:8])
    metadata = json.loads(binary[8 : 8 + length])
    assert event == 4
    assert metadata == {
        "node_id": "2",
        "prompt_id": prompt_id,
        "display_node_id": "2",
        "parent_node_id": None,
        "real_node_id": "2",
        "image_type": "image/png",
    }
    assert binary[8 + length : 16 + length] == b"\x89PNG\r\n\x1a\n"
