"""Catalogues and graphs from the captured ComfyUI 0.3.64 server."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from comfy_gateway.validation import NodeCatalogue


@pytest.fixture(scope="session")
def object_info(shared_comfyui_dir: Path) -> dict[str, Any]:
    data: dict[str, Any] = json.loads((shared_comfyui_dir / "object_info.json").read_text())
    return data


@pytest.fixture(scope="session")
def catalogue(object_info: dict[str, Any]) -> NodeCatalogue:
    return NodeCatalogue.from_object_info(object_info)
