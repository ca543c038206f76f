"""comfy-gateway: a reliable, self-hostable job API in front of ComfyUI workflows."""

__version__ = "0.1.0"
