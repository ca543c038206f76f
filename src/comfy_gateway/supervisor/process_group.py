"""Signalling a whole process group and waiting until none of it is left (Linux /proc)."""

from __future__ import annotations

import os
import select
import signal
import time
from pathlib import Path

PROC = Path("/proc")


def signal_group(pgid: int, sig: signal.Signals) -> bool:
    """Send ``sig`` to a process group; False when the group is already gone."""
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        return False
    return True


def parse_stat(stat_line: str) -> tuple[str, int] | None:
    """(state, process group) from a /proc/<pid>/stat line."""
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    fields = stat_line.rpartition(")")[2].split()
    try:
        return fields[0], int(fields[2])
    except (IndexError, ValueError):
        return None


def group_members(pgid: int, proc: Path = PROC) -> list[int]:
    """The live (not zombie) processes in group ``pgid``."""
    members = []
    for entry in proc.iterdir():
        if not entry.name.isdigit():
            continue
        try:
            parsed = parse_stat((entry / "stat").read_text())
        except OSError:
            continue  # it ended while we looked
        if parsed is not None and parsed[1] == pgid and parsed[0] != "Z":
            members.append(int(entry.name))
    return members


def wait_for_exit(pid: int, timeout_s: float) -> bool:
    """Block until a process (our child or not) exits; True if it did in time."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return True
    try:
        readable, _, _ = select.select([fd], [], [], max(timeout_s, 0.0))
        return bool(readable)
    finally:
        os.close(fd)


def wait_group_gone(pgid: int, timeout_s: float) -> bool:
    """Block until no live process is left in group ``pgid``; True if so in time."""
    deadline = time.monotonic() + timeout_s
    while members := group_members(pgid):
        if not wait_for_exit(members[0], deadline - time.monotonic()):
            return False
    return True


def kill_group_and_wait(pgid: int, timeout_s: float) -> bool:
    """SIGKILL whatever is left of a group and wait for it (blocking: run in a thread)."""
    signal_group(pgid, signal.SIGKILL)
    return wait_group_gone(pgid, timeout_s)
