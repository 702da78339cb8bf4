"""skmm.image._io: reading cells of every kind, resize policies, item keys."""

from __future__ import annotations

import io
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from skmm.image import load_image, resize_image
from skmm.image._io import (
    check_background,
    check_size,
    describe_image_item,
    image_item_key,
)


# ------------------------------------------------------------------ load_image
@pytest.mark.parametrize("kind", ["str", "path", "bytes", "bytearray", "pil", "array"])
def test_load_every_cell_kind_gives_same_rgb(kind, image_dir, rgb_array, png_bytes):
    cell = {
        "str": str(image_dir["png"]),
        "path": image_dir["png"],
        "bytes": png_bytes(rgb_array),
        "bytearray": bytearray(png_bytes(rgb_array)),
        "pil": Image.fromarray(rgb_array),
        "array": rgb_array,
    }[kind]
    img = load_image(cell)
    assert img.mode == "RGB"
    np.testing.assert_array_equal(np.asarray(img), rgb_array)


def test_load_jpeg_path(image_dir, rgb_array):
    img = load_image(image_dir["jpg"])
    assert img.mode == "RGB" and img.size == (16, 24)
    assert np.abs(np.asarray(img).astype(int) - rgb_array).mean() < 30


def test_load_grey_arrays_become_rgb():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    for cell in (grey, grey[:, :, None]):
        out = np.asarray(load_image(cell))
        assert out.shape == (3, 4, 3)
        np.testing.assert_array_equal(out[..., 1], grey)


def test_load_float_array_in_unit_range():
    arr = np.full((2, 2, 3), 0.5)
    assert load_image(arr).getpixel((0, 0)) == (128, 128, 128)
    assert load_image(np.ones((2, 2), np.float32)).getpixel((1, 1)) == (255, 255, 255)


def test_rgba_composited_on_background(image_dir):
    img = load_image(image_dir["rgba"], background=(0, 255, 0))
    assert img.mode == "RGB"
    assert img.getpixel((0, 0)) == (255, 0, 0)  # opaque
    assert img.getpixel((0, 11)) == (0, 255, 0)  # transparent -> background
    assert load_image(image_dir["rgba"]).getpixel((0, 11)) == (255, 255, 255)


def test_half_transparent_pixels_blend():
    rgba = np.zeros((1, 1, 4), np.uint8)
    rgba[..., 3] = 128  # half-transparent black on white
    (v, _, _) = load_image(rgba).getpixel((0, 0))
    assert 120 <= v <= 135


def test_la_and_palette_transparency(image_dir):
    la = Image.new("LA", (2, 2), (0, 0))  # black, fully transparent
    assert load_image(la, background="red").getpixel((0, 0)) == (255, 0, 0)
    pal = load_image(image_dir["gif"], background=(0, 0, 255))
    assert pal.getpixel((0, 0)) == (255, 0, 0)  # palette index 1 opaque
    assert pal.getpixel((0, 7)) == (0, 0, 255)  # index 0 transparent


def test_16_bit_grey_png_is_rescaled(tmp_path):
    arr = np.array([[0, 65535]], dtype=np.uint16)
    path = tmp_path / "deep.png"
    Image.fromarray(arr).save(path)
    img = load_image(path)
    assert img.getpixel((0, 0)) == (0, 0, 0)
    assert img.getpixel((1, 0)) == (255, 255, 255)


