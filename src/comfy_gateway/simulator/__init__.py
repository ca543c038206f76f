"""A protocol-faithful fake ComfyUI for tests, benchmarks and demos."""
