"""Reading image cells and resizing them.

A cell of an image column is a path (``str`` or ``os.PathLike``), the encoded
bytes of an image file, a ``PIL.Image.Image``, or a ``H x W x C`` (C in 1, 3,
4) / ``H x W`` array (``uint8``, or floats in ``[0, 1]``).  Every encoder
reads a cell with :func:`load_image` (which always returns an RGB image,
transparency composited onto a background) and brings it to its input size
with :func:`resize_image`.
"""

from __future__ import annotations

import io
import math
import os
import warnings
from collections.abc import Hashable, Sequence
from pathlib import Path
from typing import Any

import numpy as np

from skmm.base._cells import describe_file_cell
from skmm.utils._hashing import hash_item

__all__ = [
    "RESIZE_POLICIES",
    "describe_image_item",
    "image_item_key",
    "load_image",
    "resize_image",
]

RESIZE_POLICIES = ("squash", "pad", "crop")

_SUPPORTED = (
    "a path (str or os.PathLike), bytes, a PIL.Image, or an HxWxC (C in 1, 3, 4) "
    "or HxW array of uint8 (or floats in [0, 1])"
)


def _pil():
    from PIL import Image

    return Image


def _is_pil_image(obj: Any) -> bool:
    # cheap test that does not import PIL for non-image cells
    return type(obj).__module__.startswith("PIL.") and hasattr(obj, "getbands")


def _is_int(value: Any) -> bool:
    return isinstance(value, (int, np.integer)) and not isinstance(value, bool)


def check_background(background: Any) -> tuple[int, int, int]:
    """Validate a background colour: an ``(r, g, b)`` triple of 0-255 ints,
    or a colour name PIL knows (``"white"``, ``"#808080"``).

    Examples
    --------
    >>> check_background("black")
    (0, 0, 0)
    >>> check_background((255, 255, 255))
    (255, 255, 255)
    """
    if isinstance(background, str):
        from PIL import ImageColor

        try:
            rgb = ImageColor.getrgb(background)
        except ValueError as exc:
            raise ValueError(
                f"background={background!r} is not a colour name PIL knows."
            ) from exc
        return tuple(int(v) for v in rgb[:3])  # type: ignore[return-value]
    if (
        isinstance(background, Sequence)
        and len(background) == 3
        and all(_is_int(v) and 0 <= v <= 255 for v in background)
    ):
        return tuple(int(v) for v in background)  # type: ignore[return-value]
    raise ValueError(
        "background must be an (r, g, b) tuple of ints in [0, 255] or a colour "
        f"name; got {background!r}."
    )


def check_size(size: Any, name: str = "size") -> tuple[int, int]:
    """Turn ``size`` (an int or an ``(height, width)`` pair) into ``(h, w)``.

    Examples
    --------
    >>> check_size(32), check_size((24, 48))
    ((32, 32), (24, 48))
    """
    if _is_int(size):
        if size >= 1:
            return int(size), int(size)
    elif (
        isinstance(size, Sequence)
        and not isinstance(size, str)
        and len(size) == 2
        and all(_is_int(v) and v >= 1 for v in size)
    ):
        return int(size[0]), int(size[1])
    raise ValueError(
        f"{name} must be a positive int or a (height, width) pair of positive "
        f"ints; got {size!r}."
    )


# --------------------------------------------------------------------- loading
_DEEP_GREY = ("I;16", "I;16B", "I;16L", "I;16N", "I", "F")


def _deep_grey_to_l(img: Any) -> Any:
    """A 16/32-bit integer or float grey image as 8-bit ``L``.

    PIL's own convert clips at 255, so the values are rescaled from the range
    they appear to use: ``[0, 1]`` (floats), ``[0, 255]``, ``[0, 65535]``
    (16-bit, PNG) or ``[0, 2**31 - 1]`` (32-bit); negative values are black.
    NaN or infinite pixels (mode ``F``) are refused.
    """
    with np.errstate(invalid="ignore"):  # NaN pixels: refused just below
        arr = np.asarray(img).astype(np.float64)
    if not np.isfinite(arr).all():
        n_bad = int((~np.isfinite(arr)).sum())
        raise ValueError(
            f"the image (mode {img.mode}) has {n_bad} NaN or infinite pixel(s)"
        )
    hi = float(arr.max(initial=0))
    if img.mode == "F" and hi <= 1.0:
        top = 1.0
    elif hi <= 255:
        top = 255.0
    elif hi <= 65535:
        top = 65535.0
    else:
        top = float(2**31 - 1)
    arr = np.clip(arr / top * 255.0 + 0.5, 0, 255).astype(np.uint8)
    return _pil().fromarray(arr, mode="L")


