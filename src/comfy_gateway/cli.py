"""The ``comfy-gateway`` command line."""

from __future__ import annotations

from typing import Annotated

import typer

app = typer.Typer(no_args_is_help=True, add_completion=False, help=__doc__)


@app.callback()
def _root() -> None:
    """comfy-gateway: a reliable job API in front of ComfyUI."""


@app.command()
def version() -> None:
    """Print the version."""
    from comfy_gateway import __version__

    typer.echo(__version__)


_SIM_ENV = "COMFY_GATEWAY_SIM_"


@app.command()
def simulate(  # noqa: PLR0917 - one parameter per CLI flag is how typer works
    host: Annotated[str, typer.Option(envvar=_SIM_ENV + "HOST")] = "127.0.0.1",
    port: Annotated[
        int, typer.Option(envvar=_SIM_ENV + "PORT", help="0 picks a free port.")
    ] = 8188,
    data_dir: Annotated[
        str,
        typer.Option(envvar=_SIM_ENV + "DATA_DIR", help="Holds input/, output/, temp/."),
    ] = "",
    node_seconds: Annotated[float, typer.Option(envvar=_SIM_ENV + "NODE_SECONDS")] = 0.0,
    step_seconds: Annotated[float, typer.Option(envvar=_SIM_ENV + "STEP_SECONDS")] = 0.0,
    node_seconds_for: Annotated[
        list[str] | None,
        typer.Option(envvar=_SIM_ENV + "NODE_SECONDS_FOR", help="CLASS=SECONDS, repeatable."),
    ] = None,
    model: Annotated[
        list[str] | None,
        typer.Option(envvar=_SIM_ENV + "MODEL", help="FOLDER/NAME of a model file, repeatable."),
    ] = None,
    reject_duplicate_prompt_ids: Annotated[
        bool, typer.Option(envvar=_SIM_ENV + "REJECT_DUPLICATE_PROMPT_IDS")
    ] = False,
    history_max: Annotated[int, typer.Option(envvar=_SIM_ENV + "HISTORY_MAX")] = 10000,
    max_upload_size: Annotated[int, typer.Option(envvar=_SIM_ENV + "MAX_UPLOAD_SIZE")] = 104857600,
) -> None:
    """Run a simulated ComfyUI 0.3.64 that speaks the real protocol (no GPU needed)."""
    import tempfile
    from pathlib import Path

    from comfy_gateway.simulator.config import (
        Durations,
        SimulatorSettings,
        parse_class_seconds,
        parse_model_entries,
    )
    from comfy_gateway.simulator.server import run_simulator

    try:
        by_class = parse_class_seconds(node_seconds_for or [])
        models = parse_model_entries(model or [])
    except ValueError as exc:
        raise typer.BadParameter(str(exc)) from exc
    durations = Durations(
        node_seconds=node_seconds, step_seconds=step_seconds, node_seconds_by_class=by_class
    )
    folder = Path(data_dir) if data_dir else Path(tempfile.mkdtemp(prefix="comfy-sim-"))
    settings = SimulatorSettings(
        host=host,
        port=port,
        data_dir=folder,
        durations=durations,
        models=models,
        reject_duplicate_prompt_ids=reject_duplicate_prompt_ids,
        history_max=history_max,
        max_upload_size=max_upload_size,
    )
    run_simulator(settings)


from comfy_gateway.cli_serve import serve, worker  # noqa: E402 - registered below
from comfy_gateway.cli_submit import submit  # noqa: E402

app.command()(serve)
app.command()(worker)
app.command()(submit)


def main() -> None:
    """Console-script entry point."""
    app()
