"""Fine-tuned towers against the best frozen retriever, and what the
frozen-prefix cache saves.

Same protocol as ``bench_retrieval_quality.py``: a deterministic 50/50 split
*by concept* (seed 0), a test-only gallery, relevance = same concept.  Both
sides see the same training rows: every art style of the training concepts
(Noto, OpenMoji, Twemoji) with the CLDR name, plus (``--keywords``) one row
per concept with its keyword caption.  Tux Paint: the stamps and their
captions.

- frozen baseline: ``CCARetriever`` on MiniLM + MobileNetV2 features (the
  same image size), its ``n_components`` / ``reg`` chosen on a validation
  split by concept inside train; trained on the same rows, and also on the
  Noto rows only (the earlier benchmark's setting); the better is reported;
- ``TwoTowerRetriever`` with its defaults (MiniLM last 2 layers,
  MobileNetV2 last 3 blocks; early stopping on its own validation split
  inside train).

Cost: fit seconds of each model, and a ``TwoTowerRetriever`` fit with the
frozen prefix cached (the default) against one that recomputes the prefix at
every step (``cache_prefix=False``), on the same rows, in the same run.

Usage::

    python benchmarks/bench_finetune.py                      # everything
    python benchmarks/bench_finetune.py --datasets tuxpaint --no-speed
"""

from __future__ import annotations

import argparse
import json
import sys
import time
import warnings
from pathlib import Path

import numpy as np
import pandas as pd

OUT = Path(__file__).resolve().parent / "_out"
sys.path.insert(0, str(Path(__file__).resolve().parent))

from bench_retrieval_quality import split_by_concept  # noqa: E402

CCA_GRID = [(n, reg) for n in (32, 64, 128) for reg in (0.1, 1.0)]


def _encoders(size: int):
    from skmm.image import ImageEncoder
    from skmm.text import TextEncoder

    return (
        TextEncoder("minilm", verbose=0, cache=True),
        ImageEncoder("mobilenet_v2", size=size, verbose=0, cache=True),
    )


# ------------------------------------------------------------------ data
def emoji_task(keywords: bool) -> dict:
    from skmm.datasets import load_emoji

    df = load_emoji(("noto", "openmoji", "twemoji"), size=136)
    noto = df[df["style"] == "noto"].set_index("concept_id")
    openmoji = df[df["style"] == "openmoji"].set_index("concept_id")
    concepts = np.asarray(noto.index.intersection(openmoji.index).sort_values(), str)
    train = split_by_concept(concepts)
    train_c, test_c = set(concepts[train]), concepts[~train]
    tr = df[df["concept_id"].isin(train_c)]
    rows = pd.DataFrame(
        {
            "text": tr["name"].astype(str).to_numpy(),
            "image": list(tr["image"]),
            "y": tr["concept_id"].to_numpy(),
            "noto": (tr["style"] == "noto").to_numpy(),
        }
    )
    if keywords:
        kw = tr[tr["style"] == "noto"]
        extra = pd.DataFrame(
            {
                "text": kw["keywords"].astype(str).str.replace("|", ",").to_numpy(),
                "image": list(kw["image"]),
                "y": kw["concept_id"].to_numpy(),
                "noto": True,
            }
        )
        rows = pd.concat([rows, extra[extra["text"].str.len() > 0]], ignore_index=True)
    names = noto.loc[test_c, "name"].astype(str).to_numpy()
    tests = {
        "emoji": pd.DataFrame(
            {"text": names, "image": list(noto.loc[test_c, "image"])}
        ),
        "emoji-openmoji": pd.DataFrame(
            {"text": names, "image": list(openmoji.loc[test_c, "image"])}
        ),
    }
    return {
        "train": rows,
        "tests": {k: (v, np.arange(len(v))) for k, v in tests.items()},
    }


def tuxpaint_task() -> dict:
    from skmm.datasets import load_tuxpaint

    df = load_tuxpaint(images="path")
    df = df[df["caption"].notna() & df["image"].notna()].reset_index(drop=True)
    concept = df["caption"].astype(str).to_numpy()
    train = split_by_concept(concept)
    rows = pd.DataFrame(
        {
            "text": concept[train],
            "image": list(df["image"][train]),
            "y": concept[train],
            "noto": True,
        }
    )
    test = pd.DataFrame({"text": concept[~train], "image": list(df["image"][~train])})
    _, codes = np.unique(concept[~train], return_inverse=True)
    return {"train": rows, "tests": {"tuxpaint": (test, codes)}}


