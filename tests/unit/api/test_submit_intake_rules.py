"""Pure rules of the intake: content types, the idempotency hash and key, the wait budget,
the media plan checks."""

from __future__ import annotations

from typing import Any

import pytest

from comfy_gateway.api.errors import ApiError
from comfy_gateway.api.intake.body import BodyKind, body_kind, parse_json
from comfy_gateway.api.intake.idempotency import check_idempotency_key, request_hash
from comfy_gateway.api.intake.media_intake import MediaLimits, check_media_plan
from comfy_gateway.api.submit_models import SubmitRequest
from comfy_gateway.api.wait import wait_budget
from comfy_gateway.config import GatewaySettings
from comfy_gateway.jobs.domain_errors import TooManyMedia, UnsafeMediaName


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [
        ("application/json", BodyKind.JSON),
        ("Application/JSON; charset=utf-8", BodyKind.JSON),
        ("application/vnd.api+json", BodyKind.JSON),
        ("multipart/form-data; boundary=x", BodyKind.MULTIPART),
    ],
)
def test_accepted_content_types(content_type: str, kind: BodyKind) -> None:
    assert body_kind(content_type) is kind


@pytest.mark.parametrize("content_type", [None, "", "text/plain", "application/xml", "json"])
def test_other_content_types_are_415(content_type: str | None) -> None:
    with pytest.raises(ApiError) as caught:
        body_kind(content_type)
    assert (caught.value.status_code, caught.value.code) == (415, "unsupported_media_type")


def test_malformed_json_is_400_with_its_position() -> None:
    with pytest.raises(ApiError) as caught:
        parse_json(b'{"a": 1,\n "b": }')
    assert (caught.value.status_code, caught.value.code) == (400, "invalid_json")
    assert "line 2" in caught.value.message


def request(**fields: Any) -> SubmitRequest:
    return SubmitRequest.model_validate({"workflow": {"1": {"class_type": "X"}}, **fields})


def test_the_hash_ignores_key_order_defaults_and_answer_only_fields() -> None:
    plain = request_hash(request(params={"a": 1, "b": 2}), [])
    reordered = request_hash(request(params={"b": 2, "a": 1}, priority=0), [])
    waiting = request_hash(request(params={"a": 1, "b": 2}, wait=True, wait_timeout_s=9), [])

    assert plain == reordered == waiting


def test_the_hash_changes_with_the_request_and_with_uploaded_files() -> None:
    base = request_hash(request(), [("a.png", "0" * 64)])

    assert base != request_hash(request(priority=1), [("a.png", "0" * 64)])
    assert base != request_hash(request(), [("a.png", "1" * 64)])
    assert base != request_hash(request(), [("b.png", "0" * 64)])
    assert base != request_hash(request(), [])
    assert base == request_hash(request(), [("a.png", "0" * 64)])


@pytest.mark.parametrize("key", ["a", "0193-uuid-like", "x" * 255, "~!@#$%^&*()"])
def test_usable_idempotency_keys(key: str) -> None:
    assert check_idempotency_key(key) == key


@pytest.mark.parametrize("key", ["", " ", "a b", "x" * 256, "é", "a\nb"])
def test_unusable_idempotency_keys(key: str) -> None:
    with pytest.raises(ApiError) as caught:
        check_idempotency_key(key)
    assert caught.value.code == "invalid_idempotency_key"


def test_no_key_is_fine() -> None:
    assert check_idempotency_key(None) is None


@pytest.mark.parametrize(
    ("requested", "expected"), [(None, 30.0), (5.5, 5.5), (3600.0, 30.0), (0.0, 0.0)]
)
def test_wait_budget_is_clamped(requested: float | None, expected: float) -> None:
    assert wait_budget(requested, GatewaySettings(max_wait_s=30)) == expected


LIMITS = MediaLimits(max_items=2, max_bytes=100)


def test_media_inputs_count_towards_the_limit() -> None:
    with_inputs = request(
        media=[{"name": "a.png", "data": "QUJD"}],
        inputs=[
            {"node": "1", "field": "x", "image_base64": "QUJD"},
            {"node": "1", "field": "y", "image_url": "http://x/y.png"},
        ],
    )
    with pytest.raises(TooManyMedia):
        check_media_plan(with_inputs, [], LIMITS)


def test_media_names_are_checked_before_anything_is_read() -> None:
    with pytest.raises(UnsafeMediaName):
        check_media_plan(request(media=[{"name": "a/b.png", "url": "http://x"}]), [], LIMITS)


def test_duplicate_media_names_are_refused() -> None:
    twice = request(media=[{"name": "a.png", "data": "QUJD"}, {"name": "a.png", "data": "QUJE"}])
    with pytest.raises(ApiError) as caught:
        check_media_plan(twice, [], LIMITS)
    assert caught.value.code == "duplicate_media_name"
