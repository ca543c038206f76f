"""Picking the port a supervised ComfyUI listens on."""

from __future__ import annotations

import socket

from comfy_gateway.supervisor.child_process import pick_port, port_is_free

HOST = "127.0.0.1"


def test_a_free_preferred_port_is_kept() -> None:
    port = pick_port(HOST)
    assert port_is_free(HOST, port)
    assert pick_port(HOST, preferred=port) == port


def test_a_port_someone_listens_on_is_replaced() -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as taken:
        taken.bind((HOST, 0))
        taken.listen()
        busy = taken.getsockname()[1]
        assert not port_is_free(HOST, busy)
        assert pick_port(HOST, preferred=busy) != busy
