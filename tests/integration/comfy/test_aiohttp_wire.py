"""ComfyHttpClient over real sockets, against local servers of the test's own.

The default wire (aiohttp) and the httpx wire (an httpx transport passed in) must put the
same bytes on the wire and raise the same errors, so most tests run on both. Well-formed
answers come from an ``aiohttp.web`` app (ComfyUI's own server library); broken ones
(a body cut short, no answer at all) from a raw asyncio server that writes them by hand.
"""

from __future__ import annotations

import asyncio
import json
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from aiohttp import web

from comfy_gateway.comfy import ComfyHttpClient, ComfyTimeouts
from comfy_gateway.comfy.http_protocol import build_view_params
from comfy_gateway.errors import (
    ComfyRequestRejected,
    ComfyServerError,
    ComfyTimeout,
    ComfyUnavailable,
    DuplicatePromptId,
    PromptValidationError,
)

RawHandler = Callable[[asyncio.StreamReader, asyncio.StreamWriter], Awaitable[None]]
QUEUED = {"prompt_id": "p-1", "number": 3, "node_errors": {}}
AWKWARD_NAME = "a b&c=d#e+f%20g?h;ü 漢/ (1).png"
AWKWARD_FOLDER = "sub dir/x&y#z+ü"


@pytest.fixture(params=["aiohttp", "httpx"])
def wire(request: pytest.FixtureRequest) -> str:
    name: str = request.param
    return name


def client_for(url: str, wire: str, timeouts: ComfyTimeouts | None = None) -> ComfyHttpClient:
    """The default client (aiohttp), or one over httpx through an injected transport."""
    transport = None if wire == "aiohttp" else httpx.AsyncHTTPTransport()
    return ComfyHttpClient(url, backend="local", timeouts=timeouts, transport=transport)


def bound_listener() -> socket.socket:
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    return listener


@asynccontextmanager
async def serving(
    *routes: web.RouteDef, listener: socket.socket | None = None
) -> AsyncIterator[str]:
    """An aiohttp.web app on a free port of 127.0.0.1; yields its base URL."""
    app = web.Application(client_max_size=64 * 1024 * 1024)  # ComfyUI allows big uploads
    app.add_routes(routes)
    runner = web.AppRunner(app, access_log=None)
    await runner.setup()
    listener = listener or bound_listener()
    site = web.SockSite(runner, listener)
    await site.start()
    try:
        yield f"http://127.0.0.1:{listener.getsockname()[1]}"
    finally:
        await runner.cleanup()