# --------------------------------------------------------------- metrics
def evaluate(embed, X: pd.DataFrame, y: np.ndarray) -> dict:
    from skmm.metrics import mean_reciprocal_rank, recall_at_k

    Q, G = embed(X, "text"), embed(X, "image")
    out = {}
    for name, S in (("t2i", Q @ G.T), ("i2t", G @ Q.T)):
        kw = {"query_labels": y, "gallery_labels": y}
        out[name] = {
            "R@1": recall_at_k(S, k=1, **kw),
            "R@5": recall_at_k(S, k=5, **kw),
            "R@10": recall_at_k(S, k=10, **kw),
            "MRR": mean_reciprocal_rank(S, **kw),
        }
    return out


# ---------------------------------------------------------------- models
def fit_cca(rows: pd.DataFrame, size: int, seed: int = 0):
    """CCA with its grid chosen on a by-concept validation split of train."""
    from skmm.metrics import mean_reciprocal_rank
    from skmm.retrieval import CCARetriever

    text_enc, image_enc = _encoders(size)
    T = text_enc.fit_transform(pd.Series(rows["text"].to_numpy(), name="text"))
    imgs = pd.Series(list(rows["image"]), name="image")
    image_enc.set_params(on_error="nan")
    I = image_enc.fit_transform(imgs)

    def table(t, i):
        cols = [f"text__f{j}" for j in range(t.shape[1])]
        cols += [f"image__f{j}" for j in range(i.shape[1])]
        return pd.DataFrame(np.hstack([t, i]), columns=cols)

    best = None
    results = {}
    for subset in ("same rows", "noto only"):
        mask = (
            np.ones(len(rows), bool)
            if subset == "same rows"
            else rows["noto"].to_numpy()
        )
        y = rows["y"].to_numpy()[mask]
        inner = split_by_concept(y, seed=seed + 1)
        _, codes = np.unique(y, return_inverse=True)
        Tm, Im = T[mask], I[mask]
        scores = {}
        for n, reg in CCA_GRID:
            r = CCARetriever(n_components=n, reg=reg).fit(table(Tm[inner], Im[inner]))
            Xv = table(Tm[~inner], Im[~inner])
            S = r.embed(Xv, "text") @ r.embed(Xv, "image").T
            lab = codes[~inner]
            scores[(n, reg)] = mean_reciprocal_rank(
                S, query_labels=lab, gallery_labels=lab
            )
        n, reg = max(scores, key=scores.get)
        t0 = time.perf_counter()
        model = CCARetriever(n_components=n, reg=reg).fit(table(Tm, Im))
        results[subset] = (
            model,
            {"n_components": n, "reg": reg},
            time.perf_counter() - t0,
        )

    def embed_with(model):
        def embed(X, modality):
            col = X[modality]
            enc = text_enc if modality == "text" else image_enc
            feats = enc.transform(pd.Series(list(col), name=modality))
            other = 1280 if modality == "text" else 384
            pad = np.zeros((len(X), other), np.float32)
            t, i = (feats, pad) if modality == "text" else (pad, feats)
            return model.embed(table(t, i), modality)

        return embed

    return {k: (embed_with(m), p, s) for k, (m, p, s) in results.items()}, best


def fit_two_tower(rows: pd.DataFrame, size: int, **params):
    from skmm.retrieval import TwoTowerRetriever

    text_enc, image_enc = _encoders(size)
    model = TwoTowerRetriever(text=text_enc, image=image_enc, random_state=0, **params)
    t0 = time.perf_counter()
    model.fit(rows[["text", "image"]], rows["y"].to_numpy())
    return model, time.perf_counter() - t0


