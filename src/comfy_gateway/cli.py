"""The ``comfy-gateway`` command line."""

from __future__ import annotations

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


def main() -> None:
    """Console-script entry point."""
    app()
