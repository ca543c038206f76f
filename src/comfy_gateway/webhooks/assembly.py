"""Build the webhook sender from settings (the one place that reads them)."""

from __future__ import annotations

import asyncio
import logging

from comfy_gateway.config import GatewaySettings
from comfy_gateway.net.address_guard import AddressPolicy
from comfy_gateway.store.outbox_interface import WebhookOutbox
from comfy_gateway.webhooks.posting import WebhookPoster
from comfy_gateway.webhooks.sender import SenderOptions, WebhookSender
from comfy_gateway.webhooks.signing import TenantSecrets

log = logging.getLogger("comfy_gateway.webhooks")


def webhook_sender_from_settings(settings: GatewaySettings, outbox: WebhookOutbox) -> WebhookSender:
    """Secrets are parsed here, so a malformed one stops the process at start."""
    secrets = TenantSecrets.parse(settings.webhook_secrets)
    if not secrets.by_tenant:
        log.warning("no webhook secrets configured: webhooks are sent UNSIGNED")
    poster = WebhookPoster(
        policy=AddressPolicy.from_entries(settings.webhook_allow_list),
        timeout_s=settings.webhook_timeout_s,
    )
    options = SenderOptions(max_attempts=settings.webhook_max_attempts)
    return WebhookSender(outbox, poster, secrets, options)


def start_webhook_sender(
    settings: GatewaySettings, store: object, stop: asyncio.Event
) -> asyncio.Task[None] | None:
    """The sender as a task beside the worker, ending when ``stop`` is set; ``None`` if
    the store keeps no webhook outbox."""
    if not isinstance(store, WebhookOutbox):
        log.warning("this job store has no webhook outbox: webhooks will not be sent")
        return None
    sender = webhook_sender_from_settings(settings, store)
    return asyncio.create_task(sender.run(stop), name="webhook-sender")
