"""API keys and tenants (pure).

Keys are never kept in clear: only their SHA-256 is held, from
``COMFY_GATEWAY_API_KEYS="tenant:key,…"`` (hashed at load) or a keys file of
``tenant:sha256-hex`` lines. SHA-256 rather than bcrypt: API keys are long random
secrets, not passwords, and every request checks one, thousands of times a second.
A presented key is compared against every registered hash with `hmac.compare_digest`,
so the time taken does not depend on which key (if any) matched.
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from comfy_gateway.errors import ConfigError

DEFAULT_TENANT = "default"
_TENANT_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$")
_SHA256_HEX_RE = re.compile(r"^[0-9a-f]{64}$")


def hash_api_key(key: str) -> bytes:
    return hashlib.sha256(key.encode("utf-8")).digest()


@dataclass(frozen=True)
class KeyRegistry:
    """Registered key hashes and the tenant each belongs to."""

    entries: tuple[tuple[bytes, str], ...] = ()

    @property
    def is_open(self) -> bool:
        """No keys configured: every request is tenant ``default``."""
        return not self.entries

    def tenant_for(self, presented: str | None) -> str | None:
        """The tenant whose key this is, or None; constant time over the registry."""
        if self.is_open:
            return DEFAULT_TENANT
        if not presented:
            return None
        digest = hash_api_key(presented)
        found: str | None = None
        for key_hash, tenant in self.entries:
            if hmac.compare_digest(digest, key_hash) and found is None:
                found = tenant
        return found


def _checked_tenant(tenant: str, source: str) -> str:
    if not _TENANT_RE.match(tenant):
        raise ConfigError(
            f"{source}: tenant {tenant!r} must be 1-64 letters, digits, '_', '.' or '-'"
        )
    return tenant


def parse_plain_keys(spec: str) -> list[tuple[bytes, str]]:
    """``"tenant:key,tenant2:key2"`` → hashed entries."""
    entries = []
    for item in (part.strip() for part in spec.split(",")):
        if not item:
            continue
        tenant, sep, key = item.partition(":")
        if not sep or not key:
            raise ConfigError("COMFY_GATEWAY_API_KEYS entries must look like tenant:key")
        entries.append((hash_api_key(key), _checked_tenant(tenant, "COMFY_GATEWAY_API_KEYS")))
    return entries


def parse_hashed_keys(lines: Iterable[str], source: str) -> list[tuple[bytes, str]]:
    """Lines of ``tenant:sha256-hex`` (blank lines and ``#`` comments ignored)."""
    entries = []
    for number, raw in enumerate(lines, start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        tenant, _, hex_hash = line.partition(":")
        if not _SHA256_HEX_RE.match(hex_hash.lower()):
            raise ConfigError(f"{source}:{number}: expected tenant:<64 hex digits of SHA-256>")
        entries.append((bytes.fromhex(hex_hash), _checked_tenant(tenant, f"{source}:{number}")))
    return entries


def load_key_registry(
    plain: str | None, keys_file: Path | None, *, require_api_key: bool
) -> KeyRegistry:
    """Build the registry from settings; refuse to start if keys are required but absent."""
    entries = parse_plain_keys(plain) if plain else []
    if keys_file is not None:
        try:
            text = keys_file.read_text(encoding="utf-8")
        except OSError as exc:
            raise ConfigError(f"cannot read API keys file {keys_file}: {exc}") from exc
        entries += parse_hashed_keys(text.splitlines(), str(keys_file))
    if require_api_key and not entries:
        raise ConfigError(
            "--require-api-key is set but no API keys are configured "
            "(set COMFY_GATEWAY_API_KEYS or COMFY_GATEWAY_API_KEYS_FILE)"
        )
    return KeyRegistry(tuple(entries))
