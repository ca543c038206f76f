"""Where media and outputs live: one `BlobStore` interface, local folder and (later) S3."""

from comfy_gateway.storage.blobs import (
    BlobInfo,
    BlobNotFound,
    BlobRange,
    BlobStore,
    InvalidBlobKey,
    StorageFull,
)
from comfy_gateway.storage.local import LocalBlobStore

__all__ = [
    "BlobInfo",
    "BlobNotFound",
    "BlobRange",
    "BlobStore",
    "InvalidBlobKey",
    "LocalBlobStore",
    "StorageFull",
]
