"""Input checks shared by the retrievers: modality blocks and missing rows."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.utils import check_array

__all__ = ["MissingModalityWarning", "select_block"]


class MissingModalityWarning(UserWarning):
    """Rows whose query or target modality is missing were left out."""


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
