"""Uploading a job's input media from the BlobStore to a backend's input folder.

Each item goes to ``input/comfy-gateway/<sha256>.<ext>`` with ``overwrite``: the graph
already names that path, identical bytes share one file (ComfyUI's cache stays warm),
and two jobs with the same original name can never collide.
"""

from __future__ import annotations

from collections.abc import Iterable

from comfy_gateway.comfy import ComfyHttpClient
from comfy_gateway.errors import ComfyProtocolError
from comfy_gateway.jobs.graph import GATEWAY_FOLDER
from comfy_gateway.jobs.model import MediaRef
from comfy_gateway.storage import BlobStore


def distinct_media(media: Iterable[MediaRef]) -> list[MediaRef]:
    """One item per stored file name: the same bytes are uploaded once."""
    return list({ref.filename: ref for ref in media}.values())


async def upload_media(http: ComfyHttpClient, blobs: BlobStore, media: Iterable[MediaRef]) -> None:
    """Stream every item to the backend, one after the other."""
    for ref in distinct_media(media):
        await upload_one(http, blobs, ref)


async def upload_one(http: ComfyHttpClient, blobs: BlobStore, ref: MediaRef) -> None:
    uploaded = await http.upload(
        blobs.read(ref.storage_key),
        filename=ref.filename,
        subfolder=GATEWAY_FOLDER,
        overwrite=True,
        content_type=ref.content_type,
    )
    if uploaded.name != ref.filename:
        # The graph names our file; a renamed copy ("x (1).png") would silently be another.
        raise ComfyProtocolError(
            f"ComfyUI at {http.base_url} stored {ref.filename} as {uploaded.name} despite "
            "overwrite=true; the graph would read the wrong file",
            backend=http.backend,
        )
