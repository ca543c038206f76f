"""Pidfile records and the checks that keep us from killing a reused pid."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from comfy_gateway.supervisor.pidfile import (
    PidRecord,
    ProcessIdentity,
    decode_record,
    encode_record,
    end_stale_process,
    matches_record,
    parse_cmdline,
    parse_start_ticks,
    read_boot_id,
    read_identity,
    read_pidfile,
    write_pidfile,
)

RECORD = PidRecord(pid=4242, argv=("python", "main.py", "--port", "8188"), start_ticks=777)
BOOT = "boot-a"
BOOTED = PidRecord(pid=4242, argv=RECORD.argv, start_ticks=777, boot_id=BOOT)


def test_a_record_survives_encoding() -> None:
    assert decode_record(encode_record(RECORD)) == RECORD
    assert decode_record(encode_record(BOOTED)) == BOOTED


@pytest.mark.parametrize(
    "text",
    [
        "",
        "4242",  # a plain pidfile written by something else
        '{"pid": "4242", "argv": [], "start_ticks": null}',
        '{"pid": 1, "argv": ["init"], "start_ticks": null}',  # never pid 1
        '{"pid": 4242, "argv": "python", "start_ticks": null}',
        '{"pid": 4242, "argv": [], "start_ticks": "soon"}',
        '{"pid": 4242}',
    ],
)
def test_anything_we_did_not_write_is_ignored(text: str) -> None:
    assert decode_record(text) is None


def test_without_a_boot_id_command_line_and_start_time_must_match() -> None:
    same = ProcessIdentity(argv=RECORD.argv, start_ticks=777)
    assert matches_record(RECORD, same, boot_id=BOOT)
    assert not matches_record(
        RECORD, ProcessIdentity(argv=RECORD.argv, start_ticks=778), boot_id=BOOT
    )
    assert not matches_record(
        RECORD, ProcessIdentity(argv=("bash",), start_ticks=777), boot_id=BOOT
    )
    assert not matches_record(RECORD, None, boot_id=BOOT)


def test_in_the_same_boot_the_start_time_decides_even_after_an_exec() -> None:
    exec_d = ProcessIdentity(argv=("python", "other.py"), start_ticks=777)
    assert matches_record(BOOTED, exec_d, boot_id=BOOT)
    reused = ProcessIdentity(argv=BOOTED.argv, start_ticks=900)
    assert not matches_record(BOOTED, reused, boot_id=BOOT)


def test_a_pidfile_from_before_a_reboot_never_matches() -> None:
    same = ProcessIdentity(argv=BOOTED.argv, start_ticks=777)
    assert not matches_record(BOOTED, same, boot_id="boot-b")


def test_without_a_start_time_the_command_line_decides() -> None:
    record = PidRecord(pid=4242, argv=("a", "b"), start_ticks=None)
    assert matches_record(record, ProcessIdentity(argv=("a", "b"), start_ticks=5), boot_id=None)
    assert not matches_record(record, ProcessIdentity(argv=("a",), start_ticks=5), boot_id=None)


def test_read_boot_id_from_a_fake_proc(tmp_path: Path) -> None:
    assert read_boot_id(proc=tmp_path) is None
    folder = tmp_path / "sys" / "kernel" / "random"
    folder.mkdir(parents=True)
    (folder / "boot_id").write_text("abc\n")
    assert read_boot_id(proc=tmp_path) == "abc"


def test_parse_cmdline_splits_on_nul() -> None:
    assert parse_cmdline(b"python\0main.py\0--port\x008188\0") == (
        "python",
        "main.py",
        "--port",
        "8188",
    )


def test_parse_start_ticks_survives_odd_command_names() -> None:
    fields_after_name = " ".join(["S"] + [str(n) for n in range(4, 30)])
    line = f"123 (we ird) name)) {fields_after_name}"
    assert parse_start_ticks(line) == 22  # field 22 of stat
    assert parse_start_ticks("garbage") is None


def test_read_identity_of_this_process() -> None:
    identity = read_identity(os.getpid())
    assert identity is not None
    assert identity.start_ticks is not None
    assert Path(identity.argv[0]).name.startswith("python") or "pytest" in identity.argv[0]


def test_read_identity_from_a_fake_proc(tmp_path: Path) -> None:
    (tmp_path / "55").mkdir()
    (tmp_path / "55" / "cmdline").write_bytes(b"sim\0--port\x001\0")
    (tmp_path / "55" / "stat").write_text("55 (sim) " + " ".join(["S"] + ["0"] * 18 + ["99"]))
    identity = read_identity(55, proc=tmp_path)
    assert identity == ProcessIdentity(argv=("sim", "--port", "1"), start_ticks=99)
    assert read_identity(56, proc=tmp_path) is None


def test_write_pidfile_records_our_own_start_time(tmp_path: Path) -> None:
    path = tmp_path / "comfyui.pid"
    record = write_pidfile(path, pid=os.getpid(), argv=["x"])
    assert read_pidfile(path) == record
    assert record.start_ticks == read_identity(os.getpid()).start_ticks  # type: ignore[union-attr]


def test_no_pidfile_means_nothing_to_end(tmp_path: Path) -> None:
    assert end_stale_process(tmp_path / "comfyui.pid", grace_s=1) is None


def test_a_garbage_pidfile_is_removed_without_killing_anything(tmp_path: Path) -> None:
    path = tmp_path / "comfyui.pid"
    path.write_text(str(os.getpid()))
    assert end_stale_process(path, grace_s=1) is None
    assert not path.exists()


def test_a_pidfile_naming_us_with_another_start_time_spares_us(tmp_path: Path) -> None:
    path = tmp_path / "comfyui.pid"
    ours = read_identity(os.getpid())
    assert ours is not None
    assert ours.start_ticks is not None
    record = PidRecord(
        pid=os.getpid(), argv=ours.argv, start_ticks=ours.start_ticks + 1, boot_id=read_boot_id()
    )
    path.write_text(encode_record(record))
    assert end_stale_process(path, grace_s=1) is None  # we are still alive to assert it
    assert not path.exists()
