"""The pidfile of a supervised ComfyUI, and ending the stale process it points at.

When the gateway is killed with SIGKILL its ComfyUI lives on in its own session, holding
the GPU's memory. The next start reads the pidfile and ends that process group first —
but only after checking that the pid still belongs to the process we launched, because
pids are reused. A pid with the same start time in the same boot is the same process
(even if it exec'd another program since); without a start time, the command line must
match.
"""

from __future__ import annotations

import contextlib
import json
import logging
import signal
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from comfy_gateway.supervisor.process_group import (
    kill_group_and_wait,
    signal_group,
    wait_for_exit,
)

logger = logging.getLogger(__name__)
PROC = Path("/proc")


@dataclass(frozen=True, kw_only=True)
class PidRecord:
    """What identifies a launched process: pid (= its group id), argv and start time."""

    pid: int
    argv: tuple[str, ...]
    start_ticks: int | None
    boot_id: str | None = None


@dataclass(frozen=True, kw_only=True)
class ProcessIdentity:
    """What /proc says about a live pid."""

    argv: tuple[str, ...]
    start_ticks: int | None


def encode_record(record: PidRecord) -> str:
    body = {
        "pid": record.pid,
        "argv": list(record.argv),
        "start_ticks": record.start_ticks,
        "boot_id": record.boot_id,
    }
    return json.dumps(body)


def decode_record(text: str) -> PidRecord | None:
    """The record in a pidfile, or None for anything we did not write."""
    try:
        body = json.loads(text)
        pid, argv, ticks = body["pid"], body["argv"], body["start_ticks"]
    except (ValueError, TypeError, KeyError):
        return None
    if not isinstance(pid, int) or pid <= 1 or not isinstance(argv, list):
        return None
    if ticks is not None and not isinstance(ticks, int):
        return None
    boot_id = body.get("boot_id")
    return PidRecord(
        pid=pid,
        argv=tuple(str(word) for word in argv),
        start_ticks=ticks,
        boot_id=boot_id if isinstance(boot_id, str) else None,
    )


def matches_record(
    record: PidRecord, identity: ProcessIdentity | None, *, boot_id: str | None
) -> bool:
    """True when the live process is the one the pidfile describes (not a reused pid)."""
    if identity is None:
        return False
    if record.boot_id is not None and boot_id is not None and record.boot_id != boot_id:
        return False  # written before a reboot: whatever it launched died with it
    same_boot = record.boot_id is not None and record.boot_id == boot_id
    if same_boot and record.start_ticks is not None and identity.start_ticks is not None:
        return identity.start_ticks == record.start_ticks
    if identity.argv != record.argv:
        return False
    if record.start_ticks is None or identity.start_ticks is None:
        return True  # no start time to compare: the command line alone must do
    return identity.start_ticks == record.start_ticks


def read_boot_id(proc: Path = PROC) -> str | None:
    """This boot's id: start times in /proc only mean something within one boot."""
    try:
        return (proc / "sys" / "kernel" / "random" / "boot_id").read_text().strip() or None
    except OSError:
        return None


def parse_cmdline(raw: bytes) -> tuple[str, ...]:
    return tuple(part.decode(errors="replace") for part in raw.split(b"\0") if part)


def parse_start_ticks(stat_line: str) -> int | None:
    """Field 22 of /proc/<pid>/stat: start time in clock ticks since boot."""
    # The command name (field 2) may hold spaces and parentheses: split after the last ')'.
    _, _, rest = stat_line.rpartition(")")
    fields = rest.split()
    try:
        return int(fields[19])
    except (IndexError, ValueError):
        return None


def read_identity(pid: int, proc: Path = PROC) -> ProcessIdentity | None:
    """The argv and start time of ``pid``, or None when no such (live) process exists."""
    try:
        argv = parse_cmdline((proc / str(pid) / "cmdline").read_bytes())
        ticks = parse_start_ticks((proc / str(pid) / "stat").read_text())
    except OSError:
        return None
    if not argv:
        return None  # a zombie or kernel thread: nothing of ours to end
    return ProcessIdentity(argv=argv, start_ticks=ticks)


def write_pidfile(path: Path, *, pid: int, argv: Sequence[str]) -> PidRecord:
    """Record a freshly launched process (atomically, so a crash leaves no half file)."""
    record = PidRecord(
        pid=pid, argv=tuple(argv), start_ticks=_start_ticks_of(pid), boot_id=read_boot_id()
    )
    scratch = path.with_suffix(".tmp")
    scratch.write_text(encode_record(record))
    scratch.replace(path)
    return record


def _start_ticks_of(pid: int) -> int | None:
    identity = read_identity(pid)
    return identity.start_ticks if identity else None


def read_pidfile(path: Path) -> PidRecord | None:
    try:
        return decode_record(path.read_text())
    except OSError:
        return None


def remove_pidfile(path: Path) -> None:
    with contextlib.suppress(FileNotFoundError):
        path.unlink()


def end_stale_process(pidfile: Path, *, grace_s: float) -> PidRecord | None:
    """End the process group a pidfile from an earlier run points at, if still ours.

    Returns the record of the process that was ended, or None when there was none (no
    pidfile, a dead pid, or a pid now used by someone else, which we leave alone).
    Blocking: call it from a thread in async code.
    """
    record = read_pidfile(pidfile)
    identity = read_identity(record.pid) if record else None
    if record is None or not matches_record(record, identity, boot_id=read_boot_id()):
        remove_pidfile(pidfile)
        return None
    logger.warning("ending ComfyUI pid %d left over from an earlier run", record.pid)
    signal_group(record.pid, signal.SIGTERM)
    if not wait_for_exit(record.pid, grace_s):
        signal_group(record.pid, signal.SIGKILL)
        wait_for_exit(record.pid, grace_s)
    kill_group_and_wait(record.pid, grace_s)  # children it left behind in its group
    remove_pidfile(pidfile)
    return record