def _composite(img: Any, background: tuple[int, int, int]) -> Any:
    """Any PIL image -> RGB, transparent pixels laid on ``background``."""
    Image = _pil()
    mode = img.mode
    if mode in _DEEP_GREY:
        img, mode = _deep_grey_to_l(img), "L"
    elif mode == "La":
        # premultiplied grey + alpha: PIL converts it to LA only
        img, mode = img.convert("LA"), "LA"
    has_alpha = mode in ("RGBA", "LA", "PA", "RGBa") or (
        "transparency" in img.info and mode in ("P", "L", "RGB")
    )
    if has_alpha:
        rgba = img.convert("RGBA")
        canvas = Image.new("RGBA", rgba.size, (*background, 255))
        canvas.alpha_composite(rgba)
        return canvas.convert("RGB")
    if mode == "RGB":
        return img
    return img.convert("RGB")


def _array_to_pil(arr: np.ndarray) -> Any:
    Image = _pil()
    if arr.ndim == 3 and arr.shape[2] == 1:
        arr = arr[:, :, 0]
    if arr.ndim not in (2, 3) or (arr.ndim == 3 and arr.shape[2] not in (3, 4)):
        raise ValueError(
            f"an image array must be HxW or HxWxC with C in (1, 3, 4); got shape "
            f"{arr.shape}"
        )
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ValueError(f"an image array must not be empty; got shape {arr.shape}")
    if arr.dtype == np.uint8:
        data = arr
    elif np.issubdtype(arr.dtype, np.floating):
        if not np.isfinite(arr).all():
            raise ValueError("a float image array must not contain NaN or inf")
        lo, hi = float(arr.min()), float(arr.max())
        if lo < 0.0 or hi > 1.0:
            raise ValueError(
                "a float image array must hold values in [0, 1]; got values in "
                f"[{lo:.4g}, {hi:.4g}] (pass uint8 for 0-255 data)"
            )
        data = (arr * 255.0 + 0.5).astype(np.uint8)
    else:
        hint = ""
        if arr.dtype == np.bool_:
            hint = " (for a mask: mask.astype(np.uint8) * 255)"
        elif arr.dtype.kind in "iu":
            hint = " (rescale it to 0-255 and cast: .astype(np.uint8))"
        raise ValueError(
            f"an image array must be uint8 (0-255) or float (0-1); got dtype "
            f"{arr.dtype}{hint}"
        )
    data = np.ascontiguousarray(data)
    if data.ndim == 2:
        return Image.fromarray(data, mode="L")
    return Image.fromarray(data, mode="RGB" if data.shape[2] == 3 else "RGBA")


def _open_encoded(source: Any, what: str) -> Any:
    """Decode a file or bytes; any decoding failure is a ValueError.

    PIL's own warnings about the file (corrupt EXIF, a truncated tag) go
    into the error when decoding fails and are dropped when it succeeds;
    ``DecompressionBombWarning`` (a huge image) is passed on.
    """
    from PIL import Image, ImageOps

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            img = Image.open(source)
            img.load()
        except MemoryError:
            raise
        except Exception as exc:
            # PIL's decoders raise OSError, SyntaxError, ValueError, but also
            # EOFError, struct.error, IndexError, ... on malformed data
            notes = "; ".join(dict.fromkeys(str(w.message).strip() for w in caught))
            detail = f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
            if notes:
                detail += f"; PIL warned: {notes}"
            raise ValueError(f"{what} is not a readable image ({detail})") from exc
        # photos store their rotation in EXIF; show them the way viewers do
        try:
            img = ImageOps.exif_transpose(img)
        except Exception:  # a broken EXIF block is not worth failing over
            pass
    for w in caught:
        if issubclass(w.category, Image.DecompressionBombWarning):
            warnings.warn_explicit(w.message, w.category, w.filename, w.lineno)
    return img


