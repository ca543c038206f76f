"""The HTTP client against httpx.MockTransport: requests built, answers and errors mapped."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest

from comfy_gateway.comfy.http_client import ComfyHttpClient
from comfy_gateway.errors import (
    ComfyProtocolError,
    ComfyRequestRejected,
    ComfyServerError,
    ComfyTimeout,
    ComfyUnavailable,
    DuplicatePromptId,
    PromptValidationError,
)

BASE = "http://comfy.test:8188"
ProtocolJson = Callable[[str], dict[str, Any]]
Handler = Callable[[httpx.Request], httpx.Response]


def client_for(handler: Handler) -> ComfyHttpClient:
    return ComfyHttpClient(BASE, backend="gpu0", transport=httpx.MockTransport(handler))


async def test_queue_prompt_sends_the_body_and_parses_the_answer() -> None:
    seen: list[dict[str, Any]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(json.loads(request.content))
        assert (request.method, request.url.path) == ("POST", "/prompt")
        return httpx.Response(200, json={"prompt_id": "p-1", "number": 7, "node_errors": {}})

    async with client_for(handler) as client:
        queued = await client.queue_prompt(
            {"1": {}}, client_id="cgw-x", prompt_id="p-1", front=True, extra_data={"a": 1}
        )
    assert (queued.prompt_id, queued.number, queued.node_errors) == ("p-1", 7, {})
    assert seen == [
        {
            "prompt": {"1": {}},
            "client_id": "cgw-x",
            "prompt_id": "p-1",
            "front": True,
            "extra_data": {"a": 1},
        }
    ]


@pytest.mark.parametrize(
    "heading",
    [
        "unknown class_type (node 2 = NoSuchNode)",
        "combo value not in list (ImageScale.upscale_method",
        "bad link: output slot index out of range",
        "graph without any output node",
        "body without `prompt` key",
    ],
)
async def test_validation_400_becomes_prompt_validation_error(
    protocol_text: str, heading: str
) -> None:
    start = protocol_text.index(f"#### {heading}")
    after_response = protocol_text.index("Response JSON", start)
    answer_start = protocol_text.index("```json", after_response) + len("```json")
    answer = json.loads(protocol_text[answer_start : protocol_text.index("```", answer_start)])

    async with client_for(lambda request: httpx.Response(400, json=answer)) as client:
        with pytest.raises(PromptValidationError) as caught:
            await client.queue_prompt({}, client_id="c")
    assert caught.value.error == answer["error"]
    assert caught.value.node_errors == answer["node_errors"]
    assert caught.value.error_type == answer["error"]["type"]
    assert BASE in str(caught.value)
    for node_id in answer["node_errors"]:
        assert f"node {node_id}" in str(caught.value)


async def test_duplicate_prompt_id_409() -> None:
    async with client_for(lambda request: httpx.Response(409, text="exists")) as client:
        with pytest.raises(DuplicatePromptId) as caught:
            await client.queue_prompt({}, client_id="c", prompt_id="dup")
    assert caught.value.prompt_id == "dup"


async def test_500_text_is_a_server_error_that_keeps_the_body() -> None:
    text = "500 Internal Server Error\n\nServer got itself in trouble"
    async with client_for(lambda request: httpx.Response(500, text=text)) as client:
        with pytest.raises(ComfyServerError) as caught:
            await client.queue_prompt({}, client_id="c")
    assert caught.value.status_code == 500
    assert caught.value.body == text
    assert caught.value.backend == "gpu0"


async def test_non_json_where_json_expected_is_a_protocol_error() -> None:
    async with client_for(lambda request: httpx.Response(200, text="<html>")) as client:
        with pytest.raises(ComfyProtocolError, match="not JSON"):
            await client.system_stats()


async def test_other_4xx_is_request_rejected() -> None:
    async with client_for(lambda request: httpx.Response(404)) as client:
        with pytest.raises(ComfyRequestRejected) as caught:
            await client.read_file("missing.png")
    assert caught.value.status_code == 404


def raising(exc: Exception) -> Handler:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


async def test_connection_refused_is_unavailable_with_a_helpful_message() -> None:
    async with client_for(raising(httpx.ConnectError("refused"))) as client:
        with pytest.raises(ComfyUnavailable) as caught:
            await client.system_stats()
    message = str(caught.value)
    assert "ComfyUI at http://comfy.test:8188 refused the connection" in message
    assert "is it running?" in message
    assert "GET /system_stats" in message
    assert isinstance(caught.value.__cause__, httpx.ConnectError)


async def test_reset_mid_answer_is_unavailable() -> None:
    async with client_for(raising(httpx.RemoteProtocolError("reset"))) as client:
        with pytest.raises(ComfyUnavailable, match="dropped the connection"):
            await client.queue()


@pytest.mark.parametrize("exc", [httpx.ReadTimeout("slow"), httpx.ConnectTimeout("slow")])
async def test_timeouts_are_comfy_timeouts(exc: Exception) -> None:
    async with client_for(raising(exc)) as client:
        with pytest.raises(ComfyTimeout):
            await client.features()


async def test_history_is_always_filtered_by_prompt_id(protocol_json: ProtocolJson) -> None:
    stored = protocol_json("interrupted run")
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(str(request.url.raw_path, "ascii"))
        prompt_id = request.url.path.rsplit("/", 1)[-1]
        return httpx.Response(200, json=stored if prompt_id in stored else {})

    async with client_for(handler) as client:
        entry = await client.history("0e66d254-e103-4e0a-aeae-11d923bbe773")
        missing = await client.history("nope")
        newest = await client.history_all(max_items=2)
    assert entry is not None
    assert (entry.status_str, entry.completed) == ("error", False)
    assert missing is None
    assert newest == {}
    assert paths == [
        "/history/0e66d254-e103-4e0a-aeae-11d923bbe773",
        "/history/nope",
        "/history?max_items=2",
    ]


async def test_queue_snapshot(protocol_json: ProtocolJson) -> None:
    answer = protocol_json("1 running + 3 pending")
    async with client_for(lambda request: httpx.Response(200, json=answer)) as client:
        snapshot = await client.queue()
    assert snapshot.running_prompt_id == "cee2e1c6-9759-4f9e-a33d-29807ae9bcf5"
    assert snapshot.state_of("7d77b149-ff71-4aa3-87a4-e4eb0dbe29ca") == "pending"
    assert snapshot.state_of("unknown") is None
    assert snapshot.running[0].client_id == "b4cd61f6-bd36-4c2a-b537-0f2473127119"
    assert snapshot.pending[0].number == -15


async def test_small_routes_send_what_comfyui_reads() -> None:
    requests: list[tuple[str, str, bytes]] = []

    def handler(request: httpx.Request) -> httpx.Response:
        requests.append((request.method, request.url.path, request.content))
        return httpx.Response(200)

    async with client_for(handler) as client:
        await client.interrupt("p-1")
        await client.interrupt()
        await client.delete_from_queue(["a", "b"])
        await client.clear_queue()
        await client.delete_history(["a"])
        await client.free(unload_models=True)
    assert [
        (method, path, json.loads(body) if body else None) for method, path, body in requests
    ] == [
        ("POST", "/interrupt", {"prompt_id": "p-1"}),
        ("POST", "/interrupt", None),
        ("POST", "/queue", {"delete": ["a", "b"]}),
        ("POST", "/queue", {"clear": True}),
        ("POST", "/history", {"delete": ["a"]}),
        ("POST", "/free", {"unload_models": True, "free_memory": False}),
    ]


async def test_object_info_is_typed() -> None:
    answer = {
        "ImageInvert": {
            "input": {"required": {"image": ["IMAGE"]}},
            "output": ["IMAGE"],
            "output_is_list": [False],
            "output_name": ["IMAGE"],
            "name": "ImageInvert",
            "display_name": "Invert Image",
            "category": "image",
            "output_node": False,
            "python_module": "nodes",
        }
    }
    paths: list[str] = []

    def handler(request: httpx.Request) -> httpx.Response:
        paths.append(request.url.path)
        return httpx.Response(200, json=answer)

    async with client_for(handler) as client:
        definitions = await client.object_info("ImageInvert")
    assert paths == ["/object_info/ImageInvert"]
    assert definitions["ImageInvert"].display_name == "Invert Image"


def multipart_of(request: httpx.Request) -> tuple[dict[str, str], tuple[str, bytes]]:
    """Split our multipart body with the stdlib email parser (an independent reader)."""
    from email.parser import BytesParser
    from email.policy import HTTP

    head = f"Content-Type: {request.headers['content-type']}\r\n\r\n".encode()
    message = BytesParser(policy=HTTP).parsebytes(head + request.content)
    fields: dict[str, str] = {}
    upload: tuple[str, bytes] = ("", b"")
    for part in message.iter_parts():
        name = part.get_param("name", header="content-disposition")
        payload = part.get_payload(decode=True)
        assert isinstance(payload, bytes)
        filename = part.get_filename()
        if filename:
            upload = (filename, payload)
        else:
            fields[str(name)] = payload.decode()
    return fields, upload


async def test_upload_streams_a_file_and_returns_the_stored_name(tmp_path: Path) -> None:
    source = tmp_path / "in.png"
    source.write_bytes(b"\x89PNG" + bytes(range(256)) * 4000)
    captured: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        await request.aread()
        captured.append(request)
        return httpx.Response(
            200, json={"name": "in (1).png", "subfolder": "jobs", "type": "input"}
        )

    async with ComfyHttpClient(BASE, transport=httpx.MockTransport(handler)) as client:
        stored = await client.upload(source, subfolder="jobs", overwrite=True)
    assert (stored.name, stored.reference) == ("in (1).png", "jobs/in (1).png")
    request = captured[0]
    assert request.url.path == "/upload/image"
    assert int(request.headers["content-length"]) == len(request.content)
    fields, (filename, payload) = multipart_of(request)
    assert fields == {"type": "input", "subfolder": "jobs", "overwrite": "true"}
    assert (filename, payload) == ("in.png", source.read_bytes())


async def test_upload_from_an_async_iterator() -> None:
    captured: list[httpx.Request] = []

    async def handler(request: httpx.Request) -> httpx.Response:
        await request.aread()
        captured.append(request)
        return httpx.Response(200, json={"name": "a.wav", "subfolder": "", "type": "input"})

    async def chunks() -> AsyncIterator[bytes]:
        for index in range(3):
            yield bytes([index]) * 10

    async with ComfyHttpClient(BASE, transport=httpx.MockTransport(handler)) as client:
        stored = await client.upload(chunks(), filename="a.wav")
    assert stored.reference == "a.wav"
    fields, upload = multipart_of(captured[0])
    assert fields == {"type": "input"}
    assert upload == ("a.wav", b"\x00" * 10 + b"\x01" * 10 + b"\x02" * 10)


async def test_view_streams_to_a_file(tmp_path: Path) -> None:
    content = bytes(range(256)) * 1000

    def handler(request: httpx.Request) -> httpx.Response:
        assert dict(request.url.params) == {
            "filename": "v.mp4",
            "subfolder": "video",
            "type": "output",
        }
        return httpx.Response(200, content=content)

    async with client_for(handler) as client:
        written = await client.download("v.mp4", tmp_path / "v.mp4", subfolder="video")
    assert written == len(content)
    assert (tmp_path / "v.mp4").read_bytes() == content


class ResetMidBody(httpx.AsyncBaseTransport):
    """Reads the form head and one chunk of the file, then fails like a reset connection."""

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        chunks = 0
        async for _chunk in request.stream:  # type: ignore[union-attr]
            chunks += 1
            if chunks == 2:
                break
        raise httpx.WriteError("connection reset while sending")


async def test_a_failed_upload_closes_its_source() -> None:
    closed: list[bool] = []

    async def endless() -> AsyncIterator[bytes]:
        try:
            while True:
                yield b"x" * 1024
        finally:
            closed.append(True)

    async with ComfyHttpClient(BASE, transport=ResetMidBody()) as client:
        with pytest.raises(ComfyUnavailable, match="dropped the connection"):
            await client.upload(endless(), filename="big.bin")
    assert closed == [True]
