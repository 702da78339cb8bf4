"""The main job: ``skmm demo`` on real data, end to end, with a report.

1. **Data**: the emoji data set (built on first run): every concept drawn by
   both Noto and OpenMoji, with its CLDR name and Unicode group.
2. **Encoding** (cached): names with MiniLM, pictures with MobileNetV2.
3. **Cross-modal retrieval**, text -> image and image -> text, on concepts
   never seen in training: the linear baselines (Ridge, CCA, PLS), the
   contrastive retriever on frozen embeddings, and ``TwoTowerRetriever``
   fine-tuning MiniLM and MobileNetV2 themselves; a Recall@1/5/10 table and
   a gallery of the fine-tuned retriever's results.
4. **Fusion search**: ``FusionSearchCV`` over the fusion strategies for the
   emoji group (9 classes), grouped folds by concept, Optuna's embedded
   SQLite storage in the report folder (a rerun resumes the study).
5. **Comparison**: ``compare_models`` of the best fusion model, the same
   strategy fine-tuning MobileNetV2's last blocks (``encoders=``), and
   logistic regressions on the text, the image and both (same folds,
   corrected t-test); a box plot of the fold scores.  The summary says which
   model won.

Everything lands in a report folder (``index.html`` + PNG figures).
"""

from __future__ import annotations

import hashlib
import json
import time
import warnings
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["run_demo"]


def _line(cells: list[str], widths: list[int]) -> str:
    return "  ".join(c.ljust(w) for c, w in zip(cells, widths))


def _table(rows: list[list[str]], header: list[str]) -> str:
    widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(len(header))]
    out = [_line(header, widths), _line(["-" * w for w in widths], widths)]
    out += [_line([str(c) for c in r], widths) for r in rows]
    return "\n".join(out)


def _df_text(df: Any, floatfmt: str = "{:.3f}") -> str:
    rows = []
    for idx, r in df.iterrows():
        rows.append(
            [str(idx)]
            + [floatfmt.format(v) if isinstance(v, float) else str(v) for v in r]
        )
    return _table(rows, [df.index.name or ""] + [str(c) for c in df.columns])