def prefix_speed(rows: pd.DataFrame, size: int, n_rows: int, epochs: int) -> dict:
    """One fit with the prefix cached, one recomputing it, same rows/epochs."""
    from skmm.finetune import clear_prefix_memory

    sub = rows.iloc[:n_rows]
    common = dict(max_epochs=epochs, validation_fraction=0, patience=0)
    clear_prefix_memory()
    _, cached_cold = fit_two_tower(sub, size, **common)  # computes the prefix once
    _, cached_warm = fit_two_tower(sub, size, **common)  # a second fold / trial
    _, recomputed = fit_two_tower(sub, size, cache_prefix=False, **common)
    return {
        "rows": len(sub),
        "epochs": epochs,
        "cached_first_fit_s": cached_cold,
        "cached_next_fit_s": cached_warm,
        "recomputed_s": recomputed,
        "speedup_first": recomputed / cached_cold,
        "speedup_next": recomputed / cached_warm,
    }


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--datasets", nargs="+", default=["emoji", "tuxpaint"])
    p.add_argument("--size", type=int, default=128, help="image side (both sides)")
    p.add_argument("--keywords", action="store_true", help="add keyword captions")
    p.add_argument("--no-speed", action="store_true")
    p.add_argument("--speed-rows", type=int, default=512)
    p.add_argument("--speed-epochs", type=int, default=3)
    p.add_argument("--set", nargs="*", default=[], help="TwoTower params k=v")
    p.add_argument("--out", type=Path, default=OUT / "finetune.json")
    args = p.parse_args()
    warnings.filterwarnings("ignore")
    params = {}
    for item in args.set:
        k, v = item.split("=", 1)
        params[k] = eval(v)  # benchmark-only convenience
    results: dict = {"params": {k: repr(v) for k, v in params.items()}}
    speed_rows = None
    for name in args.datasets:
        task = emoji_task(args.keywords) if name == "emoji" else tuxpaint_task()
        rows = task["train"]
        speed_rows = rows if speed_rows is None else speed_rows
        print(f"\n== {name}: {len(rows)} training rows", flush=True)
        t0 = time.perf_counter()
        ccas, _ = fit_cca(rows, args.size)
        t_cca = time.perf_counter() - t0
        model, t_tt = fit_two_tower(rows, args.size, **params)
        print(
            f"two-tower fit {t_tt:.0f} s (prefix {model.fit_times_['prefix']:.0f} s, "
            f"train {model.fit_times_['train']:.0f} s, best epoch {model.best_epoch_}, "
            f"{len(model.loss_curve_)} run); CCA encode+grid+fit {t_cca:.0f} s",
            flush=True,
        )
        for test, (X, y) in task["tests"].items():
            res = {"two_tower": evaluate(model.embed, X, y)}
            for subset, (embed, cca_params, _) in ccas.items():
                res[f"cca ({subset})"] = evaluate(embed, X, y)
                res[f"cca ({subset})"]["params"] = cca_params
            best = max(
                (k for k in res if k.startswith("cca")),
                key=lambda k: res[k]["t2i"]["R@1"] + res[k]["i2t"]["R@1"],
            )
            res["ratio"] = {
                d: res["two_tower"][d]["R@1"] / max(res[best][d]["R@1"], 1e-9)
                for d in ("t2i", "i2t")
            }
            res["best_frozen"] = best
            res["fit_s"] = {"two_tower": t_tt, "cca_total": t_cca}
            results[test] = res
            for k in [k for k in res if k == "two_tower" or k.startswith("cca")]:
                r = res[k]
                print(
                    f"{test:15s} {k:18s} t2i R@1 {r['t2i']['R@1']:.3f} R@5 "
                    f"{r['t2i']['R@5']:.3f} R@10 {r['t2i']['R@10']:.3f} MRR "
                    f"{r['t2i']['MRR']:.3f} | i2t R@1 {r['i2t']['R@1']:.3f} R@5 "
                    f"{r['i2t']['R@5']:.3f} R@10 {r['i2t']['R@10']:.3f} MRR "
                    f"{r['i2t']['MRR']:.3f}",
                    flush=True,
                )
            print(
                f"{test:15s} R@1 ratio vs {best}: t2i {res['ratio']['t2i']:.2f}x, "
                f"i2t {res['ratio']['i2t']:.2f}x",
                flush=True,
            )
    if not args.no_speed and speed_rows is not None:
        speed = prefix_speed(speed_rows, args.size, args.speed_rows, args.speed_epochs)
        results["prefix_cache"] = speed
        print(
            f"\nprefix cache, {speed['rows']} rows x {speed['epochs']} epochs: "
            f"recomputing {speed['recomputed_s']:.1f} s, cached "
            f"{speed['cached_first_fit_s']:.1f} s first fit "
            f"({speed['speedup_first']:.1f}x), {speed['cached_next_fit_s']:.1f} s "
            f"next fit ({speed['speedup_next']:.1f}x)",
            flush=True,
        )
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(results, indent=2, default=str))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
