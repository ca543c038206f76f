"""Raw HTTP + WebSocket helpers for driving the simulator (deliberately not our comfy client)."""

from __future__ import annotations

import asyncio
import json
import uuid
from typing import Any

import httpx
from websockets.asyncio.client import ClientConnection, connect

RECV_TIMEOUT_S = 10.0


def three_node_graph(prefix: str = "t", color: int = 0, size: int = 32) -> dict[str, Any]:
    """EmptyImage → ImageInvert → SaveImage, the graph of scenario (a)."""
    return {
        "1": {
            "class_type": "EmptyImage",
            "inputs": {"width": size, "height": size, "batch_size": 1, "color": color},
        },
        "2": {"class_type": "ImageInvert", "inputs": {"image": ["1", 0]}},
        "3": {
            "class_type": "SaveImage",
            "inputs": {"images": ["2", 0], "filename_prefix": prefix},
        },
    }


def new_client_id() -> str:
    return str(uuid.uuid4())


def ws_url(base_url: str, client_id: str | None = None, path: str = "/ws") -> str:
    url = base_url.replace("http://", "ws://", 1) + path
    return url if client_id is None else f"{url}?clientId={client_id}"


async def open_socket(base_url: str, client_id: str | None = None) -> ClientConnection:
    """Connect and consume the initial `status` message (asserting its shape)."""
    socket = await connect(ws_url(base_url, client_id))
    first = await recv_json(socket)
    assert first["type"] == "status"
    assert "sid" in first["data"]
    return socket


async def recv_json(
    socket: ClientConnection,
    timeout: float = RECV_TIMEOUT_S,  # noqa: ASYNC109 - a per-frame bound, not a deadline
) -> dict[str, Any]:
    while True:
        frame = await asyncio.wait_for(socket.recv(), timeout)
        if isinstance(frame, str):
            message: dict[str, Any] = json.loads(frame)
            return message


async def recv_any(
    socket: ClientConnection,
    timeout: float = RECV_TIMEOUT_S,  # noqa: ASYNC109 - a per-frame bound, not a deadline
) -> str | bytes:
    return await asyncio.wait_for(socket.recv(), timeout)


def is_end_of(message: dict[str, Any], prompt_id: str) -> bool:
    data = message["data"]
    return (
        message["type"] == "executing"
        and data.get("node", "absent") is None
        and data.get("prompt_id") == prompt_id
    )


async def collect_until_end(socket: ClientConnection, prompt_id: str) -> list[dict[str, Any]]:
    """Every JSON message up to and including `executing {node: null}` of `prompt_id`."""
    collected: list[dict[str, Any]] = []
    while True:
        message = await recv_json(socket)
        collected.append(message)
        if is_end_of(message, prompt_id):
            return collected


async def wait_for(socket: ClientConnection, event: str, **fields: Any) -> dict[str, Any]:
    """The first message of type `event` whose data has all `fields`."""
    while True:
        message = await recv_json(socket)
        data = message["data"]
        if message["type"] == event and all(data.get(k) == v for k, v in fields.items()):
            return message


async def post_prompt(
    client: httpx.AsyncClient, graph: dict[str, Any], **extra: Any
) -> dict[str, Any]:
    response = await client.post("/prompt", json={"prompt": graph, **extra})
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def types_of(messages: list[dict[str, Any]]) -> list[str]:
    return [message["type"] for message in messages]


async def configure(client: httpx.AsyncClient, **settings: Any) -> dict[str, Any]:
    response = await client.put("/_sim/config", json=settings)
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


async def add_fault(client: httpx.AsyncClient, **fault: Any) -> str:
    response = await client.post("/_sim/faults", json=fault)
    assert response.status_code == 201, response.text
    fault_id: str = response.json()["id"]
    return fault_id
