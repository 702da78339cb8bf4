"""Synthetic multimodal data for tests and documentation (numpy only)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

__all__ = ["make_multimodal_classification", "make_paired_modalities"]


def _check_modalities(modalities: Mapping[str, int] | None, default: dict[str, int]):
    mods = dict(default if modalities is None else modalities)
    if not mods:
        raise ValueError("modalities must name at least one modality")
    for name, width in mods.items():
        if not isinstance(name, str) or not name or "__" in name:
            raise ValueError(
                f"modality names must be non-empty str without '__': {name!r}"
            )
        if int(width) < 1:
            raise ValueError(f"modality {name!r} needs a positive width, got {width}")
    return {k: int(v) for k, v in mods.items()}


def _orthonormal_rows(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """A (rows, cols) matrix with orthonormal rows (rows <= cols)."""
    q, _ = np.linalg.qr(rng.standard_normal((cols, rows)))
    return q.T


def _column_names(mods: Mapping[str, int]) -> dict[str, list[str]]:
    return {m: [f"{m}__{i}" for i in range(w)] for m, w in mods.items()}


def make_multimodal_classification(
    n_samples: int = 200,
    *,
    modalities: Mapping[str, int] | None = None,
    n_classes: int = 2,
    n_informative: int = 2,
    class_sep: float = 2.0,
    noise: float = 0.1,
    missing_rate: float = 0.0,
    as_frame: bool = True,
    random_state: int | np.random.RandomState | np.random.Generator | None = None,
) -> tuple[Any, Any]:
    """Make a classification problem that needs several modalities jointly.

    Each modality ``m`` hides a latent category ``c_m`` drawn uniformly from
    ``0 .. n_classes - 1``: its block is a point near one of ``n_classes``
    cluster centres (evenly spread on a circle of radius ``class_sep`` in a
    random plane of an ``n_informative``-dimensional latent space, with unit
    Gaussian spread), mapped into ``width`` columns by a random orthonormal
    map.  The
    label is ``y = (sum of c_m) mod n_classes`` (XOR of the modalities for
    two classes), so any strict subset of the modalities says nothing about
    ``y`` (chance accuracy) while all of them together determine it.

    Parameters
    ----------
    n_samples : int, default=200
        Number of rows.
    modalities : mapping of str to int, optional
        Modality name -> number of columns.  Default
        ``{"text": 16, "image": 32}``.
    n_classes : int, default=2
        Number of classes (>= 2).
    n_informative : int, default=2
        Dimension of each modality's latent space (capped at its width).
    class_sep : float, default=2.0
        Radius of the circle of cluster centres (larger is easier).
    noise : float, default=0.1
        Standard deviation of the Gaussian noise added to every column.
    missing_rate : float, default=0.0
        Probability that a modality is missing in a row; its whole block is
        then NaN.  A row never misses all of its modalities.
    as_frame : bool, default=True
        Return ``X`` as a DataFrame with columns ``"{modality}__{i}"`` and
        ``y`` as a Series named ``"y"``; else numpy arrays with the blocks in
        the order of ``modalities``.
    random_state : int, RandomState, Generator or None, default=None
        Seed for reproducible output.

    Returns
    -------
    X : DataFrame or ndarray of shape (n_samples, sum of widths)
    y : Series or ndarray of shape (n_samples,), int

    Examples
    --------
    >>> from skmm.datasets import make_multimodal_classification
    >>> X, y = make_multimodal_classification(100, random_state=0)
    >>> X.shape, sorted(y.unique().tolist())
    ((100, 48), [0, 1])
    >>> list(X.columns[[0, 16]])
    ['text__0', 'image__0']
    >>> X, y = make_multimodal_classification(
    ...     50, modalities={"a": 3, "b": 4, "c": 2}, n_classes=3,
    ...     missing_rate=0.3, as_frame=False, random_state=0)
    >>> X.shape, bool(np.isnan(X).any())
    ((50, 9), True)
    """
    mods = _check_modalities(modalities, {"text": 16, "image": 32})
    if n_classes < 2:
        raise ValueError(f"n_classes must be >= 2, got {n_classes}")
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    if not 0.0 <= missing_rate < 1.0:
        raise ValueError(f"missing_rate must be in [0, 1), got {missing_rate}")
    if missing_rate > 0 and len(mods) < 2:
        raise ValueError("missing_rate > 0 needs at least two modalities")
    rng = _rng(random_state)
    blocks = []
    codes = np.zeros(n_samples, dtype=np.int64)
    for width in mods.values():
        k = max(1, min(int(n_informative), width))
        centres = _centres(rng, n_classes, k, class_sep)
        c = rng.integers(0, n_classes, size=n_samples)
        codes += c
        latent = centres[c] + rng.standard_normal((n_samples, k))
        block = latent @ _orthonormal_rows(rng, k, width)
        block += noise * rng.standard_normal((n_samples, width))
        blocks.append(block)
    y = codes % n_classes
    if missing_rate > 0:
        mask = rng.random((n_samples, len(mods))) < missing_rate
        full = mask.all(axis=1)
        mask[full, rng.integers(0, len(mods), size=int(full.sum()))] = False
        for j, block in enumerate(blocks):
            block[mask[:, j]] = np.nan
    X = np.hstack(blocks)
    if not as_frame:
        return X, y
    names = [c for cols in _column_names(mods).values() for c in cols]
    return pd.DataFrame(X, columns=names), pd.Series(y, name="y")


def make_paired_modalities(
    n_samples: int = 200,
    *,
    modalities: Mapping[str, int] | None = None,
    latent_dim: int = 8,
    noise: float = 0.1,
    n_groups: int | None = None,
    nonlinear: bool = False,
    as_frame: bool = True,
    random_state: int | np.random.RandomState | np.random.Generator | None = None,
) -> Any:
    """Make paired modality blocks generated from one shared latent.

    Row ``i`` of every block is a view of the same latent vector ``z_i``
    (``latent_dim`` standard normal values): block ``m`` is
    ``z @ W_m + noise * e`` with a random ``W_m`` (or, with
    ``nonlinear=True``, ``tanh(z @ W1_m) @ W2_m + noise * e``).  Row ``i`` of
    one modality is therefore the match of row ``i`` of another: a
    ground-truth for cross-modal retrieval tests.  With ``n_groups``, the
    latents cluster around ``n_groups`` centres, and rows of one group are
    all relevant to each other.

    Parameters
    ----------
    n_samples : int, default=200
        Number of pairs (rows).
    modalities : mapping of str to int, optional
        Modality name -> number of columns.  Default
        ``{"text": 16, "image": 24}``.
    latent_dim : int, default=8
        Dimension of the shared latent.
    noise : float, default=0.1
        Standard deviation of the Gaussian noise per column (each column's
        signal has a standard deviation near 1).
    n_groups : int, optional
        Number of latent clusters; rows get a group label in ``groups``.
    nonlinear : bool, default=False
        Use a random one-hidden-layer tanh map instead of a linear one.
    as_frame : bool, default=True
        ``data`` as a DataFrame with columns ``"{modality}__{i}"``; else a
        numpy array with the blocks in the order of ``modalities``.
    random_state : int, RandomState, Generator or None, default=None
        Seed for reproducible output.

    Returns
    -------
    sklearn.utils.Bunch
        ``data`` (n_samples × sum of widths), ``latent`` (n_samples ×
        latent_dim), ``groups`` (int array, or None without ``n_groups``),
        ``modalities`` (name -> list of column names, in column order) and
        ``feature_names``.

    Examples
    --------
    >>> from skmm.datasets import make_paired_modalities
    >>> b = make_paired_modalities(50, latent_dim=4, n_groups=5, random_state=0)
    >>> b.data.shape, b.latent.shape, b.groups.shape
    ((50, 40), (50, 4), (50,))
    >>> {k: len(v) for k, v in b.modalities.items()}
    {'text': 16, 'image': 24}
    """
    from sklearn.utils import Bunch

    mods = _check_modalities(modalities, {"text": 16, "image": 24})
    if latent_dim < 1:
        raise ValueError(f"latent_dim must be >= 1, got {latent_dim}")
    if n_samples < 1:
        raise ValueError(f"n_samples must be >= 1, got {n_samples}")
    rng = _rng(random_state)
    groups = None
    if n_groups is not None:
        if n_groups < 1:
            raise ValueError(f"n_groups must be >= 1, got {n_groups}")
        centres = 2.0 * rng.standard_normal((n_groups, latent_dim))
        groups = rng.integers(0, n_groups, size=n_samples)
        latent = centres[groups] + 0.5 * rng.standard_normal((n_samples, latent_dim))
        latent /= np.sqrt(4.0 + 0.25)
    else:
        latent = rng.standard_normal((n_samples, latent_dim))
    blocks = []
    for width in mods.values():
        if nonlinear:
            hidden = max(2 * width, latent_dim)
            w1 = rng.standard_normal((latent_dim, hidden)) * (1.5 / np.sqrt(latent_dim))
            h = np.tanh(latent @ w1)
            w2 = rng.standard_normal((hidden, width))
            block = h @ w2
            block /= block.std(axis=0, keepdims=True).clip(1e-12)
        else:
            w = rng.standard_normal((latent_dim, width)) / np.sqrt(latent_dim)
            block = latent @ w
        block = block + noise * rng.standard_normal((n_samples, width))
        blocks.append(block)
    cols = _column_names(mods)
    names = [c for cs in cols.values() for c in cs]
    X: Any = np.hstack(blocks)
    if as_frame:
        X = pd.DataFrame(X, columns=names)
    return Bunch(
        data=X, latent=latent, groups=groups, modalities=cols, feature_names=names
    )


def _centres(rng: np.random.Generator, n: int, dim: int, sep: float) -> np.ndarray:
    """``n`` cluster centres evenly spread in a random plane (a line if dim 1)."""
    steps = np.arange(n)
    if dim == 1:
        return (sep * (steps - (n - 1) / 2))[:, None]
    plane = _orthonormal_rows(rng, 2, dim)
    angles = 2 * np.pi * steps / n + rng.uniform(0, 2 * np.pi)
    return sep * np.column_stack([np.cos(angles), np.sin(angles)]) @ plane


def _rng(random_state: Any) -> np.random.Generator:
    """A numpy Generator from an int, RandomState, Generator or None."""
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    return np.random.default_rng(random_state)
