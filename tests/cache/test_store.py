"""The embedding cache: hits skip the model, keys invalidate, writes are safe."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline

from skmm.cache import EmbeddingCache, cache_stats, reset_cache_stats
from skmm.exceptions import CacheWarning, InvalidItemError
from skmm.testing import make_tiny_text_model
from skmm.text import TextEncoder, TfidfTextEncoder

TEXTS = [f"a red apple number {i}" for i in range(10)] + ["blue sky", "a dog"]


@pytest.fixture
def count_batches(monkeypatch):
    seen: list = []
    original = TextEncoder._encode_batch

    def spy(self, prepared):
        seen.extend(prepared)
        return original(self, prepared)

    monkeypatch.setattr(TextEncoder, "_encode_batch", spy)
    return seen


def test_hits_skip_the_model_per_item(tiny_text_model, tmp_path, count_batches):
    reset_cache_stats()
    enc = TextEncoder(tiny_text_model, cache=tmp_path, verbose=0).fit(TEXTS)
    cold = enc.transform(TEXTS)
    assert len(count_batches) == len(TEXTS)
    count_batches.clear()
    warm = enc.transform(TEXTS)
    assert count_batches == []
    np.testing.assert_array_equal(cold, warm)
    assert cache_stats(tmp_path) == {
        "hits": len(TEXTS),
        "misses": len(TEXTS),
        "writes": len(TEXTS),
        "corrupt": 0,
    }
    # a new "fold" with half the items seen before computes only the new half
    fold = TEXTS[:6] + ["green grass", "the sun", "a cat", "the sea"]
    enc2 = TextEncoder(tiny_text_model, cache=tmp_path, verbose=0, batch_size=3)
    out = enc2.fit(fold).transform(fold)
    assert sorted(count_batches) == sorted(fold[6:])
    np.testing.assert_allclose(out[:6], cold[:6], atol=1e-6)


def test_output_changing_params_and_models_invalidate(
    tiny_text_model, tmp_path, count_batches
):
    TextEncoder(tiny_text_model, cache=tmp_path, verbose=0).fit_transform(TEXTS)
    count_batches.clear()
    # batch size and verbosity do not change outputs: hits
    TextEncoder(tiny_text_model, cache=tmp_path, verbose=0, batch_size=2).fit_transform(
        TEXTS
    )
    assert count_batches == []
    TextEncoder(
        tiny_text_model, cache=tmp_path, verbose=0, pooling="cls"
    ).fit_transform(TEXTS)
    assert len(count_batches) == len(TEXTS)
    count_batches.clear()
    other = make_tiny_text_model(tmp_path.parent / f"{tmp_path.name}_other", seed=1)
    TextEncoder(other, cache=tmp_path, verbose=0).fit_transform(TEXTS)
    assert len(count_batches) == len(TEXTS)
    assert len(EmbeddingCache(tmp_path).info()["namespaces"]) == 3


def test_truncated_entry_is_recomputed(tiny_text_model, tmp_path):
    reset_cache_stats()
    enc = TextEncoder(tiny_text_model, cache=tmp_path, verbose=0).fit(TEXTS)
    ref = enc.transform(TEXTS)
    entries = sorted(tmp_path.glob("*/*/*.npy"))
    assert len(entries) == len(TEXTS)
    entries[0].write_bytes(entries[0].read_bytes()[:40])  # truncate
    entries[1].write_bytes(b"garbage")
    again = enc.transform(TEXTS)
    np.testing.assert_allclose(again, ref, atol=1e-6)
    assert cache_stats(tmp_path)["corrupt"] == 2
    np.load(entries[0])  # rewritten whole


def test_cache_true_uses_env_folder(tmp_path, monkeypatch):
    monkeypatch.setenv("SKMM_CACHE_DIR", str(tmp_path / "envcache"))
    TfidfTextEncoder(cache=True, verbose=0).fit_transform(TEXTS)
    info = EmbeddingCache(tmp_path / "envcache").info()
    assert info["entries"] == len(TEXTS)
    assert "TfidfTextEncoder" in next(iter(info["namespaces"].values()))["encoder"]
    EmbeddingCache(tmp_path / "envcache").clear()
    assert EmbeddingCache(tmp_path / "envcache").info()["entries"] == 0


def test_fitted_state_is_part_of_the_key(tmp_path):
    a = TfidfTextEncoder(cache=tmp_path, verbose=0).fit(TEXTS[:5])
    b = TfidfTextEncoder(cache=tmp_path, verbose=0).fit(TEXTS)
    np.testing.assert_array_equal(
        a.transform(TEXTS[:3]),
        TfidfTextEncoder(verbose=0).fit(TEXTS[:5]).transform(TEXTS[:3]),
    )
    b.transform(TEXTS[:3])
    assert len(EmbeddingCache(tmp_path).info()["namespaces"]) == 2


_WRITER = textwrap.dedent(
    """
    import sys, numpy as np
    from skmm.text import TfidfTextEncoder
    texts = [f"word{i} and word{i % 7} with word{i % 3}" for i in range(400)]
    enc = TfidfTextEncoder(n_components=16, random_state=0, cache=sys.argv[1],
                           verbose=0, batch_size=8)
    out = enc.fit(texts).transform(texts)
    np.save(sys.argv[2], out)
    """
)


def test_two_processes_writing_at_once_agree(tmp_path):
    cache = tmp_path / "cache"
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _WRITER, str(cache), str(tmp_path / f"{i}.npy")]
        )
        for i in range(2)
    ]
    assert [p.wait(timeout=120) for p in procs] == [0, 0]
    a, b = np.load(tmp_path / "0.npy"), np.load(tmp_path / "1.npy")
    np.testing.assert_array_equal(a, b)
    entries = list(cache.glob("*/*/*.npy"))
    assert len(entries) == 400
    for f in entries:
        assert np.load(f).shape == (16,)
    assert not list(cache.glob("*/*/*.tmp"))


_KILLED = textwrap.dedent(
    """
    import sys, numpy as np
    from skmm.cache import EmbeddingCache
    cache = EmbeddingCache(sys.argv[1])
    big = np.ones((1, 2_000_000), np.float32)
    print("ready", flush=True)
    for i in range(100000):
        cache.put_many("ns", [f"{i:032x}"], big)
    """
)


def test_kill_9_mid_write_leaves_no_corrupt_entry(tmp_path):
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED, str(tmp_path)],
        stdout=subprocess.PIPE,
        text=True,
    )
    assert proc.stdout.readline().strip() == "ready"
    time.sleep(1.0)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    entries = list(tmp_path.glob("ns/*/*.npy"))
    assert entries, "the writer should have finished some entries"
    for f in entries:
        assert np.load(f).shape == (2_000_000,)
    keys = [f.stem for f in entries]
    values, found = EmbeddingCache(tmp_path).get_many("ns", keys, 2_000_000)
    assert found.all()


def test_works_inside_gridsearchcv_with_two_jobs(tmp_path):
    rng = np.random.RandomState(0)
    y = rng.randint(0, 2, 40)
    texts = pd.Series(
        [("apple pear fig" if t else "sky sea sun") + f" {i}" for i, t in enumerate(y)]
    )
    pipe = make_pipeline(
        TfidfTextEncoder(n_components=4, random_state=0, cache=tmp_path, verbose=0),
        LogisticRegression(),
    )
    search = GridSearchCV(pipe, {"logisticregression__C": [0.1, 1.0]}, cv=2, n_jobs=2)
    search.fit(texts.to_frame("t"), y)
    assert search.best_score_ > 0.9
    assert EmbeddingCache(tmp_path).info()["entries"] > 0


# --- nothing lost: entries are written batch by batch ----------------------

ITEMS = [f"item number {i:03d}" for i in range(300)]


@pytest.fixture
def counting():
    from tests.cache import _counting_encoder

    _counting_encoder.COMPUTED.clear()
    return _counting_encoder


def test_a_bad_last_item_keeps_the_others_cached(tmp_path, counting):
    enc = counting.CountingEncoder(cache=tmp_path, batch_size=16).fit(ITEMS)
    with pytest.raises(InvalidItemError, match=r"row 299"):
        enc.transform(ITEMS[:-1] + [b"not text"])
    # every good item was embedded once, and saved: the 11 of the bad item's
    # batch that precede it included
    assert sorted(counting.COMPUTED) == sorted(ITEMS[:-1])
    assert EmbeddingCache(tmp_path).info()["entries"] == 299
    counting.COMPUTED.clear()
    out = enc.transform(ITEMS)
    assert counting.COMPUTED == [ITEMS[-1]]  # the rerun computes only the new one
    np.testing.assert_array_equal(
        out, counting.CountingEncoder().fit(ITEMS).transform(ITEMS)
    )


def test_a_batch_that_fails_in_the_model_keeps_the_others_cached(tmp_path, counting):
    enc = counting.CountingEncoder(cache=tmp_path, batch_size=16).fit(ITEMS)
    items = ITEMS[:40] + ["boom-in-batch"] + ITEMS[40:60]
    with pytest.raises(InvalidItemError, match=r"row 40 .*the model choked"):
        enc.transform(items)
    # batches before it, and its batch's good items, are saved
    assert EmbeddingCache(tmp_path).info()["entries"] == 47
    counting.COMPUTED.clear()
    enc.transform(ITEMS[:60])
    assert sorted(counting.COMPUTED) == sorted(ITEMS[47:60])


_KILLED_ENCODE = textwrap.dedent(
    """
    import sys
    sys.path.insert(0, sys.argv[2])
    from tests.cache._counting_encoder import CountingEncoder
    items = [f"item number {i:03d}" for i in range(300)]
    CountingEncoder(cache=sys.argv[1], batch_size=10).fit(items).transform(items)
    """
)


def test_a_killed_encode_loses_at_most_one_batch(tmp_path, counting):
    root = os.path.dirname(os.path.dirname(os.path.dirname(__file__)))
    env = dict(os.environ, SKMM_TEST_DELAY="0.05", SKMM_TEST_PRINT="1")
    proc = subprocess.Popen(
        [sys.executable, "-c", _KILLED_ENCODE, str(tmp_path), root],
        stdout=subprocess.PIPE,
        text=True,
        env=env,
    )
    for _ in range(5):  # five batches computed (the last may not be saved yet)
        assert proc.stdout.readline().startswith("batch")
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    saved = EmbeddingCache(tmp_path).info()["entries"]
    assert 40 <= saved < 300  # the fifth batch may be in flight
    reset_cache_stats()
    enc = counting.CountingEncoder(cache=tmp_path, batch_size=10).fit(ITEMS)
    out = enc.transform(ITEMS)
    assert len(counting.COMPUTED) == 300 - saved
    assert cache_stats(tmp_path)["corrupt"] == 0
    np.testing.assert_array_equal(
        out, counting.CountingEncoder().fit(ITEMS).transform(ITEMS)
    )


# --- verified entries -------------------------------------------------------


def test_overwritten_numbers_are_detected_and_recomputed(tmp_path, counting):
    reset_cache_stats()
    enc = counting.CountingEncoder(cache=tmp_path).fit(ITEMS[:20])
    ref = enc.transform(ITEMS[:20])
    entries = sorted(tmp_path.glob("*/*/*.npy"))
    raw = bytearray(entries[3].read_bytes())
    raw[-8:-4] = np.float32(123.0).tobytes()  # same header, same size
    entries[3].write_bytes(bytes(raw))
    assert np.load(entries[3])[-1] == 123.0  # a plain read would serve it
    counting.COMPUTED.clear()
    np.testing.assert_array_equal(enc.transform(ITEMS[:20]), ref)
    assert cache_stats(tmp_path)["corrupt"] == 1
    assert len(counting.COMPUTED) == 1
    assert np.load(entries[3])[-1] == 1.0  # rewritten


def test_entries_without_a_checksum_are_misses_and_rewritten(tmp_path):
    reset_cache_stats()
    cache = EmbeddingCache(tmp_path)
    cache.put_many("ns", ["a" * 32], np.ones((1, 3), np.float32))
    (entry,) = tmp_path.glob("ns/*/*.npy")
    entry.write_bytes(entry.read_bytes()[:-4])  # the layout before checksums
    _, found = cache.get_many("ns", ["a" * 32], 3)
    assert not found.any()
    assert cache_stats(tmp_path) == {"hits": 0, "misses": 1, "writes": 1, "corrupt": 0}


# --- an unusable folder never stops the job ---------------------------------


@pytest.mark.parametrize("kind", ["a file", "under a file"])
def test_an_unusable_folder_warns_once_and_encodes(tmp_path, counting, kind):
    blocker = tmp_path / "blocker"
    blocker.write_text("not a folder")
    folder = blocker if kind == "a file" else blocker / "cache"
    enc = counting.CountingEncoder(cache=folder).fit(ITEMS[:30])
    with pytest.warns(CacheWarning, match=re.escape(str(folder))) as seen:
        out = enc.transform(ITEMS[:30])
        out2 = enc.transform(ITEMS[:30])
    assert len([w for w in seen if w.category is CacheWarning]) == 1
    ref = counting.CountingEncoder().fit(ITEMS[:30]).transform(ITEMS[:30])
    np.testing.assert_array_equal(out, ref)
    np.testing.assert_array_equal(out2, ref)


def test_a_read_only_folder_serves_hits_and_warns_on_writes(
    tmp_path, counting, monkeypatch
):
    enc = counting.CountingEncoder(cache=tmp_path).fit(ITEMS)
    enc.transform(ITEMS[:20])

    def denied(*args, **kwargs):
        raise PermissionError(13, "Permission denied")

    from skmm.cache import _store

    monkeypatch.setattr(_store.tempfile, "mkstemp", denied)
    monkeypatch.setattr(_store, "_WARNED", set())
    counting.COMPUTED.clear()
    with pytest.warns(CacheWarning, match="Permission denied"):
        out = enc.transform(ITEMS[:40])
    assert sorted(counting.COMPUTED) == sorted(ITEMS[20:40])  # 20 hits served
    np.testing.assert_array_equal(
        out, counting.CountingEncoder().fit(ITEMS).transform(ITEMS[:40])
    )
