"""`python -m comfy_gateway` runs the CLI."""

from comfy_gateway.cli import main

main()
