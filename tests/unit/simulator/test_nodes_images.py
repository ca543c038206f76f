"""Image nodes computed for real, and the image output nodes' files and UI entries."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path

import numpy as np
import PIL
import pytest
from PIL import Image

from comfy_gateway.simulator.nodes import Interrupted, cache_fingerprint
from unit.simulator.test_nodes_context import RecordingContext, make_context, run_node


@pytest.fixture
def ctx(tmp_path: Path) -> RecordingContext:
    return make_context(tmp_path)


def _empty_image(
    ctx: RecordingContext, width: int, height: int, batch: int, color: int
) -> np.ndarray:
    result = run_node(ctx, "EmptyImage", width=width, height=height, batch_size=batch, color=color)
    image: np.ndarray = result.outputs[0]
    return image


def _gradient(height: int, width: int) -> np.ndarray:
    ys, xs = np.mgrid[0:height, 0:width]
    image = np.stack([xs / width, ys / height, np.full_like(xs, 0.25, dtype=float)], axis=-1)
    return image[np.newaxis].astype(np.float32)


def test_empty_image_takes_its_color_from_the_rgb_integer(ctx: RecordingContext) -> None:
    image = _empty_image(ctx, 5, 3, 2, 0x336699)
    assert image.shape == (2, 3, 5, 3)
    assert image.dtype == np.float32
    np.testing.assert_allclose(image[1, 2, 4], [0x33 / 255, 0x66 / 255, 0x99 / 255])


def test_image_invert_flips_every_channel(ctx: RecordingContext) -> None:
    image = _empty_image(ctx, 4, 4, 1, 0xFF0080)
    inverted = run_node(ctx, "ImageInvert", image=image).outputs[0]
    np.testing.assert_allclose(inverted[0, 0, 0], [0.0, 1.0, 1 - 0x80 / 255])


@pytest.mark.parametrize("method", ["nearest-exact", "bilinear", "area", "bicubic", "lanczos"])
def test_image_scale_resizes_with_every_method(ctx: RecordingContext, method: str) -> None:
    image = _gradient(20, 40)
    scaled = run_node(
        ctx, "ImageScale", image=image, upscale_method=method, width=10, height=30, crop="disabled"
    ).outputs[0]
    assert scaled.shape == (1, 30, 10, 3)
    # A left-to-right gradient stays one after resizing.
    assert scaled[0, 15, 0, 0] < scaled[0, 15, 9, 0]


def test_image_scale_with_a_zero_side_keeps_the_aspect_ratio(ctx: RecordingContext) -> None:
    image = _gradient(20, 40)
    scaled = run_node(
        ctx,
        "ImageScale",
        image=image,
        upscale_method="bilinear",
        width=0,
        height=10,
        crop="disabled",
    ).outputs[0]
    assert scaled.shape == (1, 10, 20, 3)


def test_image_scale_center_crop_cuts_the_sides(ctx: RecordingContext) -> None:
    image = _gradient(20, 40)
    scaled = run_node(
        ctx,
        "ImageScale",
        image=image,
        upscale_method="nearest-exact",
        width=20,
        height=20,
        crop="center",
    ).outputs[0]
    assert scaled.shape == (1, 20, 20, 3)
    # The 40-wide gradient lost 10 columns each side: x runs from 0.25 to 0.75.
    assert scaled[0, 0, 0, 0] == pytest.approx(10 / 40, abs=0.03)
    assert scaled[0, 0, -1, 0] == pytest.approx(29 / 40, abs=0.03)


def test_image_batch_resizes_the_second_image(ctx: RecordingContext) -> None:
    first = _empty_image(ctx, 8, 8, 1, 0xFF0000)
    second = _empty_image(ctx, 16, 4, 2, 0x00FF00)
    batch = run_node(ctx, "ImageBatch", image1=first, image2=second).outputs[0]
    assert batch.shape == (3, 8, 8, 3)
    np.testing.assert_allclose(batch[2, 4, 4], [0.0, 1.0, 0.0], atol=1e-6)


def _write_rgba(path: Path) -> None:
    pixels = np.zeros((6, 4, 4), np.uint8)
    pixels[..., 0] = 200
    pixels[..., 3] = 255
    pixels[0, 0, 3] = 0
    Image.fromarray(pixels).save(path)


def test_load_image_reads_rgb_and_turns_alpha_into_a_mask(ctx: RecordingContext) -> None:
    _write_rgba(ctx.input_dir / "in.png")
    image, mask = run_node(ctx, "LoadImage", image="in.png").outputs
    assert image.shape == (1, 6, 4, 3)
    np.testing.assert_allclose(image[0, 3, 2], [200 / 255, 0.0, 0.0])
    assert mask.shape == (1, 6, 4)
    assert mask[0, 0, 0] == 1.0
    assert mask[0, 1, 1] == 0.0


def test_load_image_without_alpha_gives_an_empty_64_mask(ctx: RecordingContext) -> None:
    Image.new("RGB", (3, 2), (0, 0, 255)).save(ctx.input_dir / "rgb.png")
    image, mask = run_node(ctx, "LoadImage", image="rgb.png").outputs
    np.testing.assert_allclose(image[0, 1, 2], [0.0, 0.0, 1.0])
    assert mask.shape == (1, 64, 64)
    assert not mask.any()


def test_load_image_finds_subfolders_and_annotated_names(ctx: RecordingContext) -> None:
    (ctx.input_dir / "sub").mkdir()
    Image.new("RGB", (2, 2), (255, 0, 0)).save(ctx.input_dir / "sub" / "a.png")
    Image.new("RGB", (5, 2), (0, 255, 0)).save(ctx.output_dir / "b.png")
    assert run_node(ctx, "LoadImage", image="sub/a.png").outputs[0].shape == (1, 2, 2, 3)
    assert run_node(ctx, "LoadImage", image="sub/a.png [input]").outputs[0].shape == (1, 2, 2, 3)
    assert run_node(ctx, "LoadImage", image="b.png [output]").outputs[0].shape == (1, 2, 5, 3)


def test_load_image_applies_the_exif_orientation(ctx: RecordingContext) -> None:
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90° clockwise to display
    Image.new("RGB", (8, 2), (10, 20, 30)).save(ctx.input_dir / "turned.jpg", exif=exif)
    image = run_node(ctx, "LoadImage", image="turned.jpg").outputs[0]
    assert image.shape == (1, 8, 2, 3)


def test_load_image_of_a_corrupt_file_raises_pillows_error(ctx: RecordingContext) -> None:
    (ctx.input_dir / "corrupt.png").write_bytes(b"this is not an image")
    with pytest.raises(PIL.UnidentifiedImageError, match="cannot identify image file") as caught:
        run_node(ctx, "LoadImage", image="corrupt.png")
    assert type(caught.value).__module__ + "." + type(caught.value).__name__ == (
        "PIL.UnidentifiedImageError"
    )


def test_load_image_refuses_names_outside_the_input_folder(ctx: RecordingContext) -> None:
    with pytest.raises(FileNotFoundError):
        run_node(ctx, "LoadImage", image="../output/x.png")


def test_load_image_fingerprint_follows_the_file_bytes(tmp_path: Path) -> None:
    path = tmp_path / "f.png"
    Image.new("RGB", (2, 2), (1, 2, 3)).save(path)
    first = cache_fingerprint("LoadImage", {"image": "f.png"}, tmp_path)
    assert first == cache_fingerprint("LoadImage", {"image": "f.png"}, tmp_path)
    Image.new("RGB", (2, 2), (9, 9, 9)).save(path)
    second = cache_fingerprint("LoadImage", {"image": "f.png"}, tmp_path)
    assert first is not None
    assert second is not None
    assert first != second
    assert cache_fingerprint("LoadImage", {"image": "missing.png"}, tmp_path) is None


def test_save_image_counts_up_and_writes_real_pngs(ctx: RecordingContext) -> None:
    images = _empty_image(ctx, 6, 4, 2, 0x102030)
    first = run_node(ctx, "SaveImage", images=images, filename_prefix="t").ui
    second = run_node(ctx, "SaveImage", images=images[:1], filename_prefix="t").ui
    assert first == {
        "images": [
            {"filename": "t_00001_.png", "subfolder": "", "type": "output"},
            {"filename": "t_00002_.png", "subfolder": "", "type": "output"},
        ]
    }
    assert second == {"images": [{"filename": "t_00003_.png", "subfolder": "", "type": "output"}]}
    with Image.open(ctx.output_dir / "t_00003_.png") as saved:
        assert saved.size == (6, 4)
        assert saved.getpixel((0, 0)) == (0x10, 0x20, 0x30)


def test_save_image_counter_ignores_other_prefixes_and_continues_gaps(
    ctx: RecordingContext,
) -> None:
    (ctx.output_dir / "t_00007_.png").write_bytes(b"")
    (ctx.output_dir / "tt_00041_.png").write_bytes(b"")
    images = _empty_image(ctx, 2, 2, 1, 0)
    ui = run_node(ctx, "SaveImage", images=images, filename_prefix="t").ui
    assert ui is not None
    assert ui["images"][0]["filename"] == "t_00008_.png"


def test_save_image_prefix_with_a_subfolder(ctx: RecordingContext) -> None:
    images = _empty_image(ctx, 2, 2, 1, 0)
    ui = run_node(ctx, "SaveImage", images=images, filename_prefix="video/clip").ui
    assert ui == {
        "images": [{"filename": "clip_00001_.png", "subfolder": "video", "type": "output"}]
    }
    assert (ctx.output_dir / "video" / "clip_00001_.png").is_file()


def test_save_image_refuses_a_prefix_escaping_the_output_folder(ctx: RecordingContext) -> None:
    images = _empty_image(ctx, 2, 2, 1, 5)
    with pytest.raises(
        Exception,
        match=r"^\*\*\*\* ERROR: Saving image outside the output "
        r"folder is not allowed\.\n full_output_folder: ",
    ) as caught:
        run_node(ctx, "SaveImage", images=images, filename_prefix="../escape")
    assert type(caught.value) is Exception
    assert f"\n         output_dir: {ctx.output_dir}\n" in str(caught.value)
    assert f"\n         commonpath: {ctx.output_dir.parent}" in str(caught.value)


def test_preview_image_writes_to_temp_with_a_random_prefix(ctx: RecordingContext) -> None:
    images = _empty_image(ctx, 2, 2, 1, 255)
    ui = run_node(ctx, "PreviewImage", images=images).ui
    assert ui is not None
    entry = ui["images"][0]
    assert re.fullmatch(r"ComfyUI_temp_[a-z]{5}_00001_\.png", entry["filename"])
    assert entry["subfolder"] == ""
    assert entry["type"] == "temp"
    assert (ctx.temp_dir / entry["filename"]).is_file()
    assert not any(ctx.output_dir.iterdir())


def test_websocket_saver_sends_a_png_preview_with_each_progress_tick(
    ctx: RecordingContext,
) -> None:
    images = _empty_image(ctx, 16, 16, 3, 0xFF0000)
    result = run_node(ctx, "SaveImageWebsocket", images=images)
    assert result.ui is None
    assert [kind for kind, _ in ctx.events] == ["preview", "progress"] * 3
    assert ctx.progress == [(0, 3), (1, 3), (2, 3)]
    data, image_format = ctx.previews[0]
    assert image_format == "PNG"
    with Image.open(io.BytesIO(data)) as preview:
        assert preview.size == (16, 16)
        assert preview.getpixel((3, 3)) == (255, 0, 0)


def test_preview_any_renders_text(ctx: RecordingContext) -> None:
    assert run_node(ctx, "PreviewAny", source="hello").ui == {"text": ["hello"]}
    assert run_node(ctx, "PreviewAny", source=3).ui == {"text": ["3"]}
    assert run_node(ctx, "PreviewAny", source={"a": [1]}).ui == {"text": ['{"a": [1]}']}
    assert run_node(ctx, "PreviewAny", source=None).ui == {"text": ["None"]}


def _pixel_space(ctx: RecordingContext) -> object:
    return run_node(ctx, "VAELoader", vae_name="pixel_space").outputs[0]


def test_tiled_decode_with_pixel_space_reports_three_passes_of_tiles(
    ctx: RecordingContext,
) -> None:
    image = _empty_image(ctx, 256, 256, 1, 0x808080)
    vae = _pixel_space(ctx)
    latent = run_node(ctx, "VAEEncode", pixels=image, vae=vae).outputs[0]
    decoded = run_node(
        ctx,
        "VAEDecodeTiled",
        samples=latent,
        vae=vae,
        tile_size=128,
        overlap=0,
        temporal_size=64,
        temporal_overlap=8,
    ).outputs[0]
    assert ctx.progress == [(value, 12) for value in range(1, 13)]
    np.testing.assert_allclose(decoded, image, atol=1e-6)


def test_tiled_decode_stops_at_the_progress_tick_after_an_interrupt(
    ctx: RecordingContext,
) -> None:
    image = _empty_image(ctx, 64, 64, 1, 0)
    vae = _pixel_space(ctx)
    latent = run_node(ctx, "VAEEncode", pixels=image, vae=vae).outputs[0]
    ctx.interrupt_after = 3  # of 5 ticks (1 + 2 + 2 tiles)
    with pytest.raises(Interrupted):
        run_node(
            ctx,
            "VAEDecodeTiled",
            samples=latent,
            vae=vae,
            tile_size=64,
            overlap=0,
            temporal_size=64,
            temporal_overlap=8,
        )
    assert ctx.progress == [(1, 5), (2, 5), (3, 5)]


def test_plain_vae_round_trip_and_empty_latent_shapes(ctx: RecordingContext) -> None:
    latent = run_node(ctx, "EmptyLatentImage", width=64, height=32, batch_size=2).outputs[0]
    assert latent["samples"].shape == (2, 4, 4, 8)
    image = _empty_image(ctx, 32, 16, 1, 0x00FF00)
    vae = run_node(ctx, "VAELoader", vae_name="sdxl_vae.safetensors").outputs[0]
    encoded = run_node(ctx, "VAEEncode", pixels=image, vae=vae).outputs[0]
    assert encoded["samples"].shape == (1, 4, 2, 4)
    decoded = run_node(ctx, "VAEDecode", samples=encoded, vae=vae).outputs[0]
    np.testing.assert_allclose(decoded, image, atol=1e-6)


def test_load_image_output_reads_the_output_folder_unless_annotated(
    ctx: RecordingContext,
) -> None:
    Image.new("RGB", (3, 3), (0, 0, 0)).save(ctx.output_dir / "o.png")
    Image.new("RGB", (4, 4), (0, 0, 0)).save(ctx.input_dir / "o.png")
    assert run_node(ctx, "LoadImageOutput", image="o.png").outputs[0].shape == (1, 3, 3, 3)
    assert run_node(ctx, "LoadImageOutput", image="o.png [input]").outputs[0].shape == (
        1,
        4,
        4,
        3,
    )


def test_simple_image_edits_keep_content_and_sizes(ctx: RecordingContext) -> None:
    image = _gradient(20, 40)
    scaled = run_node(ctx, "ImageScaleBy", image=image, upscale_method="area", scale_by=0.5)
    assert scaled.outputs[0].shape == (1, 10, 20, 3)
    crop = run_node(ctx, "ImageCrop", image=image, width=8, height=100, x=30, y=5).outputs[0]
    assert crop.shape == (1, 15, 8, 3)
    np.testing.assert_allclose(crop[0, 0, 0], image[0, 5, 30])
    flipped = run_node(ctx, "ImageFlip", image=image, flip_method="y-axis: horizontally")
    np.testing.assert_allclose(flipped.outputs[0][0, 3, 0], image[0, 3, 39])
    rotated = run_node(ctx, "ImageRotate", image=image, rotation="90 degrees").outputs[0]
    assert rotated.shape == (1, 40, 20, 3)
    # Clockwise: the top-left pixel ends up top-right.
    np.testing.assert_allclose(rotated[0, 0, -1], image[0, 0, 0])
    repeated = run_node(ctx, "RepeatImageBatch", image=image, amount=3).outputs[0]
    assert repeated.shape == (3, 20, 40, 3)
    picked = run_node(ctx, "ImageFromBatch", image=repeated, batch_index=2, length=5).outputs[0]
    assert picked.shape == (1, 20, 40, 3)
    total = run_node(
        ctx, "ImageScaleToTotalPixels", image=image, upscale_method="bilinear", megapixels=0.01
    ).outputs[0]
    assert total.shape[1] * total.shape[2] == pytest.approx(0.01 * 1024 * 1024, rel=0.05)


def test_save_image_embeds_the_prompt_when_given(ctx: RecordingContext) -> None:
    images = _empty_image(ctx, 2, 2, 1, 0)
    prompt = {"1": {"class_type": "EmptyImage", "inputs": {}}}
    run_node(
        ctx,
        "SaveImage",
        images=images,
        filename_prefix="meta",
        prompt=prompt,
        extra_pnginfo={"workflow": {"nodes": []}},
    )
    with Image.open(ctx.output_dir / "meta_00001_.png") as saved:
        text = getattr(saved, "text", {})
    assert json.loads(text["prompt"]) == prompt
    assert json.loads(text["workflow"]) == {"nodes": []}
