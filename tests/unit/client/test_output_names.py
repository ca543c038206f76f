"""Local names for outputs: whatever the server's filename says, the result is one plain
path component inside the output folder."""

from __future__ import annotations

from pathlib import Path

import pytest

from comfy_gateway.client.errors import UnsafeOutputPath
from comfy_gateway.client.job_view import OutputView
from comfy_gateway.client.output_names import (
    MAX_NAME_BYTES,
    output_file_names,
    path_inside,
    safe_output_filename,
)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("wan_00001_.mp4", "wan_00001_.mp4"),
        ("../../etc/passwd", "passwd"),
        ("/abs/path/x.png", "x.png"),
        ("..\\..\\win.ini", "win.ini"),
        ("sub/dir/ok.webp", "ok.webp"),
        (".hidden", "hidden"),
        ("..", "output-3"),
        ("", "output-3"),
        ("a:b*c?.png", "a_b_c_.png"),
        ("line\nbreak\x00.txt", "line_break_.txt"),
        ("CON.txt", "_CON.txt"),
        ("nul", "_nul"),
        ("trailing. ", "trailing"),
        ("bild_ü.png", "bild_ü.png"),
    ],
)
def test_names_are_single_safe_components(filename: str, expected: str) -> None:
    assert safe_output_filename(filename, 3) == expected


def test_long_names_keep_their_extension_and_fit() -> None:
    name = safe_output_filename("é" * 300 + ".mp4", 0)
    assert name.endswith(".mp4")
    assert len(name.encode("utf-8")) <= MAX_NAME_BYTES
    assert name.startswith("é")


def _output(index: int, filename: str) -> OutputView:
    return OutputView(index=index, filename=filename, url=f"/v1/jobs/j/outputs/{index}")


def test_colliding_names_get_their_index() -> None:
    outputs = [_output(0, "a/x.png"), _output(1, "b/x.png"), _output(2, "X.PNG"), _output(3, "y")]
    assert output_file_names(outputs) == {0: "0-x.png", 1: "1-x.png", 2: "2-X.PNG", 3: "y"}


def test_path_inside_refuses_escapes(tmp_path: Path) -> None:
    assert path_inside(tmp_path, "ok.png") == tmp_path.resolve() / "ok.png"
    for name in ("../x", "a/b", "/etc/passwd", ".."):
        with pytest.raises(UnsafeOutputPath, match="would leave"):
            path_inside(tmp_path, name)


def test_path_inside_refuses_a_symlink_leading_out(tmp_path: Path) -> None:
    outside = tmp_path / "outside"
    outside.mkdir()
    folder = tmp_path / "out"
    folder.mkdir()
    (folder / "link.png").symlink_to(outside / "target.png")
    with pytest.raises(UnsafeOutputPath, match="would leave"):
        path_inside(folder, "link.png")