def load_image(cell: Any, *, background: Any = (255, 255, 255)) -> Any:
    """Read one image cell into an RGB ``PIL.Image``.

    Parameters
    ----------
    cell : str, os.PathLike, bytes, PIL.Image.Image or ndarray
        A path to an image file; the encoded bytes of one; a PIL image; or an
        ``H x W`` / ``H x W x C`` array (C in 1, 3, 4) of ``uint8`` or of
        floats in ``[0, 1]``.
    background : (r, g, b) or str, default=(255, 255, 255)
        Colour that transparent pixels (RGBA, LA, palette with transparency:
        emoji, icons, logos) are composited onto.

    Returns
    -------
    PIL.Image.Image
        An image in mode ``"RGB"``.

    Raises
    ------
    FileNotFoundError
        The path does not exist ("file not found").
    IsADirectoryError
        The path is a directory.
    ValueError
        The file or bytes are not a readable image, or the array has the
        wrong shape or dtype.
    TypeError
        The cell is of none of the accepted types.

    Examples
    --------
    >>> import numpy as np
    >>> rgba = np.zeros((2, 3, 4), dtype=np.uint8)  # fully transparent
    >>> img = load_image(rgba, background=(255, 0, 0))
    >>> img.mode, img.size, img.getpixel((0, 0))
    ('RGB', (3, 2), (255, 0, 0))
    >>> load_image("no/such/file.png")
    Traceback (most recent call last):
    ...
    FileNotFoundError: file not found: 'no/such/file.png'
    """
    bg = check_background(background)
    if isinstance(cell, (str, os.PathLike)):
        path = Path(cell).expanduser()
        if not path.exists():
            hint = ""
            if isinstance(cell, str) and cell.startswith(("http://", "https://")):
                hint = " (URLs are not downloaded: fetch the files first)"
            raise FileNotFoundError(f"file not found: {str(path)!r}{hint}")
        if path.is_dir():
            raise IsADirectoryError(f"{str(path)!r} is a directory, not an image file")
        img = _open_encoded(path, f"the file {str(path)!r}")
    elif isinstance(cell, (bytes, bytearray, memoryview)):
        if len(cell) == 0:
            raise ValueError("the bytes are empty, not a readable image")
        img = _open_encoded(io.BytesIO(bytes(cell)), f"the {len(cell)} bytes")
    elif _is_pil_image(cell):
        try:
            cell.load()
        except (OSError, SyntaxError, ValueError) as exc:
            raise ValueError(f"the PIL image is not a readable image ({exc})") from exc
        img = cell
    elif isinstance(cell, np.ndarray):
        img = _array_to_pil(cell)
    else:
        raise TypeError(
            f"unsupported image cell of type {type(cell).__name__}; expected "
            f"{_SUPPORTED}"
        )
    return _composite(img, bg)


# -------------------------------------------------------------------- resizing
def _resample(name: str | int) -> int:
    Image = _pil()
    if isinstance(name, int):
        return name
    return {
        "nearest": Image.Resampling.NEAREST,
        "bilinear": Image.Resampling.BILINEAR,
        "bicubic": Image.Resampling.BICUBIC,
        "lanczos": Image.Resampling.LANCZOS,
    }[name]


