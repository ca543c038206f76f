"""Replay every captured POST /prompt case (protocol.md §5–§6) against the simulator."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from .captured import load_prompt_case, prompt_case_ids
from .transcript_matching import compare_documents


def request_arguments(request: dict[str, Any]) -> dict[str, Any]:
    """httpx arguments sending exactly the captured bytes and Content-Type."""
    if "raw" in request:
        content = request["raw"].encode("utf-8")
        return {"content": content, "headers": {"Content-Type": request["content_type"]}}
    return {"json": request["json"]}


@pytest.mark.parametrize("case_id", prompt_case_ids())
async def test_prompt_case_matches_the_capture(case_id: str, sim_http: httpx.AsyncClient) -> None:
    case = load_prompt_case(case_id)
    response = await sim_http.request(
        case["method"], case["path"], **request_arguments(case["request"])
    )
    assert response.status_code == case["status"], response.text
    assert response.headers.get("content-type") == case["content_type"]
    if "response_json" in case:
        mismatch = compare_documents(case["response_json"], response.json())
        assert mismatch is None, f"{case_id}: {mismatch}"
    else:
        assert response.text == case["response_text"]
