"""Emoji group classification: a fusion model that fine-tunes its image
encoder against logistic regression on the frozen embeddings.

Rows: every emoji concept drawn by Noto and OpenMoji (two rows per concept:
its name with each drawing), target = the Unicode group (9 classes).
5-fold ``GroupKFold`` by concept (a concept's rows never straddle a split),
the same folds for every model (``compare_models``), corrected resampled
t-test (Nadeau & Bengio) against the best.

- ``LogisticRegression`` (C=0.01, the demo's) on the standardised MiniLM +
  MobileNetV2 embeddings (frozen);
- ``FusionClassifier`` on the same frozen embeddings;
- ``FusionClassifier(encoders=...)``: MiniLM locked, MobileNetV2's last
  ``--unfreeze`` blocks fine-tuned with the fusion module.

Usage::

    python benchmarks/bench_finetune_classify.py
    python benchmarks/bench_finetune_classify.py --n 400 --folds 3   # quick
"""

from __future__ import annotations

import argparse
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "_out"


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--n", type=int, default=None, help="concepts (default all)")
    p.add_argument("--folds", type=int, default=5)
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--unfreeze", type=int, default=2)
    p.add_argument("--epochs", type=int, default=15)
    p.add_argument("--views", type=int, default=0, help="augmented views per image")
    p.add_argument("--fusion", default="concat")
    p.add_argument("--C", type=float, default=0.01, help="logistic's C (the demo's)")
    p.add_argument("--out", type=Path, default=OUT / "finetune_classify.json")
    args = p.parse_args()
    warnings.filterwarnings("ignore")

    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skmm.datasets import load_emoji
    from skmm.fusion import FusionClassifier
    from skmm.image import ImageEncoder
    from skmm.model_selection import compare_models
    from skmm.text import TextEncoder

    df = load_emoji(("noto", "openmoji"), size=136)
    concepts = np.array(sorted(df["concept_id"].unique()))
    if args.n:
        rng = np.random.RandomState(0)
        concepts = np.sort(rng.choice(concepts, args.n, replace=False))
    df = df[df["concept_id"].isin(concepts)].reset_index(drop=True)
    text_enc = TextEncoder("minilm", verbose=0, cache=True)
    image_enc = ImageEncoder("mobilenet_v2", size=args.size, verbose=0, cache=True)
    T = text_enc.fit_transform(pd.Series(df["name"].astype(str).tolist()))
    I = image_enc.fit_transform(pd.Series(list(df["image"])))
    cols = [f"text__f{j}" for j in range(T.shape[1])]
    cols += [f"image__f{j}" for j in range(I.shape[1])]
    X = pd.DataFrame(np.hstack([T, I]).astype(np.float32), columns=cols)
    X["raw_text"] = df["name"].astype(str).to_numpy()
    X["raw_image"] = list(df["image"])
    y = df["group"].to_numpy()
    groups = df["concept_id"].to_numpy()
    feats = ColumnTransformer(
        [("keep", "passthrough", cols)], verbose_feature_names_out=False
    ).set_output(transform="pandas")
    logistic = make_pipeline(
        feats, StandardScaler(), LogisticRegression(C=args.C, max_iter=1000)
    )
    common = dict(fusion=args.fusion, max_epochs=args.epochs, random_state=0)
    models = {
        "LogisticRegression (frozen text + image)": logistic,
        f"FusionClassifier ({args.fusion}, frozen)": make_pipeline(
            feats, FusionClassifier(**common)
        ),
        f"FusionClassifier ({args.fusion}, image last {args.unfreeze} blocks "
        "fine-tuned)": FusionClassifier(
            encoders={"text": text_enc, "image": image_enc},
            columns={"text": "raw_text", "image": "raw_image"},
            unfreeze={"text": 0, "image": args.unfreeze},
            augment_views=args.views,
            **common,
        ),
    }
    cv = list(GroupKFold(args.folds).split(X, y, groups))
    t0 = time.perf_counter()
    table = compare_models(models, X, y, cv=cv, scoring="accuracy")
    print(
        f"{len(df)} rows, {len(concepts)} concepts, {args.folds} grouped folds, "
        f"{time.perf_counter() - t0:.0f} s"
    )
    show = table[["mean_accuracy", "std_accuracy", "mean_fit_time", "p_value"]]
    print(show.to_string(float_format=lambda v: f"{v:.4f}"))
    names = list(models)
    base = table.loc[names[0], "mean_accuracy"]
    tuned = table.loc[names[2], "mean_accuracy"]
    print(f"fine-tuned - logistic: {100 * (tuned - base):+.2f} accuracy points")
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(table.to_json(indent=2, default_handler=str))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
