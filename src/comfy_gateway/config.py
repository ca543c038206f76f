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
DAY_S = 24 * 3600.0


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
    #: One log line per HTTP request (uvicorn's access log). Off by default, as in
    #: gunicorn: it costs about 0.3 ms a request on a job's path (bench/overhead.py).
    access_log: bool = False

    # Supervised ComfyUI (API.md "Shutdown and supervision"): a checkout to run, or a
    # command template with {port}; one process per GPU in ``gpus`` ("0,1").
    comfy_path: Path | None = None
    comfy_cmd: str | None = None
    gpus: str | None = None
    comfy_startup_timeout_s: float = Field(default=120.0, gt=0)
    comfy_eager: bool = False

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
    drain_timeout_s: float = Field(default=30.0, ge=0)
    max_attempts: int = Field(default=3, ge=1)

    # Retention (API.md "Outputs"): ages after the job ended (keys: after they were made).
    output_retention_s: float = Field(default=7 * DAY_S, gt=0)
    job_retention_s: float = Field(default=30 * DAY_S, gt=0)
    media_retention_s: float = Field(default=DAY_S, gt=0)
    idempotency_retention_s: float = Field(default=DAY_S, gt=0)
    sweep_interval_s: float = Field(default=300.0, gt=0)
    sweep_batch_size: int = Field(default=200, ge=1)

    # Webhooks: "tenant:whsec_<base64>,…" ("*" for every other tenant); the allow-list
    # (CIDRs or host names) lets webhooks reach local receivers, as fetch_allow_list.
    webhook_secrets: Annotated[dict[str, str], NoDecode] = Field(default_factory=dict, repr=False)
    webhook_allow_list: Annotated[list[str], NoDecode] = Field(default_factory=list)
    webhook_max_attempts: int = Field(default=6, ge=1)
    webhook_timeout_s: float = Field(default=10.0, gt=0)

    # A node catalogue (a saved catalogue or a bare `/object_info` answer, such as the
    # captured object_info.json) used for a backend whose own was never fetched yet.
    catalogue_file: Path | None = None

    # The shim's `POST /run` runs this API-format graph when a request names none.
    default_workflow: Path | None = None

    # Template folders (comma-separated): their *.json templates join the built-ins and
    # override a built-in of the same name; reloaded on SIGHUP.
    template_folders: Annotated[list[Path], NoDecode] = Field(default_factory=list)

    @field_validator("template_folders", mode="before")
    @classmethod
    def _template_folders_csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("comfy_urls", "fetch_allow_list", mode="before")
    @classmethod
    def _csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("comfy_urls")
    @classmethod
    def _strip_trailing_slash(cls, value: list[str]) -> list[str]:
        return [url.rstrip("/") for url in value]

    @field_validator("webhook_allow_list", mode="before")
    @classmethod
    def _webhook_csv(cls, value: object) -> object:
        return _split_csv(value)

    @field_validator("webhook_secrets", mode="before")
    @classmethod
    def _tenant_secrets(cls, value: object) -> object:
        """``tenant:secret`` pairs, comma-separated (base64 has no ``:`` or ``,``)."""
        if not isinstance(value, str):
            return value
        entries = (entry.strip() for entry in value.split(","))
        pairs = [entry.split(":", 1) for entry in entries if entry]
        if any(len(pair) != 2 or not pair[0].strip() for pair in pairs):
            raise ValueError("expected tenant:secret pairs separated by commas")
        return {tenant.strip(): secret.strip() for tenant, secret in pairs}

    @property
    def supervises_comfy(self) -> bool:
        return self.comfy_path is not None or self.comfy_cmd is not None

    @property
    def sqlite_path(self) -> Path:
        return self.data_dir / "comfy-gateway.sqlite3"

    @property
    def blobs_dir(self) -> Path:
        return self.data_dir / "blobs"

    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{self.sqlite_path}"
