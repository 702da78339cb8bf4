"""What the loaders share when they build their tables: option checks, cells."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

__all__ = ["check_choice", "check_size", "object_column"]


def check_choice(name: str, value: Any, choices: Sequence[str]) -> None:
    """Raise ``ValueError`` unless ``value`` is one of ``choices``.

    Examples
    --------
    >>> check_choice("images", "tensor", ("path", "array"))
    Traceback (most recent call last):
    ...
    ValueError: images must be 'path' or 'array', got 'tensor'
    """
    if value not in choices:
        allowed = " or ".join(repr(c) for c in choices)
        raise ValueError(f"{name} must be {allowed}, got {value!r}")


def check_size(size: Any) -> int:
    """The side of square images as an ``int``; ``ValueError`` unless positive.

    Examples
    --------
    >>> check_size(64.0)
    64
    """
    size = int(size)
    if size < 1:
        raise ValueError(f"size must be a positive integer, got {size}")
    return size


def object_column(items: Any, index: Any = None) -> Any:
    """A pandas Series of dtype object holding one item (e.g. an array) per row.

    Plain constructors would try to stack equal-shaped arrays into one
    n-dimensional array; this keeps one cell per item.

    Examples
    --------
    >>> import numpy as np
    >>> s = object_column(np.zeros((3, 2, 2)))
    >>> s.shape, s[0].shape
    ((3,), (2, 2))
    """
    import pandas as pd

    cells = np.empty(len(items), dtype=object)
    for i, item in enumerate(items):
        cells[i] = item
    return pd.Series(cells, index=index, dtype=object)
