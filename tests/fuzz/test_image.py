"""Fuzzing the image encoders: every PIL mode, odd arrays, broken files."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from PIL import Image

from skmm.image import ColorHistogramEncoder, HOGImageEncoder, PixelImageEncoder
from tests.fuzz._property import (
    Cell,
    Fitted,
    check_property,
    fit_layouts,
    missing_cells,
    other_objects,
    tables,
)

FUZZ = settings.get_profile("skmm-fuzz")
FUZZ_LONG = settings.get_profile("skmm-fuzz-long")

MODES = (
    "1", "L", "LA", "La", "P", "PA", "RGB", "RGBA", "RGBa", "RGBX", "CMYK",
    "YCbCr", "LAB", "HSV", "I", "I;16", "I;16L", "I;16B", "I;16N", "F",
)  # fmt: skip
FORMATS = ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "PPM", "ICO", "TGA", "PCX",
           "JPEG2000", "SGI")  # fmt: skip


def _writable() -> dict[str, tuple[str, ...]]:
    """format -> the modes this Pillow writes and reads back in it."""
    table = {}
    for fmt in FORMATS:
        ok = []
        for mode in MODES:
            try:
                buf = io.BytesIO()
                Image.new(mode, (5, 3)).save(buf, format=fmt)
                Image.open(io.BytesIO(buf.getvalue())).load()
            except Exception:
                continue
            ok.append(mode)
        if ok:
            table[fmt] = tuple(ok)
    return table


WRITABLE = _writable()
ENCODERS = {
    "pixels": lambda: PixelImageEncoder(size=6, verbose=0),
    "histogram": lambda: ColorHistogramEncoder(bins=3, size=8, verbose=0),
    "hog": lambda: HOGImageEncoder(
        size=16, pixels_per_cell=8, cells_per_block=1, orientations=4, verbose=0
    ),
}

sides = st.integers(1, 12)


# ------------------------------------------------------------------- files
@pytest.fixture(scope="module")
def files(tmp_path_factory) -> dict[str, Path]:
    root = tmp_path_factory.mktemp("fuzz_images")
    rgb = np.random.default_rng(0).integers(0, 256, (9, 7, 3), dtype=np.uint8)
    paths = {"png": root / "ok.png", "jpg": root / "ok.jpg"}
    Image.fromarray(rgb).save(paths["png"])
    Image.fromarray(rgb).save(paths["jpg"])
    paths["text"] = root / "notes.png"
    paths["text"].write_text("not an image\n")
    paths["empty"] = root / "empty.jpg"
    paths["empty"].write_bytes(b"")
    paths["dir"] = root / "folder.png"
    paths["dir"].mkdir()
    paths["root"] = root
    return Fitted(paths)


@pytest.fixture(scope="module")
def encoders():
    ok = np.full((5, 4, 3), 128, np.uint8)
    return Fitted({name: fit_layouts(make, [ok]) for name, make in ENCODERS.items()})


# -------------------------------------------------------------- strategies
@st.composite
def pil_images(draw) -> Cell:
    """A small PIL image of any mode, its pixels random bytes."""
    mode = draw(st.sampled_from(MODES))
    w, h = draw(sides), draw(sides)
    n = len(Image.new(mode, (w, h)).tobytes())
    img = Image.frombytes(mode, (w, h), draw(st.binary(min_size=n, max_size=n)))
    if mode in ("P", "L", "RGB") and draw(st.booleans()):
        img.info["transparency"] = 0 if mode != "RGB" else (0, 0, 0)
    if mode == "P" and draw(st.booleans()):
        img.putpalette(draw(st.binary(min_size=3, max_size=768)))
    kind = "valid"
    if mode == "F" and not np.isfinite(np.asarray(img)).all():
        kind = "bad"
    return Cell(img, kind, f"PIL {mode}")


@st.composite
def encoded(draw) -> tuple[bytes, str]:
    fmt = draw(st.sampled_from(sorted(WRITABLE)))
    img = draw(pil_images()).value
    mode = draw(st.sampled_from(WRITABLE[fmt]))
    if img.mode != mode:
        try:
            img = img.convert(mode)
        except ValueError:
            img = Image.new(mode, img.size)
    buf = io.BytesIO()
    try:
        img.save(buf, format=fmt)
    except (ValueError, TypeError, OSError):
        # a mix Pillow cannot write (e.g. mode "1" keeping an RGB source's
        # transparency tuple): no input to test, not an skmm failure
        assume(False)
    return buf.getvalue(), fmt


@st.composite
def encoded_bytes(draw) -> Cell:
    data, fmt = draw(encoded())
    how = draw(st.sampled_from(["whole", "bytearray", "memoryview", "cut"]))
    if how == "bytearray":
        return Cell(bytearray(data), "valid", fmt)
    if how == "memoryview":
        return Cell(memoryview(data), "valid", fmt)
    if how == "whole":
        return Cell(data, "valid", fmt)
    cut = draw(st.integers(1, len(data) - 1))
    return Cell(data[:cut], "odd", f"{fmt} cut at {cut} of {len(data)}")


def _array_kind(arr: np.ndarray) -> str:
    shape_ok = arr.ndim == 2 or (arr.ndim == 3 and arr.shape[2] in (1, 3, 4))
    if not shape_ok or arr.size == 0:
        return "bad"
    if arr.dtype == np.uint8:
        return "valid"
    if arr.dtype.kind == "f":
        ok = np.isfinite(arr).all() and arr.min() >= 0 and arr.max() <= 1
        return "valid" if ok else "bad"
    return "bad"


DTYPES = st.sampled_from(
    [np.uint8, np.uint8, np.float32, np.float64, np.float16, np.bool_, np.uint16,
     np.int8, np.int16, np.int32, np.int64, np.complex64]
)  # fmt: skip


def _elements(dtype):
    dtype = np.dtype(dtype)
    if dtype.kind == "f":
        unit = st.floats(0, 1, width=min(dtype.itemsize * 8, 64))
        wild = st.floats(width=min(dtype.itemsize * 8, 64))
        return st.one_of(unit, unit, wild)
    return None


@st.composite
def image_arrays(draw) -> Cell:
    dtype = draw(DTYPES)
    shape = draw(
        st.one_of(
            st.tuples(sides, sides),
            st.tuples(sides, sides, st.sampled_from([1, 3, 4, 3, 4, 2, 5])),
            st.tuples(st.integers(0, 3), st.integers(0, 3), st.sampled_from([0, 3])),
            st.tuples(sides),
            st.tuples(st.integers(1, 2), sides, sides, st.just(3)),
            st.just(()),
        )
    )
    arr = draw(arrays(dtype, shape, elements=_elements(dtype)))
    if arr.ndim >= 2 and draw(st.booleans()):
        arr = arr[::-1]  # negative strides
    return Cell(arr, _array_kind(arr), "array")


@st.composite
def paths(draw, files) -> Cell:
    name = draw(st.text(max_size=12)).replace("/", "_")
    choice = draw(
        st.sampled_from(
            ["png", "jpg", "png-path", "missing", "text", "empty", "dir", "url", "dot"]
        )
    )
    if choice in ("png", "jpg"):
        return Cell(str(files[choice]), "valid", "file")
    if choice == "png-path":
        return Cell(files["png"], "valid", "file")
    if choice == "missing":
        value = str(files["root"] / "nope" / (name + ".png"))
        as_path = draw(st.booleans())
        return Cell(Path(value) if as_path else value, "bad", "missing file")
    if choice == "url":
        return Cell(f"https://example.org/{name}.png", "bad", "url")
    if choice == "dot":
        return Cell(Path(""), "bad", "Path('') is the working directory")
    return Cell(str(files[choice]), "bad", choice)


def image_cells(files) -> st.SearchStrategy[Cell]:
    garbage = st.binary(max_size=64).map(
        lambda b: Cell(b, "bad" if not b else "odd", "garbage bytes")
    )
    return st.one_of(
        pil_images(),
        image_arrays(),
        encoded_bytes(),
        garbage,
        paths(files),
        missing_cells(),
        other_objects(),
    )


@st.composite
def image_stacks(draw):
    """A 3-D / 4-D numeric array: a column of images (X itself)."""
    dtype = draw(
        st.sampled_from([np.uint8, np.float32, np.float64, np.int16, np.bool_])
    )
    n = draw(st.integers(1, 4))
    shape = draw(
        st.one_of(
            st.tuples(st.just(n), sides, sides),
            st.tuples(st.just(n), sides, sides, st.sampled_from([1, 3, 4, 2])),
        )
    )
    X = draw(arrays(dtype, shape, elements=_elements(dtype)))
    return X, [Cell(x, _array_kind(x), "stacked") for x in X]


def _check(encoders, files, name, data):
    table = data.draw(tables(image_cells(files), stack=image_stacks()), "table")
    check_property(encoders[name][table.fitted_as], table)


# ------------------------------------------------------------------- tests
@pytest.mark.parametrize("name", sorted(ENCODERS))
@settings(FUZZ)
@given(data=st.data())
def test_image_encoders_property(encoders, files, name, data):
    _check(encoders, files, name, data)


@pytest.mark.fuzz_long
@pytest.mark.parametrize("name", sorted(ENCODERS))
@settings(FUZZ_LONG)
@given(data=st.data())
def test_image_encoders_property_long(encoders, files, name, data):
    _check(encoders, files, name, data)


@pytest.mark.parametrize("mode", MODES)
def test_every_pil_mode_reads(mode):
    """A mid-grey pixel of every mode comes out as some RGB colour, and the
    grey and alpha modes keep their grey level."""
    from skmm.image import load_image

    img = Image.new(mode, (3, 2))
    out = load_image(img)
    assert out.mode == "RGB" and out.size == (3, 2)
    if mode in ("L", "LA", "La", "I;16", "I", "F"):
        value = {"I;16": 40000, "I": 40000, "F": 0.5}.get(mode, 128)
        img = Image.new(mode, (1, 1), value if mode not in ("LA", "La") else (128, 255))
        r, g, b = load_image(img).getpixel((0, 0))
        assert r == g == b and 120 <= r <= 160, (mode, r)
