"""The common retriever API: input forms, directions, bad input, persistence."""

from __future__ import annotations

import importlib.util
import warnings

import joblib
import numpy as np
import pytest
from sklearn.base import clone
from sklearn.exceptions import NotFittedError
from sklearn.utils.estimator_checks import check_param_validation

from skmm.datasets import make_paired_modalities
from skmm.registry import retrievers
from skmm.retrieval import (
    CCARetriever,
    ContrastiveRetriever,
    ExactIndex,
    FaissIndex,
    MissingModalityWarning,
    PLSRetriever,
    RidgeRetriever,
)

ALL = [RidgeRetriever, CCARetriever, PLSRetriever, ContrastiveRetriever]


def _make(cls, **extra):
    params = cls.get_test_params()[0]
    return cls(**{**params, **extra})


@pytest.fixture(scope="module")
def data():
    b = make_paired_modalities(
        80,
        modalities={"text": 6, "image": 8, "audio": 3},
        latent_dim=3,
        random_state=0,
    )
    return b.data


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_param_validation(cls):
    check_param_validation(cls.__name__, _make(cls))


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_embed_accepts_full_table_block_frame_and_block_array(cls, data):
    r = _make(cls).fit(data)
    full = r.embed(data, modality="image")
    assert full.shape == (80, r.embed_dim_) and full.dtype == np.float32
    image_cols = [c for c in data.columns if c.startswith("image__")]
    # just the block's columns, by name (any order), or as a plain array
    np.testing.assert_allclose(r.embed(data[image_cols[::-1]], "image"), full)
    np.testing.assert_allclose(r.embed(data[image_cols].to_numpy(), "image"), full)
    np.testing.assert_allclose(r.embed(data.to_numpy(), "image"), full)
    # row-wise: a subset embeds as the same rows
    np.testing.assert_allclose(r.embed(data.iloc[10:20], "image"), full[10:20])
    assert r.embed(data.iloc[:0], "image").shape == (0, r.embed_dim_)


def test_numpy_input_with_modalities_spec(data):
    X = data.to_numpy()
    spec = {"text": 6, "image": 8, "audio": 3}
    r = RidgeRetriever(modalities=spec).fit(X)
    ref = RidgeRetriever().fit(data)
    np.testing.assert_allclose(r.embed(X), ref.embed(data))
    np.testing.assert_allclose(r.embed(X[:, :6]), ref.embed(data))
    r2 = RidgeRetriever(modalities=spec, query="audio", target="text").fit(X)
    assert r2.embed(X[:, 14:], modality="audio").shape[0] == 80
    with pytest.raises(ValueError, match="modalities="):
        RidgeRetriever().fit(X)


def test_search_in_either_direction_returns_gallery_positions(data):
    r = CCARetriever(n_components=3).fit(data)
    gallery = data.iloc[40:]
    r.index(gallery)
    assert r.gallery_modality_ == "image" and len(r.gallery_index_) == 40
    indices, scores = r.search(gallery, k=4)
    assert indices.shape == scores.shape == (40, 4)
    assert indices.dtype == np.int64 and scores.dtype == np.float32
    assert indices.min() >= 0 and indices.max() < 40
    assert np.all(np.diff(scores, axis=1) <= 1e-6)
    assert (indices[:, 0] == np.arange(40)).mean() > 0.8
    r.index(gallery, modality="text")
    indices, _ = r.search(gallery.filter(like="image__"), k=1, modality="image")
    assert (indices[:, 0] == np.arange(40)).mean() > 0.8


@pytest.mark.parametrize(
    "search_index",
    [
        "exact",
        ExactIndex(dtype="float16", chunk_size=7),
        "faiss-flat",
        "faiss-hnsw",
        FaissIndex(kind="ivf", nlist=4, nprobe=4),
    ],
    ids=repr,
)
def test_search_index_choices_agree(data, search_index):
    uses_faiss = "faiss" in repr(search_index) or "Faiss" in repr(search_index)
    if uses_faiss and importlib.util.find_spec("faiss") is None:
        pytest.skip("faiss is not installed")
    ref = RidgeRetriever().fit(data).index(data)
    r = RidgeRetriever(search_index=search_index).fit(data).index(data)
    if not isinstance(search_index, str):
        assert r.gallery_index_ is not search_index and len(search_index) == 0
    got, _ = r.search(data, k=1)
    expected, _ = ref.search(data, k=1)
    assert (got == expected).mean() > 0.9


