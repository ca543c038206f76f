"""`comfy-gateway serve` runs the webhook sender beside its worker (a real process)."""

from __future__ import annotations

import asyncio
import base64
import json
import socket
from pathlib import Path
from typing import Any

import httpx
from standardwebhooks import Webhook

from integration.webhooks.receiver import running_receiver
from support.gateway_process import run_serve

SECRET = "whsec_" + base64.b64encode(b"serve-process webhook secret....").decode()


def closed_port_url() -> str:
    """A backend nobody answers at, so a submitted job stays queued until cancelled."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    return f"http://127.0.0.1:{port}"


async def delivered_webhook(client: httpx.AsyncClient, job_id: str) -> dict[str, Any]:
    """The job's ``webhook`` once the gateway recorded the delivery (it does so just
    after the receiver answered)."""
    async with asyncio.timeout(10):
        while True:
            webhook: dict[str, Any] = (await client.get(f"/v1/jobs/{job_id}")).json()["webhook"]
            if webhook["status"] != "pending":
                return webhook
            await asyncio.sleep(0.05)


async def test_a_cancelled_job_is_announced_signed(tmp_path: Path) -> None:
    env = {
        "COMFY_GATEWAY_WEBHOOK_SECRETS": f"*:{SECRET}",
        # One allow-list for webhooks, at submit and at delivery; the media fetch
        # allow-list stays empty.
        "COMFY_GATEWAY_WEBHOOK_ALLOW_LIST": "127.0.0.1/32",
    }
    async with running_receiver() as receiver:
        with run_serve(tmp_path / "gateway", [closed_port_url()], env=env) as gateway:
            async with gateway.async_client() as client:
                submitted = await client.post(
                    "/v1/jobs",
                    json={
                        "workflow": {"1": {"class_type": "X", "inputs": {}}},
                        "webhook_url": receiver.url,
                    },
                )
                assert submitted.status_code == 202, submitted.text
                job_id = submitted.json()["job_id"]
                assert submitted.json()["webhook"]["status"] == "pending"
                cancelled = await client.post(f"/v1/jobs/{job_id}/cancel")
                assert cancelled.status_code == 200, cancelled.text
                post = await receiver.next_post(timeout_s=15.0)
                webhook = await delivered_webhook(client, job_id)

    payload = Webhook(SECRET).verify(post.body, post.headers)
    assert payload["event"] == "job.cancelled"
    assert payload["job_id"] == job_id
    assert json.loads(post.body) == payload
    assert webhook == {
        "url": receiver.url,
        "status": "delivered",
        "attempts": 1,
        "last_error": None,
    }
