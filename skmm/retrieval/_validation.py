"""Input checks shared by the retrievers: modality blocks, raw columns and
missing rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils import check_array

from skmm.exceptions import MissingModalityWarning

__all__ = ["MissingModalityWarning", "raw_column", "select_block"]


def select_block(
    X: Any,
    *,
    modality: str,
    columns: np.ndarray,
    feature_names: Sequence[str] | None,
    n_features_in: int,
    estimator_name: str,
) -> np.ndarray:
    """The columns of one modality from a full table or from that block alone.

    Parameters
    ----------
    X : DataFrame or array-like
        The full table seen at fit, or only the modality's columns (a
        DataFrame holding them by name, or an array exactly as wide as the
        block).
    modality : str
        Modality name, for messages.
    columns : ndarray of int
        Positions of the block in the fitted table.
    feature_names : sequence of str or None
        Names of the block's columns when fitted on a DataFrame.
    n_features_in : int
        Width of the fitted table.
    estimator_name : str
        For messages.

    Returns
    -------
    ndarray of shape (n_samples, len(columns)), float64
        NaN kept (a missing modality).
    """
    width = int(columns.size)
    if hasattr(X, "columns") and hasattr(X, "iloc") and feature_names is not None:
        pos = {str(c): j for j, c in enumerate(X.columns)}
        missing = [n for n in feature_names if n not in pos]
        if missing:
            raise ValueError(
                f"X lacks {len(missing)} of the {width} column(s) of modality "
                f"{modality!r} seen at fit (e.g. {missing[:3]}); {estimator_name} "
                "needs the full table or that modality's columns."
            )
        X = X.iloc[:, [pos[n] for n in feature_names]]
        full = False
    else:
        full = None
    arr = check_array(
        X,
        dtype=np.float64,
        ensure_all_finite="allow-nan",
        ensure_min_samples=0,
        input_name="X",
    )
    if full is None:
        if arr.shape[1] == n_features_in:
            arr = arr[:, columns]
        elif arr.shape[1] != width:
            raise ValueError(
                f"X has {arr.shape[1]} features, but {estimator_name} is expecting "
                f"{n_features_in} features as input (the full table), or {width} "
                f"for the {modality!r} modality alone."
            )
    return arr


def missing_rows(block: np.ndarray) -> np.ndarray:
    """Rows with a NaN anywhere in the block count as missing the modality."""
    return np.isnan(block).any(axis=1)


def raw_column(
    X: Any, modality: str, columns: dict | None, estimator_name: str
) -> tuple[list, str, list]:
    """The raw cells of ``modality``'s column, its name and the row labels.

    ``X`` is a DataFrame or a dict of columns (``columns`` maps the modality
    to its column; the modality's own name by default), or one modality's
    cells as a Series, list or tuple.
    """
    name = (columns or {}).get(modality, modality)
    if hasattr(X, "iloc") and hasattr(X, "columns"):
        if name not in X.columns:
            raise ValueError(
                f"{estimator_name}: X has no column {name!r} for the "
                f"{modality!r} modality; its columns are "
                f"{[str(c) for c in X.columns]}. Pass columns={{{modality!r}: "
                "<column>}."
            )
        return list(X[name]), str(name), list(X.index)
    if hasattr(X, "iloc"):  # a Series: that modality's cells only
        return list(X), str(X.name if X.name is not None else name), list(X.index)
    if isinstance(X, dict):
        if name not in X:
            raise ValueError(
                f"{estimator_name}: X has no key {name!r} for the "
                f"{modality!r} modality; its keys are {sorted(map(str, X))}."
            )
        cells = list(X[name])
        return cells, str(name), list(range(len(cells)))
    if isinstance(X, (list, tuple)):  # one modality's cells
        return list(X), str(name), list(range(len(X)))
    raise TypeError(
        f"{estimator_name} takes a DataFrame of raw columns (texts, image "
        f"cells), a dict of columns, or one modality's cells as a Series or "
        f"list; got {type(X).__name__}."
    )
