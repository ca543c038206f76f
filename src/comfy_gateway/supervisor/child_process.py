"""Starting and ending the supervised process and its whole process group."""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import subprocess

from comfy_gateway.supervisor.launch import LaunchCommand
from comfy_gateway.supervisor.process_group import kill_group_and_wait, signal_group


def port_is_free(host: str, port: int) -> bool:
    """Whether a server could listen on ``port`` now.

    SO_REUSEADDR as ComfyUI's aiohttp and the simulator use it: connections of a killed
    predecessor lingering in TIME_WAIT do not stop a restart from keeping its port.
    """
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((host, port))
        except OSError:
            return False
    return True


def pick_port(host: str, preferred: int | None = None) -> int:
    """``preferred`` when it is free (a restart keeps its URL), else one the kernel picks.

    The port is free when we look; the child binds it a moment later. Another process
    could take it in between: the child then exits, which counts as a crash and the
    restart picks again.
    """
    if preferred is not None and port_is_free(host, preferred):
        return preferred
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        port: int = sock.getsockname()[1]
        return port


async def spawn(command: LaunchCommand) -> asyncio.subprocess.Process:
    """Start the child in a session (and process group) of its own, output piped to us.

    Its own group lets us end it with everything it started, and keeps a Ctrl-C at our
    terminal from reaching it before we have released our jobs.
    """
    return await asyncio.create_subprocess_exec(
        *command.argv,
        cwd=command.cwd,
        env={**os.environ, **command.env},
        stdin=subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )


async def wait_exit(process: asyncio.subprocess.Process, timeout_s: float) -> bool:
    """True when the process has exited within ``timeout_s``."""
    try:
        await asyncio.wait_for(process.wait(), timeout_s)
    except TimeoutError:
        return False
    return True


async def end_group(process: asyncio.subprocess.Process, *, grace_s: float) -> int | None:
    """SIGTERM the child's group, SIGKILL it after ``grace_s``; its exit code."""
    pgid = process.pid  # start_new_session makes the child its group's leader
    if process.returncode is None:
        signal_group(pgid, signal.SIGTERM)
        if not await wait_exit(process, grace_s):
            signal_group(pgid, signal.SIGKILL)
            await wait_exit(process, grace_s)
    with contextlib.suppress(ProcessLookupError):
        process.kill()
    # Whatever the leader left in its group (workers, a shell's children) goes too.
    await asyncio.to_thread(kill_group_and_wait, pgid, grace_s)
    return process.returncode
