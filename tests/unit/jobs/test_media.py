"""Media rules: names, strict base64, sniffing, kinds, stored names, limits."""

from __future__ import annotations

import base64
import hashlib

import pytest

from comfy_gateway.jobs.domain_errors import (
    InvalidBase64,
    MediaTooLarge,
    TooManyMedia,
    UnsafeMediaName,
    UnsupportedMediaType,
)
from comfy_gateway.jobs.media import (
    check_media_count,
    check_media_size,
    data_url_content_type,
    decode_base64_strict,
    media_extension,
    media_kind,
    sniff_media_extension,
    stored_media_name,
    stored_media_reference,
    validate_media_name,
)

# --- names -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name", ["input.png", "a b.wav", "clip-1_final.MP4", "ça.jpg", "x" * 124 + ".png", "a.b.c"]
)
def test_plain_names_are_accepted_unchanged(name: str) -> None:
    assert validate_media_name(name) == name


@pytest.mark.parametrize(
    ("name", "fragment"),
    [
        ("a/b.png", "separator"),
        ("a\\b.png", "separator"),
        ("../x.png", "separator"),
        ("..", "'..'"),
        ("a..png", "'..'"),
        (".hidden.png", "dot"),
        ("a\x00.png", "control"),
        ("a\n.png", "control"),
        ("a\x7f.png", "control"),
        ("a\u202egnp.exe", "formatting"),
        ("a\u200b.png", "formatting"),
        ("a\u2028.png", "control"),
        ("a\ud800.png", "control"),
        ("x" * 125 + ".png", "128 bytes"),
        ("é" * 65, "128 bytes"),
        ("", "non-empty"),
        (None, "non-empty"),
        (42, "non-empty"),
    ],
)
def test_unsafe_names_are_refused(name: object, fragment: str) -> None:
    with pytest.raises(UnsafeMediaName, match=fragment) as raised:
        validate_media_name(name)
    assert raised.value.code == "unsafe_media_name"
    assert raised.value.http_status == 422


def test_refused_huge_name_is_cut_in_the_message() -> None:
    with pytest.raises(UnsafeMediaName) as raised:
        validate_media_name("y" * 100_000)
    assert len(str(raised.value)) < 400


# --- base64 ------------------------------------------------------------------------------

PAYLOADS = [b"\x00", b"ab", b"abc", b"\xff\xfe\xfd\xfc", bytes(range(256))]


@pytest.mark.parametrize("data", PAYLOADS)
def test_standard_base64_round_trips_with_or_without_padding(data: bytes) -> None:
    text = base64.b64encode(data).decode()
    assert decode_base64_strict(text, 1000) == data
    assert decode_base64_strict(text.rstrip("="), 1000) == data
    if text.endswith("=="):
        assert decode_base64_strict(text[:-1], 1000) == data


@pytest.mark.parametrize(
    "prefix",
    ["data:image/png;base64,", "DATA:image/png;base64,", "data:;base64,", "data:a/b;x=y;base64,"],
)
def test_data_url_prefix_is_accepted(prefix: str) -> None:
    assert decode_base64_strict(prefix + base64.b64encode(b"hello").decode(), 100) == b"hello"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("aGVs bG8=", "whitespace"),
        ("aGVsbG8=\n", "whitespace"),
        ("aGVs\nbG8=", "whitespace"),
        (" aGVsbG8=", "whitespace"),
        ("aGVsbG8-", "URL-safe"),
        ("a_Vs", "URL-safe"),
        ("aGVsbG8*", "not base64"),
        ("aGVsbG8é", "not base64"),
        ("aG=sbG8=", "padding"),
        ("aGVsbG8==", "padding"),
        ("aGVsbA===", "padding"),
        ("QQ==QQ==", "padding"),
        ("aGVsb", "truncated"),
        ("QR==", "non-canonical"),
        ("", "empty"),
        ("data:image/png;base64,", "empty"),
        ("data:image/png,aGVsbG8=", "data: URL"),
        ("data:text/plain;charset=utf-8,hello", "data: URL"),
    ],
)
def test_anything_but_strict_base64_is_refused(text: str, fragment: str) -> None:
    with pytest.raises(InvalidBase64, match=fragment):
        decode_base64_strict(text, 1000, name="x.png")


def test_error_names_the_media_item() -> None:
    with pytest.raises(InvalidBase64) as raised:
        decode_base64_strict("@@@@", 10, name="photo.png")
    assert raised.value.details["name"] == "photo.png"
    assert "photo.png" in str(raised.value)


def test_size_limit_is_checked_on_the_decoded_length() -> None:
    text = base64.b64encode(b"x" * 100).decode()
    assert len(decode_base64_strict(text, 100)) == 100
    with pytest.raises(MediaTooLarge) as raised:
        decode_base64_strict(text, 99, name="big.png")
    assert raised.value.http_status == 413
    assert raised.value.details["size_bytes"] == 100
    assert raised.value.details["limit_bytes"] == 99


