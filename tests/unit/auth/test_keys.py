from __future__ import annotations

import hashlib
from pathlib import Path

import pytest

from comfy_gateway.auth import DEFAULT_TENANT, KeyRegistry, load_key_registry
from comfy_gateway.errors import ConfigError


def test_no_keys_means_open_api_as_default_tenant() -> None:
    registry = load_key_registry(None, None, require_api_key=False)
    assert registry.is_open
    assert registry.tenant_for(None) == DEFAULT_TENANT


def test_plain_keys_are_hashed_and_map_to_their_tenant() -> None:
    registry = load_key_registry("acme:k-1, beta:k-2", None, require_api_key=False)
    assert registry.tenant_for("k-1") == "acme"
    assert registry.tenant_for("k-2") == "beta"
    assert registry.tenant_for("k-3") is None
    assert registry.tenant_for("") is None
    assert registry.tenant_for(None) is None
    assert all(b"k-1" not in key_hash for key_hash, _ in registry.entries)


def test_keys_file_holds_hashes(tmp_path: Path) -> None:
    digest = hashlib.sha256(b"secret").hexdigest()
    keys = tmp_path / "keys"
    keys.write_text(f"# tenants\nacme:{digest}\n\n")
    registry = load_key_registry(None, keys, require_api_key=True)
    assert registry.tenant_for("secret") == "acme"


@pytest.mark.parametrize(
    ("plain", "file_text", "message"),
    [
        ("acme", None, "tenant:key"),
        ("../x:key", None, "tenant"),
        (None, "acme:nothex\n", "64 hex"),
    ],
)
def test_malformed_key_settings_are_refused(
    tmp_path: Path, plain: str | None, file_text: str | None, message: str
) -> None:
    keys_file = None
    if file_text is not None:
        keys_file = tmp_path / "keys"
        keys_file.write_text(file_text)
    with pytest.raises(ConfigError, match=message):
        load_key_registry(plain, keys_file, require_api_key=False)


def test_require_api_key_without_keys_refuses_to_start() -> None:
    with pytest.raises(ConfigError, match="require-api-key"):
        load_key_registry(None, None, require_api_key=True)


def test_registry_is_immutable_value() -> None:
    assert KeyRegistry().is_open
