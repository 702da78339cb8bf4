"""Ridge, CCA and PLS retrievers against sklearn and on paired data."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.cross_decomposition import PLSSVD
from sklearn.linear_model import Ridge
from sklearn.preprocessing import StandardScaler

from skmm.datasets import make_paired_modalities
from skmm.retrieval import CCARetriever, PLSRetriever, RidgeRetriever


@pytest.fixture(scope="module")
def paired():
    b = make_paired_modalities(200, latent_dim=4, noise=0.2, random_state=0)
    return b.data.iloc[:150], b.data.iloc[150:]


def _blocks(X):
    return X.filter(like="text__").to_numpy(), X.filter(like="image__").to_numpy()


def test_pls_matches_sklearn_plssvd(paired):
    train, _ = paired
    Xq, Xt = _blocks(train)
    ours = PLSRetriever(n_components=3).fit(train)
    ref = PLSSVD(n_components=3).fit(Xq, Xt)
    for mine, theirs in (
        (ours.weights_["text"], ref.x_weights_),
        (ours.weights_["image"], ref.y_weights_),
    ):
        # equal up to the sign of each component
        np.testing.assert_allclose(np.abs(mine.T @ theirs), np.eye(3), atol=1e-6)


def test_ridge_query_embedding_is_sklearn_ridge_prediction(paired):
    train, test = paired
    Xq, Xt = _blocks(train)
    sq, st = StandardScaler().fit(Xq), StandardScaler().fit(Xt)
    # ours uses the unbiased std; rescale sklearn's to match
    n = Xq.shape[0]
    ridge = Ridge(alpha=2.0, fit_intercept=False).fit(
        sq.transform(Xq) * np.sqrt((n - 1) / n), st.transform(Xt) * np.sqrt((n - 1) / n)
    )
    pred = ridge.predict(sq.transform(_blocks(test)[0]) * np.sqrt((n - 1) / n))
    pred /= np.linalg.norm(pred, axis=1, keepdims=True)
    ours = RidgeRetriever(alpha=2.0).fit(train).embed(test, modality="text")
    np.testing.assert_allclose(ours, pred, atol=1e-5)


def test_cca_finds_correlated_unit_variance_directions(paired):
    train, _ = paired
    r = CCARetriever(n_components=4, reg=1e-6, power=0.0).fit(train)
    Xq, Xt = _blocks(train)
    Zq = r._project(Xq, "text")
    Zt = r._project(Xt, "image")
    C = np.corrcoef(Zq.T, Zt.T)
    np.testing.assert_allclose(np.diag(C[:4, 4:]), r.correlations_, atol=1e-4)
    # variates uncorrelated within a block
    np.testing.assert_allclose(C[:4, :4], np.eye(4), atol=1e-4)
    assert np.all(np.diff(r.correlations_) <= 1e-12)
    assert r.correlations_.min() > 0.9


@pytest.mark.parametrize(
    "retriever",
    [RidgeRetriever(), RidgeRetriever(n_components=4), CCARetriever(), PLSRetriever()],
    ids=repr,
)
def test_linear_retrievers_recover_the_pairing_both_ways(paired, retriever):
    train, test = paired
    r = retriever.fit(train)
    emb = r.embed(test, modality="text")
    np.testing.assert_allclose(np.linalg.norm(emb, axis=1), 1.0, rtol=1e-5)
    assert emb.dtype == np.float32
    # chance is 0.02 on a 50-item gallery
    assert r.score(test, metric="recall@1") >= 0.6
    r.index(test, modality="text")
    indices, _ = r.search(test, k=1, modality="image")
    assert (indices[:, 0] == np.arange(len(test))).mean() >= 0.6


def test_n_components_are_clipped():
    X = make_paired_modalities(
        30, modalities={"text": 3, "image": 5}, random_state=0
    ).data
    assert CCARetriever(n_components=64).fit(X).embed_dim_ == 3
    assert PLSRetriever(n_components=64).fit(X).embed_dim_ == 3
    assert RidgeRetriever(n_components=64).fit(X).embed_dim_ == 5
    assert RidgeRetriever().fit(X).embed_dim_ == 5


def test_scale_false_and_alpha_zero():
    X = make_paired_modalities(40, random_state=0).data
    r = RidgeRetriever(alpha=0.0, scale=False).fit(X)
    np.testing.assert_array_equal(r.x_scale_["text"], 1.0)
    assert r.score(X, metric="recall@1") > 0.9
