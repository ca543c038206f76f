"""GET /view and POST /upload/image, with ComfyUI's path rules and status codes.

Both refuse to leave the input/output/temp folders: `..` in a view file name → 400, a view
subfolder that escapes → 403, an upload path that escapes → 400. An unknown upload `type`
is a 500 in ComfyUI (an unbound local), and stays one here.
"""

from __future__ import annotations

import hashlib
import io
import mimetypes
import os
from pathlib import Path

from PIL import Image
from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import FileResponse, Response

from comfy_gateway.simulator.config import SimulatorSettings
from comfy_gateway.simulator.responses import empty_response, internal_error, json_response

ANNOTATIONS = {" [output]": "output", " [input]": "input", " [temp]": "temp"}
NEVER_INLINE = {
    "text/html",
    "text/html-sandboxed",
    "application/xhtml+xml",
    "text/javascript",
    "text/css",
}


def folder_for_type(settings: SimulatorSettings, folder_type: str) -> Path | None:
    folders = {
        "input": settings.input_dir,
        "output": settings.output_dir,
        "temp": settings.temp_dir,
    }
    return folders.get(folder_type)


def split_annotation(filename: str) -> tuple[str, str | None]:
    """`name.png [input]` → ("name.png", "input")."""
    for suffix, folder_type in ANNOTATIONS.items():
        if filename.endswith(suffix.strip()):
            return filename[: -len(suffix)], folder_type
    return filename, None


def is_inside(folder: Path, candidate: str) -> bool:
    base = os.path.abspath(folder)
    return os.path.commonpath((base, os.path.abspath(candidate))) == base


def content_type_of(filename: str) -> str:
    content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    return "application/octet-stream" if content_type in NEVER_INLINE else content_type


# -- /view --------------------------------------------------------------------------


def locate_view_file(settings: SimulatorSettings, query: dict[str, str]) -> Path | int:
    """The file a /view query names, or the status code ComfyUI answers instead."""
    if "filename" not in query:
        return 404
    filename, annotated_type = split_annotation(query["filename"])
    if not filename:
        return 400
    if filename.startswith("/") or ".." in filename:
        return 400
    folder = folder_for_type(settings, annotated_type or query.get("type", "output"))
    if folder is None:
        return 400
    if "subfolder" in query:
        subfolder_path = os.path.join(folder, query["subfolder"])
        if not is_inside(folder, subfolder_path):
            return 403
        folder = Path(subfolder_path)
    path = folder / os.path.basename(filename)
    return path if path.is_file() else 404


def _re_encoded(path: Path, image_format: str, quality: int, channel: str) -> bytes:
    with Image.open(path) as opened:
        image: Image.Image = opened
        if channel == "a":
            image = image.convert("RGBA").getchannel("A").convert("RGB")
        elif channel == "rgb" or image_format == "JPEG":
            image = image.convert("RGB")
        buffer = io.BytesIO()
        image.save(buffer, format=image_format, quality=quality)
        return buffer.getvalue()


def _preview_request(query: dict[str, str]) -> tuple[str, int]:
    kind, _, quality = query["preview"].partition(";")
    image_format = "WEBP" if kind.lower() == "webp" else "JPEG"
    return image_format, int(quality) if quality.isdigit() else 90


async def view(request: Request, settings: SimulatorSettings) -> Response:
    query = dict(request.query_params)
    located = locate_view_file(settings, query)
    if isinstance(located, int):
        return empty_response(located)
    disposition = {"Content-Disposition": f'filename="{located.name}"'}
    channel = query.get("channel", "rgba")
    if "preview" in query or channel in {"rgb", "a"}:
        image_format, quality = _preview_request(query) if "preview" in query else ("PNG", 90)
        try:
            body = _re_encoded(located, image_format, quality, channel)
        except OSError:
            return internal_error()
        media_type = f"image/{image_format.lower()}"
        return Response(body, headers={**disposition, "Content-Type": media_type})
    headers = {**disposition, "Content-Type": content_type_of(located.name)}
    return FileResponse(located, headers=headers)


# -- /upload/image ------------------------------------------------------------------


def same_bytes(path: Path, data: bytes) -> bool:
    """ComfyUI compares content hashes to avoid storing a duplicate under a new name."""
    with path.open("rb") as existing:
        return hashlib.sha256(existing.read()).digest() == hashlib.sha256(data).digest()


def stored_name(folder: Path, filename: str, data: bytes, overwrite: bool) -> tuple[str, bool]:
    """(name to report, whether to write): `name (1).ext`, `name (2).ext`… unless identical."""
    if overwrite:
        return filename, True
    stem, suffix = os.path.splitext(filename)
    candidate, index = filename, 1
    while (folder / candidate).exists():
        if same_bytes(folder / candidate, data):
            return candidate, False
        candidate = f"{stem} ({index}){suffix}"
        index += 1
    return candidate, True


def upload_folder(base: Path, subfolder: str, filename: str) -> Path | None:
    """The folder an upload goes to (created), or None when the path leaves `base`."""
    folder = Path(os.path.join(base, os.path.normpath(subfolder)))
    if not is_inside(base, os.path.join(folder, filename)):
        return None
    folder.mkdir(parents=True, exist_ok=True)
    return folder


async def upload_image(request: Request, settings: SimulatorSettings) -> Response:
    declared_size = request.headers.get("content-length", "")
    if declared_size.isdigit() and int(declared_size) > settings.max_upload_size:
        return Response(
            f"Maximum request body size {settings.max_upload_size} exceeded",
            status_code=413,
            media_type="text/plain",
        )
    form = await request.form(max_part_size=settings.max_upload_size)
    upload_type = str(form.get("type") or "input")
    base = folder_for_type(settings, upload_type)
    if base is None:
        return internal_error()
    image = form.get("image")
    if not isinstance(image, UploadFile) or not image.filename:
        return empty_response(400)
    subfolder = str(form.get("subfolder", ""))
    folder = upload_folder(base, subfolder, image.filename)
    if folder is None:
        return empty_response(400)
    data = await image.read()
    overwrite = str(form.get("overwrite", "")) in {"true", "1"}
    name, write = stored_name(folder, image.filename, data, overwrite)
    if write:
        (folder / name).write_bytes(data)
    return json_response({"name": name, "subfolder": subfolder, "type": upload_type})
