"""The `serve` and `worker` commands. Every flag is also a `COMFY_GATEWAY_*` variable
(read by `GatewaySettings`); a flag given on the command line wins."""

from __future__ import annotations

import asyncio
import gc
from pathlib import Path
from typing import Annotated, Any

import typer
import uvloop
from pydantic import ValidationError

from comfy_gateway.config import GatewaySettings
from comfy_gateway.errors import ConfigError

HostOption = Annotated[str | None, typer.Option(help="Listen address [COMFY_GATEWAY_HOST].")]
PortOption = Annotated[int | None, typer.Option(help="Listen port, 0 = free [COMFY_GATEWAY_PORT].")]
DataDirOption = Annotated[
    Path | None, typer.Option(help="SQLite and stored files [COMFY_GATEWAY_DATA_DIR].")
]
ComfyUrlOption = Annotated[
    list[str] | None,
    typer.Option("--comfy-url", help="ComfyUI base URL, repeatable [COMFY_GATEWAY_COMFY_URLS]."),
]
DrainTimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--drain-timeout",
        help="Seconds a stop waits for running jobs [COMFY_GATEWAY_DRAIN_TIMEOUT_S].",
    ),
]
ComfyPathOption = Annotated[
    Path | None,
    typer.Option(
        "--comfy-path", help="Run and supervise this ComfyUI checkout [COMFY_GATEWAY_COMFY_PATH]."
    ),
]
ComfyCmdOption = Annotated[
    str | None,
    typer.Option(
        "--comfy-cmd",
        help="Run and supervise this command; {port} is filled in [COMFY_GATEWAY_COMFY_CMD].",
    ),
]
GpusOption = Annotated[
    str | None,
    typer.Option("--gpus", help="One supervised ComfyUI per GPU, e.g. 0,1 [COMFY_GATEWAY_GPUS]."),
]
ComfyStartupTimeoutOption = Annotated[
    float | None,
    typer.Option(
        "--comfy-startup-timeout",
        help="Seconds a supervised ComfyUI has to get ready "
        "[COMFY_GATEWAY_COMFY_STARTUP_TIMEOUT_S].",
    ),
]
ComfyEagerOption = Annotated[
    bool,
    typer.Option(
        "--comfy-eager",
        help="Start supervised ComfyUI at boot, not on the first job [COMFY_GATEWAY_COMFY_EAGER].",
    ),
]
KeysFileOption = Annotated[
    Path | None, typer.Option(help="tenant:sha256 lines [COMFY_GATEWAY_API_KEYS_FILE].")
]


def build_settings(**overrides: Any) -> GatewaySettings:
    """Settings from the environment, with the flags that were given on top."""
    given = {name: value for name, value in overrides.items() if value not in (None, [])}
    try:
        return GatewaySettings(**given)
    except ValidationError as exc:
        raise typer.BadParameter(str(exc)) from exc


def _supervision(
    comfy_path: Path | None,
    comfy_cmd: str | None,
    gpus: str | None,
    startup_timeout: float | None,
    eager: bool,
) -> dict[str, Any]:
    """The supervised-ComfyUI settings among the flags (None: not given, keep the env's)."""
    return {
        "comfy_path": comfy_path,
        "comfy_cmd": comfy_cmd,
        "gpus": gpus,
        "comfy_startup_timeout_s": startup_timeout,
        "comfy_eager": eager or None,
    }


def _run(main: Any) -> None:
    from comfy_gateway.serving import configure_logging

    configure_logging()
    try:
        with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
            runner.run(main)
    except ConfigError as exc:
        typer.echo(f"comfy-gateway: {exc}", err=True)
        raise typer.Exit(2) from exc
    # Everything is closed by now. Interpreter exit would walk every object of the big
    # imports (SQLAlchemy, FastAPI) with the collector, for up to a second under load; a
    # stop on SIGTERM must be quick (API.md), so leave them out of the final collections.
    gc.freeze()


def serve(  # noqa: PLR0917 - one parameter per flag is how typer works
    host: HostOption = None,
    port: PortOption = None,
    data_dir: DataDirOption = None,
    comfy_url: ComfyUrlOption = None,
    no_worker: Annotated[
        bool, typer.Option("--no-worker", help="API only [COMFY_GATEWAY_NO_WORKER].")
    ] = False,
    api_keys_file: KeysFileOption = None,
    require_api_key: Annotated[
        bool, typer.Option("--require-api-key", help="[COMFY_GATEWAY_REQUIRE_API_KEY]")
    ] = False,
    dev_simulator: Annotated[
        bool,
        typer.Option(
            "--dev-simulator",
            help="With no --comfy-url, start the ComfyUI simulator and use it (make run).",
        ),
    ] = False,
    drain_timeout: DrainTimeoutOption = None,
    comfy_path: ComfyPathOption = None,
    comfy_cmd: ComfyCmdOption = None,
    gpus: GpusOption = None,
    comfy_startup_timeout: ComfyStartupTimeoutOption = None,
    comfy_eager: ComfyEagerOption = False,
    access_log: Annotated[
        bool,
        typer.Option("--access-log", help="One log line per request [COMFY_GATEWAY_ACCESS_LOG]."),
    ] = False,
) -> None:
    """Run the API and (unless --no-worker) the worker in one process."""
    from comfy_gateway.serving import serve as serve_async

    settings = build_settings(
        host=host,
        port=port,
        data_dir=data_dir,
        comfy_urls=comfy_url,
        no_worker=no_worker or None,
        api_keys_file=api_keys_file,
        require_api_key=require_api_key or None,
        drain_timeout_s=drain_timeout,
        access_log=access_log or None,
        **_supervision(comfy_path, comfy_cmd, gpus, comfy_startup_timeout, comfy_eager),
    )
    _run(serve_async(settings, dev_simulator=dev_simulator))


def worker(  # noqa: PLR0917 - one parameter per flag is how typer works
    data_dir: DataDirOption = None,
    comfy_url: ComfyUrlOption = None,
    drain_timeout: DrainTimeoutOption = None,
    comfy_path: ComfyPathOption = None,
    comfy_cmd: ComfyCmdOption = None,
    gpus: GpusOption = None,
    comfy_startup_timeout: ComfyStartupTimeoutOption = None,
    comfy_eager: ComfyEagerOption = False,
) -> None:
    """Run only the worker, on the same data folder as an API started with --no-worker."""
    from comfy_gateway.serving import run_worker

    settings = build_settings(
        data_dir=data_dir,
        comfy_urls=comfy_url,
        drain_timeout_s=drain_timeout,
        **_supervision(comfy_path, comfy_cmd, gpus, comfy_startup_timeout, comfy_eager),
    )
    _run(run_worker(settings))
