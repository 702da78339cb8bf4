"""Retrieval quality on real data: text <-> image, each retriever, both ways.

Features: MiniLM (``TextEncoder("minilm")``, 384-d) for the texts and
MobileNetV2 (``ImageEncoder("mobilenet_v2")``, 1280-d, ImageNet weights) for
the images, encoded once and cached under ``benchmarks/_out/``.

Protocol: a deterministic 50/50 split *by concept* (``numpy`` seed 0); the
retrievers are fitted on the training concepts and evaluated on the test
concepts only (the gallery holds only test items).  Relevance: items of the
same concept.

- ``emoji``: Noto emoji; text = the CLDR name ("grinning face");
- ``emoji-openmoji``: trained on Noto as above, searched in OpenMoji: test
  queries are the names, the gallery is OpenMoji's drawings (and the reverse);
- ``tuxpaint``: Tux Paint stamps and their English captions (concept = the
  caption text, so identical captions never straddle the split).

Hyperparameters are chosen per retriever by a 3-fold grouped grid search on
the training concepts only (scoring: text->image Recall@1), from small grids
listed in ``GRIDS``.

Usage::

    python benchmarks/bench_retrieval_quality.py            # all data sets
    python benchmarks/bench_retrieval_quality.py --datasets emoji --no-search
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

GRIDS = {
    "ridge": {"alpha": [1.0, 100.0, 1000.0], "n_components": [None, 128]},
    "cca": {"n_components": [32, 64, 128], "reg": [0.1, 1.0]},
    "pls": {"n_components": [32, 64, 128]},
    "contrastive": {"hidden_dim": [None, 512], "max_epochs": [30, 100]},
}
CONTRASTIVE_BASE = dict(
    embed_dim=128,
    max_epochs=100,
    batch_size=128,
    lr=1e-3,
    dropout=0.2,
    random_state=0,
    device="auto",
)


# ------------------------------------------------------------------ features
def _encoders():
    from skmm.image import ImageEncoder
    from skmm.text import TextEncoder

    return (
        TextEncoder("minilm", verbose=0),
        ImageEncoder("mobilenet_v2", verbose=0, on_error="nan"),
    )


def emoji_features() -> dict:
    path = OUT / "retrieval_features_emoji.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    from skmm.datasets import load_emoji

    df = load_emoji(("noto", "openmoji"), size=136)
    noto = df[df["style"] == "noto"].set_index("concept_id")
    openmoji = df[df["style"] == "openmoji"].set_index("concept_id")
    concepts = noto.index.intersection(openmoji.index).sort_values()
    text_enc, image_enc = _encoders()
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
    print(
        f"encoded {len(concepts)} emoji concepts in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(path, **feats)
    return feats


def tuxpaint_features() -> dict:
    path = OUT / "retrieval_features_tuxpaint.npz"
    if path.exists():
        with np.load(path, allow_pickle=False) as f:
            return {k: f[k] for k in f.files}
    from skmm.datasets import load_tuxpaint

    df = load_tuxpaint(images="path")
    df = df[df["caption"].notna() & df["image"].notna()].reset_index(drop=True)
    text_enc, image_enc = _encoders()
    t0 = time.perf_counter()
    feats = {
        "concept": np.asarray(df["caption"].astype(str), dtype=str),
        "name": np.asarray(df["caption"].astype(str), dtype=str),
        "text": text_enc.fit_transform(df["caption"].astype(str)),
        "image": image_enc.fit_transform(df["image"]),
    }
    print(
        f"encoded {len(df)} Tux Paint stamps in {time.perf_counter() - t0:.0f} s",
        flush=True,
    )
    OUT.mkdir(parents=True, exist_ok=True)
    np.savez(path, **feats)
    return feats


def _table(text: np.ndarray, image: np.ndarray) -> pd.DataFrame:
    cols = [f"text__f{i}" for i in range(text.shape[1])]
    cols += [f"image__f{i}" for i in range(image.shape[1])]
    return pd.DataFrame(np.hstack([text, image]), columns=cols)


def split_by_concept(concepts: np.ndarray, seed: int = 0) -> np.ndarray:
    """Boolean mask of the training rows: half the concepts, seeded."""
    uniq = np.unique(concepts)
    rng = np.random.default_rng(seed)
    train_concepts = set(rng.permutation(uniq)[: len(uniq) // 2].tolist())
    return np.array([c in train_concepts for c in concepts])


def tasks(names: list[str]) -> dict:
    out = {}
    if {"emoji", "emoji-openmoji"} & set(names):
        f = emoji_features()
        train = split_by_concept(f["concept"])
        _, codes = np.unique(f["concept"], return_inverse=True)
        fit = (_table(f["text"][train], f["noto"][train]), codes[train])
        if "emoji" in names:
            out["emoji"] = (
                fit,
                (_table(f["text"][~train], f["noto"][~train]), codes[~train]),
            )
        if "emoji-openmoji" in names:
            out["emoji-openmoji"] = (
                fit,
                (_table(f["text"][~train], f["openmoji"][~train]), codes[~train]),
            )
    if "tuxpaint" in names:
        f = tuxpaint_features()
        train = split_by_concept(f["concept"])
        _, codes = np.unique(f["concept"], return_inverse=True)
        out["tuxpaint"] = (
            (_table(f["text"][train], f["image"][train]), codes[train]),
            (_table(f["text"][~train], f["image"][~train]), codes[~train]),
        )
    return out


# ------------------------------------------------------------------ models
def make(name: str):
    from skmm.retrieval import (
        CCARetriever,
        ContrastiveRetriever,
        PLSRetriever,
        RidgeRetriever,
    )

    return {
        "ridge": RidgeRetriever(),
        "cca": CCARetriever(),
        "pls": PLSRetriever(),
        "contrastive": ContrastiveRetriever(**CONTRASTIVE_BASE),
    }[name]


def fit_model(name: str, X, y, search: bool):
    from sklearn.model_selection import GridSearchCV, GroupKFold

    from skmm.metrics import make_retrieval_scorer

    est = make(name)
    if not search:
        return est.fit(X), {}
    gs = GridSearchCV(
        est,
        GRIDS[name],
        cv=GroupKFold(n_splits=3),
        scoring=make_retrieval_scorer("recall@1"),
        n_jobs=1,
    )
    # y as the fit target is the relevance grouping in each validation fold
    gs.fit(X, y, groups=y)
    return gs.best_estimator_, gs.best_params_


def evaluate(model, X, y) -> dict:
    from skmm.metrics import mean_reciprocal_rank, median_rank, recall_at_k

    out = {}
    for q, t in (("text", "image"), ("image", "text")):
        S = model.embed(X, modality=q) @ model.embed(X, modality=t).T
        kw = {"query_labels": y, "gallery_labels": y}
        out[f"{q[0]}2{t[0]}"] = {
            "R@1": recall_at_k(S, k=1, **kw),
            "R@5": recall_at_k(S, k=5, **kw),
            "R@10": recall_at_k(S, k=10, **kw),
            "MRR": mean_reciprocal_rank(S, **kw),
            "MedR": median_rank(S, **kw),
        }
    return out


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument(
        "--datasets", nargs="+", default=["emoji", "emoji-openmoji", "tuxpaint"]
    )
    p.add_argument(
        "--retrievers", nargs="+", default=["ridge", "cca", "pls", "contrastive"]
    )
    p.add_argument("--no-search", action="store_true", help="default parameters")
    p.add_argument("--threads", type=int, default=None, help="torch threads")
    p.add_argument("--out", type=Path, default=OUT / "retrieval_quality.json")
    args = p.parse_args()
    if args.threads:
        import torch

        torch.set_num_threads(args.threads)
    warnings.filterwarnings("ignore", category=UserWarning)
    results: dict = {}
    fitted: dict = {}
    for task, ((X_tr, y_tr), (X_te, y_te)) in tasks(args.datasets).items():
        print(
            f"\n== {task}: {len(X_tr)} training pairs, {len(X_te)} test items",
            flush=True,
        )
        results[task] = {}
        for name in args.retrievers:
            key = ("emoji" if task.startswith("emoji") else task, name)
            t0 = time.perf_counter()
            if key not in fitted:  # emoji-openmoji reuses the Noto fit
                fitted[key] = fit_model(name, X_tr, y_tr, not args.no_search)
            model, params = fitted[key]
            res = evaluate(model, X_te, y_te)
            res["params"] = {k: v for k, v in params.items()}
            res["seconds"] = time.perf_counter() - t0
            results[task][name] = res
            print(
                f"{name:12s} t2i R@1 {res['t2i']['R@1']:.3f} R@10 "
                f"{res['t2i']['R@10']:.3f} MedR {res['t2i']['MedR']:.0f} | "
                f"i2t R@1 {res['i2t']['R@1']:.3f} R@10 {res['i2t']['R@10']:.3f} "
                f"MedR {res['i2t']['MedR']:.0f}  {params}",
                flush=True,
            )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