def resize_image(
    img: Any,
    size: int | tuple[int, int],
    policy: str = "squash",
    *,
    background: Any = (255, 255, 255),
    crop_fraction: float = 1.0,
    resample: str | int = "bilinear",
) -> Any:
    """Bring an RGB image to ``size`` under a resize policy.

    Parameters
    ----------
    img : PIL.Image.Image
        The image (as returned by :func:`load_image`).
    size : int or (height, width)
        Output size; an int gives a square.
    policy : {"squash", "pad", "crop"}, default="squash"
        ``"squash"`` resizes to ``size`` ignoring the aspect ratio;
        ``"pad"`` keeps the aspect ratio and letterboxes the image, centred,
        onto ``background``; ``"crop"`` keeps the aspect ratio, resizes so the
        image covers ``size`` (the shorter side fits) and cuts the centre out
        (the ImageNet way).
    background : (r, g, b) or str, default=(255, 255, 255)
        Colour of the bars added by ``"pad"``.
    crop_fraction : float in (0, 1], default=1.0
        For ``"crop"``: the centre crop covers this fraction of the resized
        image's shorter side.  ImageNet evaluation uses 0.875 (resize the
        shorter side to 256, crop 224).
    resample : {"bilinear", "bicubic", "lanczos", "nearest"}, default="bilinear"
        PIL resampling filter (antialiased when downsampling).

    Returns
    -------
    PIL.Image.Image
        An image of ``size`` (``img.size`` is ``(width, height)``).

    Examples
    --------
    >>> from PIL import Image
    >>> wide = Image.new("RGB", (40, 20), (0, 0, 0))
    >>> resize_image(wide, 10, "squash").size
    (10, 10)
    >>> padded = resize_image(wide, 10, "pad")
    >>> padded.getpixel((5, 0)), padded.getpixel((5, 5))
    ((255, 255, 255), (0, 0, 0))
    >>> resize_image(wide, (8, 12), "crop").size
    (12, 8)
    """
    h, w = check_size(size)
    if policy not in RESIZE_POLICIES:
        raise ValueError(f"policy must be one of {RESIZE_POLICIES}; got {policy!r}")
    if not 0.0 < crop_fraction <= 1.0:
        raise ValueError(f"crop_fraction must be in (0, 1]; got {crop_fraction!r}")
    flt = _resample(resample)
    width, height = img.size
    if policy == "squash":
        if (width, height) == (w, h):
            return img
        return img.resize((w, h), flt)
    if policy == "pad":
        scale = min(w / width, h / height)
        nw = min(w, max(1, round(width * scale)))
        nh = min(h, max(1, round(height * scale)))
        inner = img if (nw, nh) == (width, height) else img.resize((nw, nh), flt)
        if (nw, nh) == (w, h):
            return inner
        canvas = _pil().new("RGB", (w, h), check_background(background))
        canvas.paste(inner, ((w - nw) // 2, (h - nh) // 2))
        return canvas
    # crop: scale so that the image covers (h, w) / crop_fraction, then cut the
    # centre; the covering side is set exactly, the other truncated
    # (torchvision's Resize + CenterCrop arithmetic)
    if w / width >= h / height:
        nw = max(w, math.floor(w / crop_fraction))
        nh = max(h, int(height * nw / width))
    else:
        nh = max(h, math.floor(h / crop_fraction))
        nw = max(w, int(width * nh / height))
    resized = img if (nw, nh) == (width, height) else img.resize((nw, nh), flt)
    if (nw, nh) == (w, h):
        return resized
    left = int(round((nw - w) / 2.0))
    top = int(round((nh - h) / 2.0))
    return resized.crop((left, top, left + w, top + h))


# ------------------------------------------------------------- keys and labels
def image_item_key(cell: Any) -> Hashable:
    """De-duplication key of an image cell.

    Paths are keyed by the resolved path, size and modification time (an
    edited file gets a new key); bytes, arrays and PIL images by content.
    Cells of an unsupported type get a key of their own, so the error is
    raised (or turned into NaN) when the cell is read.

    Examples
    --------
    >>> import numpy as np
    >>> image_item_key(np.zeros((2, 2), np.uint8)) == image_item_key(
    ...     np.zeros((2, 2), np.uint8))
    True
    >>> image_item_key("a.png") == image_item_key(Path("a.png"))
    True
    """
    if isinstance(cell, str):
        return hash_item(Path(cell))
    if isinstance(cell, (os.PathLike, bytes, bytearray, memoryview, np.ndarray)):
        return hash_item(cell)
    if _is_pil_image(cell):
        return hash_item(cell)
    return ("unsupported", type(cell).__qualname__, id(cell))


def describe_image_item(cell: Any) -> str:
    """A short description of a cell for error messages (paths in full).

    Examples
    --------
    >>> from PIL import Image
    >>> describe_image_item(Image.new("RGB", (4, 3)))
    'PIL.Image(mode=RGB, size=4x3)'
    """
    if _is_pil_image(cell):
        return f"PIL.Image(mode={cell.mode}, size={cell.size[0]}x{cell.size[1]})"
    return describe_file_cell(cell)