def test_exif_orientation_is_applied():
    img = Image.new("RGB", (30, 10), (10, 20, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # rotate 90 degrees clockwise to display
    buf = io.BytesIO()
    img.save(buf, format="JPEG", exif=exif.tobytes())
    assert load_image(buf.getvalue()).size == (10, 30)


def test_missing_file_message(image_dir):
    with pytest.raises(FileNotFoundError, match="file not found"):
        load_image(image_dir["missing"])
    with pytest.raises(FileNotFoundError, match="missing.png"):
        load_image(str(image_dir["missing"]))


def test_directory_message(image_dir):
    with pytest.raises(IsADirectoryError, match="is a directory"):
        load_image(image_dir["dir"])


@pytest.mark.parametrize("name", ["corrupt", "empty"])
def test_corrupt_file_message(image_dir, name):
    with pytest.raises(ValueError, match="not a readable image"):
        load_image(image_dir[name])


def test_corrupt_bytes_message():
    with pytest.raises(ValueError, match="not a readable image"):
        load_image(b"definitely not an image")
    with pytest.raises(ValueError, match="not a readable image"):
        load_image(b"")


@pytest.mark.parametrize(
    "arr, match",
    [
        (np.zeros((4, 4, 2), np.uint8), "shape"),
        (np.zeros((2, 4, 4, 3), np.uint8), "shape"),
        (np.zeros(5, np.uint8), "shape"),
        (np.zeros((0, 4, 3), np.uint8), "empty"),
        (np.zeros((4, 4, 3), np.int64), "dtype"),
        (np.full((4, 4, 3), 2.0), r"\[0, 1\]"),
        (np.full((4, 4), np.nan), "NaN"),
    ],
)
def test_bad_arrays(arr, match):
    with pytest.raises(ValueError, match=match):
        load_image(arr)


@pytest.mark.parametrize("cell", [3, 2.5, ["a.png"], {"path": "a.png"}])
def test_unsupported_type(cell):
    with pytest.raises(TypeError, match="unsupported image cell of type"):
        load_image(cell)


def test_background_validation():
    assert check_background("#ff0000") == (255, 0, 0)
    for bad in ((255, 255), (0, 0, 256), "no-such-colour", (1.5, 0, 0), None):
        with pytest.raises(ValueError, match="background|colour"):
            check_background(bad)


def test_size_validation():
    assert check_size(5) == (5, 5)
    assert check_size([3, 4]) == (3, 4)
    for bad in (0, -1, (3,), (3, 0), "32", 2.0, True):
        with pytest.raises(ValueError, match="size"):
            check_size(bad)


# ----------------------------------------------------------------- resize_image
def _wide() -> Image.Image:
    """40 x 20 image: left half black, right half white, a red centre band."""
    arr = np.zeros((20, 40, 3), np.uint8)
    arr[:, 20:] = 255
    arr[:, 16:24] = (255, 0, 0)
    return Image.fromarray(arr)


def test_resize_squash_ignores_aspect():
    out = resize_image(_wide(), (10, 30), "squash")
    assert out.size == (30, 10)
    assert resize_image(_wide(), 8).size == (8, 8)


def test_resize_pad_letterboxes_on_background():
    out = np.asarray(resize_image(_wide(), 20, "pad", background=(0, 255, 0)))
    assert out.shape == (20, 20, 3)
    # 40x20 -> 20x10, centred: 5 rows of background above and below
    assert (out[:5] == (0, 255, 0)).all() and (out[15:] == (0, 255, 0)).all()
    assert out[10, 1].tolist() == [0, 0, 0]
    assert out[10, 18].tolist() == [255, 255, 255]


def test_resize_crop_keeps_the_centre():
    out = np.asarray(resize_image(_wide(), 10, "crop"))
    assert out.shape == (10, 10, 3)
    # 40x20 -> 20x10, centre 10 columns: the red band stays in the middle
    assert out[5, 4:6, 0].min() > 200 and out[5, 4:6, 1].max() < 80
    assert out[5, 0].tolist() == [0, 0, 0] and out[5, 9].tolist() == [255, 255, 255]


def test_resize_crop_fraction_matches_imagenet_recipe():
    rng = np.random.default_rng(0)
    img = Image.fromarray(rng.integers(0, 256, (240, 320, 3), dtype=np.uint8))
    out = resize_image(img, 224, "crop", crop_fraction=0.875)
    # torchvision: Resize(256) (shorter side) then CenterCrop(224)
    ref = img.resize((341, 256), Image.Resampling.BILINEAR)
    left, top = int(round((341 - 224) / 2)), int(round((256 - 224) / 2))
    ref = ref.crop((left, top, left + 224, top + 224))
    np.testing.assert_array_equal(np.asarray(out), np.asarray(ref))


@pytest.mark.parametrize("policy", ["squash", "pad", "crop"])
@pytest.mark.parametrize("size", [1, 7, (5, 9), (33, 2)])
def test_resize_always_returns_requested_size(policy, size):
    h, w = (size, size) if isinstance(size, int) else size
    for shape in ((20, 40), (40, 20), (3, 3), (1, 50)):
        img = Image.new("RGB", (shape[1], shape[0]))
        assert resize_image(img, size, policy).size == (w, h)


def test_resize_rejects_bad_arguments():
    with pytest.raises(ValueError, match="policy"):
        resize_image(_wide(), 8, "stretch")
    with pytest.raises(ValueError, match="crop_fraction"):
        resize_image(_wide(), 8, "crop", crop_fraction=1.5)


# ------------------------------------------------------------------ item keys
def test_item_keys(image_dir, rgb_array):
    p = image_dir["png"]
    assert image_item_key(str(p)) == image_item_key(p)
    assert image_item_key(p) != image_item_key(image_dir["jpg"])
    assert image_item_key(rgb_array) == image_item_key(rgb_array.copy())
    assert image_item_key(rgb_array) != image_item_key(rgb_array[::-1].copy())
    pil = Image.fromarray(rgb_array)
    assert image_item_key(pil) == image_item_key(pil.copy())
    assert image_item_key(b"abc") == image_item_key(b"abc")
    # an unsupported cell gets a key of its own (the error comes when read)
    assert image_item_key(3) != image_item_key(3.0)


def test_item_key_changes_when_file_changes(image_dir, rgb_array):
    p = image_dir["png"]
    before = image_item_key(p)
    Image.fromarray(rgb_array[::-1]).save(p)
    os.utime(p, ns=(1, 10**18))
    assert image_item_key(p) != before


def test_describe_item_keeps_long_paths():
    long = "/data/" + "x" * 200 + ".png"
    assert long in describe_image_item(long)
    assert long in describe_image_item(Path(long))
    arr = np.zeros((2, 3), np.uint8)
    assert describe_image_item(arr).startswith("array(shape=(2, 3)")
    pil = Image.new("RGB", (4, 3))
    assert describe_image_item(pil) == "PIL.Image(mode=RGB, size=4x3)"


def test_urls_are_not_fetched():
    with pytest.raises(FileNotFoundError, match="URLs are not downloaded"):
        load_image("https://example.invalid/cat.png")
