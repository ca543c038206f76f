"""Rules for submitted media: safe names, strict base64, file types, stored names.

Media bytes go to ComfyUI unchanged; these rules only decide whether we accept an item
and under which name it is stored: ``<sha256>.<ext>`` in the ``comfy-gateway`` subfolder
of ComfyUI's input directory, so identical bytes share one file.
"""

from __future__ import annotations

import base64
import binascii
import re
import unicodedata
from typing import Literal

from comfy_gateway.jobs.domain_errors import (
    InvalidBase64,
    MediaTooLarge,
    TooManyMedia,
    UnsafeMediaName,
    UnsupportedMediaType,
)
from comfy_gateway.jobs.graph.prefixes import GATEWAY_FOLDER

MediaKind = Literal["image", "audio", "video"]
MAX_NAME_BYTES = 128

#: Extensions we store media under, by kind; aliases map to one spelling so identical
#: bytes named ``a.jpeg`` and ``b.jpg`` end up in one file.
MEDIA_EXTENSIONS: dict[str, MediaKind] = {
    **dict.fromkeys(("png", "jpg", "webp", "gif", "bmp", "tiff"), "image"),
    **dict.fromkeys(("wav", "flac", "mp3", "ogg", "opus", "m4a", "aac"), "audio"),
    **dict.fromkeys(("mp4", "webm", "mov", "mkv", "avi"), "video"),
}
_EXTENSION_ALIASES = {"jpeg": "jpg", "tif": "tiff", "m4v": "mp4", "oga": "ogg"}
_CONTENT_TYPES = {
    "image/png": "png",
    "image/jpeg": "jpg",
    "image/webp": "webp",
    "image/gif": "gif",
    "image/bmp": "bmp",
    "image/tiff": "tiff",
    "audio/wav": "wav",
    "audio/x-wav": "wav",
    "audio/wave": "wav",
    "audio/flac": "flac",
    "audio/x-flac": "flac",
    "audio/mpeg": "mp3",
    "audio/ogg": "ogg",
    "audio/opus": "opus",
    "audio/mp4": "m4a",
    "audio/aac": "aac",
    "video/mp4": "mp4",
    "video/webm": "webm",
    "video/quicktime": "mov",
    "video/x-matroska": "mkv",
    "video/x-msvideo": "avi",
}
_DATA_URL = re.compile(r"data:(?P<type>[^,;]*)(?P<params>(?:;[^,;]*)*?);base64,", re.IGNORECASE)
#: Control, surrogate, format (bidi overrides, zero-width) and line/paragraph separators:
#: characters that break logs and file systems or make a name read differently.
_HIDDEN_CATEGORIES = frozenset({"Cc", "Cs", "Cf", "Zl", "Zp"})
_BASE64 = re.compile(r"[A-Za-z0-9+/]*={0,2}")


def validate_media_name(name: object) -> str:
    """``name`` if it is a plain file name, else :class:`UnsafeMediaName` (never rewritten)."""
    if not isinstance(name, str) or not name:
        raise UnsafeMediaName(str(name), "is not a non-empty string")
    if len(name.encode("utf-8", "surrogatepass")) > MAX_NAME_BYTES:
        raise UnsafeMediaName(name, f"is longer than {MAX_NAME_BYTES} bytes in UTF-8")
    if "/" in name or "\\" in name:
        raise UnsafeMediaName(name, "contains a path separator")
    if ".." in name:
        raise UnsafeMediaName(name, "contains '..'")
    if name.startswith("."):
        raise UnsafeMediaName(name, "starts with a dot")
    if any(unicodedata.category(char) in _HIDDEN_CATEGORIES for char in name):
        raise UnsafeMediaName(name, "contains control or invisible formatting characters")
    return name


def check_media_count(count: int, limit: int) -> None:
    """Refuse more media items than the limit (media-typed ``inputs`` included)."""
    if count > limit:
        raise TooManyMedia(count, limit)


def check_media_size(size: int, limit: int, *, name: str | None = None) -> None:
    """Refuse an item whose (decoded) size is over the limit."""
    if size > limit:
        raise MediaTooLarge(limit, name=name, size=size)


