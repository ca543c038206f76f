"""Access to the fixtures extracted from the captured ComfyUI transcripts."""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "comfyui"


def _read(relative: str) -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads((FIXTURES / relative).read_text("utf-8"))
    return loaded


def load_scenario(key: str) -> dict[str, Any]:
    return _read(f"ws/{key}.json")


def connect_cases() -> dict[str, Any]:
    return _read("ws_connect.json")


def prompt_case_ids() -> list[str]:
    return sorted(path.stem for path in (FIXTURES / "prompt_cases").glob("*.json"))


def load_prompt_case(case_id: str) -> dict[str, Any]:
    return _read(f"prompt_cases/{case_id}.json")


def socket_of(scenario: Mapping[str, Any], label: str = "main") -> dict[str, Any]:
    found: dict[str, Any] = next(s for s in scenario["sockets"] if s["label"] == label)
    return found


def client_id_of(socket: Mapping[str, Any]) -> str:
    """The captured socket's clientId (from its URL, else from its first status sid)."""
    if "url" in socket:
        return str(parse_qs(urlsplit(socket["url"]).query)["clientId"][0])
    first = next(e["frame"] for e in socket["entries"] if e["kind"] == "frame")
    return str(first["data"]["sid"])
