"""Sharded galleries: search_shards and build_index_from_shards equal the
in-memory indexes; bad shard folders name the file."""

from __future__ import annotations

import importlib.util

import numpy as np
import pandas as pd
import pytest

from skmm.exceptions import InvalidFileError
from skmm.retrieval import (
    ExactIndex,
    FaissIndex,
    build_index_from_shards,
    estimate_build_memory,
    iter_shards,
    load_index,
    search_shards,
)

needs_faiss = pytest.mark.skipif(
    importlib.util.find_spec("faiss") is None,
    reason='faiss is not installed (pip install "skmm[faiss]")',
)

SIZES = (700, 0, 500, 800)  # uneven, one empty shard


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(0)
    centres = rng.normal(size=(20, 16))
    G = centres[rng.integers(0, 20, sum(SIZES))] + 0.3 * rng.normal(
        size=(sum(SIZES), 16)
    )
    G[1500] = G[3]  # an exact tie across shards
    G[1900] = G[3]
    Q = np.vstack([G[3], centres[rng.integers(0, 20, 40)]])
    return G.astype(np.float32), Q.astype(np.float32)


def split(G):
    bounds = np.cumsum((0, *SIZES))
    return [G[a:b] for a, b in zip(bounds[:-1], bounds[1:])]


def write_parquet(G, folder, columns=None):
    folder.mkdir(parents=True, exist_ok=True)
    columns = columns or [f"image__f{j}" for j in range(G.shape[1])]
    start = 0
    for i, part in enumerate(split(G)):
        df = pd.DataFrame(part, columns=columns)
        df.insert(0, "__row__", np.arange(start, start + len(part)))
        df.insert(1, "label", [f"r{r}" for r in range(start, start + len(part))])
        df.to_parquet(folder / f"part-{i:05d}.parquet", index=False)
        start += len(part)
    return folder, columns


def write_npy(G, folder):
    folder.mkdir(parents=True, exist_ok=True)
    for i, part in enumerate(split(G)):
        np.save(folder / f"part-{i:05d}.npy", part)
    return folder


@pytest.mark.parametrize("metric", ["ip", "cosine"])
def test_search_shards_equals_one_exact_index(data, metric, tmp_path):
    G, Q = data
    want_i, want_v = ExactIndex(metric=metric).add(G).search(Q, k=10)
    folder, cols = write_parquet(G, tmp_path / "pq")
    for shards, columns in (
        (split(G), None),
        (write_npy(G, tmp_path / "npy"), None),
        (folder, cols),
        ([lambda p=p: p for p in split(G)], None),
    ):
        got_i, got_v = search_shards(Q, shards, k=10, metric=metric, columns=columns)
        np.testing.assert_array_equal(got_i, want_i)
        np.testing.assert_allclose(got_v, want_v, rtol=1e-5, atol=1e-6)
    # the tie: rows 3, 1500 and 1900 hold one vector; lower ids first
    assert list(want_i[0, :3]) == [3, 1500, 1900]


def test_search_shards_clips_k_with_a_warning(data):
    G, Q = data
    with pytest.warns(UserWarning, match="larger than the gallery"):
        i, _ = search_shards(Q[:2], [G[:3], G[3:5]], k=9)
    assert i.shape == (2, 5)
    np.testing.assert_array_equal(i, ExactIndex().add(G[:5]).search(Q[:2], k=5)[0])


def test_exact_index_built_from_shards(data, tmp_path):
    G, Q = data
    index = build_index_from_shards(split(G), ExactIndex(metric="cosine"))
    want = ExactIndex(metric="cosine").add(G).search(Q, k=5)[0]
    np.testing.assert_array_equal(index.search(Q, k=5)[0], want)


def recall(got, want):
    return np.mean([len(set(g) & set(w)) / len(w) for g, w in zip(got, want)])


