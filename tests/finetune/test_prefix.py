"""skmm.finetune._prefix: the frozen-prefix store (memory and disk)."""

from __future__ import annotations

import numpy as np
import pytest

from skmm.finetune import (
    PrefixStore,
    clear_prefix_memory,
    prefix_stats,
    reset_prefix_stats,
)


@pytest.fixture(autouse=True)
def _fresh():
    clear_prefix_memory()
    reset_prefix_stats()
    yield
    clear_prefix_memory()


def _compute(calls):
    def compute(items):
        calls.append(list(items))
        return [
            np.arange(len(i) * 2, dtype=np.float32).reshape(len(i), 2) for i in items
        ]

    return compute


def test_memory_then_disk_then_recompute_after_corruption(tmp_path):
    calls: list = []
    store = PrefixStore("ns", root=tmp_path)
    first = store.get(["k1", "k2"], ["ab", "abc"], _compute(calls))
    assert [a.shape for a in first] == [(2, 2), (3, 2)]
    assert prefix_stats()["computed"] == 2
    store.get(["k1", "k2"], ["ab", "abc"], _compute(calls))
    assert prefix_stats()["memory_hits"] == 2 and len(calls) == 1
    clear_prefix_memory()  # a new process: the disk copies serve
    again = store.get(["k1", "k2"], ["ab", "abc"], _compute(calls))
    assert prefix_stats()["disk_hits"] == 2 and len(calls) == 1
    np.testing.assert_array_equal(again[1], first[1])
    clear_prefix_memory()
    path = tmp_path / "prefix-ns" / "k1"[:2] / "k1.npy"
    path.write_bytes(b"garbage")
    store.get(["k1"], ["ab"], _compute(calls))
    assert len(calls) == 2 and calls[-1] == ["ab"]  # only the damaged one


def test_batches_and_memory_only(tmp_path):
    calls: list = []
    store = PrefixStore("mem", root=None)
    keys = [f"k{i}" for i in range(5)]
    store.get(keys, ["x"] * 5, _compute(calls), batch_size=2)
    assert [len(c) for c in calls] == [2, 2, 1]
    assert not list(tmp_path.iterdir())


def test_memory_bound(monkeypatch):
    monkeypatch.setenv("SKMM_PREFIX_MEMORY_MB", str(100 / 2**20))  # 100 bytes
    calls: list = []
    store = PrefixStore("small", root=None)
    store.get(["a", "b"], ["abcdef", "abcdef"], _compute(calls))  # 48 bytes each
    store.get(["a"], ["abcdef"], _compute(calls))
    assert len(calls) == 1  # "a" stayed (2 x 48 <= 100)
    store.get(["c"], ["abcdef"], _compute(calls))  # evicts the least recent: b
    store.get(["a"], ["abcdef"], _compute(calls))
    assert len(calls) == 2
    store.get(["b"], ["abcdef"], _compute(calls))
    assert len(calls) == 3


def test_overwritten_numbers_are_recomputed(tmp_path):
    calls: list = []
    store = PrefixStore("ns", root=tmp_path)
    store.get(["k1"], ["abc"], _compute(calls))
    clear_prefix_memory()
    path = tmp_path / "prefix-ns" / "k1"[:2] / "k1.npy"
    raw = bytearray(path.read_bytes())
    raw[-8] ^= 0xFF  # a number's byte, header and size intact
    path.write_bytes(bytes(raw))
    out = store.get(["k1"], ["abc"], _compute(calls))
    assert len(calls) == 2 and prefix_stats()["disk_hits"] == 0
    np.testing.assert_array_equal(out[0], np.arange(6).reshape(3, 2))


def test_unwritable_folder_warns_once_and_does_not_stop_work(tmp_path):
    from skmm.exceptions import CacheWarning

    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    store = PrefixStore("ns", root=blocker)
    with pytest.warns(CacheWarning, match="file") as seen:
        out = store.get(["k", "j"], ["ab", "cd"], _compute([]))
        store.get(["i"], ["ef"], _compute([]))
    assert out[0].shape == (2, 2)
    assert len([w for w in seen if issubclass(w.category, CacheWarning)]) == 1
