"""FaissIndex: flat equals exact, IVF/HNSW recall, persistence (needs faiss)."""

from __future__ import annotations

import importlib.util
import pickle

import numpy as np
import pytest

from skmm.exceptions import MissingDependencyError
from skmm.retrieval import ExactIndex, FaissIndex, load_index


@pytest.fixture(scope="module")
def vectors():
    rng = np.random.default_rng(0)
    # clustered data, like real embeddings
    centres = rng.normal(size=(20, 24))
    G = centres[rng.integers(0, 20, 2000)] + 0.3 * rng.normal(size=(2000, 24))
    Q = centres[rng.integers(0, 20, 50)] + 0.3 * rng.normal(size=(50, 24))
    return G.astype(np.float32), Q.astype(np.float32)


def test_missing_faiss_says_how_to_install(monkeypatch):
    import skmm.retrieval._faiss_index as mod

    def fail(*args, **kwargs):
        raise MissingDependencyError('... pip install "skmm[faiss]"')

    monkeypatch.setattr(mod, "import_optional", fail)
    with pytest.raises(MissingDependencyError, match=r"skmm\[faiss\]"):
        FaissIndex().add(np.ones((2, 3)))


needs_faiss = pytest.mark.skipif(
    importlib.util.find_spec("faiss") is None,
    reason='faiss is not installed (pip install "skmm[faiss]")',
)


@needs_faiss
@pytest.mark.parametrize("metric", ["ip", "cosine"])
def test_flat_equals_exact(vectors, metric):
    G, Q = vectors
    exact = ExactIndex(metric=metric, device="cpu").add(G)
    flat = FaissIndex(kind="flat", metric=metric).add(G)
    e_idx, e_s = exact.search(Q, 10)
    f_idx, f_s = flat.search(Q, 10)
    np.testing.assert_array_equal(f_idx, e_idx)
    np.testing.assert_allclose(f_s, e_s, rtol=1e-4, atol=1e-4)
    assert f_idx.dtype == np.int64 and f_s.dtype == np.float32


@needs_faiss
@pytest.mark.parametrize(
    "params", [{"kind": "ivf", "nlist": 16, "nprobe": 8}, {"kind": "hnsw"}]
)
def test_approximate_indexes_recall(vectors, params):
    G, Q = vectors
    exact = ExactIndex(device="cpu").add(G).search(Q, 10)[0]
    approx = FaissIndex(**params).add(G).search(Q, 10)[0]
    recall = np.mean([len(set(a) & set(b)) / 10 for a, b in zip(approx, exact)])
    assert recall >= 0.9


@needs_faiss
def test_ivf_with_fewer_vectors_than_lists_warns():
    G = np.random.default_rng(0).normal(size=(30, 4)).astype(np.float32)
    with pytest.warns(UserWarning, match="nlist=5 is used"):
        index = FaissIndex(kind="ivf", nlist=1024).add(G)
    assert len(index) == 30


@needs_faiss
@pytest.mark.parametrize("kind", ["flat", "ivf", "hnsw"])
def test_save_load_and_pickle_round_trip(tmp_path, vectors, kind):
    G, Q = vectors
    index = FaissIndex(kind=kind, nlist=8, ef_search=32).add(G[:500])
    expected = index.search(Q, 5)
    path = tmp_path / f"{kind}.npz"
    index.save(path)
    for restored in (
        FaissIndex.load(path),
        load_index(path),
        pickle.loads(pickle.dumps(index)),
    ):
        assert restored.get_params() == index.get_params()
        assert len(restored) == 500
        got = restored.search(Q, 5)
        np.testing.assert_array_equal(got[0], expected[0])
        np.testing.assert_allclose(got[1], expected[1], rtol=1e-5)
    with pytest.raises(TypeError, match="not a ExactIndex"):
        ExactIndex.load(path)
