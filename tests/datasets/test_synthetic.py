"""Synthetic makers: shapes, determinism, the multimodal interaction, pairing."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import cross_val_score
from sklearn.svm import SVC

from skmm.datasets import make_multimodal_classification, make_paired_modalities


def test_classification_frame_and_arrays():
    X, y = make_multimodal_classification(60, random_state=0)
    assert isinstance(X, pd.DataFrame) and isinstance(y, pd.Series)
    assert X.shape == (60, 48)
    assert X.columns[0] == "text__0" and X.columns[-1] == "image__31"
    assert set(y) == {0, 1}
    Xa, ya = make_multimodal_classification(60, as_frame=False, random_state=0)
    np.testing.assert_array_equal(Xa, X.to_numpy())
    np.testing.assert_array_equal(ya, y.to_numpy())


def test_classification_deterministic():
    a = make_multimodal_classification(30, n_classes=3, random_state=4)
    b = make_multimodal_classification(30, n_classes=3, random_state=4)
    c = make_multimodal_classification(30, n_classes=3, random_state=5)
    pd.testing.assert_frame_equal(a[0], b[0])
    assert not a[0].equals(c[0])
    g = make_multimodal_classification(30, random_state=np.random.default_rng(4))
    assert g[0].shape == (30, 48)
    r = make_multimodal_classification(30, random_state=np.random.RandomState(4))
    assert r[0].shape == (30, 48)


@pytest.mark.parametrize("n_classes", [2, 3])
def test_label_needs_all_modalities(n_classes):
    X, y = make_multimodal_classification(600, n_classes=n_classes, random_state=0)
    chance = 1 / n_classes
    svc = SVC()
    for prefix in ("text__", "image__"):
        one = cross_val_score(svc, X.filter(like=prefix), y, cv=3).mean()
        assert one < chance + 0.1, (prefix, one)
    lin = cross_val_score(LogisticRegression(max_iter=500), X, y, cv=3).mean()
    assert lin < chance + 0.1  # the interaction is not linear
    both = cross_val_score(svc, X, y, cv=3).mean()
    assert both > chance + 0.4


def test_missing_blocks():
    mods = {"a": 3, "b": 4, "c": 2}
    X, y = make_multimodal_classification(
        2000, modalities=mods, missing_rate=0.4, random_state=0
    )
    missing = pd.DataFrame(
        {m: X.filter(like=f"{m}__").isna().all(axis=1) for m in mods}
    )
    partial = pd.DataFrame(
        {m: X.filter(like=f"{m}__").isna().any(axis=1) for m in mods}
    )
    assert missing.equals(partial)  # whole blocks only
    assert not missing.all(axis=1).any()  # never every modality
    assert 0.3 < missing.to_numpy().mean() < 0.45
    assert y.notna().all()


def test_classification_validation():
    with pytest.raises(ValueError, match="n_classes"):
        make_multimodal_classification(10, n_classes=1)
    with pytest.raises(ValueError, match="missing_rate"):
        make_multimodal_classification(10, missing_rate=1.0)
    with pytest.raises(ValueError, match="two modalities"):
        make_multimodal_classification(10, modalities={"a": 2}, missing_rate=0.1)
    with pytest.raises(ValueError, match="'__'"):
        make_multimodal_classification(10, modalities={"a__b": 2})
    with pytest.raises(ValueError, match="width"):
        make_multimodal_classification(10, modalities={"a": 0})
    with pytest.raises(ValueError, match="at least one"):
        make_multimodal_classification(10, modalities={})


def test_paired_shapes_and_groups():
    b = make_paired_modalities(
        80, modalities={"t": 5, "i": 7}, latent_dim=3, n_groups=4, random_state=1
    )
    assert b.data.shape == (80, 12)
    assert b.latent.shape == (80, 3)
    assert b.modalities == {
        "t": [f"t__{i}" for i in range(5)],
        "i": [f"i__{i}" for i in range(7)],
    }
    assert list(b.data.columns) == b.feature_names
    assert set(b.groups) <= {0, 1, 2, 3}
    assert make_paired_modalities(10, random_state=0).groups is None
    arr = make_paired_modalities(10, as_frame=False, random_state=0).data
    assert isinstance(arr, np.ndarray) and arr.shape == (10, 40)
    again = make_paired_modalities(10, as_frame=False, random_state=0).data
    np.testing.assert_array_equal(arr, again)


@pytest.mark.parametrize("nonlinear", [False, True])
def test_pairs_are_retrievable(nonlinear):
    """A map fitted on training pairs finds each test row's partner."""
    b = make_paired_modalities(
        400, latent_dim=4, noise=0.05, nonlinear=nonlinear, random_state=0
    )
    T = b.data[b.modalities["text"]].to_numpy()
    image = b.data[b.modalities["image"]].to_numpy()
    model = Ridge(alpha=1e-3).fit(T[:300], image[:300])
    pred, gallery = model.predict(T[300:]), image[300:]
    dist = ((pred[:, None, :] - gallery[None, :, :]) ** 2).sum(-1)
    top1 = (dist.argmin(axis=1) == np.arange(100)).mean()
    assert top1 > (0.9 if not nonlinear else 0.3)
    # and a shuffled pairing is not retrievable
    assert top1 > 10 * (1 / 100)


def test_paired_validation():
    with pytest.raises(ValueError, match="latent_dim"):
        make_paired_modalities(10, latent_dim=0)
    with pytest.raises(ValueError, match="n_groups"):
        make_paired_modalities(10, n_groups=0)
    with pytest.raises(ValueError, match="n_samples"):
        make_paired_modalities(0)
