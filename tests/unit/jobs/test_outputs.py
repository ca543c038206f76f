"""collect_output_entries on captured UI shapes and hostile ones; kinds; storage keys."""

from __future__ import annotations

from typing import Any

import pytest

from comfy_gateway.jobs.outputs import (
    OutputEntry,
    collect_output_entries,
    output_content_type,
    output_kind,
    safe_file_name,
    storage_key,
)

JOB = "0193a5c4-7b1e-7000-8000-000000000001"

# UI dicts exactly as ComfyUI 0.3.64 sent them (protocol.md §7 and §14).
SAVE_VIDEO = {
    "images": [{"filename": "clip_00001_.mp4", "subfolder": "video", "type": "output"}],
    "animated": [True],
}
ANIMATED_WEBP = {
    "images": [{"filename": "anim_00001_.webp", "subfolder": "", "type": "output"}],
    "animated": [True],
}
SAVE_AUDIO = {"audio": [{"filename": "snd_00001_.flac", "subfolder": "audio", "type": "output"}]}
BATCH = {
    "images": [
        {"filename": "tb_00001_.png", "subfolder": "", "type": "output"},
        {"filename": "tb_00002_.png", "subfolder": "", "type": "output"},
    ]
}
PREVIEW = {
    "images": [{"filename": "ComfyUI_temp_byazs_00001_.png", "subfolder": "", "type": "temp"}]
}


def _summary(entries: list[OutputEntry]) -> list[tuple[Any, ...]]:
    return [(e.index, e.node_id, e.filename, e.kind, e.content_type, e.temporary) for e in entries]


def test_captured_shapes_get_kinds_from_the_file_not_the_ui_key() -> None:
    entries = collect_output_entries(
        [("3", SAVE_VIDEO), ("2", ANIMATED_WEBP), ("9", SAVE_AUDIO), ("4", BATCH)]
    )
    assert _summary(entries) == [
        (0, "3", "clip_00001_.mp4", "video", "video/mp4", False),
        (1, "2", "anim_00001_.webp", "image", "image/webp", False),
        (2, "9", "snd_00001_.flac", "audio", "audio/flac", False),
        (3, "4", "tb_00001_.png", "image", "image/png", False),
        (4, "4", "tb_00002_.png", "image", "image/png", False),
    ]
    assert entries[0].subfolder == "video"
    assert entries[0].type == "output"


def test_temp_previews_are_skipped_when_real_outputs_exist() -> None:
    entries = collect_output_entries([("2", PREVIEW), ("3", BATCH)])
    assert [e.filename for e in entries] == ["tb_00001_.png", "tb_00002_.png"]
    assert [e.index for e in entries] == [0, 1]


def test_temp_previews_are_kept_when_they_are_the_only_results() -> None:
    entries = collect_output_entries([("2", PREVIEW), ("5", {"text": ["caption"]})])
    assert _summary(entries) == [
        (0, "2", "ComfyUI_temp_byazs_00001_.png", "image", "image/png", True),
        (1, "5", "text_5_0.txt", "text", "text/plain; charset=utf-8", False),
    ]
    assert entries[1].text == "caption"


def test_cached_re_send_is_listed_once() -> None:
    entries = collect_output_entries([("4", BATCH), ("4", BATCH), ("7", BATCH)])
    assert [e.filename for e in entries] == ["tb_00001_.png", "tb_00002_.png"]
    assert entries[0].node_id == "4"


def test_same_name_in_another_subfolder_or_type_is_another_output() -> None:
    ui = {
        "images": [
            {"filename": "a.png", "subfolder": "", "type": "output"},
            {"filename": "a.png", "subfolder": "x", "type": "output"},
        ]
    }
    assert len(collect_output_entries([("1", ui)])) == 2


def test_text_outputs_are_inline_and_deduplicated() -> None:
    entries = collect_output_entries(
        [("5", {"text": ["hello", "world", 3, None]}), ("5", {"text": ["hello"]})]
    )
    assert [(e.filename, e.text, e.kind) for e in entries] == [
        ("text_5_0.txt", "hello", "text"),
        ("text_5_1.txt", "world", "text"),
    ]


