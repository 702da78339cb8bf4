"""Classic image features that need no weights: pixels, colour histograms, HOG."""

from __future__ import annotations

import numbers
from typing import Any, ClassVar

import numpy as np

from skmm.base._params import EncoderParams
from skmm.image._common import _RESIZE_CONSTRAINT, IMAGE_DOCS, _ImageEncoderBase
from skmm.image._io import check_size, resize_image
from skmm.utils._docs import fill_doc
from skmm.utils._params import estimator_init, param_group
from skmm.utils._sklearn_compat import Interval, StrOptions

__all__ = ["ColorHistogramEncoder", "HOGImageEncoder", "PixelImageEncoder", "hog"]

_SIZE_CONSTRAINT = [Interval(numbers.Integral, 1, None, closed="left"), tuple, list]

# the Parameters entries of the pixel and HOG encoders' shared parameters
_RESIZED_DOCS = {
    **IMAGE_DOCS,
    "resized_parameters": """\
resize : {"squash", "pad", "crop"}, default="squash"
    How the aspect ratio is handled (see :func:`~skmm.image.resize_image`).
{background}
batch_size : int, default=256
    Images read per batch.
{encoder_params}""",
}


@param_group
class _ClassicImageParams(EncoderParams):
    """What the classic image encoders take after their own parameters."""

    resize: str = "squash"
    background: Any = (255, 255, 255)
    batch_size: int = 256


@param_group
class _ResizedImageEncoder(_ImageEncoderBase, _ClassicImageParams):
    """Reads each image at ``size`` (``resize`` policy), grey when
    ``grayscale``: the cells of the pixel and HOG encoders."""

    grayscale: bool = False

    _parameter_constraints: ClassVar[dict] = {
        **_ImageEncoderBase._parameter_constraints,
        "size": _SIZE_CONSTRAINT,
        "grayscale": ["boolean"],
        "resize": _RESIZE_CONSTRAINT,
    }

    def _prepare(self, item: Any) -> np.ndarray:
        img = resize_image(
            self._load(item), self.size, self.resize, background=self.background
        )
        if self.grayscale:
            img = img.convert("L")
        return np.asarray(img, dtype=np.uint8)


@fill_doc(_RESIZED_DOCS)
@estimator_init
class PixelImageEncoder(_ResizedImageEncoder):
    """Raw pixels of a small thumbnail, scaled to ``[0, 1]``.

    Each image is read (paths, bytes, PIL images, arrays), resized to
    ``size`` and flattened row by row (channels last).  A strong baseline
    for small, aligned images (icons, emoji, digits).  Needs no weights.

    Parameters
    ----------
    size : int or (height, width), default=16
        Thumbnail size; an int gives a square.
    grayscale : bool, default=False
        One luminance channel instead of RGB.
    {resized_parameters}

    Attributes
    ----------
    n_features_out_ : int
        ``height * width * channels`` (channels: 1 or 3).
    {input_attributes}

    See Also
    --------
    ColorHistogramEncoder, HOGImageEncoder, ImageEncoder

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.image import PixelImageEncoder
    >>> images = [np.full((20, 30, 3), 255, np.uint8), None]
    >>> X = PixelImageEncoder(size=4, verbose=0).fit_transform(images)
    >>> X.shape
    (2, 48)
    >>> float(X[0].min()), bool(np.isnan(X[1]).all())
    (1.0, True)
    """

    size: int | tuple[int, int] = 16

    _test_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"size": 8},
        {"size": (6, 4), "grayscale": True, "resize": "pad"},
    )

    def _fit_encoder(self, prepared: list | None) -> None:
        self._check_background()
        h, w = check_size(self.size)
        self.n_features_out_ = h * w * (1 if self.grayscale else 3)

    def _encode_batch(self, prepared: list) -> np.ndarray:
        batch = np.stack(prepared).reshape(len(prepared), -1)
        return batch.astype(np.float32) / np.float32(255.0)


