"""Our Standard Webhooks signatures verify with the reference `standardwebhooks` package."""

from __future__ import annotations

import base64
import time
from datetime import UTC, datetime

import pytest
from standardwebhooks import Webhook, WebhookVerificationError

from comfy_gateway.errors import ConfigError
from comfy_gateway.webhooks.signing import TenantSecrets, WebhookSecret, sign, webhook_headers

# The test vector published with the Standard Webhooks specification.
SPEC_SECRET = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"
SPEC_ID = "msg_p5jXN8AQM9LWM0D4loKWxJek"
SPEC_TIMESTAMP = 1614265330
SPEC_BODY = b'{"test": 2432232314}'
SPEC_SIGNATURE = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE="

SECRET = "whsec_" + base64.b64encode(b"a tenant's signing key, 32 bytes").decode()


def test_the_specification_vector() -> None:
    secret = WebhookSecret.parse(SPEC_SECRET)
    assert sign(secret, SPEC_ID, SPEC_TIMESTAMP, SPEC_BODY) == SPEC_SIGNATURE


@pytest.mark.parametrize("message_id", ["1", "42", "msg_2xYz"])
@pytest.mark.parametrize("body", [b"{}", b'{"event":"job.completed","job_id":"0193"}'])
def test_signatures_match_the_reference_signer(message_id: str, body: bytes) -> None:
    timestamp = 1_790_000_000
    reference = Webhook(SECRET).sign(
        message_id, datetime.fromtimestamp(timestamp, tz=UTC), body.decode()
    )
    assert sign(WebhookSecret.parse(SECRET), message_id, timestamp, body) == reference


def test_headers_verify_with_the_reference_verifier() -> None:
    body = b'{"event":"job.failed","job_id":"abc","timestamp":"2026-11-22T19:00:00.000Z"}'
    headers = webhook_headers(WebhookSecret.parse(SECRET), "7", int(time.time()), body)
    assert Webhook(SECRET).verify(body, headers) == {
        "event": "job.failed",
        "job_id": "abc",
        "timestamp": "2026-11-22T19:00:00.000Z",
    }
    assert headers["webhook-id"] == "7"
    assert headers["content-type"] == "application/json"


def test_a_changed_body_or_another_secret_does_not_verify() -> None:
    body = b'{"event":"job.completed"}'
    headers = webhook_headers(WebhookSecret.parse(SECRET), "7", int(time.time()), body)
    with pytest.raises(WebhookVerificationError):
        Webhook(SECRET).verify(b'{"event":"job.failed"}', headers)
    with pytest.raises(WebhookVerificationError):
        Webhook(SPEC_SECRET).verify(body, headers)


def test_the_key_is_the_decoded_base64_not_the_text() -> None:
    secret = WebhookSecret.parse(SECRET)
    assert secret.key == b"a tenant's signing key, 32 bytes"
    assert "signing key" not in repr(secret)


def test_without_a_secret_the_message_is_sent_unsigned() -> None:
    headers = webhook_headers(None, "7", 1_790_000_000, b"{}")
    assert set(headers) == {"content-type", "webhook-id", "webhook-timestamp"}
    assert headers["webhook-timestamp"] == "1790000000"


@pytest.mark.parametrize(
    "text", ["MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw", "whsec_", "whsec_not base64!"]
)
def test_malformed_secrets_are_refused(text: str) -> None:
    with pytest.raises(ConfigError):
        WebhookSecret.parse(text)


def test_unpadded_base64_is_accepted() -> None:
    assert WebhookSecret.parse("whsec_YWJj").key == b"abc"
    assert WebhookSecret.parse("whsec_YWI").key == b"ab"


def test_a_tenant_falls_back_to_the_any_tenant_secret() -> None:
    secrets = TenantSecrets.parse({"acme": SECRET, "*": SPEC_SECRET})
    assert secrets.for_tenant("acme") == WebhookSecret.parse(SECRET)
    assert secrets.for_tenant("other") == WebhookSecret.parse(SPEC_SECRET)
    assert TenantSecrets.parse({"acme": SECRET}).for_tenant("other") is None
