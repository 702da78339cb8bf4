"""ExactIndex against a numpy brute-force top-k, persistence and bad input."""

from __future__ import annotations

import pickle

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from sklearn.base import clone

from skmm.retrieval import BaseIndex, ExactIndex, load_index


def _numpy_topk(G, Q, k):
    """Brute force with argpartition, then the tie rule (score desc, id asc)."""
    S = Q.astype(np.float64) @ G.astype(np.float64).T
    out = []
    for s in S:
        kth = np.partition(s, -k)[-k]
        cand = np.flatnonzero(s >= kth)  # ascending ids
        order = sorted(cand, key=lambda j: (-s[j], j))[:k]
        out.append(order)
    return np.asarray(out, dtype=np.int64), S


@settings(max_examples=80, deadline=None)
@given(
    st.integers(1, 40).flatmap(
        lambda n: st.tuples(
            arrays(np.int8, (n, 3), elements=st.integers(-2, 2)),
            arrays(np.int8, (5, 3), elements=st.integers(-2, 2)),
            st.integers(1, n),
            st.integers(1, 7),
            st.integers(1, 3),
        )
    )
)
def test_exact_index_equals_numpy_brute_force_with_ties(args):
    G, Q, k, chunk, qchunk = args
    G, Q = G.astype(np.float32), Q.astype(np.float32)
    index = ExactIndex(chunk_size=chunk, query_chunk_size=qchunk, device="cpu")
    index.add(G)
    indices, scores = index.search(Q, k)
    expected, S = _numpy_topk(G, Q, k)
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(S, expected, 1))
    assert indices.dtype == np.int64 and scores.dtype == np.float32


def test_exact_index_random_gallery_several_adds():
    rng = np.random.default_rng(0)
    G = rng.normal(size=(500, 16)).astype(np.float32)
    Q = rng.normal(size=(30, 16)).astype(np.float32)
    index = ExactIndex(chunk_size=64, device="cpu")
    index.add(G[:200]).add(G[200:])
    assert len(index) == 500 and index.dim == 16
    indices, scores = index.search(Q, 10)
    expected, S = _numpy_topk(G, Q, 10)
    np.testing.assert_array_equal(indices, expected)
    np.testing.assert_allclose(scores, np.take_along_axis(S, expected, 1), rtol=1e-5)


def test_cosine_metric_and_float16_storage():
    rng = np.random.default_rng(1)
    G = rng.normal(size=(300, 8)) * rng.uniform(0.1, 10, size=(300, 1))
    Q = rng.normal(size=(20, 8))
    Gn = G / np.linalg.norm(G, axis=1, keepdims=True)
    Qn = Q / np.linalg.norm(Q, axis=1, keepdims=True)
    cos = ExactIndex(metric="cosine", device="cpu").add(G)
    indices, scores = cos.search(Q, 5)
    expected, S = _numpy_topk(Gn, Qn, 5)
    np.testing.assert_array_equal(indices, expected)
    assert np.all(scores <= 1 + 1e-6)
    half = ExactIndex(metric="cosine", dtype="float16", device="cpu").add(G)
    assert half._store.dtype.is_floating_point and half._store.element_size() == 2
    h_idx, h_scores = half.search(Q, 5)
    assert h_scores.dtype == np.float32
    np.testing.assert_allclose(h_scores, scores, atol=2e-3)
    assert (h_idx[:, 0] == indices[:, 0]).mean() > 0.9


@pytest.mark.parametrize("dtype", ["float32", "float16"])
def test_save_load_round_trip(tmp_path, dtype):
    rng = np.random.default_rng(2)
    G = rng.normal(size=(50, 6)).astype(np.float32)
    index = ExactIndex(dtype=dtype, chunk_size=7, device="cpu").add(G)
    path = tmp_path / "gallery.npz"
    index.save(path)
    assert path.exists()
    loaded = ExactIndex.load(path)
    assert loaded.get_params() == index.get_params()
    assert len(loaded) == 50
    for a, b in zip(loaded.search(G[:5], 3), index.search(G[:5], 3)):
        np.testing.assert_array_equal(a, b)
    assert isinstance(load_index(path), ExactIndex)
    assert isinstance(BaseIndex.load(path), ExactIndex)
    # empty index round trip
    ExactIndex().save(tmp_path / "empty.npz")
    assert len(ExactIndex.load(tmp_path / "empty.npz")) == 0


def test_pickle_and_clone():
    G = np.eye(4, dtype=np.float32)
    index = ExactIndex(chunk_size=2, device="cpu").add(G)
    restored = pickle.loads(pickle.dumps(index))
    np.testing.assert_array_equal(restored.search(G, 2)[0], index.search(G, 2)[0])
    fresh = clone(index)
    assert len(fresh) == 0 and fresh.chunk_size == 2
    assert len(index.reset()) == 0


def test_bad_input():
    index = ExactIndex(device="cpu")
    with pytest.raises(ValueError, match="empty"):
        index.search(np.ones((1, 3)), 1)
    index.add(np.ones((3, 4)))
    with pytest.warns(UserWarning, match="k=5 is larger than the gallery"):
        indices, _ = index.search(np.ones((2, 4)), 5)
    assert indices.shape == (2, 3)
    with pytest.raises(ValueError, match="3 dimensions, but the index holds 4"):
        index.search(np.ones((2, 3)), 1)
    with pytest.raises(ValueError, match="3 dimensions"):
        index.add(np.ones((2, 3)))
    with pytest.raises(ValueError, match="NaN"):
        index.add(np.full((1, 4), np.nan))
    with pytest.raises(ValueError, match="1-D"):
        index.search(np.ones(4), 1)
    with pytest.raises(ValueError, match="positive int"):
        index.search(np.ones((1, 4)), 0)
    with pytest.raises(ValueError, match="'metric' parameter"):
        ExactIndex(metric="l2").add(np.ones((1, 2)))
    i, s = index.search(np.ones((0, 4)), 2)
    assert i.shape == (0, 2) and s.shape == (0, 2)


def test_load_rejects_other_files(tmp_path):
    path = tmp_path / "x.npz"
    np.savez(path, meta=np.asarray('{"class": "Nope"}'))
    with pytest.raises(ValueError, match="does not hold an skmm index"):
        load_index(path)
