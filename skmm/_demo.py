"""The main job: ``skmm demo`` on real data.

Loads the emoji data set (fetching and building it on first run), encodes
the emoji names with MiniLM and the pictures with MobileNetV2 (plus the
classic encoders), prints each encoder's output width and throughput, then
cross-validates early fusion (a logistic regression after
``make_modality_encoder``) for the emoji's Unicode group from text only,
image only and both.
"""

from __future__ import annotations

import time

import numpy as np

__all__ = ["run_demo"]

COLUMNS = {"text": "name", "image": "image"}


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths))


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    out = [_line(header, widths), _line(["-" * w for w in widths], widths)]
    out += [_line([str(c) for c in r], widths) for r in rows]
    return "\n".join(out)


def _load_data(n: int, seed: int = 0):
    from skmm.datasets import fetch, load_emoji
    from skmm.datasets._base import DataNotFoundError

    try:
        df = load_emoji(styles=("noto", "openmoji"), size=128)
    except DataNotFoundError:
        print("[demo] the emoji data set is not built yet: fetching it (one time)")
        fetch("emoji")
        df = load_emoji(styles=("noto", "openmoji"), size=128)
    rng = np.random.RandomState(seed)
    take = np.sort(rng.choice(len(df), size=min(n, len(df)), replace=False))
    return df.iloc[take].reset_index(drop=True)


def run_demo(*, quick: bool = False, n: int | None = None) -> dict:
    """Run the demo and print its tables; returns the measured numbers."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold, cross_val_score
    from sklearn.pipeline import make_pipeline

    from skmm.compose import make_modality_encoder
    from skmm.image import ColorHistogramEncoder, HOGImageEncoder, ImageEncoder
    from skmm.text import TextEncoder, TfidfTextEncoder

    t_start = time.perf_counter()
    n = n or (200 if quick else 1000)
    df = _load_data(n)
    print(
        f"[demo] {len(df)} emoji pictures ({', '.join(sorted(df['style'].unique()))}) "
        f"with their names; {df['group'].nunique()} Unicode groups"
    )

    encoders = [
        ("text", "name", TextEncoder("minilm", cache=True)),
        ("text", "name", TfidfTextEncoder(n_components=64, random_state=0)),
        ("image", "image", ImageEncoder("mobilenet_v2", size=128, cache=True)),
        ("image", "image", ColorHistogramEncoder(bins=8)),
        ("image", "image", HOGImageEncoder(size=64)),
    ]
    rows = []
    features = {}
    for modality, column, enc in encoders:
        t0 = time.perf_counter()
        X = enc.fit_transform(df[[column]])
        dt = time.perf_counter() - t0
        features[type(enc).__name__] = X
        rows.append(
            [
                type(enc).__name__,
                modality,
                f"{X.shape[0]} x {X.shape[1]}",
                f"{X.shape[0] / dt:,.0f}",
            ]
        )
    print()
    print(
        "Encoders on real data (items/s include model loading; cached runs are faster)"
    )
    print(_table(rows, ["encoder", "modality", "output", "items/s"]))

    # early fusion: any sklearn estimator after make_modality_encoder
    y = df["group"].to_numpy()
    cv = StratifiedKFold(n_splits=3 if quick else 5, shuffle=True, random_state=0)
    setups = {
        "text (MiniLM)": {"text": TextEncoder("minilm", cache=True, verbose=0)},
        "image (MobileNetV2)": {
            "image": ImageEncoder("mobilenet_v2", size=128, cache=True, verbose=0)
        },
        "text + image": {
            "text": TextEncoder("minilm", cache=True, verbose=0),
            "image": ImageEncoder("mobilenet_v2", size=128, cache=True, verbose=0),
        },
    }
    results = []
    for label, encs in setups.items():
        model = make_pipeline(
            make_modality_encoder(
                **encs,
                columns={k: v for k, v in COLUMNS.items() if k in encs},
            ),
            LogisticRegression(max_iter=2000, C=1.0),
        )
        scores = cross_val_score(model, df[["name", "image"]], y, cv=cv)
        results.append([label, f"{scores.mean():.3f}", f"{scores.std():.3f}"])
    print()
    print(
        f"Emoji group from name and picture: LogisticRegression, {cv.n_splits}-fold CV"
    )
    print(_table(results, ["features", "accuracy", "std"]))
    total = time.perf_counter() - t_start
    print(f"\n[demo] done in {total:.1f} s")
    return {"encoders": rows, "fusion": results, "seconds": total}
