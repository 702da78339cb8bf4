"""Find modality blocks in a 2-D table and split it back into them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np

__all__ = ["MODALITY_SEPARATOR", "resolve_modalities", "split_modalities"]

MODALITY_SEPARATOR = "__"


def _blocks_from_names(feature_names: Sequence[str]) -> dict[str, np.ndarray]:
    blocks: dict[str, list[int]] = {}
    unprefixed = []
    for j, name in enumerate(feature_names):
        name = str(name)
        prefix, sep, rest = name.partition(MODALITY_SEPARATOR)
        if not sep or not prefix or not rest:
            unprefixed.append(name)
            continue
        blocks.setdefault(prefix, []).append(j)
    if unprefixed:
        shown = unprefixed[:5]
        raise ValueError(
            f"Cannot find modality blocks: {len(unprefixed)} feature name(s) have "
            f"no 'modality__' prefix (e.g. {shown}). Use the output of "
            "skmm.compose.make_modality_encoder, or pass modalities= "
            "(name -> column slice, width, or list of columns)."
        )
    return {k: np.asarray(v, dtype=np.intp) for k, v in blocks.items()}


def resolve_modalities(
    modalities: Mapping[str, Any] | None = None,
    *,
    feature_names: Sequence[str] | None = None,
    n_features: int | None = None,
) -> dict[str, np.ndarray]:
    """Column indices of each modality block.

    Parameters
    ----------
    modalities : dict or None
        ``None`` reads blocks from the ``modality__`` prefixes of
        ``feature_names``.  Otherwise a mapping from modality name to one of:
        an ``int`` width (blocks are consecutive, in the mapping's order), a
        ``slice``, a list of integer positions, or a list of feature names.
    feature_names : sequence of str, optional
        Column names of the table (``feature_names_in_``).
    n_features : int, optional
        Number of columns, checked against the spec.

    Returns
    -------
    dict
        Modality name -> integer column indices, in order of appearance.

    Examples
    --------
    >>> resolve_modalities(feature_names=["text__f0", "text__f1", "image__f0"])
    {'text': array([0, 1]), 'image': array([2])}
    >>> resolve_modalities({"a": 2, "b": 1}, n_features=3)
    {'a': array([0, 1]), 'b': array([2])}
    """
    if modalities is None:
        if feature_names is None:
            raise ValueError(
                "Cannot find modality blocks in an array without feature names: "
                "pass modalities= (e.g. {'text': 384, 'image': 1280}) or a "
                "DataFrame whose columns are named 'modality__feature'."
            )
        blocks = _blocks_from_names(list(feature_names))
    else:
        if not isinstance(modalities, Mapping) or not modalities:
            raise ValueError(
                "modalities must be a non-empty dict mapping a modality name to a "
                f"width, slice or list of columns; got {modalities!r}."
            )
        name_pos = (
            {str(n): j for j, n in enumerate(feature_names)}
            if feature_names is not None
            else {}
        )
        blocks = {}
        start = 0
        for name, spec in modalities.items():
            if isinstance(spec, (int, np.integer)) and not isinstance(spec, bool):
                if spec < 1:
                    raise ValueError(
                        f"modality {name!r}: width must be >= 1, got {spec}"
                    )
                idx = np.arange(start, start + int(spec))
            elif isinstance(spec, slice):
                if n_features is None:
                    raise ValueError(f"modality {name!r}: a slice needs n_features")
                idx = np.arange(n_features)[spec]
            elif isinstance(spec, (list, tuple, np.ndarray)):
                items = list(spec)
                if items and all(isinstance(s, str) for s in items):
                    missing = [s for s in items if s not in name_pos]
                    if missing:
                        raise ValueError(
                            f"modality {name!r}: unknown column(s) {missing[:5]}"
                        )
                    idx = np.asarray([name_pos[s] for s in items])
                else:
                    idx = np.asarray(items, dtype=np.intp)
            else:
                raise TypeError(
                    f"modality {name!r}: expected a width, slice or list of "
                    f"columns, got {type(spec).__name__}"
                )
            if idx.size == 0:
                raise ValueError(f"modality {name!r} selects no column")
            blocks[str(name)] = idx.astype(np.intp)
            start = int(idx.max()) + 1
    if n_features is not None:
        for name, idx in blocks.items():
            if idx.min() < 0 or idx.max() >= n_features:
                raise ValueError(
                    f"modality {name!r} refers to column {int(idx.max())}, but X "
                    f"has {n_features} features."
                )
    seen: dict[int, str] = {}
    for name, idx in blocks.items():
        for j in idx.tolist():
            if j in seen:
                raise ValueError(
                    f"column {j} belongs to both modality {seen[j]!r} and {name!r}"
                )
            seen[j] = name
    return blocks


def split_modalities(
    X: Any, modalities: Mapping[str, Any] | None = None
) -> dict[str, np.ndarray]:
    """Split a 2-D table into its modality blocks.

    Parameters
    ----------
    X : DataFrame or 2-D array
        With ``modality__feature`` column names, or any 2-D array together
        with ``modalities``.
    modalities : dict or None
        See :func:`resolve_modalities`.

    Returns
    -------
    dict
        Modality name -> float array of shape ``(n_samples, width)``.

    Examples
    --------
    >>> import pandas as pd
    >>> cols = ["text__f0", "text__f1", "image__f0"]
    >>> df = pd.DataFrame([[1.0, 2.0, 3.0]], columns=cols)
    >>> {k: v.shape for k, v in split_modalities(df).items()}
    {'text': (1, 2), 'image': (1, 1)}
    """
    names = list(X.columns) if hasattr(X, "columns") else None
    arr = np.asarray(X)
    if arr.ndim != 2:
        raise ValueError(f"Expected a 2-D table, got shape {arr.shape}")
    blocks = resolve_modalities(
        modalities, feature_names=names, n_features=arr.shape[1]
    )
    return {name: arr[:, idx] for name, idx in blocks.items()}