@fill_doc(IMAGE_DOCS)
@estimator_init
class ColorHistogramEncoder(_ImageEncoderBase, _ClassicImageParams):
    """Normalised colour histograms, joint or per channel, in RGB or HSV.

    Counts how many pixels fall in each colour bin and divides by the
    number of pixels, so images of any size compare.  Needs no weights.

    Parameters
    ----------
    bins : int, default=8
        Bins per channel.
    color_space : {"rgb", "hsv"}, default="rgb"
        Colour space the bins are laid in (PIL's HSV: hue, saturation and
        value each in 0-255).
    joint : bool, default=True
        ``True``: one 3-D histogram over all three channels (``bins ** 3``
        values, summing to 1); ``False``: one histogram per channel,
        concatenated (``3 * bins`` values, each channel summing to 1).
    size : int, (height, width) or None, default=None
        Resize before counting (faster on large photos); ``None`` counts the
        image at full resolution.
    resize : {"squash", "pad", "crop"}, default="squash"
        Resize policy when ``size`` is set; note that ``"pad"`` adds
        ``background`` pixels to the counts.
    {background}
    batch_size : int, default=256
        Images read per batch.
    {encoder_params}

    Attributes
    ----------
    n_features_out_ : int
        ``bins ** 3`` (joint) or ``3 * bins``.
    {input_attributes}

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.image import ColorHistogramEncoder
    >>> red = np.zeros((8, 8, 3), np.uint8)
    >>> red[..., 0] = 255
    >>> enc = ColorHistogramEncoder(bins=2, verbose=0)
    >>> enc.fit_transform([red]).round(2)
    array([[0., 0., 0., 0., 1., 0., 0., 0.]], dtype=float32)
    >>> ColorHistogramEncoder(bins=4, joint=False, verbose=0).fit([red]).n_features_out_
    12
    """

    _parameter_constraints: ClassVar[dict] = {
        **_ImageEncoderBase._parameter_constraints,
        "bins": [Interval(numbers.Integral, 1, 256, closed="both")],
        "color_space": [StrOptions({"rgb", "hsv"})],
        "joint": ["boolean"],
        "size": [*_SIZE_CONSTRAINT, None],
        "resize": _RESIZE_CONSTRAINT,
    }

    bins: int = 8
    color_space: str = "rgb"
    joint: bool = True
    size: int | tuple[int, int] | None = None

    _test_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"bins": 4, "size": 16},
        {"bins": 3, "color_space": "hsv", "joint": False, "size": 8},
    )

    def _fit_encoder(self, prepared: list | None) -> None:
        self._check_background()
        if self.size is not None:
            check_size(self.size)
        b = int(self.bins)
        self.n_features_out_ = b**3 if self.joint else 3 * b

    def _prepare(self, item: Any) -> np.ndarray:
        img = self._load(item)
        if self.size is not None:
            img = resize_image(img, self.size, self.resize, background=self.background)
        if self.color_space == "hsv":
            img = img.convert("HSV")
        arr = np.asarray(img, dtype=np.uint8).reshape(-1, 3)
        # counted here, per image, so that a batch of full-resolution photos
        # is never held in memory at once
        b = int(self.bins)
        idx = (arr.astype(np.int32) * b) >> 8  # floor(v * bins / 256)
        n = max(len(idx), 1)
        if self.joint:
            flat = (idx[:, 0] * b + idx[:, 1]) * b + idx[:, 2]
            return (np.bincount(flat, minlength=b**3) / n).astype(np.float32)
        counts = [np.bincount(idx[:, c], minlength=b) for c in range(3)]
        return (np.concatenate(counts) / n).astype(np.float32)

    def _encode_batch(self, prepared: list) -> np.ndarray:
        return np.stack(prepared)


# ----------------------------------------------------------------------- HOG
def _pair(value: Any, name: str) -> tuple[int, int]:
    return check_size(value, name)


