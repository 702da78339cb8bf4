"""FusionSearchCV (Optuna, pruning) vs GridSearchCV on a real task, one run.

    .venv/bin/python benchmarks/bench_search.py [--concepts 600] [--epochs 10]

Task: emoji group (9 classes) from the name (MiniLM, 384-d) and the picture
(MobileNetV2, 1280-d) — the cached features of ``bench_fusion_strategies``;
``--concepts`` concepts drawn at random, two rows each (Noto and OpenMoji),
``GroupKFold(3)`` by concept, the same folds for every search.

1. ``GridSearchCV`` over every registered fusion strategy x lr {1e-3, 3e-3,
   1e-2} x hidden_dim {64, 128} (``max_epochs`` fixed), timed: ``T_grid``
   and its best CV accuracy ``S_grid``.
2. ``FusionSearchCV`` with its default space (strategy first, then lr,
   hidden_dim, dropout, weight_decay and the strategy's knobs), seeded TPE,
   the median pruner, ``timeout=T_grid``: the wall time until a completed
   trial's CV accuracy >= ``S_grid``, as a fraction of ``T_grid``.
3. The same with the grid's own space (a flat dict: the same 42
   candidates), TPE + pruning.

``--spaces default grid`` (the default) runs both searches; each gets the
grid's time as its budget.

Prints both fractions (goal <= 0.4) and writes ``_out/search.json``.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
import warnings
from pathlib import Path

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
OUT = Path(__file__).resolve().parent / "_out"


def _time_to_match(search, target: float, t_offset: float) -> tuple[float, float]:
    res = search.cv_results_
    ok = (res["state"] == "COMPLETE") & (res["mean_test_score"] >= target - 1e-12)
    best = float(np.nanmax(res["mean_test_score"]))
    if not ok.any():
        return float("nan"), best
    return float(np.min(res["time_complete"][ok]) + t_offset), best


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--concepts", type=int, default=600)
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument(
        "--spaces", nargs="+", choices=["default", "grid"], default=["default", "grid"]
    )
    args = parser.parse_args()

    import optuna
    from bench_fusion_strategies import emoji_table
    from sklearn.model_selection import GridSearchCV, GroupKFold

    from skmm.fusion import FusionClassifier
    from skmm.model_selection import FusionSearchCV
    from skmm.registry import fusions

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    X, y, groups = emoji_table()
    rng = np.random.RandomState(args.seed)
    concepts = np.unique(groups)
    keep = np.isin(groups, rng.choice(concepts, args.concepts, replace=False))
    X, y, groups = X[keep].reset_index(drop=True), y[keep], groups[keep]
    cv = list(GroupKFold(3).split(X, y, groups))
    est = FusionClassifier(max_epochs=args.epochs, random_state=0, device="cpu")
    grid = {
        "fusion": fusions.names(),
        "lr": [1e-3, 3e-3, 1e-2],
        "hidden_dim": [64, 128],
    }
    n_grid = int(np.prod([len(v) for v in grid.values()]))
    print(
        f"{len(X)} rows ({args.concepts} concepts x 2 styles), 9 classes, "
        f"GroupKFold(3), max_epochs={args.epochs}; grid of {n_grid} candidates",
        flush=True,
    )
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gs = GridSearchCV(est, grid, cv=cv, refit=False).fit(X, y)
    t_grid = time.perf_counter() - t0
    s_grid = float(gs.best_score_)
    print(
        f"GridSearchCV      : {t_grid:7.1f} s, best {s_grid:.4f} {gs.best_params_}",
        flush=True,
    )
    out = {
        "rows": len(X),
        "epochs": args.epochs,
        "grid_candidates": n_grid,
        "grid_seconds": t_grid,
        "grid_best": s_grid,
        "grid_best_params": gs.best_params_,
    }
    spaces = {"default": ("default space", None), "grid": ("grid's space", grid)}
    for label, space in (spaces[name] for name in args.spaces):
        search = FusionSearchCV(
            est,
            space,
            n_trials=None,
            timeout=t_grid,
            cv=cv,
            storage=None,
            random_state=args.seed,
            refit=False,
        )
        t0 = time.perf_counter()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            search.fit(X, y)
        wall = time.perf_counter() - t0
        first_start = min(t.datetime_start for t in search.study_.trials)
        offset = 0.0  # time_complete counts from the first trial's start
        t_match, best = _time_to_match(search, s_grid, offset)
        states = list(search.cv_results_["state"])
        frac = t_match / t_grid
        print(
            f"FusionSearchCV ({label}): {len(states)} trials "
            f"({states.count('PRUNED')} pruned) in {wall:.1f} s, best {best:.4f}; "
            f"matched the grid's best after {t_match:.1f} s = {frac:.2f} of "
            f"GridSearchCV's time",
            flush=True,
        )
        out[label] = {
            "trials": len(states),
            "pruned": states.count("PRUNED"),
            "seconds": wall,
            "best": best,
            "best_params": search.best_params_,
            "seconds_to_match": t_match,
            "fraction_of_grid_time": frac,
            "first_trial_start": str(first_start),
        }
    OUT.mkdir(exist_ok=True)
    (OUT / f"search_{'_'.join(args.spaces)}.json").write_text(
        json.dumps(out, indent=1, default=str)
    )


if __name__ == "__main__":
    main()
