"""Webhooks: durable delivery of job outcomes with Standard Webhooks signatures."""

from comfy_gateway.webhooks.assembly import start_webhook_sender, webhook_sender_from_settings
from comfy_gateway.webhooks.backoff import retry_delay
from comfy_gateway.webhooks.message import WebhookMessage, build_message
from comfy_gateway.webhooks.posting import PostResult, WebhookPoster
from comfy_gateway.webhooks.sender import SenderOptions, WebhookSender
from comfy_gateway.webhooks.signing import TenantSecrets, WebhookSecret, sign, webhook_headers

__all__ = [
    "PostResult",
    "SenderOptions",
    "TenantSecrets",
    "WebhookMessage",
    "WebhookPoster",
    "WebhookSecret",
    "WebhookSender",
    "build_message",
    "retry_delay",
    "sign",
    "start_webhook_sender",
    "webhook_headers",
    "webhook_sender_from_settings",
]
