"""The access log: off by default, one line per request with ``--access-log``, and an
API key sent in the query string never reaches it."""

from __future__ import annotations

from pathlib import Path

import pytest

from support.gateway_process import run_serve
from support.simulator_process import SimulatorProcess

KEY = "acme-key-0123456789abcdef"


def request_lines(output: list[str]) -> list[str]:
    return [line for line in output if '"GET /v1/jobs?' in line]


@pytest.mark.parametrize(("flags", "logged"), [((), False), (("--access-log",), True)])
def test_requests_are_logged_only_when_asked(
    simulator: SimulatorProcess, tmp_path: Path, flags: tuple[str, ...], logged: bool
) -> None:
    env = {"COMFY_GATEWAY_API_KEYS": f"acme:{KEY}"}
    with run_serve(tmp_path, [simulator.url], flags, env=env) as gateway, gateway.client() as http:
        answer = http.get("/v1/jobs", params={"api_key": KEY, "limit": 1})
        assert answer.status_code == 200, answer.text
    output = gateway.output_lines  # complete: the process has stopped

    lines = request_lines(output)
    assert len(lines) == (1 if logged else 0), "".join(output[-30:])
    assert all("api_key=[redacted]" in line for line in lines)
    assert not [line for line in output if KEY in line]
