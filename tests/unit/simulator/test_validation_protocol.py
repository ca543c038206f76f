"""Every POST /prompt case captured in protocol.md §5–§6, replayed against the validator.

The cases are read from the transcript itself, so the expected answers are the real
server's, byte for byte after JSON parsing (dict key order included).
"""

from __future__ import annotations

import ast
import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from comfy_gateway.simulator.catalogue import NodeCatalogue, load_captured_object_info
from comfy_gateway.simulator.validation import (
    INTERNAL_ERROR_TEXT,
    PromptAccepted,
    PromptBodyUnparseable,
    PromptRejected,
    check_prompt_request,
)

PROTOCOL = Path(__file__).resolve().parents[4] / "shared" / "comfyui" / "protocol.md"
TRIM_MARKER = "more items trimmed)"


@dataclass(frozen=True, kw_only=True)
class CapturedCase:
    title: str
    raw_body: bytes
    status: int
    answer: Any  # parsed JSON, or the text of a text answer


def _section(text: str, start: str, end: str) -> str:
    return text[text.index(start) : text.index(end)]


def _raw_body(block: str) -> bytes:
    json_body = re.search(r"Request JSON body:\n```json\n(.*?)\n```", block, re.S)
    if json_body:
        return json_body.group(1).encode()
    raw = re.search(r"Request raw body \(.*?\): `(.*?)`\n", block)
    assert raw, block[:200]
    return str(ast.literal_eval(raw.group(1))).encode()


def _answer(block: str) -> Any:
    answer = re.search(r"Response JSON:\n```json\n(.*?)\n```", block, re.S)
    if answer:
        return json.loads(answer.group(1))
    text = re.search(r"Response text: `(.*?)`\n", block)
    assert text, block[:200]
    return json.loads(text.group(1))


def captured_cases() -> list[CapturedCase]:
    if not PROTOCOL.is_file():
        return []
    text = PROTOCOL.read_text(encoding="utf-8")
    section = _section(text, "## 5. POST /prompt", "## 7. GET /history")
    cases = []
    for block in re.split(r"\n(?=#### )", section)[1:]:
        status = re.search(r"Response: \*\*HTTP (\d+)", block)
        assert status, block[:200]
        assert TRIM_MARKER not in block, "a trimmed case cannot be compared exactly"
        cases.append(
            CapturedCase(
                title=block.splitlines()[0].removeprefix("#### "),
                raw_body=_raw_body(block),
                status=int(status.group(1)),
                answer=_answer(block),
            )
        )
    return cases


CASES = captured_cases()


@pytest.fixture
def catalogue(tmp_path: Path) -> NodeCatalogue:
    """The captured server: no models, `example.png` in its input folder."""
    input_dir = tmp_path / "input"
    input_dir.mkdir()
    (input_dir / "example.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    return NodeCatalogue(load_captured_object_info(), model_files={}, input_dir=input_dir)


def test_the_transcript_holds_every_prompt_case(shared_comfyui_dir: Path) -> None:
    assert len(CASES) == 30
    assert {case.status for case in CASES} == {200, 400, 500}


@pytest.mark.parametrize("case", CASES, ids=[case.title[:60] for case in CASES])
def test_captured_answer_is_reproduced(case: CapturedCase, catalogue: NodeCatalogue) -> None:
    outcome = check_prompt_request(case.raw_body, catalogue)
    if case.status == 200:
        assert isinstance(outcome, PromptAccepted)
        assert json.dumps(outcome.node_errors) == json.dumps(case.answer["node_errors"])
        sent = json.loads(case.raw_body)
        assert outcome.prompt_id == sent.get("prompt_id")
        assert outcome.client_id == sent.get("client_id")
    elif case.status == 400:
        assert isinstance(outcome, PromptRejected)
        # dumps keeps key order: node_errors order and extra_info key order must match too.
        assert json.dumps(outcome.body) == json.dumps(case.answer)
    else:
        assert isinstance(outcome, PromptBodyUnparseable)
        assert outcome.text == case.answer == INTERNAL_ERROR_TEXT
