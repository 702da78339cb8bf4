"""What an encoder reads: cells, missing cells and columns of cells.

``read_columns`` turns the ``X`` given to ``fit`` / ``transform`` (a
DataFrame, Series, list or array) into :class:`Column` objects, each with its
cells, its name and its row labels (for error messages), doing sklearn's
``n_features_in_`` / ``feature_names_in_`` bookkeeping on the way.  The
small helpers beside it say whether a cell is missing, describe a cell in a
message and name a cell's cache file.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from skmm.utils._hashing import hash_item
from skmm.utils._sklearn_compat import _check_feature_names, _check_n_features

__all__ = ["Column", "describe_file_cell", "is_missing", "read_columns", "short_repr"]


def is_missing(item: Any) -> bool:
    """True for a missing cell: ``None``, a float NaN, ``pd.NA`` or ``pd.NaT``.

    Examples
    --------
    >>> is_missing(None), is_missing(float("nan")), is_missing("text")
    (True, True, False)
    """
    if item is None:
        return True
    if isinstance(item, (float, np.floating)):
        return bool(np.isnan(item))
    # pandas' NA / NaT without importing pandas here
    name = type(item).__name__
    return name in ("NAType", "NaTType")


@dataclass
class Column:
    """One input column: its cells, its name and its row labels."""

    cells: list
    name: str
    rows: list


def _file_key(key: Any) -> str | None:
    """The cache file name for a de-duplication key (None: not cacheable)."""
    if isinstance(key, tuple) and key and key[0] == "__unkeyed__":
        return None
    if isinstance(key, str) and len(key) == 32 and all(c in _HEX for c in key):
        return key
    return hash_item(key)


_HEX = frozenset("0123456789abcdef")


def short_repr(item: Any, limit: int = 80) -> str:
    """A cell described for an error message, in at most ``limit`` characters.

    Examples
    --------
    >>> short_repr(b"abc"), short_repr("x" * 100)[-5:]
    ('bytes(len=3)', 'xx...')
    """
    if isinstance(item, np.ndarray):
        return f"array(shape={item.shape}, dtype={item.dtype})"
    if isinstance(item, (bytes, bytearray, memoryview)):
        return f"bytes(len={len(item)})"
    text = repr(item)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def describe_file_cell(cell: Any) -> str:
    """A cell that may name a file, described for an error message.

    Paths are given in full; anything else as :func:`short_repr` gives it.

    Examples
    --------
    >>> describe_file_cell("/data/img 1.png")
    "path '/data/img 1.png'"
    >>> describe_file_cell(memoryview(b"abc"))
    'bytes(len=3)'
    """
    if isinstance(cell, (str, os.PathLike)):
        return f"path {os.fspath(cell)!r}"
    return short_repr(cell)


def read_columns(encoder: Any, X: Any, *, reset: bool) -> list[Column]:
    """Validate ``X`` for ``encoder`` and return its columns.

    ``reset=True`` (at fit) records ``n_features_in_`` and
    ``feature_names_in_``; ``reset=False`` checks ``X`` against them, with
    sklearn's wording.  An ndarray is first offered to the encoder's
    ``_split_array_columns`` hook (e.g. a 4-D array of images is one column).
    """
    name_of = type(encoder).__name__
    modality = encoder._modality
    columns: list[Column]
    if hasattr(X, "iloc") and hasattr(X, "columns"):  # DataFrame
        _check_feature_names(encoder, X, reset=reset)
        rows = list(X.index)
        names = [str(c) for c in X.columns]
        columns = [
            Column(list(X.iloc[:, j]), names[j], rows) for j in range(X.shape[1])
        ]
    elif hasattr(X, "iloc"):  # Series
        _check_feature_names(encoder, X.to_frame(), reset=reset)
        name = str(X.name) if X.name is not None else "x0"
        columns = [Column(list(X), name, list(X.index))]
    else:
        _check_feature_names(encoder, X, reset=reset)
        if isinstance(X, np.ndarray):
            special = encoder._split_array_columns(X)
            if special is not None:
                cols = special
            elif X.ndim == 1:
                cols = [list(X)]
            elif X.ndim == 2:
                if X.shape[1] == 0:
                    raise ValueError(
                        f"0 feature(s) (shape={X.shape}) while a minimum of 1 "
                        f"is required by {name_of}."
                    )
                cols = [list(X[:, j]) for j in range(X.shape[1])]
            else:
                raise ValueError(
                    f"{name_of} expects one column of {modality} items (a "
                    "Series, a list, or a 2-D array with one column per input "
                    f"column); got an array of shape {X.shape}."
                )
        elif hasattr(X, "tocsr"):
            raise TypeError(
                f"Sparse data was passed to {name_of}, but dense data is "
                f"required: pass a column of {modality} items (DataFrame, "
                "Series, list or numpy array)."
            )
        elif isinstance(X, (str, bytes)) or not isinstance(X, Sequence):
            if hasattr(X, "__array__"):
                raise TypeError(
                    f"{name_of} does not accept {type(X).__name__} input; pass "
                    "a DataFrame, Series, list or numpy array."
                )
            raise TypeError(
                f"{name_of} expects a column of {modality} items (DataFrame, "
                f"Series, list or array); got {type(X).__name__}."
            )
        else:
            cols = [list(X)]
        n = len(cols[0]) if cols else 0
        columns = [Column(c, f"x{j}", list(range(n))) for j, c in enumerate(cols)]
        if hasattr(encoder, "feature_names_in_") and not reset:
            for col, name in zip(columns, encoder.feature_names_in_):
                col.name = str(name)
    n_samples = len(columns[0].cells) if columns else 0
    if not columns or n_samples == 0:
        raise ValueError(
            f"Found array with 0 sample(s) (shape=({n_samples}, {len(columns)})) "
            f"while a minimum of 1 is required by {name_of}."
        )
    _check_n_features(encoder, np.empty((1, len(columns))), reset=reset)
    return columns
