"""Image encoders: classic features, pretrained CNNs and Hugging Face models.

An image column holds paths, encoded bytes, ``PIL.Image`` objects or
``H x W x C`` arrays; ``None``/``NaN`` cells are missing and give NaN rows.
"""

from skmm.image._classic import (
    ColorHistogramEncoder,
    HOGImageEncoder,
    PixelImageEncoder,
    hog,
)
from skmm.image._cnn import ImageEncoder
from skmm.image._hf import HFImageEncoder
from skmm.image._io import load_image, resize_image

__all__ = [
    "ColorHistogramEncoder",
    "HFImageEncoder",
    "HOGImageEncoder",
    "ImageEncoder",
    "PixelImageEncoder",
    "hog",
    "load_image",
    "resize_image",
]
