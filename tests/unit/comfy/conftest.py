"""Fixtures reading the captured ComfyUI transcripts (the ground truth) for unit tests."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

_SERVER_FRAME = re.compile(r"^\+\d+\.\d+\s+\S+\s+S→C\s+(\{.*\})\s*$")
_SCENARIO = re.compile(r"^### \((\w+)\)")
_JSON_BLOCK = re.compile(r"```json\n(.*?)\n```", re.DOTALL)


def server_frames_by_scenario(transcript: str) -> dict[str, list[str]]:
    """Every server→client text frame, grouped by the scenario heading ``### (a) …``."""
    frames: dict[str, list[str]] = {}
    scenario = "intro"
    for line in transcript.splitlines():
        heading = _SCENARIO.match(line)
        if heading:
            scenario = heading.group(1)
        match = _SERVER_FRAME.match(line)
        if match:
            frames.setdefault(scenario, []).append(match.group(1))
    return frames


@pytest.fixture(scope="session")
def ws_frames(shared_comfyui_dir: Path) -> dict[str, list[str]]:
    return server_frames_by_scenario((shared_comfyui_dir / "ws_transcript.md").read_text())


@pytest.fixture(scope="session")
def all_ws_frames(ws_frames: dict[str, list[str]]) -> list[str]:
    return [frame for frames in ws_frames.values() for frame in frames]


@pytest.fixture(scope="session")
def object_info_raw(shared_comfyui_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((shared_comfyui_dir / "object_info.json").read_text())
    return data


def protocol_section(protocol: str, heading: str) -> dict[str, Any]:
    """The first JSON block after the ``#### heading`` line of protocol.md."""
    start = protocol.index(f"#### {heading}")
    match = _JSON_BLOCK.search(protocol, start)
    assert match is not None
    data: dict[str, Any] = json.loads(match.group(1))
    return data


@pytest.fixture(scope="session")
def protocol_text(shared_comfyui_dir: Path) -> str:
    return (shared_comfyui_dir / "protocol.md").read_text()


@pytest.fixture(scope="session")
def protocol_json(protocol_text: str) -> Callable[[str], dict[str, Any]]:
    """``protocol_json("interrupted run")``: the first JSON block under that heading."""
    return lambda heading: protocol_section(protocol_text, heading)