def hog(
    images: np.ndarray,
    *,
    orientations: int = 9,
    pixels_per_cell: int | tuple[int, int] = 8,
    cells_per_block: int | tuple[int, int] = 2,
    eps: float = 1e-5,
) -> np.ndarray:
    """Histograms of oriented gradients (Dalal & Triggs), vectorised over images.

    The same computation as ``skimage.feature.hog`` with
    ``block_norm="L2-Hys"`` and ``transform_sqrt=False``: central-difference
    gradients, unsigned orientations (0-180 degrees) in ``orientations``
    hard bins, magnitudes averaged per cell, blocks of cells L2-normalised,
    clipped at 0.2 and normalised again.  For colour images the gradient of
    each pixel is taken from the channel where it is strongest.

    Parameters
    ----------
    images : ndarray of shape (n, H, W) or (n, H, W, C)
        Grey or colour images (any real dtype, any scale).
    orientations : int, default=9
        Orientation bins.
    pixels_per_cell : int or (rows, cols), default=8
        Cell size in pixels.  Pixels past the last whole cell are ignored.
    cells_per_block : int or (rows, cols), default=2
        Block size in cells.
    eps : float, default=1e-5
        Guards the block normalisation against division by zero.

    Returns
    -------
    ndarray of shape (n, n_features), float64
        Flattened ``(block_row, block_col, cell_row, cell_col, orientation)``.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> hog(rng.random((2, 32, 32)), pixels_per_cell=8, cells_per_block=2).shape
    (2, 324)
    """
    x = np.asarray(images, dtype=np.float64)
    if x.ndim not in (3, 4):
        raise ValueError(f"images must be (n, H, W) or (n, H, W, C); got {x.shape}")
    cr, cc = _pair(pixels_per_cell, "pixels_per_cell")
    br, bc = _pair(cells_per_block, "cells_per_block")
    n, height, width = x.shape[:3]
    ncr, ncc = height // cr, width // cc
    nbr, nbc = ncr - br + 1, ncc - bc + 1
    if nbr < 1 or nbc < 1:
        raise ValueError(
            f"images of {height}x{width} pixels hold {ncr}x{ncc} cells of "
            f"{cr}x{cc} pixels, fewer than one block of {br}x{bc} cells"
        )

    g_row = np.zeros_like(x)
    g_col = np.zeros_like(x)
    g_row[:, 1:-1] = x[:, 2:] - x[:, :-2]
    g_col[:, :, 1:-1] = x[:, :, 2:] - x[:, :, :-2]
    if x.ndim == 4:  # per pixel, the channel with the strongest gradient
        pick = np.hypot(g_row, g_col).argmax(axis=3)[..., None]
        g_row = np.take_along_axis(g_row, pick, axis=3)[..., 0]
        g_col = np.take_along_axis(g_col, pick, axis=3)[..., 0]
    g_row = g_row[:, : ncr * cr, : ncc * cc]
    g_col = g_col[:, : ncr * cr, : ncc * cc]
    magnitude = np.hypot(g_col, g_row)
    orientation = np.rad2deg(np.arctan2(g_row, g_col)) % 180

    # hard binning: bin i holds [i * w, (i + 1) * w), compared the way
    # skimage compares so that boundary values land in the same bin
    w = 180.0 / orientations
    b = np.floor(orientation / w).astype(np.int64)
    b -= orientation < b * w
    b += orientation >= (b + 1) * w
    valid = (b >= 0) & (b < orientations)
    b = np.clip(b, 0, orientations - 1)
    rows = np.arange(ncr * cr) // cr
    cols = np.arange(ncc * cc) // cc
    cell = (rows[:, None] * ncc + cols[None, :])[None]
    flat = (np.arange(n)[:, None, None] * (ncr * ncc) + cell) * orientations + b
    hist = np.bincount(
        flat.ravel(),
        weights=np.where(valid, magnitude, 0.0).ravel(),
        minlength=n * ncr * ncc * orientations,
    ).reshape(n, ncr, ncc, orientations) / (cr * cc)

    blocks = np.lib.stride_tricks.sliding_window_view(hist, (br, bc), axis=(1, 2))
    blocks = blocks.transpose(0, 1, 2, 4, 5, 3)  # (n, nbr, nbc, br, bc, o)
    axes = (3, 4, 5)
    out = blocks / np.sqrt((blocks**2).sum(axis=axes, keepdims=True) + eps**2)
    out = np.minimum(out, 0.2)
    out = out / np.sqrt((out**2).sum(axis=axes, keepdims=True) + eps**2)
    return out.reshape(n, -1)