@pytest.mark.parametrize(
    ("ui", "expected"),
    [
        ({"3d": [{"filename": "mesh_00001_.glb", "subfolder": "3d", "type": "output"}]}, "3d"),
        ({"result": [{"filename": "splat.PLY", "type": "output"}]}, "3d"),
        ({"gifs": [{"filename": "a.gif", "subfolder": "", "type": "output"}]}, "image"),
        ({"video": [{"filename": "v.webm", "subfolder": "", "type": "output"}]}, "video"),
        ({"images": [{"filename": "v.mov", "subfolder": "", "type": "output"}]}, "video"),
        ({"audio": [{"filename": "s.mp3", "subfolder": "", "type": "output"}]}, "audio"),
        ({"files": [{"filename": "data.bin", "subfolder": "", "type": "output"}]}, "file"),
        ({"files": [{"filename": "notes.txt", "subfolder": "", "type": "output"}]}, "file"),
        ({"files": [{"filename": "README", "subfolder": "", "type": "output"}]}, "file"),
    ],
)
def test_kinds_of_other_output_nodes(ui: dict[str, Any], expected: str) -> None:
    (entry,) = collect_output_entries([("1", ui)])
    assert entry.kind == expected


@pytest.mark.parametrize(
    "ui",
    [
        {},
        {"animated": [True]},
        {"images": "not a list"},
        {"images": [None, 1, "x.png", ["a.png"]]},
        {"images": [{"subfolder": "", "type": "output"}]},
        {"images": [{"filename": "", "type": "output"}]},
        {"images": [{"filename": 3, "type": "output"}]},
        {"images": [{"filename": "a.png", "subfolder": None, "type": "output"}]},
        {"images": [{"filename": "in.png", "subfolder": "", "type": "input"}]},
        {"images": [{"filename": "a.png", "subfolder": "", "type": "weird"}]},
        {"text": "not a list"},
    ],
)
def test_hostile_or_irrelevant_ui_entries_are_ignored(ui: dict[str, Any]) -> None:
    assert collect_output_entries([("1", ui)]) == []


def test_missing_subfolder_and_type_default_to_a_normal_output() -> None:
    (entry,) = collect_output_entries([("1", {"images": [{"filename": "a.png"}]})])
    assert (entry.subfolder, entry.type, entry.temporary) == ("", "output", False)


def test_client_subfolder_drops_the_job_folder() -> None:
    ui = {
        "images": [
            {
                "filename": "wan_00001_.mp4",
                "subfolder": f"comfy-gateway/{JOB}/video",
                "type": "output",
            }
        ]
    }
    (entry,) = collect_output_entries([("61", ui)], job_id=JOB)
    assert entry.subfolder == f"comfy-gateway/{JOB}/video"
    assert entry.client_subfolder == "video"
    (no_job,) = collect_output_entries([("61", ui)])
    assert no_job.client_subfolder == entry.subfolder


def test_many_entries_keep_a_stable_order() -> None:
    uis = [
        (str(n), {"images": [{"filename": f"f{n}_{i}.png", "type": "output"} for i in range(50)]})
        for n in range(20)
    ]
    entries = collect_output_entries(uis)
    assert [e.index for e in entries] == list(range(1000))
    assert entries[137].filename == "f2_37.png"
    assert collect_output_entries(uis) == entries


@pytest.mark.parametrize(
    ("filename", "content_type"),
    [
        ("a.PNG", "image/png"),
        ("a.jpeg", "image/jpeg"),
        ("a.mp4", "video/mp4"),
        ("a.flac", "audio/flac"),
        ("a.glb", "model/gltf-binary"),
        ("noext", "application/octet-stream"),
        ("a.zzzunknown", "application/octet-stream"),
    ],
)
def test_output_content_type(filename: str, content_type: str) -> None:
    assert output_content_type(filename) == content_type


def test_output_kind_uses_content_type_when_the_extension_is_not_3d() -> None:
    assert output_kind("x", "video/mp4") == "video"
    assert output_kind("x.obj", "text/plain") == "3d"


@pytest.mark.parametrize(
    ("filename", "safe"),
    [
        ("wan_00001_.mp4", "wan_00001_.mp4"),
        ("../../etc/passwd", "_.._etc_passwd"),
        (".hidden", "hidden"),
        ("a b\x00c.png", "a_b_c.png"),
        ("", "output"),
        ("...", "output"),
        ("é" * 300, "_"),
    ],
)
def test_safe_file_name(filename: str, safe: str) -> None:
    assert safe_file_name(filename) == safe


def test_storage_key() -> None:
    assert storage_key("acme", JOB, 3, "wan_00001_.mp4") == f"acme/{JOB}/3-wan_00001_.mp4"
    assert storage_key("acme", JOB, 0, "../x") == f"acme/{JOB}/0-_x"
    assert len(storage_key("t", JOB, 1, "y" * 10_000)) < 260