def test_missing_rows_are_left_out_with_a_count(data):
    X = data.copy()
    X.iloc[[0, 1, 2], 0] = np.nan  # text missing in 3 rows
    X.iloc[[5], 7] = np.nan  # image missing in 1 row
    with pytest.warns(MissingModalityWarning, match="4 of 80 rows"):
        r = RidgeRetriever().fit(X)
    assert r.n_pairs_ == 76
    emb = r.embed(X)
    assert np.isnan(emb[:3]).all() and np.isfinite(emb[3:]).all()
    with pytest.warns(MissingModalityWarning, match="1 of 80 gallery rows"):
        r.index(X)
    assert len(r.gallery_index_) == 79
    with pytest.warns(MissingModalityWarning, match="3 of 80 query rows"):
        indices, scores = r.search(X, k=3)
    assert (indices[:3] == -1).all() and np.isnan(scores[:3]).all()
    assert 5 not in indices  # the row without an image is not in the gallery
    assert (indices[3:] >= 0).all()
    # an audio-only NaN does not matter to a text/image retriever
    Y = data.copy()
    Y["audio__0"] = np.nan
    with warnings.catch_warnings():
        warnings.simplefilter("error", MissingModalityWarning)
        RidgeRetriever().fit(Y)


def test_empty_gallery_and_k_larger_than_gallery(data):
    r = RidgeRetriever().fit(data)
    X = data.iloc[:5].copy()
    X.loc[:, X.columns.str.startswith("image__")] = np.nan
    with pytest.raises(ValueError, match="gallery is empty"):
        r.index(X)
    with pytest.raises(ValueError, match="gallery is empty"):
        r.index(data.iloc[:0])
    r.index(data.iloc[:3])
    with pytest.warns(UserWarning, match="k=10 is larger than the gallery"):
        indices, _ = r.search(data.iloc[:4])
    assert indices.shape == (4, 3)
    with pytest.raises(ValueError, match="positive int"):
        r.search(data, k=0)


def test_width_mismatch_and_unknown_modality(data):
    r = RidgeRetriever().fit(data)
    with pytest.raises(
        ValueError,
        match="X has 5 features, but RidgeRetriever is "
        "expecting 17 features as input .* 6 for the 'text'",
    ):
        r.embed(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="lacks 2 of the 8 column"):
        r.embed(data.drop(columns=["image__0", "image__1"]), modality="image")
    with pytest.raises(ValueError, match="cannot embed modality='audio'"):
        r.embed(data, modality="audio")
    with pytest.raises(ValueError, match="cannot embed modality='audio'"):
        r.index(data, modality="audio")
    with pytest.raises(ValueError, match="The query modality 'video' is not in X"):
        RidgeRetriever(query="video").fit(data)
    with pytest.raises(ValueError, match="two different modalities"):
        RidgeRetriever(query="text", target="text").fit(data)
    with pytest.raises(ValueError, match="n_samples = 1"):
        RidgeRetriever().fit(data.iloc[:1])


def test_not_fitted_and_no_gallery(data):
    with pytest.raises(NotFittedError):
        RidgeRetriever().embed(data)
    r = RidgeRetriever().fit(data)
    with pytest.raises(NotFittedError, match=r"call index\(X_gallery\)"):
        r.search(data)
    r.index(data)
    r.fit(data)  # refit forgets the gallery
    assert not hasattr(r, "gallery_index_")


@pytest.mark.parametrize("cls", ALL, ids=lambda c: c.__name__)
def test_joblib_round_trip_and_clone(cls, data, tmp_path):
    r = _make(cls).fit(data).index(data)
    path = tmp_path / "r.joblib"
    joblib.dump(r, path)
    restored = joblib.load(path)
    np.testing.assert_array_equal(restored.embed(data), r.embed(data))
    for a, b in zip(restored.search(data, k=2), r.search(data, k=2)):
        np.testing.assert_array_equal(a, b)
    fresh = clone(r)
    assert not hasattr(fresh, "embed_dim_")


def test_registry_knows_the_builtins():
    for name, cls in [
        ("ridge", RidgeRetriever),
        ("cca", CCARetriever),
        ("pls", PLSRetriever),
        ("contrastive", ContrastiveRetriever),
    ]:
        assert retrievers.get(name) is cls
    assert isinstance(retrievers.create("cca", n_components=3), CCARetriever)
    # importing again does not register twice
    importlib.reload(importlib.import_module("skmm.retrieval"))


def test_importing_retrieval_and_metrics_does_not_import_torch_or_faiss():
    import subprocess
    import sys

    code = (
        "import sys, skmm.retrieval, skmm.metrics; "
        "print(sorted(m for m in ('torch', 'skorch', 'faiss') if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert out.stdout.strip() == "[]"
