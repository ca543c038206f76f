"""The Starlette app of the simulator: ComfyUI's routes (also under /api), /ws, /_sim/*."""

from __future__ import annotations

import asyncio
import contextlib
import json
import uuid
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from comfy_gateway.simulator import messages
from comfy_gateway.simulator.comfy_routes import comfy_routes
from comfy_gateway.simulator.control_routes import control_routes
from comfy_gateway.simulator.responses import internal_error, not_found, text_response
from comfy_gateway.simulator.sockets import Connection
from comfy_gateway.simulator.state import Simulator


def announces_preview_metadata(text: str) -> bool | None:
    """None unless `text` is a feature_flags message; else its supports_preview_metadata."""
    try:
        message = json.loads(text)
    except ValueError:
        return None
    if not isinstance(message, dict) or message.get("type") != "feature_flags":
        return None
    data = message.get("data")
    return bool(data.get("supports_preview_metadata")) if isinstance(data, dict) else False


async def websocket_endpoint(websocket: WebSocket) -> None:
    simulator: Simulator = websocket.app.state.simulator
    await websocket.accept()
    sid = websocket.query_params.get("clientId") or uuid.uuid4().hex
    connection = Connection(sid=sid, websocket=websocket)
    simulator.hub.register(connection)
    simulator.hub.send("status", messages.status_data(simulator.queue.remaining(), sid), sid)
    current_node = simulator.active.current_node_for(sid)
    if current_node is not None:
        simulator.hub.send("executing", messages.reconnect_executing_data(current_node), sid)
    try:
        await _receive_until_closed(simulator, connection)
    finally:
        simulator.hub.unregister(connection)


async def _receive_until_closed(simulator: Simulator, connection: Connection) -> None:
    first_message = True
    while True:
        message = await connection.websocket.receive()
        if message["type"] == "websocket.disconnect":
            return
        text = message.get("text")
        if first_message and text is not None:
            flag = announces_preview_metadata(text)
            if flag is not None:
                connection.supports_preview_metadata = flag
                data = {
                    "supports_preview_metadata": True,
                    "max_upload_size": simulator.settings.max_upload_size,
                }
                simulator.hub.send("feature_flags", data, connection.sid)
        first_message = False


def with_api_copies(routes: list[Route]) -> list[BaseRoute]:
    """ComfyUI registers every route a second time under /api."""
    copies = [Route("/api" + route.path, route.endpoint, methods=route.methods) for route in routes]
    return [*routes, *copies]


async def _not_found(request: Request, exc: Exception) -> Response:
    if isinstance(exc, HTTPException) and exc.status_code == 405:
        return text_response("405: Method Not Allowed", 405)
    return not_found()


async def _server_error(request: Request, exc: Exception) -> Response:
    return internal_error()


def create_app(simulator: Simulator) -> Starlette:
    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        simulator.hub.bind(asyncio.get_running_loop())
        delivery = asyncio.create_task(simulator.hub.run())
        simulator.worker.start()
        try:
            yield
        finally:
            simulator.worker.stop()
            delivery.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await delivery

    routes: list[BaseRoute] = [
        WebSocketRoute("/ws", websocket_endpoint),
        WebSocketRoute("/api/ws", websocket_endpoint),
        *with_api_copies(comfy_routes()),
        *control_routes(),
    ]
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={404: _not_found, 405: _not_found, Exception: _server_error},
    )
    app.state.simulator = simulator
    return app
