"""encode_table on a real Dask LocalCluster (two worker processes)."""

from __future__ import annotations

import os
import signal
import threading
import time

import numpy as np
import pandas as pd
import pytest

from skmm.compose import encode_table, make_modality_encoder
from skmm.exceptions import InvalidItemError, InvalidItemWarning
from skmm.text import TfidfTextEncoder
from tests.cache import _counting_encoder
from tests.cache._counting_encoder import CountingEncoder

distributed = pytest.importorskip(
    "dask.distributed",
    reason="the Dask tests need dask.distributed: pip install 'skmm[dask]'",
)


@pytest.fixture(scope="module")
def client():
    cluster = distributed.LocalCluster(
        n_workers=2,
        processes=True,
        threads_per_worker=1,
        dashboard_address=None,
        worker_dashboard_address=None,
    )
    with distributed.Client(cluster) as c:
        yield c
    cluster.close()


def _computed_on_workers(client) -> int:
    def count():
        return len(_counting_encoder.COMPUTED)

    return sum(client.run(count).values())


def _reset_workers(client) -> None:
    def reset():
        _counting_encoder.COMPUTED.clear()
        os.environ.pop("SKMM_TEST_DELAY", None)

    client.run(reset)


def _texts(n: int, seed: int = 0) -> pd.Series:
    labels = np.random.RandomState(seed).permutation(n) * 3 + 7
    return pd.Series([f"item-{i:04d}" for i in range(n)], index=labels, name="t")


def test_in_process_is_transform():
    s = _texts(20)
    enc = CountingEncoder().fit(s)
    np.testing.assert_array_equal(encode_table(s, enc), enc.transform(s))


def test_equals_single_process_in_row_order(client):
    df = pd.DataFrame(
        {"caption": ["a red apple", "a blue sea", "green apple tree", "red sky"] * 30}
    )
    df["title"] = _texts(120).to_numpy()
    df.index = np.random.RandomState(1).permutation(120) + 100  # shuffled labels
    ct = make_modality_encoder(
        text=TfidfTextEncoder(n_components=2, random_state=0, verbose=0),
        count=CountingEncoder(),
        columns={"text": "caption", "count": "title"},
    ).fit(df)
    expected = ct.transform(df)
    got = encode_table(df, ct, client=client, partition_size=16)
    assert list(got.index) == list(df.index)
    assert list(got.columns) == list(expected.columns)
    np.testing.assert_allclose(got.to_numpy(), expected.to_numpy(), rtol=1e-6)


def test_array_output_in_row_order(client):
    s = _texts(101)
    enc = CountingEncoder().fit(s)
    got = encode_table(s, enc, client=client, partition_size=10, verbose=1)
    assert isinstance(got, np.ndarray) and got.shape == (101, 4)
    np.testing.assert_array_equal(got, enc.transform(s))


def test_shared_cache_rerun_computes_nothing(client, tmp_path):
    _reset_workers(client)
    s = _texts(60, seed=2)
    enc = CountingEncoder().fit(s)
    first = encode_table(s, enc, client=client, partition_size=7, cache=tmp_path)
    assert _computed_on_workers(client) == 60
    _reset_workers(client)
    again = encode_table(s, enc, client=client, partition_size=11, cache=tmp_path)
    assert _computed_on_workers(client) == 0
    np.testing.assert_array_equal(first, again)


def test_bad_item_follows_on_error(client):
    s = pd.Series([f"ok{i}" for i in range(30)], name="t", dtype=object)
    s[17] = 5  # not a str: CountingEncoder cannot read it
    s[25] = 6
    enc = CountingEncoder().fit(s.iloc[:3])
    with pytest.raises(InvalidItemError, match="row 17"):
        encode_table(s, enc, client=client, partition_size=4)
    enc.set_params(on_error="nan")
    with pytest.warns(InvalidItemWarning) as caught:
        got = encode_table(s, enc, client=client, partition_size=4)
    # one warning adds up the two partitions', naming the first bad row
    assert len(caught) == 1
    warning = caught[0].message
    assert (warning.column, warning.n_failed, warning.n_total) == ("t", 2, 30)
    assert str(warning).startswith("2 of 30 items in column 't'")
    assert "row 17" in str(warning)
    assert np.isnan(got[[17, 25]]).all()
    assert np.isfinite(np.delete(got, [17, 25], axis=0)).all()


def test_a_killed_worker_loses_only_its_partition(client, tmp_path):
    _reset_workers(client)
    s = _texts(120, seed=3)
    enc = CountingEncoder(batch_size=5).fit(s)
    expected = enc.transform(s)

    def slow():
        os.environ["SKMM_TEST_DELAY"] = "0.2"

    client.run(slow)
    pids = client.run(os.getpid)
    victim = sorted(pids)[0]
    killer = threading.Timer(1.0, os.kill, (pids[victim], signal.SIGKILL))
    killer.start()
    t0 = time.perf_counter()
    try:
        got = encode_table(s, enc, client=client, partition_size=30, cache=tmp_path)
    finally:
        killer.cancel()
        _reset_workers(client)
    assert time.perf_counter() - t0 > 1.0, "the run ended before the kill"
    assert got.shape == expected.shape  # no duplicate or missing rows
    np.testing.assert_array_equal(got, expected)
    client.wait_for_workers(2, timeout=60)  # the nanny restarts the victim


def test_without_dask_the_error_names_the_extra(monkeypatch):
    import sys

    from skmm.exceptions import MissingDependencyError

    s = _texts(5)
    enc = CountingEncoder().fit(s)
    monkeypatch.setitem(sys.modules, "dask.distributed", None)
    with pytest.raises(MissingDependencyError, match=r"skmm\[dask\]"):
        encode_table(s, enc, client=object())


def test_bad_arguments():
    from sklearn.exceptions import NotFittedError

    s = _texts(5)
    with pytest.raises(NotFittedError):
        encode_table(s, CountingEncoder())
    enc = CountingEncoder().fit(s)
    with pytest.raises(ValueError, match="partition_size must be >= 1"):
        encode_table(s, enc, partition_size=0)
    with pytest.raises(ValueError, match="retries"):
        encode_table(s, enc, retries=-1)
    with pytest.raises(ValueError, match="holds no skmm encoder"):
        encode_table(s, _NoCache().fit(s), cache="/tmp/x")


class _NoCache:
    def fit(self, X, y=None):
        self.fitted_ = True
        return self

    def transform(self, X):
        return np.zeros((len(X), 1))
