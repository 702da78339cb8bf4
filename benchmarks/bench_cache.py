"""The embedding cache in cross-validation, on real data, one run.

    .venv/bin/python benchmarks/bench_cache.py [--n 2000] [--folds 5]

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
"""

from __future__ import annotations

import argparse
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


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=2000)
    parser.add_argument("--folds", type=int, default=5)
    args = parser.parse_args()

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


if __name__ == "__main__":
    main()