@asynccontextmanager
async def raw_serving(handle: RawHandler) -> AsyncIterator[str]:
    """A bare TCP server whose ``handle`` writes whatever bytes the test needs.

    Handlers still running when the block ends (one holding an answer back) are cancelled.
    """
    handlers: list[asyncio.Task[None]] = []

    async def tracked(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        task = asyncio.current_task()
        assert task is not None
        handlers.append(task)
        try:
            await handle(reader, writer)
        finally:
            writer.close()

    server = await asyncio.start_server(tracked, "127.0.0.1", 0)
    try:
        yield f"http://127.0.0.1:{server.sockets[0].getsockname()[1]}"
    finally:
        server.close()
        await server.wait_closed()
        for task in handlers:
            task.cancel()
        await asyncio.gather(*handlers, return_exceptions=True)


def closed_port_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"http://127.0.0.1:{probe.getsockname()[1]}"


async def read_head(reader: asyncio.StreamReader) -> bytes:
    return await reader.readuntil(b"\r\n\r\n")


# -- well-formed exchanges ------------------------------------------------------------------


async def test_a_json_post_sends_compact_utf8_json_and_parses_the_answer(wire: str) -> None:
    seen: list[tuple[bytes, str, str]] = []

    async def prompt(request: web.Request) -> web.Response:
        body = await request.read()
        seen.append((body, request.headers["Content-Type"], request.headers["User-Agent"]))
        return web.json_response(QUEUED)

    graph = {"1": {"class_type": "Text", "inputs": {"text": 'ü 漢 "q"'}}}
    async with serving(web.post("/prompt", prompt)) as url, client_for(url, wire) as client:
        queued = await client.queue_prompt(graph, client_id="cgw-1", prompt_id="p-1")
    assert (queued.prompt_id, queued.number) == ("p-1", 3)
    expected = {"prompt": graph, "client_id": "cgw-1", "prompt_id": "p-1"}
    (body, content_type, user_agent) = seen[0]
    assert body == json.dumps(expected, ensure_ascii=False, separators=(",", ":")).encode()
    assert content_type == "application/json"
    # The default wire really is aiohttp: the parametrisation tests two libraries.
    assert ("aiohttp" in user_agent) == (wire == "aiohttp")


async def test_a_validation_400_is_the_same_error_on_both_wires(wire: str) -> None:
    answer = {
        "error": {"type": "prompt_outputs_failed_validation", "message": "bad", "details": ""},
        "node_errors": {"2": {"class_type": "ImageScale", "errors": [{"type": "x"}]}},
    }

    async def prompt(request: web.Request) -> web.Response:
        return web.json_response(answer, status=400)

    async with serving(web.post("/prompt", prompt)) as url, client_for(url, wire) as client:
        with pytest.raises(PromptValidationError) as caught:
            await client.queue_prompt({}, client_id="c")
    assert caught.value.error == answer["error"]
    assert caught.value.node_errors == answer["node_errors"]
    assert "node 2 (ImageScale)" in str(caught.value)


async def test_a_409_is_a_duplicate_prompt_id(wire: str) -> None:
    async def prompt(request: web.Request) -> web.Response:
        return web.Response(status=409, text="exists")

    async with serving(web.post("/prompt", prompt)) as url, client_for(url, wire) as client:
        with pytest.raises(DuplicatePromptId) as caught:
            await client.queue_prompt({}, client_id="c", prompt_id="dup")
    assert caught.value.prompt_id == "dup"


async def test_a_500_keeps_its_status_and_body(wire: str) -> None:
    text = "500 Internal Server Error\n\nServer got itself in trouble"

    async def stats(request: web.Request) -> web.Response:
        return web.Response(status=500, text=text)

    async with serving(web.get("/system_stats", stats)) as url, client_for(url, wire) as client:
        with pytest.raises(ComfyServerError) as caught:
            await client.system_stats()
    assert (caught.value.status_code, caught.value.body) == (500, text)
    assert caught.value.backend == "local"


async def test_sequential_requests_reuse_one_connection(wire: str) -> None:
    client_ports: list[int] = []

    async def queue(request: web.Request) -> web.Response:
        assert request.transport is not None
        client_ports.append(request.transport.get_extra_info("peername")[1])
        return web.json_response({"queue_running": [], "queue_pending": []})

    async with serving(web.get("/queue", queue)) as url, client_for(url, wire) as client:
        for _ in range(3):
            await client.queue()
    assert len(client_ports) == 3
    assert len(set(client_ports)) == 1


async def test_a_class_type_with_spaces_and_symbols_reaches_its_route(wire: str) -> None:
    seen: list[str] = []

    async def object_info(request: web.Request) -> web.Response:
        seen.append(request.match_info["node_class"])
        return web.json_response({})

    route = web.get("/object_info/{node_class}", object_info)
    async with serving(route) as url, client_for(url, wire) as client:
        assert await client.object_info("Image Save | WAS (v2) ü&+=") == {}
    assert seen == ["Image Save | WAS (v2) ü&+="]


def history_params_route(seen: list[dict[str, str]]) -> web.RouteDef:
    async def history(request: web.Request) -> web.Response:
        seen.append(dict(request.query))
        return web.json_response({})

    return web.get("/history", history)


async def test_history_bounds_are_query_params(wire: str) -> None:
    seen: list[dict[str, str]] = []
    async with serving(history_params_route(seen)) as url, client_for(url, wire) as client:
        assert await client.history_all(max_items=2, offset=5) == {}
    assert seen == [{"max_items": "2", "offset": "5"}]


# -- /view ----------------------------------------------------------------------------------


def view_route(content: bytes, seen: list[dict[str, str]], piece: int = 64 * 1024) -> web.RouteDef:
    """GET /view answering ``content`` in ``piece``-sized writes (chunked encoding)."""

    async def view(request: web.Request) -> web.StreamResponse:
        seen.append(dict(request.query))
        response = web.StreamResponse(headers={"Content-Type": "image/png"})
        await response.prepare(request)
        for start in range(0, len(content), piece):
            await response.write(content[start : start + piece])
        await response.write_eof()
        return response

    return web.get("/view", view)


async def test_view_streams_every_byte_in_several_chunks(wire: str, tmp_path: Path) -> None:
    content = bytes(range(256)) * 4096  # 1 MiB
    seen: list[dict[str, str]] = []
    async with serving(view_route(content, seen)) as url, client_for(url, wire) as client:
        async with client.view("v.png", "video") as chunks:
            received = [chunk async for chunk in chunks]
        written = await client.download("v.png", tmp_path / "v.png")
        read = await client.read_file("v.png")
    assert b"".join(received) == content
    assert len(received) > 1
    assert written == len(content)
    assert (tmp_path / "v.png").read_bytes() == content
    assert read == content
    assert seen[0] == {"filename": "v.png", "subfolder": "video", "type": "output"}


async def test_the_first_chunk_arrives_before_the_rest_is_sent(wire: str) -> None:
    """Streamed, not buffered: the server sends the rest only once we hold the first chunk."""
    first_seen = asyncio.Event()

    async def view(request: web.Request) -> web.StreamResponse:
        response = web.StreamResponse()
        await response.prepare(request)
        await response.write(b"first")
        await first_seen.wait()
        await response.write(b"-rest")
        await response.write_eof()
        return response

    async with (
        serving(web.get("/view", view)) as url,
        client_for(url, wire) as client,
        client.view("a.png") as chunks,
    ):
        first = await anext(chunks)
        first_seen.set()
        rest = b"".join([chunk async for chunk in chunks])
    assert first + rest == b"first-rest"
    assert first == b"first"


async def test_view_params_with_awkward_characters_arrive_intact(wire: str) -> None:
    seen: list[dict[str, str]] = []
    async with serving(view_route(b"ok", seen)) as url, client_for(url, wire) as client:
        assert await client.read_file(AWKWARD_NAME, AWKWARD_FOLDER, "temp") == b"ok"
    assert seen == [build_view_params(AWKWARD_NAME, AWKWARD_FOLDER, "temp")]
    assert seen[0]["filename"] == AWKWARD_NAME


async def test_a_missing_view_file_is_rejected_with_its_body(wire: str) -> None:
    async def view(request: web.Request) -> web.Response:
        return web.Response(status=404, text="no such file ü")

    async with serving(web.get("/view", view)) as url, client_for(url, wire) as client:
        with pytest.raises(ComfyRequestRejected) as caught:
            await client.read_file("missing.png")
    assert (caught.value.status_code, caught.value.body) == (404, "no such file ü")


async def read_one_chunk_then_time_out(client: ComfyHttpClient) -> None:
    async with client.view("a.png") as chunks:
        await anext(chunks)
        raise TimeoutError("the caller's own")


async def test_an_error_raised_by_the_callers_block_is_not_remapped(wire: str) -> None:
    """aiohttp's own timeouts are TimeoutErrors too: only the wire's steps may map them."""
    async with serving(view_route(b"data", [])) as url, client_for(url, wire) as client:
        with pytest.raises(TimeoutError, match="the caller's own"):
            await read_one_chunk_then_time_out(client)
        # The connection was given back in a usable state.
        assert await client.read_file("a.png") == b"data"


# -- uploads --------------------------------------------------------------------------------


def upload_route(seen: list[dict[str, Any]]) -> web.RouteDef:
    """POST /upload/image read as ComfyUI reads it (``request.post()``)."""

    async def upload(request: web.Request) -> web.Response:
        headers = dict(request.headers)
        form = await request.post()
        image = form["image"]
        assert isinstance(image, web.FileField)
        fields = {name: str(value) for name, value in form.items() if name != "image"}
        seen.append(
            {"headers": headers, "fields": fields, "file": (image.filename, image.file.read())}
        )
        return web.json_response({"name": image.filename, "subfolder": "", "type": "input"})

    return web.post("/upload/image", upload)


async def test_an_uploaded_file_arrives_intact_with_its_length(wire: str, tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(b"\x89PNG" + bytes(range(256)) * 5000)  # several read chunks
    seen: list[dict[str, Any]] = []
    async with serving(upload_route(seen)) as url, client_for(url, wire) as client:
        stored = await client.upload(source, overwrite=True)
    assert stored.name == "in.png"
    (got,) = seen
    assert got["file"] == ("in.png", source.read_bytes())
    assert got["fields"] == {"type": "input", "overwrite": "true"}
    assert int(got["headers"]["Content-Length"]) > source.stat().st_size
    assert "Transfer-Encoding" not in got["headers"]


async def test_an_upload_from_an_async_iterator_is_sent_chunked(wire: str) -> None:
    async def pieces() -> AsyncIterator[bytes]:
        for index in range(5):
            yield bytes([index]) * 100_000

    seen: list[dict[str, Any]] = []
    async with serving(upload_route(seen)) as url, client_for(url, wire) as client:
        stored = await client.upload(pieces(), filename="a b ü.wav", subfolder="jobs")
    assert stored.name == "a b ü.wav"
    (got,) = seen
    assert got["file"] == ("a b ü.wav", b"".join(bytes([i]) * 100_000 for i in range(5)))
    assert got["fields"] == {"type": "input", "subfolder": "jobs"}
    assert got["headers"]["Transfer-Encoding"] == "chunked"
    assert got["headers"]["Content-Type"].startswith("multipart/form-data; boundary=")


async def test_an_upload_cut_off_by_the_server_is_unavailable_and_closes_its_source(
    wire: str,
) -> None:
    closed: list[bool] = []

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:  # a file being read: every chunk comes from a worker thread
                yield await asyncio.to_thread(bytes, 64 * 1024)
        finally:
            closed.append(True)

    async def take_some_then_hang_up(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_head(reader)
        await reader.readexactly(256 * 1024)

    async with raw_serving(take_some_then_hang_up) as url, client_for(url, wire) as client:
        with pytest.raises(ComfyUnavailable, match="dropped the connection"):
            await client.upload(endless(), filename="big.bin")
    assert closed == [True]


# -- transport failures ---------------------------------------------------------------------


async def test_a_closed_port_is_unavailable(wire: str) -> None:
    url = closed_port_url()
    async with client_for(url, wire) as client:
        with pytest.raises(ComfyUnavailable, match="refused the connection") as caught:
            await client.system_stats()
    assert f"ComfyUI at {url}" in str(caught.value)
    assert "GET /system_stats" in str(caught.value)


async def test_no_answer_within_the_read_timeout_is_a_comfy_timeout(wire: str) -> None:
    async def hold(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        await asyncio.Event().wait()  # says nothing until the test ends

    timeouts = ComfyTimeouts(connect=2.0, read=0.2, write=2.0, pool=2.0)
    async with raw_serving(hold) as url, client_for(url, wire, timeouts) as client:
        with pytest.raises(ComfyTimeout, match=r"did not answer in time \(read timeout\)"):
            await client.queue()


async def test_a_connection_closed_without_an_answer_is_unavailable(wire: str) -> None:
    async def hang_up(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)

    async with raw_serving(hang_up) as url, client_for(url, wire) as client:
        with pytest.raises(ComfyUnavailable, match="dropped the connection"):
            await client.queue_prompt({}, client_id="c")


async def test_a_body_cut_short_is_unavailable(wire: str) -> None:
    async def cut_short(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100)
        await writer.drain()

    async with raw_serving(cut_short) as url, client_for(url, wire) as client:
        with pytest.raises(ComfyUnavailable, match="dropped the connection"):
            await client.read_file("a.png")
        with pytest.raises(ComfyUnavailable, match="dropped the connection"):
            await client.system_stats()


async def test_a_disconnect_mid_stream_is_unavailable_after_the_first_chunk(wire: str) -> None:
    first_seen = asyncio.Event()

    async def first_then_hang_up(
        reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        await read_head(reader)
        writer.write(b"HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n" + b"x" * 100)
        await writer.drain()
        await first_seen.wait()

    async with (
        raw_serving(first_then_hang_up) as url,
        client_for(url, wire) as client,
        client.view("a.png") as chunks,
    ):
        assert await anext(chunks) == b"x" * 100
        first_seen.set()
        with pytest.raises(ComfyUnavailable, match="dropped the connection"):
            async for _chunk in chunks:
                pass


# -- lifecycle ------------------------------------------------------------------------------


def test_a_client_built_outside_a_loop_works_inside_one() -> None:
    listener = bound_listener()
    # No loop runs here: the constructor must not open the session yet.
    client = ComfyHttpClient(f"http://127.0.0.1:{listener.getsockname()[1]}")
    unused = ComfyHttpClient(closed_port_url())
    seen: list[dict[str, str]] = []

    async def use() -> None:
        async with serving(history_params_route(seen), listener=listener), client, unused:
            assert await client.history_all(max_items=1) == {}

    asyncio.run(use())
    assert seen == [{"max_items": "1"}]