@fill_doc(_RESIZED_DOCS)
@estimator_init
class HOGImageEncoder(_ResizedImageEncoder):
    """Histograms of oriented gradients: shape and texture, no colour.

    Each image is resized to ``size`` and described by HOG features
    (:func:`hog`; the same numbers as ``skimage.feature.hog`` with
    ``block_norm="L2-Hys"``).  Needs no weights.

    Parameters
    ----------
    size : int or (height, width), default=64
        Image size before HOG.
    orientations : int, default=9
        Unsigned orientation bins over 0-180 degrees.
    pixels_per_cell : int or (rows, cols), default=8
        Cell size in pixels.
    cells_per_block : int or (rows, cols), default=2
        Block size in cells (blocks overlap by all but one cell).
    grayscale : bool, default=True
        Compute gradients on luminance; ``False`` takes each pixel's gradient
        from the RGB channel where it is strongest.
    {resized_parameters}

    Attributes
    ----------
    n_features_out_ : int
        ``blocks_rows * blocks_cols * cells_per_block**2 * orientations``;
        1764 with the defaults (7 x 7 blocks of 2 x 2 cells of 9 bins).
    {input_attributes}

    Examples
    --------
    >>> import numpy as np
    >>> from skmm.image import HOGImageEncoder
    >>> rng = np.random.default_rng(0)
    >>> images = rng.integers(0, 256, size=(3, 40, 40, 3), dtype=np.uint8)
    >>> HOGImageEncoder(verbose=0).fit_transform(images).shape
    (3, 1764)
    >>> HOGImageEncoder(size=32, verbose=0).fit(images).n_features_out_
    324
    """

    _parameter_constraints: ClassVar[dict] = {
        **_ResizedImageEncoder._parameter_constraints,
        "orientations": [Interval(numbers.Integral, 1, None, closed="left")],
        "pixels_per_cell": _SIZE_CONSTRAINT,
        "cells_per_block": _SIZE_CONSTRAINT,
    }

    size: int | tuple[int, int] = 64
    orientations: int = 9
    pixels_per_cell: int | tuple[int, int] = 8
    cells_per_block: int | tuple[int, int] = 2
    grayscale: bool = True

    _test_params: ClassVar[tuple[dict[str, Any], ...]] = (
        {"size": 16, "pixels_per_cell": 4, "cells_per_block": 2},
        {
            "size": (12, 16),
            "orientations": 6,
            "pixels_per_cell": 4,
            "cells_per_block": 1,
            "grayscale": False,
        },
    )

    def _fit_encoder(self, prepared: list | None) -> None:
        self._check_background()
        h, w = check_size(self.size)
        cr, cc = _pair(self.pixels_per_cell, "pixels_per_cell")
        br, bc = _pair(self.cells_per_block, "cells_per_block")
        nbr, nbc = h // cr - br + 1, w // cc - bc + 1
        if nbr < 1 or nbc < 1:
            raise ValueError(
                f"HOGImageEncoder: size={self.size!r} holds {h // cr}x{w // cc} "
                f"cells of {cr}x{cc} pixels, fewer than one block of {br}x{bc} "
                "cells; use a larger size or smaller cells/blocks."
            )
        self.n_features_out_ = nbr * nbc * br * bc * int(self.orientations)

    def _encode_batch(self, prepared: list) -> np.ndarray:
        batch = np.stack(prepared).astype(np.float64) / 255.0
        return hog(
            batch,
            orientations=int(self.orientations),
            pixels_per_cell=self.pixels_per_cell,
            cells_per_block=self.cells_per_block,
        ).astype(np.float32)