def test_oversized_text_is_refused_before_decoding_junk_at_its_end() -> None:
    # The size check comes before decoding: a huge valid-looking text is refused as too
    # large even though its last quantum would also be rejected.
    text = "A" * 4_000_000 + "QR=="
    with pytest.raises(MediaTooLarge):
        decode_base64_strict(text, 1_000_000)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("data:image/PNG;base64,AAAA", "image/png"),
        ("data:;base64,AAAA", None),
        ("AAAA", None),
        ("data:image/png,AAAA", None),
    ],
)
def test_data_url_content_type(text: str, expected: str | None) -> None:
    assert data_url_content_type(text) == expected


# --- sniffing, extensions, kinds ---------------------------------------------------------

PNG = b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR"
SNIFFED = [
    ("png", PNG),
    ("jpg", b"\xff\xd8\xff\xe0\x00\x10JFIF\x00"),
    ("gif", b"GIF89a\x01\x00\x01\x00"),
    ("gif", b"GIF87a\x01\x00\x01\x00"),
    ("webp", b"RIFF\xa2\x01\x00\x00WEBPVP8X"),
    ("wav", b"RIFF$\x00\x00\x00WAVEfmt "),
    ("avi", b"RIFF$\x00\x00\x00AVI LIST"),
    ("flac", bytes.fromhex("664c6143000000220480048000000b00")),
    ("mp3", b"ID3\x04\x00\x00\x00\x00\x00\x00"),
    ("mp3", b"\xff\xfb\x90\x64\x00\x00"),
    ("ogg", b"OggS\x00\x02\x00\x00"),
    ("mp4", bytes.fromhex("000000206674797069736f6d00000200")),
    ("mov", b"\x00\x00\x00\x14ftypqt  \x00\x00"),
    ("m4a", b"\x00\x00\x00\x20ftypM4A \x00\x00"),
    ("webm", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x84webm"),
    ("mkv", b"\x1a\x45\xdf\xa3\x9f\x42\x86\x81\x01\x42\x82\x88matroska"),
]


@pytest.mark.parametrize(
    ("ext", "leading"), SNIFFED, ids=[f"{e}-{i}" for i, (e, _) in enumerate(SNIFFED)]
)
def test_magic_bytes_are_recognised(ext: str, leading: bytes) -> None:
    assert sniff_media_extension(leading) == ext


@pytest.mark.parametrize(
    "leading", [b"", b"\x89PN", b"RIFF\x00\x00\x00\x00JUNK", b"\xff\xf1\x50\x80", b"hello world"]
)
def test_unknown_or_short_bytes_are_not_guessed(leading: bytes) -> None:
    assert sniff_media_extension(leading) is None


@pytest.mark.parametrize(
    ("name", "content_type", "leading", "expected"),
    [
        ("photo.jpg", "image/jpeg", PNG, "png"),
        ("photo", "application/octet-stream", PNG, "png"),
        ("photo.bin", "image/jpeg; charset=binary", b"junk", "jpg"),
        ("clip.mov", None, b"junk", "mov"),
        ("photo.JPEG", None, b"", "jpg"),
        ("scan.tif", None, b"", "tiff"),
        ("corrupt.png", "image/png", b"not a png", "png"),
        ("song.AAC", "", b"\xff\xf1\x50\x80", "aac"),
    ],
)
def test_extension_prefers_bytes_then_content_type_then_name(
    name: str, content_type: str | None, leading: bytes, expected: str
) -> None:
    assert media_extension(name, content_type, leading) == expected


@pytest.mark.parametrize(
    ("name", "content_type"), [("data", None), ("notes.txt", "text/plain"), ("x.exe", "")]
)
def test_unidentifiable_media_are_refused(name: str, content_type: str | None) -> None:
    with pytest.raises(UnsupportedMediaType, match="not a known image, audio or video"):
        media_extension(name, content_type, b"MZ\x90\x00")


@pytest.mark.parametrize(
    ("ext", "kind"),
    [
        ("png", "image"),
        ("JPG", "image"),
        ("gif", "image"),
        ("webp", "image"),
        ("wav", "audio"),
        ("flac", "audio"),
        ("mp3", "audio"),
        ("ogg", "audio"),
        ("mp4", "video"),
        ("webm", "video"),
        ("mov", "video"),
        ("m4v", "video"),
    ],
)
def test_media_kind(ext: str, kind: str) -> None:
    assert media_kind(ext) == kind


def test_media_kind_of_unknown_extension_is_refused() -> None:
    with pytest.raises(UnsupportedMediaType):
        media_kind("exe")


def test_stored_name_and_reference_come_from_the_content_hash() -> None:
    digest = hashlib.sha256(b"bytes").hexdigest()
    assert stored_media_name(digest, "png") == f"{digest}.png"
    assert stored_media_reference(digest, "png") == f"comfy-gateway/{digest}.png"


# --- limits ------------------------------------------------------------------------------


def test_count_limit() -> None:
    check_media_count(10, 10)
    with pytest.raises(TooManyMedia) as raised:
        check_media_count(11, 10)
    assert raised.value.details == {"count": 11, "limit": 10}


def test_size_limit() -> None:
    check_media_size(50, 50)
    with pytest.raises(MediaTooLarge, match=r"'a\.mp4'"):
        check_media_size(51, 50, name="a.mp4")
