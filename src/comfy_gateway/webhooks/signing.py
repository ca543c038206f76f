"""Standard Webhooks signatures (pure; https://www.standardwebhooks.com).

The signed content is ``{webhook-id}.{webhook-timestamp}.{body}``; the signature header
is ``v1,<base64 HMAC-SHA256>`` under the tenant's secret. A secret is written
``whsec_<base64 key>`` and the key is the *decoded* bytes after the prefix, as the
specification says (signing with the base64 text would verify nowhere else).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
from collections.abc import Mapping
from dataclasses import dataclass, field

from comfy_gateway.errors import ConfigError

SECRET_PREFIX = "whsec_"
SIGNATURE_VERSION = "v1"
# The secret used for tenants without one of their own.
ANY_TENANT = "*"


@dataclass(frozen=True, kw_only=True)
class WebhookSecret:
    """A signing key; ``repr`` never shows it."""

    key: bytes = field(repr=False)

    @classmethod
    def parse(cls, text: str) -> WebhookSecret:
        """``whsec_<base64>`` → the key; `ConfigError` for anything else."""
        if not text.startswith(SECRET_PREFIX):
            raise ConfigError(f"a webhook secret must start with {SECRET_PREFIX!r}")
        encoded = text[len(SECRET_PREFIX) :]
        try:
            key = base64.b64decode(encoded + "=" * (-len(encoded) % 4), validate=True)
        except binascii.Error as exc:
            raise ConfigError("a webhook secret must be base64 after 'whsec_'") from exc
        if not key:
            raise ConfigError("a webhook secret must not be empty")
        return cls(key=key)


def sign(secret: WebhookSecret, message_id: str, timestamp: int, body: bytes) -> str:
    """The ``webhook-signature`` value for one message."""
    signed = f"{message_id}.{timestamp}.".encode() + body
    digest = hmac.new(secret.key, signed, hashlib.sha256).digest()
    return f"{SIGNATURE_VERSION},{base64.b64encode(digest).decode('ascii')}"


def webhook_headers(
    secret: WebhookSecret | None, message_id: str, timestamp: int, body: bytes
) -> dict[str, str]:
    """The Standard Webhooks headers; unsigned (no signature) without a secret."""
    headers = {
        "content-type": "application/json",
        "webhook-id": message_id,
        "webhook-timestamp": str(timestamp),
    }
    if secret is not None:
        headers["webhook-signature"] = sign(secret, message_id, timestamp, body)
    return headers


@dataclass(frozen=True, kw_only=True)
class TenantSecrets:
    """Each tenant's secret; ``*`` (if given) serves tenants without their own."""

    by_tenant: Mapping[str, WebhookSecret] = field(default_factory=dict, repr=False)

    @classmethod
    def parse(cls, entries: Mapping[str, str]) -> TenantSecrets:
        return cls(
            by_tenant={tenant: WebhookSecret.parse(text) for tenant, text in entries.items()}
        )

    def for_tenant(self, tenant_id: str) -> WebhookSecret | None:
        return self.by_tenant.get(tenant_id) or self.by_tenant.get(ANY_TENANT)
