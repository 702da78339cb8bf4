"""Small image files of every kind the image encoders read."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image


def _checker(h: int = 24, w: int = 16) -> np.ndarray:
    """An RGB test pattern: red/blue checks with a green bar."""
    yy, xx = np.mgrid[0:h, 0:w]
    img = np.zeros((h, w, 3), np.uint8)
    img[..., 0] = np.where((yy // 4 + xx // 4) % 2 == 0, 220, 20)
    img[..., 2] = 255 - img[..., 0]
    img[: h // 4, :, 1] = 200
    return img


@pytest.fixture
def rgb_array() -> np.ndarray:
    return _checker()


@pytest.fixture
def image_dir(tmp_path: Path) -> dict[str, Path]:
    """Files: PNG, JPEG, RGBA PNG, palette GIF with transparency, corrupt
    file, empty file, a directory and a path that does not exist."""
    rgb = _checker()
    paths = {}
    paths["png"] = tmp_path / "checker.png"
    Image.fromarray(rgb).save(paths["png"])
    paths["jpg"] = tmp_path / "checker.jpg"
    Image.fromarray(rgb).save(paths["jpg"], quality=95)
    rgba = np.zeros((12, 10, 4), np.uint8)
    rgba[..., 0] = 255
    rgba[:6, :, 3] = 255  # top half opaque red, bottom half transparent
    paths["rgba"] = tmp_path / "emoji.png"
    Image.fromarray(rgba, mode="RGBA").save(paths["rgba"])
    pal = Image.new("P", (8, 8), 0)
    pal.putpalette([0, 0, 0, 255, 0, 0] + [0] * 762)
    pal.paste(1, (0, 0, 8, 4))
    paths["gif"] = tmp_path / "pal.gif"
    pal.save(paths["gif"], transparency=0)
    paths["corrupt"] = tmp_path / "corrupt.png"
    paths["corrupt"].write_bytes(b"\x89PNG\r\n\x1a\n this is not really a png")
    paths["empty"] = tmp_path / "empty.jpg"
    paths["empty"].write_bytes(b"")
    paths["dir"] = tmp_path / "a_folder"
    paths["dir"].mkdir()
    paths["missing"] = tmp_path / "nope" / "missing.png"
    return paths


def _png_bytes(arr: np.ndarray) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(arr).save(buf, format="PNG")
    return buf.getvalue()


@pytest.fixture
def png_bytes():
    """Encode an array as PNG bytes."""
    return _png_bytes


@pytest.fixture(scope="session")
def tiny_vision_model(tmp_path_factory) -> Path:
    """A tiny random ViT folder (config, safetensors, preprocessor config)."""
    from skmm.testing._tiny_image import make_tiny_vision_model

    return make_tiny_vision_model(tmp_path_factory.mktemp("tiny_vit"))
