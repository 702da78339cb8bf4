"""The embedding cache in cross-validation, on real data, one run.

    .venv/bin/python benchmarks/bench_cache.py [--n 2000] [--folds 5]
    .venv/bin/python benchmarks/bench_cache.py --verify-only [--entries 20000]

5-fold ``cross_val_score`` of ``make_modality_encoder(text=MiniLM,
image=MobileNetV2 @ 128 px) + StandardScaler + LogisticRegression`` for the
emoji group, on ``--n`` real emoji (name + picture), three ways:

- cache off: every fold encodes its train and test rows again;
- cache on, cold (empty cache folder): each item is encoded once;
- cache on, warm (second run on the same folder): nothing is encoded.

Prints the times and the ratios off/cold and cold/warm, end to end and for
the encoding step alone (the classifier's fits cost the same in all three
runs and bound the end-to-end ratios).  The scaler is there because
LogisticRegression on raw MobileNet features needs ~5x more iterations.

``--verify-only`` (no data needed; also run after the CV runs) measures the
cost of verifying entries: warm ``EmbeddingCache.get_many`` over
``--entries`` entries of MiniLM's (384) and MobileNetV2's (1280) width,
against the read loop the cache used before entries carried a CRC-32
(``open()`` per entry, header and size check, no checksum), on the same
files, best of 5 interleaved runs each; the goal is a ratio <= 1.10.
"""

from __future__ import annotations

import argparse
import functools
import os
import tempfile
import time

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin, clone

_SPENT = {"encode": 0.0}


class Timed(TransformerMixin, BaseEstimator):
    """Times its transformer's fit/transform (to split encoding from the rest)."""

    def __init__(self, inner=None):
        self.inner = inner

    def fit(self, X, y=None):
        self.fit_transform(X, y)
        return self

    def fit_transform(self, X, y=None):
        t0 = time.perf_counter()
        self.inner_ = clone(self.inner)
        out = self.inner_.fit_transform(X, y)
        _SPENT["encode"] += time.perf_counter() - t0
        return out

    def transform(self, X):
        t0 = time.perf_counter()
        out = self.inner_.transform(X)
        _SPENT["encode"] += time.perf_counter() - t0
        return out


def _unverified_get_many(cache, namespace, keys, dim):
    """The warm read loop before checksums: header and size check only."""
    from skmm.cache._store import _npy_header

    values = np.full((len(keys), dim), np.nan, dtype=np.float32)
    found = np.zeros(len(keys), dtype=bool)
    header = _npy_header(dim)
    size = len(header) + 4 * dim + 4  # the same files: their trailer is read
    root, sep = cache._root_str, os.sep
    for i, key in enumerate(keys):
        path = f"{root}{sep}{namespace}{sep}{key[:2]}{sep}{key}.npy"
        try:
            with open(path, "rb") as fh:
                raw = fh.read(size + 1)
        except FileNotFoundError:
            continue
        if len(raw) == size and raw.startswith(header):
            values[i] = np.frombuffer(raw, dtype="<f4", count=dim, offset=len(header))
            found[i] = True
    return values, found


def verify_cost(n_entries: int) -> None:
    """Warm reads with and without CRC-32 verification, same files."""
    import hashlib

    from skmm.cache import EmbeddingCache

    rng = np.random.RandomState(0)
    for dim in (384, 1280):
        folder = tempfile.mkdtemp(prefix="skmm_bench_verify_")
        cache = EmbeddingCache(folder)
        keys = [hashlib.sha256(str(i).encode()).hexdigest() for i in range(n_entries)]
        cache.put_many("ns", keys, rng.randn(n_entries, dim).astype(np.float32))
        times = {"verified": [], "unverified": []}
        for _ in range(5):
            for name, read in (
                ("verified", cache.get_many),
                ("unverified", functools.partial(_unverified_get_many, cache)),
            ):
                t0 = time.perf_counter()
                _, found = read("ns", keys, dim)
                times[name].append(time.perf_counter() - t0)
                assert found.all()
        v, u = min(times["verified"]), min(times["unverified"])
        print(
            f"warm read, {n_entries} entries x {dim} floats: verified (this "
            f"reader) {v:.3f} s, unverified (the reader before checksums) "
            f"{u:.3f} s, ratio {v / u:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--entries", type=int, default=20000)
    parser.add_argument("--verify-only", action="store_true")
    args = parser.parse_args()
    if args.verify_only:
        verify_cost(args.entries)
        return

    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skmm.cache import cache_stats, reset_cache_stats
    from skmm.compose import make_modality_encoder
    from skmm.datasets import load_emoji
    from skmm.image import ImageEncoder
    from skmm.text import TextEncoder

    df = load_emoji(styles=("noto", "openmoji"), size=128)
    rng = np.random.RandomState(0)
    df = df.iloc[np.sort(rng.choice(len(df), args.n, replace=False))]
    X, y = df[["name", "image"]].reset_index(drop=True), df["group"].to_numpy()
    cv = StratifiedKFold(args.folds, shuffle=True, random_state=0)

    def model(cache):
        return make_pipeline(
            Timed(
                make_modality_encoder(
                    text=TextEncoder("minilm", cache=cache, verbose=0),
                    image=ImageEncoder(
                        "mobilenet_v2", size=128, cache=cache, verbose=0
                    ),
                    columns={"text": "name", "image": "image"},
                )
            ),
            StandardScaler(),
            LogisticRegression(max_iter=300),
        )

    def run(cache):
        _SPENT["encode"] = 0.0
        t0 = time.perf_counter()
        scores = cross_val_score(model(cache), X, y, cv=cv)
        return time.perf_counter() - t0, scores.mean(), _SPENT["encode"]

    # load both models once so no variant pays the first load
    model(None)[0].fit(X.iloc[:2])
    folder = tempfile.mkdtemp(prefix="skmm_bench_cache_")
    print(f"{len(X)} real emoji, {args.folds}-fold CV, cache folder {folder}")
    t_off, acc_off, e_off = run(None)
    print(
        f"cache off  : {t_off:7.1f} s (encoding {e_off:6.1f} s)  accuracy {acc_off:.3f}"
    )
    reset_cache_stats()
    t_cold, acc_cold, e_cold = run(folder)
    print(
        f"cache cold : {t_cold:7.1f} s (encoding {e_cold:6.1f} s)  accuracy "
        f"{acc_cold:.3f}  {cache_stats(folder)}"
    )
    reset_cache_stats()
    t_warm, acc_warm, e_warm = run(folder)
    print(
        f"cache warm : {t_warm:7.1f} s (encoding {e_warm:6.1f} s)  accuracy "
        f"{acc_warm:.3f}  {cache_stats(folder)}"
    )
    print(
        f"ratio off/cold  : {t_off / t_cold:5.1f}x end to end, "
        f"{e_off / e_cold:5.1f}x encoding"
    )
    print(
        f"ratio cold/warm : {t_cold / t_warm:5.1f}x end to end, "
        f"{e_cold / e_warm:5.1f}x encoding"
    )
    verify_cost(args.entries)


if __name__ == "__main__":
    main()
