"""The HTTP API (FastAPI): routes per resource, auth, SSE, one error shape."""