@needs_faiss
def test_ivf_from_shards_identical_when_trained_on_all_rows(data, tmp_path):
    G, Q = data
    params = {"kind": "ivf", "metric": "cosine", "nlist": 16, "nprobe": 4}
    memory = FaissIndex(**params, n_threads=1).add(G)
    folder, cols = write_parquet(G, tmp_path / "pq")
    sharded = build_index_from_shards(
        folder, FaissIndex(**params, n_threads=1), columns=cols, train_size=10**6
    )
    path = tmp_path / "ivf.index"
    sharded.save(path)
    loaded = load_index(path)
    assert len(loaded) == len(G)
    want = memory.search(Q, k=10)
    for got in (sharded.search(Q, k=10), loaded.search(Q, k=10)):
        np.testing.assert_array_equal(got[0], want[0])
        np.testing.assert_allclose(got[1], want[1], rtol=1e-5)


@needs_faiss
@pytest.mark.parametrize("kind", ["ivf", "hnsw"])
def test_faiss_from_shards_recall_matches_in_memory(data, kind, tmp_path):
    G, Q = data
    params = {"kind": kind, "metric": "cosine", "nlist": 16, "nprobe": 4}
    exact = ExactIndex(metric="cosine").add(G).search(Q, k=10)[0]
    memory = FaissIndex(**params, n_threads=1).add(G).search(Q, k=10)[0]
    sharded = build_index_from_shards(
        write_npy(G, tmp_path / "npy"),
        FaissIndex(**params, n_threads=1),
        train_size=600,  # a sample: IVF's clusters differ a little
    ).search(Q, k=10)[0]
    r_memory, r_sharded = recall(memory, exact), recall(sharded, exact)
    assert r_memory > 0.9
    assert abs(r_sharded - r_memory) <= 0.05, (r_sharded, r_memory)


@needs_faiss
def test_max_memory_refuses_before_building(data):
    G, _ = data
    index = FaissIndex(kind="hnsw")
    need = estimate_build_memory(index, len(G), 16, 800)
    with pytest.raises(MemoryError, match="max_memory"):
        build_index_from_shards(split(G), index, max_memory=need - 1)
    assert len(index) == 0
    build_index_from_shards(split(G), index, max_memory=need)
    assert len(index) == len(G)


def test_empty_folder_names_it(tmp_path):
    with pytest.raises(InvalidFileError, match="holds no shards") as info:
        list(iter_shards(tmp_path))
    assert str(tmp_path) in str(info.value)


def test_mixed_widths_name_the_file(data, tmp_path):
    G, _ = data
    folder = write_npy(G, tmp_path / "npy")
    np.save(folder / "part-00002.npy", G[:10, :8])
    with pytest.raises(InvalidFileError, match="part-00002.npy") as info:
        search_shards(G[:1], folder, k=3)
    assert "8 dimensions" in str(info.value)
    with pytest.raises(ValueError, match="shard 1"):
        list(iter_shards([G[:3], lambda: G[:3, :8]]))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "empty"])
def test_corrupt_part_file_names_it(data, damage, tmp_path):
    G, _ = data
    folder, cols = write_parquet(G, tmp_path / "pq")
    bad = folder / "part-00003.parquet"
    raw = bad.read_bytes()
    bad.write_bytes(
        {"garbage": b"not parquet at all", "truncated": raw[: len(raw) // 2],
         "empty": b""}[damage]
    )  # fmt: skip
    with pytest.raises(InvalidFileError, match="part-00003.parquet"):
        search_shards(G[:1], folder, k=3, columns=cols)
    with pytest.raises(InvalidFileError, match="part-00003.parquet"):
        build_index_from_shards(folder, ExactIndex(), columns=cols)


def test_missing_columns_name_the_file(data, tmp_path):
    G, _ = data
    folder, cols = write_parquet(G, tmp_path / "pq")
    with pytest.raises(InvalidFileError, match="part-00000.parquet.*'text__f0'"):
        list(iter_shards(folder, columns=["text__f0"]))
