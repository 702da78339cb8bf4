"""What every image encoder shares: reading an image cell."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Any, ClassVar

import numpy as np

from skmm.base._docs import encoder_docs
from skmm.base._encoder import BaseEncoder
from skmm.base._test_params import CheapParamsMixin
from skmm.image._io import (
    check_background,
    describe_image_item,
    image_item_key,
    load_image,
)
from skmm.utils._sklearn_compat import StrOptions

__all__: list[str] = []

# the shared encoder entries, and that of the image encoders' background
IMAGE_DOCS = {
    **encoder_docs("image"),
    "background": """\
background : (r, g, b) or str, default=(255, 255, 255)
    Colour under transparent pixels and of the bars added by ``"pad"``.""",
}


class _ImageEncoderBase(CheapParamsMixin, BaseEncoder):
    """Base of skmm's image encoders.

    Cells are read with :func:`~skmm.image.load_image` (paths, bytes, PIL
    images, arrays; transparency composited onto ``background``).  A 3-D
    (``N x H x W``) or 4-D (``N x H x W x C``) numeric array passed as ``X``
    is read as one column of N images.
    """

    _modality: ClassVar[str] = "image"

    _parameter_constraints: ClassVar[dict] = {
        **BaseEncoder._parameter_constraints,
        "background": [tuple, list, str],
    }

    def _load(self, item: Any) -> Any:
        return load_image(item, background=self.background)

    def _item_key(self, item: Any) -> Hashable:
        return image_item_key(item)

    def _describe_item(self, item: Any) -> str:
        return describe_image_item(item)

    def _split_array_columns(self, X: np.ndarray) -> list[list] | None:
        if X.dtype != object and X.ndim in (3, 4):
            return [list(X)]
        return None

    def _check_background(self) -> None:
        check_background(self.background)


_RESIZE_CONSTRAINT = [StrOptions({"squash", "pad", "crop"})]
