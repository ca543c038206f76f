"""Fixtures of the template route tests (import them into a test module).

``api_context`` here wraps the conftest's: the same services, plus a registry holding the
built-ins and ``solid-color``, a small JSON template written to a temporary folder.
"""

from __future__ import annotations

import base64
import io
import json
from dataclasses import replace
from pathlib import Path
from typing import Any

import pytest
from PIL import Image

from comfy_gateway.api.context import ApiContext
from comfy_gateway.templates import TemplateRegistry

SOLID_COLOR = "solid-color"
MAX_COLOR = 0xFFFFFF


def solid_color_document() -> dict[str, Any]:
    """EmptyImage → SaveImage; ``color`` by placeholder, ``size`` on two fields, a seed."""
    return {
        "name": SOLID_COLOR,
        "description": "A square image of one colour.",
        "version": "2",
        "parameters": [
            {"name": "color", "type": "int", "default": 0, "min": 0, "max": MAX_COLOR},
            {
                "name": "size",
                "type": "int",
                "default": 64,
                "min": 8,
                "max": 512,
                "targets": ["1.width", "1.height"],
            },
            {"name": "seed", "type": "int", "default": -1, "min": 0, "random_seed": True},
        ],
        "workflow": {
            "1": {
                "class_type": "EmptyImage",
                "inputs": {"width": 1, "height": 1, "batch_size": 1, "color": "__COLOR__"},
            },
            "2": {
                "class_type": "SaveImage",
                "inputs": {"images": ["1", 0], "filename_prefix": "solid-__SEED__"},
            },
        },
    }


def tiny_png_base64() -> str:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(buffer, format="PNG")
    return base64.b64encode(buffer.getvalue()).decode("ascii")


@pytest.fixture(name="template_folder")
def template_folder_fixture(tmp_path: Path) -> Path:
    folder = tmp_path / "templates"
    folder.mkdir()
    (folder / "solid.json").write_text(json.dumps(solid_color_document()), encoding="utf-8")
    return folder


@pytest.fixture(name="api_context")
def api_context_fixture(api_context: ApiContext, template_folder: Path) -> ApiContext:
    registry = TemplateRegistry([template_folder])
    assert registry.problems == ()
    return replace(api_context, templates=registry)
