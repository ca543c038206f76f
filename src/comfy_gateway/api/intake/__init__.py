"""Turning a ``POST /v1/jobs`` request into a stored job: capped body reading, multipart,
media intake (decode, fetch, hash, store), the idempotency hash and the submit use-case.

Each step is a plain async function so the route stays a thin shell and the compat
facades (shim, RunPod) can reuse the same use-case.
"""
