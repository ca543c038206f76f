"""The registry: built-ins, folder overrides, reload, and refusals of paths that escape."""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any

import pytest

from comfy_gateway.templates import (
    Template,
    TemplateNotFound,
    TemplatePathRefused,
    TemplateRegistry,
)


def template_document(name: str, description: str = "") -> dict[str, Any]:
    return {
        "name": name,
        "description": description,
        "parameters": [{"name": "width", "type": "int", "default": 64}],
        "workflow": {"1": {"class_type": "EmptyImage", "inputs": {"width": "__WIDTH__"}}},
    }


def write(path: Path, document: Any) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(document), encoding="utf-8")
    return path


def builtins() -> list[Template]:
    return [Template(name="wan22-i2v", description="built in")]


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    root = tmp_path / "templates"
    write(root / "portrait.json", template_document("portrait"))
    write(root / "video" / "clip.json", template_document("clip"))
    return root


def test_builtins_and_folder_templates_are_listed(folder: Path) -> None:
    registry = TemplateRegistry([folder], builtins=builtins)
    assert [t.name for t in registry.templates()] == ["clip", "portrait", "wan22-i2v"]
    assert registry.get("clip").source == "video/clip.json"
    assert registry.problems == ()


def test_the_real_builtins_load_by_default() -> None:
    names = [template.name for template in TemplateRegistry().templates()]
    assert names == ["wan22-i2v", "wan22-s2v"]


def test_a_folder_template_overrides_a_builtin_with_a_warning(
    folder: Path, caplog: pytest.LogCaptureFixture
) -> None:
    write(folder / "mine.json", template_document("wan22-i2v", "ours"))
    with caplog.at_level(logging.WARNING, logger="comfy_gateway.templates.registry"):
        registry = TemplateRegistry([folder], builtins=builtins)
    assert registry.get("wan22-i2v").description == "ours"
    assert any("overrides" in record.getMessage() for record in caplog.records)


def test_reload_picks_up_added_changed_and_removed_files(folder: Path) -> None:
    registry = TemplateRegistry([folder], builtins=builtins)
    write(folder / "new.json", template_document("new"))
    write(folder / "portrait.json", template_document("portrait", "v2"))
    (folder / "video" / "clip.json").unlink()
    registry.reload()
    assert registry.get("portrait").description == "v2"
    assert registry.get("new").name == "new"
    with pytest.raises(TemplateNotFound):
        registry.get("clip")


def test_a_broken_file_is_skipped_and_reported(folder: Path) -> None:
    (folder / "broken.json").write_text("{not json", encoding="utf-8")
    write(
        folder / "reserved.json",
        {
            **template_document("r"),
            "parameters": [
                {"name": "wait", "type": "bool", "default": True, "targets": ["1.width"]},
                {"name": "width", "type": "int", "default": 1},
            ],
        },
    )
    registry = TemplateRegistry([folder], builtins=builtins)
    assert sorted(Path(p.path).name for p in registry.problems) == ["broken.json", "reserved.json"]
    assert any("reserved" in p.reason for p in registry.problems)
    assert registry.get("portrait").name == "portrait"


def test_a_symlink_out_of_the_folder_is_not_loaded(folder: Path, tmp_path: Path) -> None:
    outside = write(tmp_path / "outside" / "secret.json", template_document("secret"))
    (folder / "link.json").symlink_to(outside)
    registry = TemplateRegistry([folder], builtins=builtins)
    with pytest.raises(TemplateNotFound):
        registry.get("secret")
    assert [Path(p.path).name for p in registry.problems] == ["link.json"]


def test_unknown_name_is_not_found(folder: Path) -> None:
    registry = TemplateRegistry([folder], builtins=builtins)
    with pytest.raises(TemplateNotFound) as caught:
        registry.get("nothing-here")
    assert caught.value.http_status == 404


def test_read_path_and_load_path_inside_the_folders(folder: Path) -> None:
    registry = TemplateRegistry([folder], builtins=builtins)
    assert registry.read_path("video/clip.json")["name"] == "clip"
    assert registry.load_path("video%2Fclip.json").name == "clip"
    with pytest.raises(TemplateNotFound):
        registry.read_path("video/none.json")


ESCAPES = [
    "../x.json",
    "video/../../x.json",
    "/etc/passwd",
    "\\etc\\passwd",
    "C:/windows/win.ini",
    "%2e%2e/x.json",
    "%2E%2E%2Fx.json",
    "%252e%252e%252fx.json",
    "..%5cx.json",
    "x.json\x00.png",
]


@pytest.mark.parametrize("path", ESCAPES)
def test_paths_that_escape_are_refused_with_403(folder: Path, path: str) -> None:
    (folder.parent / "x.json").write_text(json.dumps(template_document("x")), encoding="utf-8")
    registry = TemplateRegistry([folder], builtins=builtins)
    with pytest.raises(TemplatePathRefused) as caught:
        registry.read_path(path)
    assert caught.value.http_status == 403


@pytest.mark.parametrize("name", ["../x", "%2e%2e%2fx", "a/b", "..\\x"])
def test_path_like_names_are_refused_with_403(folder: Path, name: str) -> None:
    registry = TemplateRegistry([folder], builtins=builtins)
    with pytest.raises(TemplatePathRefused):
        registry.get(name)


def test_a_symlink_out_is_refused_when_read_by_path(folder: Path, tmp_path: Path) -> None:
    outside = write(tmp_path / "outside" / "secret.json", template_document("secret"))
    (folder / "video" / "link.json").symlink_to(outside)
    (folder / "linked-dir").symlink_to(outside.parent, target_is_directory=True)
    registry = TemplateRegistry([folder], builtins=builtins)
    for path in ("video/link.json", "linked-dir/secret.json"):
        with pytest.raises(TemplatePathRefused):
            registry.read_path(path)
