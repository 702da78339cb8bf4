"""The demo's cross-modal retrieval: the linear baselines, the contrastive
retriever on frozen embeddings and the fine-tuned two-tower retriever,
scored on concepts unseen in training, and a gallery of the results."""

from __future__ import annotations

import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

from skmm.demo._console import df_text
from skmm.demo._data import features_frame

__all__ = ["draw_gallery", "score_retrievers"]


def _two_tower(
    noto: Any, openmoji: Any, train: np.ndarray, seed: int, quick: bool
) -> Any:
    """The fine-tuned retriever: MiniLM and MobileNetV2 trained end to end on
    the raw names and drawings of the training concepts."""
    import pandas as pd

    from skmm.image import ImageEncoder
    from skmm.retrieval import TwoTowerRetriever
    from skmm.text import TextEncoder

    names = noto["name"].astype(str).to_numpy()
    X = pd.DataFrame(
        {
            "text": np.concatenate([names[train], names[train]]),
            "image": list(noto["image"].to_numpy()[train])
            + list(openmoji["image"].to_numpy()[train]),
        }
    )
    model = TwoTowerRetriever(
        text=TextEncoder("minilm", cache=True, verbose=0),
        image=ImageEncoder("mobilenet_v2", size=128, cache=True, verbose=0),
        unfreeze={"text": 1, "image": 3},
        max_epochs=8 if quick else 12,
        random_state=seed,
        device="auto",
        verbose=1,
    )
    return model.fit(X, np.concatenate([train, train]))


def score_retrievers(
    concepts: np.ndarray,
    text: np.ndarray,
    noto_img: np.ndarray,
    om_img: np.ndarray,
    seed: int,
    quick: bool,
    noto: Any,
    openmoji: Any,
) -> tuple[Any, str, np.ndarray, np.ndarray]:
    """Fit every retriever on half of the concepts, score it on the others.

    Returns
    -------
    table : DataFrame
        Recall@1/5/10 and MRR per retriever and direction, and fit seconds.
    best : str
        The retriever with the best text -> image Recall@1.
    sims : ndarray
        The fine-tuned retriever's text x image similarities on the test
        concepts (for the gallery).
    test : ndarray
        The test concepts' positions.
    """
    import pandas as pd

    from skmm.metrics import mean_reciprocal_rank, recall_at_k
    from skmm.retrieval import (
        CCARetriever,
        ContrastiveRetriever,
        PLSRetriever,
        RidgeRetriever,
    )

    rng = np.random.RandomState(seed)
    perm = rng.permutation(len(concepts))
    train, test = np.sort(perm[: len(perm) // 2]), np.sort(perm[len(perm) // 2 :])

    # training pairs: each name with both of its drawings (one group per concept)
    X_train = pd.concat(
        [
            features_frame(text[train], noto_img[train]),
            features_frame(text[train], om_img[train]),
        ],
        ignore_index=True,
    )
    y_train = np.concatenate([train, train])
    X_test = features_frame(text[test], noto_img[test])
    k_dim = min(128, len(train) - 1)
    retrievers = {
        "Ridge": RidgeRetriever(alpha=100.0),
        "CCA": CCARetriever(n_components=k_dim, reg=1.0),
        "PLS": PLSRetriever(n_components=min(64, k_dim)),
        "Contrastive": ContrastiveRetriever(
            embed_dim=128,
            batch_size=128,
            lr=1e-3,
            dropout=0.2,
            max_epochs=10 if quick else 30,
            random_state=seed,
            device="auto",
        ),
    }
    retrievers["TwoTower (fine-tuned)"] = None
    raw_test = pd.DataFrame(
        {
            "text": noto["name"].astype(str).to_numpy()[test],
            "image": list(noto["image"].to_numpy()[test]),
        }
    )
    rows, fitted = {}, {}
    for name, r in retrievers.items():
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            if r is None:
                r = _two_tower(noto, openmoji, train, seed, quick)
                X_eval = raw_test
            else:
                r.fit(X_train, y_train if name == "Contrastive" else None)
                X_eval = X_test
        q_t = r.embed(X_eval, modality="text")
        q_i = r.embed(X_eval, modality="image")
        sims = q_t @ q_i.T  # row i's relevant item is column i
        relevant = np.eye(len(test), dtype=bool)
        row = {}
        for direction, S, R in (("t->i", sims, relevant), ("i->t", sims.T, relevant)):
            for k in (1, 5, 10):
                row[f"{direction} R@{k}"] = recall_at_k(S, R, k=k)
            row[f"{direction} MRR"] = mean_reciprocal_rank(S, R)
        row["fit s"] = time.perf_counter() - t0
        rows[name] = row
        fitted[name] = (r, sims)
    df = pd.DataFrame.from_dict(rows, orient="index")
    df.index.name = "retriever"
    best = str(df["t->i R@1"].idxmax())
    print(
        f"  {len(train)} training concepts (names x 2 art styles), "
        f"{len(test)} test concepts; gallery = the test concepts' Noto drawings"
    )
    print(df_text(df))
    # the gallery shows the fine-tuned retriever's results
    return df, best, fitted["TwoTower (fine-tuned)"][1], test


def draw_gallery(
    out: Path,
    sims: np.ndarray,
    test: np.ndarray,
    noto: Any,
    seed: int,
    n_queries: int = 6,
) -> tuple[Path, np.ndarray]:
    """Draw ``n_queries`` random test names and their top-5 drawings.

    Returns
    -------
    path : Path
        The PNG, ``out / "retrieval_gallery.png"``.
    ranks : ndarray
        Per query, the rank of the correct drawing among the five (0: not
        among them).
    """
    from skmm.report import save_retrieval_gallery

    rng = np.random.RandomState(seed + 1)
    picks = np.sort(rng.choice(len(test), min(n_queries, len(test)), replace=False))
    names = noto["name"].to_numpy()[test]
    images = list(noto["image"].to_numpy()[test])
    top = np.argsort(-sims[picks], axis=1, kind="stable")[:, :5]
    path = out / "retrieval_gallery.png"
    ranks = save_retrieval_gallery(
        [str(names[p]) for p in picks],
        [[images[j] for j in row] for row in top],
        [[j == p for j in row] for p, row in zip(picks, top)],
        path,
    )
    return path, ranks
