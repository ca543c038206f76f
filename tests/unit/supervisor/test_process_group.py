"""Finding a process group's live members in /proc (a fake /proc here)."""

from __future__ import annotations

from pathlib import Path

from comfy_gateway.supervisor.process_group import group_members, parse_stat, wait_group_gone


def fake_process(proc: Path, pid: int, *, state: str, pgid: int) -> None:
    (proc / str(pid)).mkdir()
    (proc / str(pid) / "stat").write_text(f"{pid} (odd) name) {state} 1 {pgid} {pgid} 0 0")


def test_parse_stat_reads_state_and_group() -> None:
    assert parse_stat("77 (a) b) S 1 70 70 0") == ("S", 70)
    assert parse_stat("nonsense") is None


def test_group_members_skips_zombies_and_other_groups(tmp_path: Path) -> None:
    fake_process(tmp_path, 70, state="S", pgid=70)
    fake_process(tmp_path, 71, state="R", pgid=70)
    fake_process(tmp_path, 72, state="Z", pgid=70)
    fake_process(tmp_path, 80, state="S", pgid=80)
    (tmp_path / "self").mkdir()
    assert sorted(group_members(70, proc=tmp_path)) == [70, 71]


def test_a_group_that_never_existed_is_gone_at_once() -> None:
    assert wait_group_gone(2**22 + 12345, timeout_s=0)
