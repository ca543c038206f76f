"""Settings of the gateway (`serve`, `api`, `worker`), from flags and `COMFY_GATEWAY_*`.

Every CLI flag is backed by one of these fields, so a deployment can be configured by
environment alone. Defaults are the laptop set-up: SQLite and outputs under ``./data``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

MB = 1024 * 1024


def _split_csv(value: object) -> object:
    if isinstance(value, str):
        return [part.strip() for part in value.split(",") if part.strip()]
    return value


class GatewaySettings(BaseSettings):
    """All settings; see the README's configuration reference."""

    model_config = SettingsConfigDict(env_prefix="COMFY_GATEWAY_", extra="ignore")

    host: str = "127.0.0.1"
    port: int = Field(default=8000, ge=0, le=65535)
    data_dir: Path = Path("data")
    database_url: str | None = None
    comfy_urls: Annotated[list[str], NoDecode] = Field(default_factory=list)
    no_worker: bool = False

    api_keys: str | None = None
    api_keys_file: Path | None = None
    require_api_key: bool = False

    max_wait_s: float = Field(default=600.0, gt=0)
    queue_depth_limit: int = Field(default=10_000, ge=1)
    tenant_queue_depth_limit: int = Field(default=1_000, ge=1)
    max_body_bytes: int = Field(default=600 * MB, ge=1024)
    max_json_body_bytes: int = Field(default=80 * MB, ge=1024)
    max_media_items: int = Field(default=10, ge=0)
    max_media_bytes: int = Field(default=50 * MB, ge=1)
    fetch_allow_list: Annotated[list[str], NoDecode] = Field(default_factory=list)
    fetch_timeout_s: float = Field(default=30.0, gt=0)

    job_timeout_s: float = Field(default=3600.0, gt=0)
    lease_s: float = Field(default=30.0, gt=0)
    progress_persist_interval_s: float = Field(default=0.25, ge=0)
    events_poll_interval_s: float = Field(default=0.2, gt=0, le=0.25)
    backend_lost_after_s: float = Field(default=120.0, gt=0)

    @field_validator("comfy_urls", "fetch_allow_list", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("comfy_urls")
    @classmethod
    def _strip_trailing_slash(cls, value: list[str]) -> list[str]:
        return [url.rstrip("/") for url in value]

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "comfy-gateway.sqlite3"

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite+aiosqlite:///{self.sqlite_path}"