class _Steps:
    """Numbered step headers and their timings."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.n = 0
        self.times: dict[str, float] = {}
        self._t0 = 0.0
        self._name = ""

    def start(self, name: str) -> None:
        self.stop()
        self.n += 1
        self._name = name
        self._t0 = time.perf_counter()
        print(f"\n[{self.n}/{self.total}] {name}", flush=True)

    def stop(self) -> None:
        if self._name:
            self.times[self._name] = time.perf_counter() - self._t0
            self._name = ""


def _load(n_concepts: int | None, seed: int):
    from skmm.datasets import fetch, load_emoji
    from skmm.datasets._base import DataNotFoundError

    try:
        df = load_emoji(styles=("noto", "openmoji"), size=128)
    except DataNotFoundError:
        print("  the emoji data set is not built yet: fetching it (one time)")
        fetch("emoji")
        df = load_emoji(styles=("noto", "openmoji"), size=128)
    concepts = np.array(sorted(df["concept_id"].unique()))
    if n_concepts is not None and n_concepts < len(concepts):
        rng = np.random.RandomState(seed)
        concepts = np.sort(rng.choice(concepts, n_concepts, replace=False))
    df = df[df["concept_id"].isin(concepts)]
    noto = df[df["style"] == "noto"].set_index("concept_id").loc[concepts]
    openmoji = df[df["style"] == "openmoji"].set_index("concept_id").loc[concepts]
    return concepts, noto, openmoji


def _encode(noto, openmoji):
    import pandas as pd

    from skmm.cache import cache_stats, reset_cache_stats
    from skmm.image import ImageEncoder
    from skmm.text import TextEncoder

    reset_cache_stats()
    text_enc = TextEncoder("minilm", cache=True)
    image_enc = ImageEncoder("mobilenet_v2", size=128, cache=True, on_error="nan")
    timings = {}
    t0 = time.perf_counter()
    text = text_enc.fit_transform(pd.Series(noto["name"].tolist(), name="name"))
    timings["MiniLM (names)"] = (time.perf_counter() - t0, len(text), text.shape[1])
    t0 = time.perf_counter()
    images = image_enc.fit_transform(
        pd.Series(list(noto["image"]) + list(openmoji["image"]), name="image")
    )
    timings["MobileNetV2 (pictures)"] = (
        time.perf_counter() - t0,
        len(images),
        images.shape[1],
    )
    n = len(noto)
    rows = [
        [name, f"{items} x {width}", f"{secs:.1f}", f"{items / max(secs, 1e-9):,.0f}"]
        for name, (secs, items, width) in timings.items()
    ]
    print(_table(rows, ["encoder", "output", "seconds", "items/s"]))
    stats = cache_stats()
    print(
        f"  embedding cache: {stats['hits']} hits, {stats['misses']} computed "
        "(a second run computes nothing)"
    )
    return text, images[:n], images[n:], rows, stats


def _two_tower(noto, openmoji, train, seed: int, quick: bool):
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


def _retrieval(
    concepts, text, noto_img, om_img, seed: int, quick: bool, noto, openmoji
):
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

    def table(t, i):
        cols = [f"text__f{j}" for j in range(t.shape[1])] + [
            f"image__f{j}" for j in range(i.shape[1])
        ]
        return pd.DataFrame(np.hstack([t, i]), columns=cols)

    # training pairs: each name with both of its drawings (one group per concept)
    X_train = pd.concat(
        [table(text[train], noto_img[train]), table(text[train], om_img[train])],
        ignore_index=True,
    )
    y_train = np.concatenate([train, train])
    X_test = table(text[test], noto_img[test])
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
    print(_df_text(df))
    # the gallery shows the fine-tuned retriever's results
    return df, best, fitted["TwoTower (fine-tuned)"][1], test


def _fusion_table(text, noto_img, om_img):
    import pandas as pd

    t = np.vstack([text, text])
    i = np.vstack([noto_img, om_img])
    cols = [f"text__f{j}" for j in range(t.shape[1])] + [
        f"image__f{j}" for j in range(i.shape[1])
    ]
    return pd.DataFrame(np.hstack([t, i]).astype(np.float32), columns=cols)


def _raw_table(noto, openmoji):
    """The same rows as ``_fusion_table``, as raw names and drawings."""
    import pandas as pd

    names = noto["name"].astype(str).tolist()
    return pd.DataFrame(
        {
            "raw_text": names + names,
            "raw_image": list(noto["image"]) + list(openmoji["image"]),
        }
    )


def _search(X, y, groups, out: Path, seed: int, quick: bool):
    from sklearn.model_selection import GroupKFold

    from skmm.fusion import FusionClassifier
    from skmm.model_selection import FusionSearchCV, plot_search

    n_trials = 4 if quick else 12
    epochs = 5 if quick else 12
    est = FusionClassifier(max_epochs=epochs, random_state=seed, device="auto")
    cv = list(GroupKFold(3).split(X, y, groups))
    key = hashlib.sha1(
        json.dumps([X.shape, int(seed), epochs, bool(quick)]).encode()
    ).hexdigest()[:10]
    search = FusionSearchCV(
        est,
        n_trials=n_trials,
        cv=cv,
        storage=out / "search.db",
        study_name=f"demo-{key}",
        random_state=seed,
        verbose=1,
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        search.fit(X, y)
    res = search.cv_results_
    order = np.argsort(res["rank_test_score"])[:5]
    rows = []
    for j in order:
        p = res["params"][j]
        knobs = ", ".join(
            f"{k.split('__')[-1]}={v}" for k, v in p.items() if k.startswith("fusion__")
        )
        rows.append(
            [
                str(res["trial_number"][j]),
                str(p.get("fusion")),
                f"{p.get('lr', float('nan')):.1e}",
                str(p.get("hidden_dim")),
                knobs or "-",
                f"{res['mean_test_score'][j]:.3f}",
                str(res["state"][j]),
            ]
        )
    states = list(res["state"])
    print(
        f"  {len(states)} trials ({states.count('PRUNED')} pruned, "
        f"{states.count('FAIL')} failed), study {search.study_name_!r} in "
        f"{out / 'search.db'}"
    )
    print(_table(rows, ["trial", "fusion", "lr", "hidden", "knobs", "acc", "state"]))
    figures = plot_search(search, out, prefix="search")
    return search, rows, figures


def _compare(search, X, raw, y, groups, out: Path, seed: int, quick: bool):
    import pandas as pd
    from sklearn.compose import ColumnTransformer
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import GroupKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    from skmm.fusion import FusionClassifier
    from skmm.image import ImageEncoder
    from skmm.model_selection import compare_models
    from skmm.text import TextEncoder

    text_cols = [c for c in X.columns if c.startswith("text__")]
    image_cols = [c for c in X.columns if c.startswith("image__")]

    def logistic(cols):
        return make_pipeline(
            ColumnTransformer([("keep", "passthrough", cols)]),
            StandardScaler(),
            LogisticRegression(C=0.01, max_iter=500),
        )

    fusion = search.best_params_["fusion"]
    features = ColumnTransformer(
        [("keep", "passthrough", text_cols + image_cols)],
        verbose_feature_names_out=False,
    ).set_output(transform="pandas")
    # the drawings' MobileNetV2 blocks fine-tuned under the searched fusion
    tuned = FusionClassifier(
        fusion=fusion,
        encoders={
            "text": TextEncoder("minilm", cache=True, verbose=0),
            "image": ImageEncoder("mobilenet_v2", size=128, cache=True, verbose=0),
        },
        columns={"text": "raw_text", "image": "raw_image"},
        unfreeze={"text": 0, "image": 2},
        max_epochs=4 if quick else 12,
        random_state=seed,
        device="auto",
    )
    X = pd.concat([X, raw], axis=1)
    models = {
        f"FusionClassifier ({fusion}, searched)": make_pipeline(
            features, search.best_estimator_
        ),
        f"FusionClassifier ({fusion}, image fine-tuned)": tuned,
        "LogisticRegression (text + image)": logistic(text_cols + image_cols),
        "LogisticRegression (text)": logistic(text_cols),
        "LogisticRegression (image)": logistic(image_cols),
    }
    cv = list(GroupKFold(3).split(X, y, groups))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        table = compare_models(
            models,
            X,
            y,
            cv=cv,
            scoring="accuracy",
            plot=out / "compare_models.png",
        )
    show = table[["mean_accuracy", "std_accuracy", "mean_fit_time", "p_value"]]
    print(_df_text(show))
    return table


def _gallery(out: Path, sims, test, noto, seed: int, n_queries: int = 6):
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


def run_demo(
    *,
    quick: bool = False,
    n: int | None = None,
    out: str | Path = "skmm_demo_report",
    seed: int = 0,
) -> dict:
    """Run the demo, print its tables and write the report.

    Parameters
    ----------
    quick : bool, default=False
        A smaller version (300 concepts, fewer trials and epochs): about a
        minute with a warm cache.
    n : int, optional
        Number of emoji concepts (default: all ~1,900; 300 with ``quick``).
    out : path, default="skmm_demo_report"
        Report folder (``index.html``, PNG figures, the Optuna study).
    seed : int, default=0

    Returns
    -------
    dict
        The tables (DataFrames) and timings.
    """
    import torch

    out = Path(out).resolve()
    out.mkdir(parents=True, exist_ok=True)
    t_start = time.perf_counter()
    steps = _Steps(5)
    device = "CUDA" if torch.cuda.is_available() else "CPU"
    print(
        f"skmm demo{' --quick' if quick else ''}: emoji names and pictures, "
        f"retrieval and fusion search ({device}, {torch.get_num_threads()} threads)"
    )

    steps.start("data: the emoji data set")
    concepts, noto, openmoji = _load(n or (300 if quick else None), seed)
    print(
        f"  {len(concepts)} concepts drawn by Noto and OpenMoji, "
        f"{noto['group'].nunique()} Unicode groups"
    )

    steps.start("encoding: MiniLM names, MobileNetV2 pictures (cached)")
    text, noto_img, om_img, enc_rows, cache = _encode(noto, openmoji)

    steps.start("cross-modal retrieval on unseen concepts")
    retrieval, best_retriever, sims, test = _retrieval(
        concepts, text, noto_img, om_img, seed, quick, noto, openmoji
    )
    gallery = _gallery(out, sims, test, noto, seed)

    steps.start("fusion search: FusionSearchCV over the fusion strategies")
    X = _fusion_table(text, noto_img, om_img)
    y = np.concatenate([noto["group"].to_numpy()] * 2)
    groups = np.concatenate([concepts, concepts])
    search, search_rows, search_figures = _search(X, y, groups, out, seed, quick)

    steps.start("comparison: best fusion vs logistic baselines (same folds)")
    comparison = _compare(
        search, X, _raw_table(noto, openmoji), y, groups, out, seed, quick
    )
    steps.stop()

    total = time.perf_counter() - t_start
    verdict = _verdict(retrieval, best_retriever, comparison)
    report = _write_report(
        out,
        quick=quick,
        n_concepts=len(concepts),
        enc_rows=enc_rows,
        cache=cache,
        retrieval=retrieval,
        best_retriever=best_retriever,
        gallery=gallery,
        search=search,
        search_rows=search_rows,
        search_figures=search_figures,
        comparison=comparison,
        timings=steps.times,
        total=total,
        verdict=verdict,
    )
    print("\nSummary")
    for name, secs in steps.times.items():
        print(f"  {secs:7.1f} s  {name}")
    print(f"  {total:7.1f} s  total")
    print(verdict)
    print(f"  report: {report}")
    return {
        "retrieval": retrieval,
        "search": search,
        "comparison": comparison,
        "cache": cache,
        "timings": steps.times,
        "seconds": total,
        "report": report,
        "verdict": verdict,
    }


def _verdict(retrieval, best_retriever, comparison) -> str:
    """Which model won, in plain words."""
    tuned_r = "TwoTower (fine-tuned)"
    frozen = retrieval.drop(index=tuned_r)
    best_frozen = str(frozen["t->i R@1"].idxmax())
    r_tuned = retrieval.loc[tuned_r, "t->i R@1"]
    r_frozen = frozen.loc[best_frozen, "t->i R@1"]
    lines = [
        f"  retrieval winner (text->image R@1 on unseen concepts): {best_retriever} "
        f"{retrieval.loc[best_retriever, 't->i R@1']:.3f}; fine-tuned two-tower "
        f"{r_tuned:.3f} vs the best frozen retriever ({best_frozen}) {r_frozen:.3f} "
        f"({r_tuned / max(r_frozen, 1e-9):.2f}x)"
    ]
    best = comparison.index[0]
    tuned_c = [i for i in comparison.index if "fine-tuned" in str(i)]
    line = (
        f"  classification winner (accuracy, grouped folds): {best} "
        f"{comparison.iloc[0]['mean_accuracy']:.3f}"
    )
    if tuned_c:
        row = comparison.loc[tuned_c[0]]
        p = row.get("p_value", float("nan"))
        line += f"; fine-tuned fusion {row['mean_accuracy']:.3f}" + (
            "" if best == tuned_c[0] else f" (p = {p:.2f} against the winner)"
        )
    lines.append(line)
    return "\n".join(lines)


def _write_report(out: Path, **r: Any) -> Path:
    import pandas as pd

    from skmm.report import Report

    rep = Report(out, title="skmm demo: emoji names and pictures")
    rep.add_text(
        f"{r['n_concepts']} emoji concepts drawn by Noto and OpenMoji. Names encoded "
        "with MiniLM (all-MiniLM-L6-v2), pictures with MobileNetV2 (ImageNet), "
        f"both cached. Total run time {r['total']:.0f} s"
        f"{' (--quick)' if r['quick'] else ''}."
    )
    rep.add_text(
        "**Verdict.** "
        + " ".join(line.strip() for line in r["verdict"].splitlines())
        .replace("retrieval winner", "Retrieval winner")
        .replace("classification winner", "Classification winner"),
        markdown=True,
    )
    rep.add_table(
        pd.DataFrame(
            [row[1:] for row in r["enc_rows"]],
            index=[row[0] for row in r["enc_rows"]],
            columns=["output", "seconds", "items/s"],
        ),
        caption=(
            f"Encoders (embedding cache: {r['cache']['hits']} hits, "
            f"{r['cache']['misses']} computed)"
        ),
    )
    rep.add_table(
        r["retrieval"],
        best={c: "max" for c in r["retrieval"].columns if c != "fit s"},
        caption=(
            "Cross-modal retrieval on concepts unseen in training "
            "(hit-rate Recall@K and MRR; t->i: name -> Noto drawing)"
        ),
    )
    path, ranks = r["gallery"]
    found = int((np.asarray(ranks) > 0).sum())
    rep.add_figure(
        path,
        caption=(
            "Text queries and the top-5 drawings found by the fine-tuned "
            "TwoTowerRetriever "
            f"(the correct drawing framed in green; found in the top 5 for "
            f"{found} of {len(ranks)} queries)"
        ),
    )
    rows = r["search_rows"]
    rep.add_table(
        pd.DataFrame(
            [row[1:] for row in rows],
            index=[row[0] for row in rows],
            columns=["fusion", "lr", "hidden", "knobs", "accuracy", "state"],
        ),
        caption=(
            "FusionSearchCV: the 5 best trials (emoji group, 9 classes, 3 folds "
            f"grouped by concept); best {r['search'].best_score_:.3f}"
        ),
    )
    for key in ("history", "importances"):
        if key in r["search_figures"]:
            rep.add_figure(r["search_figures"][key], caption=f"Optuna {key}")
    rep.add_table(
        r["comparison"][
            ["mean_accuracy", "std_accuracy", "mean_fit_time", "t_stat", "p_value"]
        ],
        caption=(
            "compare_models: same folds for every model; p-value of the corrected "
            "resampled t-test (Nadeau & Bengio) against the best"
        ),
    )
    rep.add_figure(out / "compare_models.png", caption="Accuracy per fold")
    rep.add_table(
        pd.DataFrame(
            {"seconds": list(r["timings"].values())}, index=list(r["timings"])
        ),
        caption="Time per step",
    )
    return rep.write()
