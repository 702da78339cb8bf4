"""Fusion strategies on a real task: emoji group from name text + image.

Task: predict an emoji's CLDR group (9 classes: smileys-emotion,
people-body, animals-nature, ...) from its name ("grinning face") encoded by
MiniLM (``TextEncoder("minilm")``, 384-d) and its drawing encoded by
MobileNetV2 (``ImageEncoder("mobilenet_v2")``, 1280-d, ImageNet weights).
Rows: every concept drawn by both Noto and OpenMoji, one row per (concept,
style), so a concept's two rows share the text and differ in the image.

Protocol: ``GroupKFold`` by concept (a concept's rows are never split
between train and test, so a test name is never seen in training), the same
folds for every model.  Models:

- ``LogisticRegression`` (standardised features, ``C`` chosen from
  {0.003, 0.01, 0.03, 0.1} by an inner grouped 3-fold search) on the text
  block, the image block, and their concatenation (early fusion);
- ``FusionClassifier`` with each registered strategy, default parameters
  (``random_state=0``), on the ``text__*`` / ``image__*`` table.

The features are encoded once and cached in ``benchmarks/_out/``.  With
``--data synthetic`` (or when the emoji data set has not been fetched) the
task is ``make_multimodal_classification`` instead.

Usage::

    python benchmarks/bench_fusion_strategies.py                 # emoji, 5 folds
    python benchmarks/bench_fusion_strategies.py --data synthetic --folds 3
"""

from __future__ import annotations

import argparse
import json
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "_out"


def emoji_table() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    """``text__*`` / ``image__*`` features, group labels, concept ids."""
    from skmm.datasets import load_emoji

    df = load_emoji(("noto", "openmoji"), size=136)
    noto = df[df["style"] == "noto"].set_index("concept_id")
    openmoji = df[df["style"] == "openmoji"].set_index("concept_id")
    concepts = noto.index.intersection(openmoji.index).sort_values()
    feats = None
    for name in ("features_emoji.npz", "fusion_features_emoji.npz"):
        path = OUT / name  # the retrieval benchmark's cache has the same layout
        if path.exists():
            with np.load(path, allow_pickle=False) as f:
                cached = {k: f[k] for k in f.files}
            if list(cached["concept"]) == [str(c) for c in concepts]:
                feats = cached
                break
    if feats is None:
        from skmm.image import ImageEncoder
        from skmm.text import TextEncoder

        text_enc = TextEncoder("minilm", verbose=0)
        image_enc = ImageEncoder("mobilenet_v2", verbose=0, on_error="nan")
        names = noto.loc[concepts, "name"].astype(str).tolist()
        t0 = time.perf_counter()
        feats = {
            "concept": np.asarray(concepts, dtype=str),
            "name": np.asarray(names, dtype=str),
            "text": text_enc.fit_transform(pd.Series(names, name="name")),
            "noto": image_enc.fit_transform(
                pd.Series(list(noto.loc[concepts, "image"]), name="image")
            ),
            "openmoji": image_enc.transform(
                pd.Series(list(openmoji.loc[concepts, "image"]), name="image")
            ),
        }
        print(f"encoded {len(concepts)} concepts in {time.perf_counter() - t0:.0f} s")
        OUT.mkdir(parents=True, exist_ok=True)
        np.savez(OUT / "fusion_features_emoji.npz", **feats)
    text = np.vstack([feats["text"], feats["text"]])
    image = np.vstack([feats["noto"], feats["openmoji"]])
    cols = [f"text__f{i}" for i in range(text.shape[1])] + [
        f"image__f{i}" for i in range(image.shape[1])
    ]
    X = pd.DataFrame(np.hstack([text, image]).astype(np.float32), columns=cols)
    y = np.concatenate([noto.loc[concepts, "group"].to_numpy()] * 2)
    groups = np.concatenate([np.asarray(concepts)] * 2)
    return X, y, groups


def synthetic_table() -> tuple[pd.DataFrame, np.ndarray, np.ndarray]:
    from skmm.datasets import make_multimodal_classification

    X, y = make_multimodal_classification(
        3000,
        modalities={"text": 64, "image": 128},
        n_classes=4,
        noise=0.5,
        random_state=0,
    )
    return X, y.to_numpy(), np.arange(len(y))


def logistic(C_grid=(0.003, 0.01, 0.03, 0.1)):
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GridSearchCV, GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    pipe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000))
    return GridSearchCV(pipe, {"logisticregression__C": list(C_grid)}, cv=GroupKFold(3))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--data", choices=["auto", "emoji", "synthetic"], default="auto"
    )
    parser.add_argument("--folds", type=int, default=5)
    parser.add_argument("--threads", type=int, default=None, help="torch threads")
    parser.add_argument("--strategies", nargs="*", default=None)
    parser.add_argument("--json", type=Path, default=None, help="write results")
    args = parser.parse_args()

    import torch
    from sklearn.model_selection import GroupKFold

    import skmm.fusion  # noqa: F401  (registers the strategies)
    from skmm.fusion import FusionClassifier
    from skmm.registry import fusions

    if args.threads:
        torch.set_num_threads(args.threads)
    data = args.data
    if data == "auto":
        from skmm.datasets import DataNotFoundError

        try:
            table = emoji_table()
            data = "emoji"
        except (DataNotFoundError, ImportError, FileNotFoundError) as exc:
            print(f"emoji data unavailable ({exc}); using synthetic data")
            table = synthetic_table()
            data = "synthetic"
    else:
        table = emoji_table() if data == "emoji" else synthetic_table()
    X, y, groups = table
    text_cols = [c for c in X.columns if c.startswith("text__")]
    image_cols = [c for c in X.columns if c.startswith("image__")]
    print(
        f"data={data}: {X.shape[0]} rows, text {len(text_cols)}-d, image "
        f"{len(image_cols)}-d, {len(np.unique(y))} classes, "
        f"torch threads={torch.get_num_threads()}",
        flush=True,
    )

    models: dict[str, tuple] = {
        "LogisticRegression (text only)": (logistic, text_cols),
        "LogisticRegression (image only)": (logistic, image_cols),
        "LogisticRegression (text + image)": (logistic, None),
    }
    for name in args.strategies or fusions.names():
        models[f"FusionClassifier(fusion={name!r})"] = (
            lambda name=name: FusionClassifier(fusion=name, random_state=0),
            None,
        )

    folds = list(GroupKFold(args.folds).split(X, y, groups))
    results = {}
    for label, (make, cols) in models.items():
        accs, times = [], []
        for train, test in folds:
            Xs = X if cols is None else X[cols]
            model = make()
            t0 = time.perf_counter()
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                if hasattr(model, "param_grid"):
                    model.fit(Xs.iloc[train], y[train], groups=groups[train])
                else:
                    model.fit(Xs.iloc[train], y[train])
            times.append(time.perf_counter() - t0)
            accs.append(float(np.mean(model.predict(Xs.iloc[test]) == y[test])))
        results[label] = {
            "accuracy_mean": float(np.mean(accs)),
            "accuracy_std": float(np.std(accs)),
            "fit_seconds": float(np.mean(times)),
            "folds": accs,
        }
        print(
            f"| {label} | {np.mean(accs):.3f} ± {np.std(accs):.3f} | "
            f"{np.mean(times):.1f} |",
            flush=True,
        )
        if args.json:  # after every model, so a long run keeps its progress
            args.json.parent.mkdir(parents=True, exist_ok=True)
            args.json.write_text(
                json.dumps({"data": data, "results": results}, indent=2)
            )


if __name__ == "__main__":
    main()
