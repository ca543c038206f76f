"""Webhook settings from the environment, and the sender built from them."""

from __future__ import annotations

import asyncio

import pytest

from comfy_gateway.config import GatewaySettings
from comfy_gateway.errors import ConfigError
from comfy_gateway.webhooks import start_webhook_sender, webhook_sender_from_settings

SECRET_A = "whsec_c2VjcmV0LWE="
SECRET_B = "whsec_c2VjcmV0LWI="


def test_secrets_and_allow_list_come_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("COMFY_GATEWAY_WEBHOOK_SECRETS", f"acme:{SECRET_A}, *:{SECRET_B}")
    monkeypatch.setenv("COMFY_GATEWAY_WEBHOOK_ALLOW_LIST", "127.0.0.1/32,receiver.local")
    monkeypatch.setenv("COMFY_GATEWAY_WEBHOOK_MAX_ATTEMPTS", "3")
    settings = GatewaySettings()
    assert settings.webhook_secrets == {"acme": SECRET_A, "*": SECRET_B}
    assert settings.webhook_allow_list == ["127.0.0.1/32", "receiver.local"]
    assert settings.webhook_max_attempts == 3


def test_the_defaults_send_unsigned_to_public_addresses_only() -> None:
    settings = GatewaySettings()
    assert (settings.webhook_secrets, settings.webhook_allow_list) == ({}, [])
    assert settings.webhook_max_attempts == 6
    assert settings.webhook_timeout_s == 10.0


@pytest.mark.parametrize("value", ["whsec_abc", "acme", ":whsec_abc"])
def test_entries_without_a_tenant_are_refused(monkeypatch: pytest.MonkeyPatch, value: str) -> None:
    monkeypatch.setenv("COMFY_GATEWAY_WEBHOOK_SECRETS", value)
    with pytest.raises(ValueError, match="tenant:secret"):
        GatewaySettings()


class NoOutbox:
    """A store without the webhook outbox methods."""


def test_a_malformed_secret_stops_the_sender_from_being_built() -> None:
    settings = GatewaySettings(webhook_secrets={"acme": "not-a-secret"})
    with pytest.raises(ConfigError, match="whsec_"):
        webhook_sender_from_settings(settings, NoOutbox())  # type: ignore[arg-type]


async def test_a_store_without_outbox_starts_no_sender() -> None:
    assert start_webhook_sender(GatewaySettings(), NoOutbox(), asyncio.Event()) is None
