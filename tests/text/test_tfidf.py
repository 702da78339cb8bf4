from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from skmm.text import TfidfTextEncoder

DOCS = ["a red apple", "a green apple", "blue sky at night", "red sky at morning"]


def test_raw_tfidf_width_is_vocabulary():
    enc = TfidfTextEncoder(verbose=0).fit(DOCS)
    assert enc.n_features_out_ == len(enc.vectorizer_.vocabulary_) == 9
    X = enc.transform(DOCS)
    np.testing.assert_allclose(np.linalg.norm(X, axis=1), 1.0, rtol=1e-6)


def test_svd_gives_fixed_width_and_related_docs_are_close():
    enc = TfidfTextEncoder(n_components=2, random_state=0, verbose=0)
    X = enc.fit_transform(DOCS)
    assert X.shape == (4, 2)
    sim = X @ X.T
    assert sim[0, 1] > sim[0, 2]  # the two apples are closer than apple/sky


def test_too_few_terms_pads_with_zeros_and_warns():
    with pytest.warns(UserWarning, match="output columns are zeros"):
        enc = TfidfTextEncoder(n_components=50, random_state=0, verbose=0).fit(DOCS)
    X = enc.transform(DOCS)
    assert X.shape == (4, 50)
    assert np.all(X[:, 3:] == 0)


def test_missing_texts_are_nan_and_not_fitted_on():
    s = pd.Series(["a red apple", None, "", float("nan"), "blue sky"], name="t")
    enc = TfidfTextEncoder(verbose=0).fit(s)
    assert set(enc.vectorizer_.vocabulary_) == {"a", "red", "apple", "blue", "sky"}
    X = enc.transform(s)
    assert np.isnan(X[1:4]).all() and np.isfinite(X[[0, 4]]).all()


def test_all_missing_cannot_fit():
    with pytest.raises(ValueError, match="every cell was missing"):
        TfidfTextEncoder().fit([None, ""])