def decode_base64_strict(text: str, max_bytes: int, *, name: str | None = None) -> bytes:
    """The bytes of standard base64 ``text``, optionally behind a ``data:…;base64,`` prefix.

    Only missing ``=`` padding is tolerated. Whitespace, line breaks, the URL-safe alphabet
    and any other character are refused, and so is non-canonical base64 (stray bits in the
    last character), because a lenient decoder silently turns junk into different bytes.
    The size limit is checked on the length the text decodes to, before decoding.
    """
    payload = _strip_data_url(text, name)
    bad = _first_bad_character(payload)
    if bad is not None:
        raise InvalidBase64(_bad_character_reason(payload, bad), name=name)
    unpadded = payload.rstrip("=")
    if len(unpadded) % 4 == 1:
        raise InvalidBase64("the base64 text is truncated (its length is impossible)", name=name)
    check_media_size(len(unpadded) * 3 // 4, max_bytes, name=name)
    missing = -len(unpadded) % 4
    if len(payload) - len(unpadded) > missing:
        raise InvalidBase64("the base64 text has too much '=' padding", name=name)
    return _decode_canonical(unpadded + "=" * missing, name)


def data_url_content_type(text: str) -> str | None:
    """The content type a ``data:<type>;base64,`` prefix declares, if there is one."""
    match = _DATA_URL.match(text)
    return match.group("type").strip().lower() or None if match else None


def _strip_data_url(text: str, name: str | None) -> str:
    if text[:5].lower() != "data:":
        return text
    match = _DATA_URL.match(text)
    if match is None:
        raise InvalidBase64(
            "a data: URL must look like 'data:<type>;base64,<data>' (base64 only)", name=name
        )
    return text[match.end() :]


def _first_bad_character(payload: str) -> int | None:
    match = _BASE64.match(payload)
    end = match.end() if match else 0
    return None if end == len(payload) else end


def _bad_character_reason(payload: str, index: int) -> str:
    char = payload[index]
    if char.isspace():
        hint = "whitespace or a line break; send base64 on one line (base64 -w0)"
    elif char in "-_":
        hint = "a URL-safe base64 character; use the standard alphabet (+ and /)"
    elif "=" in payload[: index + 1]:
        hint = "'=' before the end; padding belongs only at the end"
    else:
        hint = "a character that is not base64"
    return f"invalid base64 at position {index}: {hint}"


def _decode_canonical(padded: str, name: str | None) -> bytes:
    if not padded:
        raise InvalidBase64("the media data is empty", name=name)
    try:
        data = base64.b64decode(padded, validate=True)
    except binascii.Error as exc:
        raise InvalidBase64(f"invalid base64: {exc}", name=name) from exc
    # Only the last quantum can carry stray bits ("QR==" decodes like "QQ=="); re-encoding
    # its bytes proves it canonical without a second copy of the whole payload.
    last = padded[-4:]
    if base64.b64encode(base64.b64decode(last)).decode("ascii") != last:
        raise InvalidBase64("non-canonical base64 (stray bits at the end)", name=name)
    return data


def media_extension(name: str, content_type: str | None, leading_bytes: bytes) -> str:
    """The extension an item is stored under: its bytes first, then content type, then name.

    Bytes win because clients often send ``application/octet-stream`` or a wrong name; an
    item none of the three identifies raises :class:`UnsupportedMediaType`.
    """
    for candidate in (
        sniff_media_extension(leading_bytes),
        _extension_of_content_type(content_type),
        _extension_of_name(name),
    ):
        if candidate is not None:
            return candidate
    raise UnsupportedMediaType(name, content_type)


def media_kind(ext: str) -> MediaKind:
    """image, audio or video for one of our stored extensions."""
    kind = MEDIA_EXTENSIONS.get(_EXTENSION_ALIASES.get(ext.lower(), ext.lower()))
    if kind is None:
        raise UnsupportedMediaType(f"*.{ext}", None)
    return kind


def stored_media_name(sha256: str, ext: str) -> str:
    """The file name in ComfyUI's input folder: identical bytes share one name."""
    return f"{sha256}.{ext}"


def stored_media_reference(sha256: str, ext: str) -> str:
    """What the graph's input says: ``comfy-gateway/<sha256>.<ext>``."""
    return f"{GATEWAY_FOLDER}/{stored_media_name(sha256, ext)}"


def _extension_of_content_type(content_type: str | None) -> str | None:
    if not content_type:
        return None
    return _CONTENT_TYPES.get(content_type.split(";")[0].strip().lower())


def _extension_of_name(name: str) -> str | None:
    if "." not in name:
        return None
    ext = name.rsplit(".", 1)[1].lower()
    ext = _EXTENSION_ALIASES.get(ext, ext)
    return ext if ext in MEDIA_EXTENSIONS else None


def sniff_media_extension(leading: bytes) -> str | None:
    """The extension the first bytes of a file announce (at least 16 bytes are needed)."""
    for magic, offset, ext in _MAGIC:
        if leading[offset : offset + len(magic)] == magic:
            return ext
    riff = _riff_extension(leading)
    if riff is not None:
        return riff
    return _iso_media_extension(leading) or _matroska_extension(leading) or _mp3_extension(leading)


_MAGIC: tuple[tuple[bytes, int, str], ...] = (
    (b"\x89PNG\r\n\x1a\n", 0, "png"),
    (b"\xff\xd8\xff", 0, "jpg"),
    (b"GIF87a", 0, "gif"),
    (b"GIF89a", 0, "gif"),
    (b"fLaC", 0, "flac"),
    (b"OggS", 0, "ogg"),
    (b"ID3", 0, "mp3"),
)


def _riff_extension(leading: bytes) -> str | None:
    if leading[:4] != b"RIFF":
        return None
    return {b"WEBP": "webp", b"WAVE": "wav", b"AVI ": "avi"}.get(leading[8:12])


def _iso_media_extension(leading: bytes) -> str | None:
    # ISO base media (MP4, MOV, M4A): a box of type "ftyp" first, its major brand after it.
    if leading[4:8] != b"ftyp":
        return None
    brand = leading[8:12]
    if brand == b"qt  ":
        return "mov"
    return "m4a" if brand in (b"M4A ", b"M4B ") else "mp4"


def _matroska_extension(leading: bytes) -> str | None:
    # EBML header; the DocType string near the start tells WebM from other Matroska files.
    if leading[:4] != b"\x1a\x45\xdf\xa3":
        return None
    return "webm" if b"webm" in leading[:64] else "mkv"


def _mp3_extension(leading: bytes) -> str | None:
    # An MPEG audio frame without an ID3 tag: 11 sync bits, a valid version and layer.
    if len(leading) < 2 or leading[0] != 0xFF or leading[1] & 0xE0 != 0xE0:
        return None
    version, layer = (leading[1] >> 3) & 0b11, (leading[1] >> 1) & 0b11
    return "mp3" if version != 0b01 and layer != 0b00 else None
