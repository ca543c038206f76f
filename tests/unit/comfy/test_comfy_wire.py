"""The wire's pure parts: fault adapters, one error per fault, URLs, JSON and text."""

from __future__ import annotations

from urllib.parse import parse_qsl, urlsplit

import aiohttp
import httpx
import pytest

from comfy_gateway.comfy.aiohttp_wire import aiohttp_fault, request_url
from comfy_gateway.comfy.http_errors import (
    FaultKind,
    RequestLabel,
    TransportFault,
    error_for_transport,
)
from comfy_gateway.comfy.httpx_wire import httpx_fault
from comfy_gateway.comfy.wire import decode_text, encode_json, json_request
from comfy_gateway.errors import ComfyError, ComfyTimeout, ComfyUnavailable

LABEL = RequestLabel(base_url="http://gpu0:8188", method="GET", path="/queue", backend="gpu0")


@pytest.mark.parametrize(
    ("exc", "kind", "detail"),
    [
        (aiohttp.SocketTimeoutError("slow"), FaultKind.TIMEOUT, "read timeout"),
        (aiohttp.ConnectionTimeoutError("slow"), FaultKind.TIMEOUT, "connect timeout"),
        (TimeoutError(), FaultKind.TIMEOUT, "timeout"),
        (aiohttp.ServerDisconnectedError(), FaultKind.DROPPED, "ServerDisconnectedError"),
        (aiohttp.ClientOSError(104, "reset"), FaultKind.DROPPED, "ClientOSError"),
        (aiohttp.ClientPayloadError("short"), FaultKind.DROPPED, "ClientPayloadError: short"),
        (aiohttp.InvalidURL("x"), FaultKind.OTHER, "InvalidURL"),
    ],
)
def test_aiohttp_exceptions_become_faults(exc: Exception, kind: FaultKind, detail: str) -> None:
    fault = aiohttp_fault(exc)
    assert fault is not None
    assert fault.kind is kind
    assert fault.detail.startswith(detail)


@pytest.mark.parametrize(
    ("exc", "kind", "detail"),
    [
        (httpx.ReadTimeout("slow"), FaultKind.TIMEOUT, "read timeout"),
        (httpx.PoolTimeout("slow"), FaultKind.TIMEOUT, "connection pool timeout"),
        (httpx.ConnectError("refused"), FaultKind.REFUSED, "refused"),
        (httpx.RemoteProtocolError("reset"), FaultKind.DROPPED, "RemoteProtocolError: reset"),
        (httpx.DecodingError("bad gzip"), FaultKind.OTHER, "DecodingError: bad gzip"),
    ],
)
def test_httpx_exceptions_become_faults(exc: Exception, kind: FaultKind, detail: str) -> None:
    assert httpx_fault(exc) == TransportFault(kind=kind, detail=detail)


@pytest.mark.parametrize("adapter", [aiohttp_fault, httpx_fault])
def test_other_exceptions_are_not_transport_faults(adapter: object) -> None:
    assert callable(adapter)
    assert adapter(ValueError("ours")) is None
    assert adapter(KeyError("ours")) is None


@pytest.mark.parametrize(
    ("kind", "error_type", "phrase"),
    [
        (FaultKind.TIMEOUT, ComfyTimeout, "did not answer in time (the detail)"),
        (FaultKind.REFUSED, ComfyUnavailable, "refused the connection"),
        (FaultKind.DROPPED, ComfyUnavailable, "dropped the connection"),
        (FaultKind.OTHER, ComfyError, "GET /queue failed: the detail"),
    ],
)
def test_one_error_per_fault_kind(kind: FaultKind, error_type: type, phrase: str) -> None:
    error = error_for_transport(TransportFault(kind=kind, detail="the detail"), LABEL)
    assert type(error) is error_type
    assert phrase in str(error)
    assert "ComfyUI at http://gpu0:8188" in str(error)
    assert error.backend == "gpu0"


def test_request_url_encodes_every_character_of_a_value() -> None:
    params = {"filename": "a b&c=d#e+f%20g?ü/漢.png", "subfolder": "", "type": "output"}
    url = request_url("http://127.0.0.1:8188", "/view", params)
    parts = urlsplit(str(url))
    assert (parts.path, parts.fragment) == ("/view", "")
    assert dict(parse_qsl(parts.query, keep_blank_values=True)) == params


def test_request_url_quotes_the_path_and_skips_an_empty_query() -> None:
    url = request_url("http://127.0.0.1:8188/comfy", "/object_info/Save | WAS", None)
    assert str(url) == "http://127.0.0.1:8188/comfy/object_info/Save%20%7C%20WAS"


def test_json_bodies_are_compact_utf8_and_none_sends_nothing() -> None:
    request = json_request("POST", "/prompt", {"text": "ü", "n": [1, 2]})
    assert request.content == '{"text":"ü","n":[1,2]}'.encode()
    assert request.headers == {"Content-Type": "application/json"}
    empty = json_request("POST", "/interrupt", None)
    assert (empty.content, dict(empty.headers)) == (None, {})
    with pytest.raises(ValueError, match="JSON"):
        encode_json({"x": float("nan")})


@pytest.mark.parametrize(
    ("body", "charset", "text"),
    [
        ("é".encode(), None, "é"),
        ("é".encode("latin-1"), "ISO-8859-1", "é"),
        ("é".encode(), "no-such-charset", "é"),
        (b"\xff", None, "\ufffd"),
    ],
)
def test_answer_text_never_fails_to_decode(body: bytes, charset: str | None, text: str) -> None:
    assert decode_text(body, charset) == text
